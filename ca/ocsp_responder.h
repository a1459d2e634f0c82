// tessera-ca's OCSP responder: answers for every issuing CA with that CA's delegated responder
// (key under CKA_ID "ocsp-<ca>" on the online token; its certificate is the newest one the CA
// recorded for that key, or the ceremony's on the token). Status comes from the
// certificate store and is cached per certificate for `cache_ttl`, dropped at once when this
// CA revokes that certificate (another replica's revocation shows within cache_ttl). Every
// answer is signed fresh: it carries the request's nonce and current times.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <vector>

#include "ca/certificate_store.h"
#include "ca/issuer.h"
#include "ca/ocsp.h"
#include "hsm/token.h"
#include "platform/clock.h"

namespace tessera::ca {

struct OcspPolicy {
  std::chrono::seconds validity{std::chrono::hours(1)};  // nextUpdate - thisUpdate
  std::chrono::seconds cache_ttl{std::chrono::seconds(60)};
};

class OcspResponder {
 public:
  static absl::StatusOr<std::unique_ptr<OcspResponder>> Create(
      CertificateStore& store, const std::map<std::string, std::unique_ptr<Issuer>>& issuers,
      std::shared_ptr<hsm::Token> token, const Clock& clock, OcspPolicy policy = {});

  // Always a DER OCSPResponse: malformedRequest, unauthorized (not our CA), tryLater (store
  // down) or a signed answer.
  std::vector<uint8_t> Respond(std::span<const uint8_t> request);
  // The certificate's status changed: its cached answer must not be served again.
  void Forget(const std::string& serial);

  // What OcspResponderRenewal keeps current: each issuing CA's responder certificate (the
  // newest one recorded for the responder's key) and the key on the token.
  struct Signer {
    std::string issuer;
    std::shared_ptr<const Botan::X509_Certificate> certificate;
    const Botan::Private_Key* key;  // lives as long as this responder
  };
  std::vector<Signer> Signers() const;
  // Answers are signed with `certificate` from now on. INVALID_ARGUMENT unless it certifies
  // the responder's key.
  absl::Status ReplaceCertificate(const std::string& issuer,
                                  std::shared_ptr<const Botan::X509_Certificate> certificate);

 private:
  struct Responder {
    std::string issuer;
    std::vector<uint8_t> name_sha1, key_sha1, name_sha256, key_sha256;
    std::shared_ptr<const Botan::X509_Certificate> certificate;  // guarded by mutex_
    std::unique_ptr<Botan::Private_Key> key;
  };
  struct Cached {
    OcspSingleResponse single;
    std::chrono::system_clock::time_point fetched;
  };

  OcspResponder(CertificateStore& store, const Clock& clock, OcspPolicy policy)
      : store_(store), clock_(clock), policy_(policy) {}
  const Responder* FindResponder(const OcspCertId& id) const;
  absl::StatusOr<OcspSingleResponse> Status(const Responder& responder, const OcspCertId& id);

  CertificateStore& store_;
  const Clock& clock_;
  OcspPolicy policy_;
  std::vector<Responder> responders_;
  mutable std::mutex mutex_;
  std::map<std::string, Cached> cache_;  // by serial
};

}  // namespace tessera::ca
