// Where the CA keeps every certificate it signs: the interface the CA needs, and its
// PostgreSQL implementation (schema "ca", migrations in ca/migrations/).
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "ca/read_scope.h"
#include "platform/actor.h"
#include "platform/group_commit.h"
#include "platform/migrations.h"
#include "platform/pg_pool.h"

namespace tessera::ca {

enum class CertificateState { kIntent, kIssued };

struct CertificateRecord {
  std::string serial;  // lower-case hex
  std::string request_id;
  std::vector<uint8_t> request_sha256;
  std::string issuer;
  std::string profile;
  std::string subject;       // RFC 2253
  std::string subject_data;  // JSON the subject was built from
  std::vector<uint8_t> subject_public_key;
  std::vector<uint8_t> subject_key_sha256;
  std::chrono::system_clock::time_point not_before;
  std::chrono::system_clock::time_point not_after;
  CertificateState state = CertificateState::kIntent;
  std::vector<uint8_t> der;  // when issued
  std::optional<std::chrono::system_clock::time_point> revoked_at;
  std::optional<int> revocation_reason;  // RFC 5280 CRLReason
  // Who asked for it (recorded with the intent) and who revoked it (README "Who did what").
  Actor requested_by;
  std::optional<Actor> revoked_by;
};

// What OCSP needs to know of a certificate, without its bytes.
struct CertificateStatus {
  std::string serial;
  std::string issuer;
  CertificateState state = CertificateState::kIntent;
  std::optional<std::chrono::system_clock::time_point> revoked_at;
  std::optional<int> revocation_reason;
};

struct CertificateFilter {
  std::string issuer;            // empty: any
  std::string profile;           // empty: any
  std::string subject_contains;  // empty: any
  std::optional<bool> revoked;
  int page_size = 50;      // 1..1000
  std::string page_token;  // the last serial of the previous page
  // What the reader may see, applied in the query (CertificateAuthority::List sets it from
  // the reader; the store itself serves tessera-ca's own code, which sees everything).
  ReadScope scope = {.kind = ReadScope::Kind::kEverything};
};

// A certificate signed for an INTENT row, to be stored.
struct SignedCertificate {
  std::string serial;
  std::vector<uint8_t> der;
};

// Signs the certificate of an INTENT record and returns its DER.
using SignFunction = std::function<absl::StatusOr<std::vector<uint8_t>>(const CertificateRecord&)>;

class CertificateStore {
 public:
  virtual ~CertificateStore() = default;
  // Commits an INTENT row for each record, with its requester (record.requested_by), in one
  // transaction: one durable commit for all. Per record, in order: OK; ALREADY_EXISTS if its
  // request_id is taken; FAILED_PRECONDITION if its public key is in a live (unrevoked)
  // certificate, an earlier record of the same call included. A failed transaction (database
  // down) is every record's status.
  virtual std::vector<absl::Status> RecordIntents(std::span<const CertificateRecord> records) = 0;
  absl::Status RecordIntent(const CertificateRecord& record) {
    return RecordIntents(std::span(&record, 1)).front();
  }
  // Stores each certificate on its INTENT row as ISSUED, in one transaction: one durable
  // commit for all. Per certificate, in order: true if stored; false if the row was no longer
  // an INTENT (another completion stored its certificate first: that one stands, read it).
  virtual std::vector<absl::StatusOr<bool>> StoreSigned(
      std::span<const SignedCertificate> certificates) = 0;
  virtual absl::StatusOr<std::optional<CertificateRecord>> FindByRequestId(
      const std::string& request_id) = 0;
  // Records a certificate signed elsewhere (by the key ceremony) as ISSUED. True if it was
  // new, false if that serial was on record already (an import runs at every start).
  virtual absl::StatusOr<bool> RecordIssued(const CertificateRecord& record) = 0;
  virtual absl::StatusOr<CertificateRecord> Get(const std::string& serial) = 0;
  // The status of each of `serials` on record, in any order; serials not on record are left
  // out. The OCSP responder re-reads its cached entries with this, many at a time; this
  // default asks one by one.
  virtual absl::StatusOr<std::vector<CertificateStatus>> Statuses(
      const std::vector<std::string>& serials);
  // For an intent found later (a crash left it): in one transaction holding the row lock, if
  // the row is still INTENT, `sign` and store the certificate as ISSUED. Concurrent
  // completions wait; only one signs.
  virtual absl::StatusOr<CertificateRecord> CompleteIssuance(const std::string& serial,
                                                             const SignFunction& sign) = 0;
  virtual absl::StatusOr<std::vector<CertificateRecord>> List(const CertificateFilter& filter) = 0;
  // Records the revocation (with `actor` as revoked_by, and as the requester of this
  // request_id) and bumps the issuer's CRL revision, in one transaction. Idempotent: the same
  // request_id again returns the record; revoking a revoked certificate again with the same
  // reason too (recording who asked, under the new request_id). NOT_FOUND for an unknown
  // serial; FAILED_PRECONDITION for an unsigned (INTENT) certificate or a second revocation
  // with another reason.
  virtual absl::StatusOr<CertificateRecord> Revoke(const std::string& request_id,
                                                   const std::string& serial, int reason,
                                                   std::chrono::system_clock::time_point when,
                                                   const Actor& actor) = 0;
};

// Concurrent RecordIntents calls are committed together, and so are concurrent StoreSigned
// calls (platform/group_commit.h): with N issuances under way the database sees one
// transaction of N rows where it would see N transactions.
class PgCertificateStore final : public CertificateStore {
 public:
  explicit PgCertificateStore(pg::ConnectionPool& pool);
  static std::vector<pg::Migration> Migrations();
  static constexpr char kSchema[] = "ca";
  // The most rows one group writes (a single larger call is written alone).
  static constexpr size_t kMaxGroupRows = 256;
  // Groups written at once (of intents, and of certificates).
  static constexpr size_t kGroupWriters = 2;

  std::vector<absl::Status> RecordIntents(std::span<const CertificateRecord> records) override;
  std::vector<absl::StatusOr<bool>> StoreSigned(
      std::span<const SignedCertificate> certificates) override;
  absl::StatusOr<std::optional<CertificateRecord>> FindByRequestId(
      const std::string& request_id) override;
  absl::StatusOr<bool> RecordIssued(const CertificateRecord& record) override;
  absl::StatusOr<CertificateRecord> Get(const std::string& serial) override;
  absl::StatusOr<std::vector<CertificateStatus>> Statuses(
      const std::vector<std::string>& serials) override;  // one query
  absl::StatusOr<CertificateRecord> CompleteIssuance(const std::string& serial,
                                                     const SignFunction& sign) override;
  absl::StatusOr<std::vector<CertificateRecord>> List(const CertificateFilter& filter) override;
  absl::StatusOr<CertificateRecord> Revoke(const std::string& request_id, const std::string& serial,
                                           int reason, std::chrono::system_clock::time_point when,
                                           const Actor& actor) override;

 private:
  std::vector<absl::Status> WriteIntents(std::span<const CertificateRecord* const> records);
  std::vector<absl::StatusOr<bool>> WriteSigned(
      std::span<const SignedCertificate* const> certificates);

  pg::ConnectionPool& pool_;
  GroupCommit<CertificateRecord, absl::Status> intents_;
  GroupCommit<SignedCertificate, absl::StatusOr<bool>> completions_;
};

}  // namespace tessera::ca
