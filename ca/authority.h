// The certificate authority's issuance path: check the request, plan and lint the
// certificate, commit the intent, sign on the token, store the certificate. Idempotent on
// request_id: a retry returns the certificate already issued and signs nothing; a retry that
// finds an intent left by a crash completes that same certificate (same serial, same content).
// Every act names its actor (platform/actor.h), recorded in the same transaction as the act.
#pragma once

#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <span>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "ca/certificate_store.h"
#include "ca/issuer.h"
#include "ca/profile.h"
#include "ca/read_scope.h"
#include "ca/subject.h"
#include "platform/clock.h"

namespace tessera::ca {

struct IssueRequest {
  std::string request_id;        // 1..128 of [A-Za-z0-9._:-]; the idempotency key
  std::string profile;           // e.g. "operator"
  std::vector<uint8_t> csr_der;  // PKCS#10, DER
  SubjectData subject;
};

class CertificateAuthority {
 public:
  CertificateAuthority(CertificateStore& store, const ProfileSet& profiles,
                       std::map<std::string, std::unique_ptr<Issuer>> issuers, const Clock& clock)
      : store_(store), profiles_(profiles), issuers_(std::move(issuers)), clock_(clock) {}

  // `actor` asked for it: recorded on the intent row (requested_by). INVALID_ARGUMENT for a
  // bad request (naming the field), FAILED_PRECONDITION for a lint failure or a key already
  // in use, ALREADY_EXISTS for a request_id reused with another request, UNAVAILABLE when
  // the database or the token is down. Refuses (INVALID_ARGUMENT) a profile that is not
  // requestable. A retry (by anyone) returns the certificate and keeps its first requester.
  absl::StatusOr<CertificateRecord> Issue(const IssueRequest& request, const Actor& actor);
  // Issues each request as Issue would, all for `actor`, in one go: each is checked, planned
  // and linted; the intents of those that pass are committed together (one durable commit),
  // signed, and their certificates stored together (one more). One result per request, in
  // order; a refusal of one touches no other. INVALID_ARGUMENT for the whole call, with nothing
  // recorded, when it holds no request, more than kMaxBatch, or one request_id twice.
  absl::StatusOr<std::vector<absl::StatusOr<CertificateRecord>>> IssueBatch(
      std::span<const IssueRequest> requests, const Actor& actor);
  static constexpr size_t kMaxBatch = 100;
  // A new certificate for issuing CA `issuer`'s delegated OCSP responder key (tessera-ca
  // renews its own responders, as SystemActor(kSystemActorName); the same idempotency and
  // intent rules as Issue).
  absl::StatusOr<CertificateRecord> IssueOcspResponder(const std::string& issuer,
                                                       const std::string& request_id,
                                                       std::vector<uint8_t> csr_der,
                                                       const Actor& actor);
  // A new certificate of profile "service" for one of tessera's services (the Ministry renews
  // them before they expire). PERMISSION_DENIED unless the profile's renewable_services lists
  // request.subject.service; otherwise as Issue.
  absl::StatusOr<CertificateRecord> RenewService(IssueRequest request, const Actor& actor);
  // Any certificate, for tessera-ca's own use (no reader's scope).
  absl::StatusOr<CertificateRecord> Get(const std::string& serial);
  // A certificate for `reader`: PERMISSION_DENIED naming the rule when it is outside the
  // reader's ReadScopeOf (checked before the lookup where the scope allows so).
  absl::StatusOr<CertificateRecord> Read(const Actor& reader, const std::string& serial);
  // A page of the certificates `reader` may see, narrowed in the query to its ReadScopeOf.
  absl::StatusOr<std::vector<CertificateRecord>> List(const Actor& reader,
                                                      CertificateFilter filter);
  // RFC 5280 reasons a leaf may be revoked for: unspecified (0), keyCompromise (1),
  // affiliationChanged (3), superseded (4), cessationOfOperation (5), privilegeWithdrawn (9).
  // `actor` is recorded as revoked_by, in the revocation's transaction. tessera-perso may
  // revoke only certificates it asked for, as superseded (PERMISSION_DENIED otherwise).
  absl::StatusOr<CertificateRecord> Revoke(const std::string& request_id, const std::string& serial,
                                           int reason, const Actor& actor);

  // Records the certificates the key ceremony signed (tessera's service identities, the OCSP
  // responders' first certificates), so they can be revoked, show in CRLs and OCSP and are
  // checked at the door like any other. Each must be signed by one of this CA's issuers and
  // be a service or OCSP responder certificate (INVALID_ARGUMENT otherwise, nothing recorded
  // after it). Idempotent: returns how many were new. Recorded as requested by
  // SystemActor(kSystemActorName): tessera-ca imports them at start.
  absl::StatusOr<int> RecordCeremonyCertificates(
      const std::vector<Botan::X509_Certificate>& certificates);

  const std::map<std::string, std::unique_ptr<Issuer>>& issuers() const { return issuers_; }
  // Called after every recorded revocation (e.g. to drop a cached OCSP status or a cached
  // "not revoked" of a caller); observers are added before the CA serves.
  void OnRevoked(std::function<void(const std::string& serial)> observer) {
    on_revoked_.push_back(std::move(observer));
  }

 private:
  // One request with the profile and issuing CA it is issued under.
  struct Target {
    const IssueRequest* request;
    const Profile* profile;
    std::string issuer;
  };
  struct Attempt;  // a target checked, planned and linted, or refused

  // Issues every target (see IssueBatch); one result per target, in order.
  std::vector<absl::StatusOr<CertificateRecord>> IssueUnder(std::span<const Target> targets,
                                                            const Actor& actor);
  Attempt Prepare(const Target& target, const Actor& actor);
  // A refusal that may hide a retry: if the request_id is on record for the same request,
  // answer with its certificate (completing an intent a crash left); otherwise the refusal.
  absl::StatusOr<CertificateRecord> AnswerRetry(const Attempt& attempt);
  // Lints (when `linted` is null, after rebuilding the plan from the record) and signs the
  // intent's certificate on the token; its DER.
  absl::StatusOr<std::vector<uint8_t>> Sign(const CertificateRecord& intent,
                                            const LintedPlan* linted);
  // Completes an intent found on record: waits for the call that recorded it if that call is
  // still under way in this process, then signs it under the row lock if still needed.
  absl::StatusOr<CertificateRecord> Complete(const CertificateRecord& intent);
  absl::StatusOr<CertificatePlan> RebuildPlan(const CertificateRecord& record,
                                              const Issuer& issuer);

  CertificateStore& store_;
  const ProfileSet& profiles_;
  std::map<std::string, std::unique_ptr<Issuer>> issuers_;
  const Clock& clock_;
  std::vector<std::function<void(const std::string&)>> on_revoked_;
  // Serials whose intents this process recorded and is signing: a concurrent retry of the
  // same request waits for them instead of signing a second time.
  struct InFlight {
    std::mutex mutex;
    std::condition_variable finished;
    std::set<std::string> serials;
  } in_flight_;
};

// INVALID_ARGUMENT unless lower-case hex of at most 40 digits: the form of a serial.
absl::Status CheckSerial(const std::string& serial);

// The profile of tessera's own service certificates (mTLS identities).
inline constexpr char kServiceProfile[] = "service";

// The name tessera-ca's own background acts are recorded under (kind "system"): OCSP
// responder renewals and the import of the ceremony's certificates.
inline constexpr char kSystemActorName[] = "tessera-ca";

// "0a1b…" — the serial as tessera stores and prints it.
std::string SerialHex(const Botan::BigInt& serial);

}  // namespace tessera::ca
