#include "ca/issuer.h"

#include <botan/auto_rng.h>
#include <botan/ecdsa.h>
#include <botan/rsa.h>

#include "absl/strings/str_cat.h"
#include "hsm/token_key.h"
#include "platform/random.h"
#include "platform/status_macros.h"

namespace tessera::ca {
namespace {

// A software key of the issuer's algorithm and size, so the lint copy has the same
// signature algorithm and length as the real certificate.
absl::StatusOr<std::unique_ptr<Botan::Private_Key>> LintKeyLike(const Botan::Private_Key& key,
                                                                Botan::RandomNumberGenerator& rng) {
  if (const auto* ec = dynamic_cast<const Botan::EC_PublicKey*>(&key)) {
    return std::unique_ptr<Botan::Private_Key>(new Botan::ECDSA_PrivateKey(rng, ec->domain()));
  }
  if (const auto* rsa = dynamic_cast<const Botan::RSA_PublicKey*>(&key)) {
    return std::unique_ptr<Botan::Private_Key>(new Botan::RSA_PrivateKey(rng, rsa->get_n().bits()));
  }
  return absl::InvalidArgumentError(
      absl::StrCat("issuer key: algorithm ", key.algo_name(), " is not supported"));
}

}  // namespace

absl::StatusOr<std::unique_ptr<Issuer>> LoadIssuerFromToken(std::shared_ptr<hsm::Token> token,
                                                            const std::string& name,
                                                            const std::string& base_url) {
  const std::vector<uint8_t> id(name.begin(), name.end());
  std::vector<uint8_t> der;
  {
    TESSERA_ASSIGN_OR_RETURN(hsm::Token::Lease lease, token->Acquire());
    absl::StatusOr<std::vector<uint8_t>> stored = lease->ReadCertificate(id);
    if (!stored.ok()) {
      return absl::FailedPreconditionError(
          absl::StrCat("issuing CA '", name, "': no certificate on token '", token->info().label,
                       "': ", stored.status().message()));
    }
    der = std::move(*stored);
  }
  TESSERA_ASSIGN_OR_RETURN(std::unique_ptr<Botan::Private_Key> key, hsm::LoadTokenKey(token, id));
  std::unique_ptr<Botan::X509_Certificate> cert;
  try {
    cert = std::make_unique<Botan::X509_Certificate>(der);
  } catch (const std::exception& e) {
    return absl::FailedPreconditionError(
        absl::StrCat("issuing CA '", name, "': certificate on the token unreadable: ", e.what()));
  }
  return Issuer::Create(IssuerContext::ForBaseUrl(name, base_url), std::move(cert), std::move(key));
}

absl::StatusOr<std::unique_ptr<Issuer>> Issuer::Create(
    IssuerContext context, std::unique_ptr<Botan::X509_Certificate> certificate,
    std::unique_ptr<Botan::Private_Key> key) {
  Botan::AutoSeeded_RNG rng;
  TESSERA_ASSIGN_OR_RETURN(std::unique_ptr<Botan::Private_Key> lint_key, LintKeyLike(*key, rng));
  std::unique_ptr<Botan::Public_Key> certified(certificate->subject_public_key());
  if (certified->public_key_bits() != key->public_key_bits()) {
    return absl::FailedPreconditionError(
        absl::StrCat("issuer ", context.name, ": the key does not match its certificate"));
  }
  return std::unique_ptr<Issuer>(
      new Issuer(std::move(context), std::move(certificate), std::move(key), std::move(lint_key)));
}

absl::Status Issuer::Check(const CertificatePlan& plan) const {
  if (plan.profile == nullptr) return absl::InvalidArgumentError("plan: no profile");
  TESSERA_ASSIGN_OR_RETURN(Botan::X509_Certificate draft,
                           SignPlan(plan, context_, *lint_key_, ThreadRng()));
  return Lint({draft, *plan.profile, plan.subject, *certificate_});
}

absl::StatusOr<Botan::X509_Certificate> Issuer::Sign(const CertificatePlan& plan) const {
  return SignPlan(plan, context_, *key_, ThreadRng());
}

absl::StatusOr<Botan::X509_Certificate> Issuer::Issue(const CertificatePlan& plan) const {
  TESSERA_RETURN_IF_ERROR(Check(plan));
  return Sign(plan);
}

}  // namespace tessera::ca
