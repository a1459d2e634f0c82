#include "ca/issuer.h"

#include "absl/strings/str_cat.h"
#include "ca/internal/tbs.h"
#include "hsm/token_key.h"
#include "platform/random.h"
#include "platform/status_macros.h"

namespace tessera::ca {

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
  TESSERA_ASSIGN_OR_RETURN(SignatureShape shape, ShapeOf(*key));
  std::unique_ptr<Botan::Public_Key> certified(certificate->subject_public_key());
  if (certified->public_key_bits() != key->public_key_bits()) {
    return absl::FailedPreconditionError(
        absl::StrCat("issuer ", context.name, ": the key does not match its certificate"));
  }
  return std::unique_ptr<Issuer>(
      new Issuer(std::move(context), std::move(certificate), std::move(key), std::move(shape)));
}

absl::StatusOr<LintedPlan> Issuer::Check(CertificatePlan plan) const {
  if (plan.profile == nullptr) return absl::InvalidArgumentError("plan: no profile");
  TESSERA_ASSIGN_OR_RETURN(Botan::X509_Certificate draft, DraftPlan(plan, context_, shape_));
  TESSERA_RETURN_IF_ERROR(Lint({draft, *plan.profile, plan.subject, *certificate_}));
  return LintedPlan(std::move(plan), this);
}

absl::StatusOr<Botan::X509_Certificate> Issuer::Sign(const LintedPlan& linted) const {
  if (linted.issuer_ != this) {
    return absl::InvalidArgumentError(
        absl::StrCat("issuer ", context_.name, ": the plan was linted under another issuer"));
  }
  return SignTbs(PlanTbs(linted.plan(), context_, shape_.algorithm), shape_.algorithm, *key_,
                 ThreadRng());
}

absl::StatusOr<Botan::X509_Certificate> Issuer::Issue(CertificatePlan plan) const {
  TESSERA_ASSIGN_OR_RETURN(LintedPlan linted, Check(std::move(plan)));
  return Sign(linted);
}

}  // namespace tessera::ca
