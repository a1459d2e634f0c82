#include "ca/ocsp_responder.h"

#include <botan/hash.h>

#include "absl/strings/str_cat.h"
#include "hsm/token_key.h"
#include "platform/status_macros.h"

namespace tessera::ca {
namespace {

std::vector<uint8_t> Hash(const char* algorithm, const std::vector<uint8_t>& data) {
  auto hash = Botan::HashFunction::create_or_throw(algorithm);
  hash->update(data);
  return Botan::unlock(hash->final());
}

constexpr size_t kMaxCached = 100000;

// tessera-ca renews responder certificates and records them; the token keeps the ceremony's.
// The newest unrevoked one recorded for this key wins.
absl::StatusOr<std::shared_ptr<const Botan::X509_Certificate>> NewestRecorded(
    CertificateStore& store, const std::string& issuer, const Botan::Public_Key& key,
    std::shared_ptr<const Botan::X509_Certificate> newest) {
  const std::vector<uint8_t> spki = key.subject_public_key();
  CertificateFilter filter{.issuer = issuer, .profile = kOcspResponderProfile, .page_size = 1000};
  filter.revoked = false;
  for (;;) {
    TESSERA_ASSIGN_OR_RETURN(std::vector<CertificateRecord> page, store.List(filter));
    for (const CertificateRecord& record : page) {
      if (record.state != CertificateState::kIssued || record.subject_public_key != spki) continue;
      if (record.not_after > newest->not_after().to_std_timepoint()) {
        newest = std::make_shared<const Botan::X509_Certificate>(record.der);
      }
    }
    if (static_cast<int>(page.size()) < filter.page_size) return newest;
    filter.page_token = page.back().serial;
  }
}

}  // namespace

absl::StatusOr<std::unique_ptr<OcspResponder>> OcspResponder::Create(
    CertificateStore& store, const std::map<std::string, std::unique_ptr<Issuer>>& issuers,
    std::shared_ptr<hsm::Token> token, const Clock& clock, OcspPolicy policy) {
  std::unique_ptr<OcspResponder> responder(new OcspResponder(store, clock, policy));
  for (const auto& [name, issuer] : issuers) {
    const std::string label = OcspResponderName(name);
    const std::vector<uint8_t> id(label.begin(), label.end());
    Responder r;
    r.issuer = name;
    const Botan::X509_Certificate& ca = issuer->certificate();
    r.name_sha1 = Hash("SHA-1", ca.raw_subject_dn());
    r.key_sha1 = Hash("SHA-1", ca.subject_public_key_bitstring());
    r.name_sha256 = Hash("SHA-256", ca.raw_subject_dn());
    r.key_sha256 = Hash("SHA-256", ca.subject_public_key_bitstring());
    {
      TESSERA_ASSIGN_OR_RETURN(hsm::Token::Lease lease, token->Acquire());
      absl::StatusOr<std::vector<uint8_t>> der = lease->ReadCertificate(id);
      if (!der.ok()) {
        return absl::FailedPreconditionError(
            absl::StrCat("OCSP responder '", label,
                         "' has no certificate on the token: ", der.status().message()));
      }
      r.certificate = std::make_shared<const Botan::X509_Certificate>(*der);
    }
    TESSERA_ASSIGN_OR_RETURN(r.key, hsm::LoadTokenKey(token, id));
    TESSERA_ASSIGN_OR_RETURN(r.certificate, NewestRecorded(store, name, *r.key, r.certificate));
    responder->responders_.push_back(std::move(r));
  }
  return responder;
}

const OcspResponder::Responder* OcspResponder::FindResponder(const OcspCertId& id) const {
  const bool sha1 = id.hash_oid == "1.3.14.3.2.26";
  for (const Responder& r : responders_) {
    if (id.issuer_name_hash == (sha1 ? r.name_sha1 : r.name_sha256) &&
        id.issuer_key_hash == (sha1 ? r.key_sha1 : r.key_sha256)) {
      return &r;
    }
  }
  return nullptr;
}

absl::StatusOr<OcspSingleResponse> OcspResponder::Status(const Responder& responder,
                                                         const OcspCertId& id) {
  const auto now = clock_.Now();
  {
    std::lock_guard lock(mutex_);
    auto it = cache_.find(id.serial);
    if (it != cache_.end() && now - it->second.fetched < policy_.cache_ttl &&
        it->second.single.id.hash_oid == id.hash_oid) {
      return it->second.single;
    }
  }
  OcspSingleResponse single{.id = id, .status = OcspCertStatus::kUnknown};
  absl::StatusOr<CertificateRecord> record = store_.Get(id.serial);
  if (!record.ok() && !absl::IsNotFound(record.status())) return record.status();
  // Unknown: never issued here, issued by another of our CAs, or an intent never signed.
  if (record.ok() && record->issuer == responder.issuer &&
      record->state == CertificateState::kIssued) {
    if (record->revoked_at.has_value()) {
      single.status = OcspCertStatus::kRevoked;
      single.revoked_at = *record->revoked_at;
      single.reason = record->revocation_reason.value_or(0);
    } else {
      single.status = OcspCertStatus::kGood;
    }
  }
  std::lock_guard lock(mutex_);
  if (cache_.size() >= kMaxCached) cache_.clear();
  cache_[id.serial] = Cached{single, now};
  return single;
}

void OcspResponder::Forget(const std::string& serial) {
  std::lock_guard lock(mutex_);
  cache_.erase(serial);
}

std::vector<uint8_t> OcspResponder::Respond(std::span<const uint8_t> request) {
  absl::StatusOr<OcspRequestData> parsed = ParseOcspRequest(request);
  if (!parsed.ok()) return OcspErrorResponse(OcspError::kMalformedRequest);
  // One responder signs the whole answer, so every certificate must be from one of our CAs,
  // the same one.
  const Responder* responder = FindResponder(parsed->certificates.front());
  if (responder == nullptr) return OcspErrorResponse(OcspError::kUnauthorized);
  std::vector<OcspSingleResponse> answers;
  for (const OcspCertId& id : parsed->certificates) {
    if (FindResponder(id) != responder) return OcspErrorResponse(OcspError::kUnauthorized);
    absl::StatusOr<OcspSingleResponse> single = Status(*responder, id);
    if (!single.ok()) return OcspErrorResponse(OcspError::kTryLater);
    answers.push_back(std::move(*single));
  }
  const auto now = std::chrono::floor<std::chrono::seconds>(clock_.Now());
  std::shared_ptr<const Botan::X509_Certificate> certificate;
  {
    std::lock_guard lock(mutex_);
    certificate = responder->certificate;
  }
  absl::StatusOr<std::vector<uint8_t>> signed_response = SignOcspResponse(
      answers, {now, now, now + policy_.validity}, parsed->nonce, *certificate, *responder->key);
  if (!signed_response.ok()) return OcspErrorResponse(OcspError::kInternalError);
  return *signed_response;
}

std::vector<OcspResponder::Signer> OcspResponder::Signers() const {
  std::lock_guard lock(mutex_);
  std::vector<Signer> signers;
  for (const Responder& r : responders_) signers.push_back({r.issuer, r.certificate, r.key.get()});
  return signers;
}

absl::Status OcspResponder::ReplaceCertificate(
    const std::string& issuer, std::shared_ptr<const Botan::X509_Certificate> certificate) {
  std::lock_guard lock(mutex_);
  for (Responder& r : responders_) {
    if (r.issuer != issuer) continue;
    // Botan 2: subject_public_key_bits() is the whole SPKI; the bit string is the key itself.
    if (certificate->subject_public_key_bitstring() != r.key->public_key_bits()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "certificate: does not certify the key of responder '", OcspResponderName(issuer), "'"));
    }
    r.certificate = std::move(certificate);
    return absl::OkStatus();
  }
  return absl::NotFoundError(absl::StrCat("issuer '", issuer, "': no OCSP responder"));
}

}  // namespace tessera::ca
