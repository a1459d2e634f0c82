// Where the CA keeps its CRLs: per issuing CA, the revision revocations bump, the revision
// and number of the last CRL signed, and that CRL. PostgreSQL implementation beside
// PgCertificateStore (schema "ca").
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "ca/crl.h"
#include "platform/pg_pool.h"

namespace tessera::ca {

struct CrlState {
  std::string issuer;
  int64_t revision = 0;
  int64_t built_revision = -1;
  int64_t crl_number = 0;
  std::optional<std::chrono::system_clock::time_point> this_update;
  std::optional<std::chrono::system_clock::time_point> next_update;
  std::vector<uint8_t> der;  // empty until the first CRL
};

class CrlStore {
 public:
  virtual ~CrlStore() = default;
  virtual absl::StatusOr<CrlState> State(const std::string& issuer) = 0;
  // The number of the last CRL signed (0 before the first): what a reader polls to learn that
  // a new CRL is there without fetching it. This default fetches it.
  virtual absl::StatusOr<int64_t> CrlNumber(const std::string& issuer) {
    absl::StatusOr<CrlState> state = State(issuer);
    if (!state.ok()) return state.status();
    return state->crl_number;
  }
  // Revoked certificates of `issuer` that have not expired at `at`, by serial.
  virtual absl::StatusOr<std::vector<RevokedEntry>> RevokedEntries(
      const std::string& issuer, std::chrono::system_clock::time_point at) = 0;
  // Stores a CRL numbered `content.number` that reflects `revision`, unless another publisher
  // stored that number first (then false: the caller lost a harmless race).
  virtual absl::StatusOr<bool> Publish(const std::string& issuer, int64_t revision,
                                       const CrlContent& content,
                                       const std::vector<uint8_t>& der) = 0;
};

class PgCrlStore final : public CrlStore {
 public:
  explicit PgCrlStore(pg::ConnectionPool& pool) : pool_(pool) {}
  absl::StatusOr<CrlState> State(const std::string& issuer) override;
  absl::StatusOr<int64_t> CrlNumber(const std::string& issuer) override;
  absl::StatusOr<std::vector<RevokedEntry>> RevokedEntries(
      const std::string& issuer, std::chrono::system_clock::time_point at) override;
  absl::StatusOr<bool> Publish(const std::string& issuer, int64_t revision,
                               const CrlContent& content, const std::vector<uint8_t>& der) override;

 private:
  pg::ConnectionPool& pool_;
};

}  // namespace tessera::ca
