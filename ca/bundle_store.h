// Where workstation bundles wait and are kept (table ca.workstation_bundles): only sealed
// blobs, never a key, password or PKCS#12 file in the clear.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "platform/actor.h"
#include "platform/pg_pool.h"

namespace tessera::ca {

struct BundleRecord {
  std::string request_id;
  std::string istat;
  int progressive = 0;
  std::vector<uint8_t> sealed_key;  // PKCS#8; while pending only
  std::vector<uint8_t> sealed_password;
  std::vector<uint8_t> sealed_pkcs12;  // once complete
  std::string serial;                  // of its certificate, once the CA recorded one
  bool revoked = false;                // its certificate is revoked

  bool complete() const { return !sealed_pkcs12.empty(); }
};

class BundleStore {
 public:
  explicit BundleStore(pg::ConnectionPool& pool) : pool_(pool) {}

  // Commits `pending`, requested by `actor`, or returns the bundle already recorded under its
  // request_id. Refuses (FAILED_PRECONDITION) a second bundle for a workstation that has one
  // pending or one whose certificate is not revoked: one live certificate per workstation.
  absl::StatusOr<BundleRecord> Begin(const BundleRecord& pending, const Actor& actor);
  // Stores the sealed PKCS#12 and drops the sealed key. If a concurrent call completed the
  // bundle first, returns that one (the caller hands out what is stored).
  absl::StatusOr<BundleRecord> Complete(const std::string& request_id,
                                        const std::vector<uint8_t>& sealed_pkcs12);
  // Forgets a pending bundle after the CA refused its certificate for good (a retry would
  // be refused again), so the workstation is free for another request.
  absl::Status Abandon(const std::string& request_id);
  absl::StatusOr<BundleRecord> FindBySerial(const std::string& serial);
  // A bundle handed out again, in one transaction: the bundle of certificate `serial` is read
  // with its certificate row share-locked (a revocation waits for the download, or the
  // download sees the revocation), `hand_out` checks and opens it, and only if it succeeds is
  // the download recorded in ca.bundle_downloads for `actor` and committed. NOT_FOUND if
  // `serial` is no workstation bundle; `hand_out`'s refusal otherwise, with no row written.
  absl::StatusOr<BundleRecord> Download(
      const std::string& serial, const Actor& actor,
      const std::function<absl::Status(const BundleRecord&)>& hand_out);

 private:
  pg::ConnectionPool& pool_;
};

}  // namespace tessera::ca
