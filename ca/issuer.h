// One issuing CA at work: it signs a plan only after the linter passed the same
// TBSCertificate in an unsigned draft. The key stays on the token.
#pragma once

#include <botan/pk_keys.h>
#include <botan/x509cert.h>

#include <memory>

#include "absl/status/statusor.h"
#include "ca/certificate_builder.h"
#include "ca/lint.h"
#include "hsm/token.h"

namespace tessera::ca {

class Issuer;

// A certificate plan the linter passed under one issuer (Issuer::Check), the only thing that
// issuer signs: a plan cannot reach the token without the lint. Bound to the issuer that
// checked it.
class LintedPlan {
 public:
  const CertificatePlan& plan() const { return plan_; }

 private:
  friend class Issuer;
  LintedPlan(CertificatePlan plan, const Issuer* issuer)
      : plan_(std::move(plan)), issuer_(issuer) {}
  CertificatePlan plan_;
  const Issuer* issuer_;
};

// The issuing CA `name` as the ceremony left it on the online token: key and certificate
// under CKA_ID = name.
absl::StatusOr<std::unique_ptr<Issuer>> LoadIssuerFromToken(std::shared_ptr<hsm::Token> token,
                                                            const std::string& name,
                                                            const std::string& base_url);

class Issuer {
 public:
  // `key` is the issuing CA's key (a token key in production); `certificate` its certificate.
  static absl::StatusOr<std::unique_ptr<Issuer>> Create(
      IssuerContext context, std::unique_ptr<Botan::X509_Certificate> certificate,
      std::unique_ptr<Botan::Private_Key> key);

  const IssuerContext& context() const { return context_; }
  const Botan::X509_Certificate& certificate() const { return *certificate_; }
  const Botan::Private_Key& key() const { return *key_; }

  // Lints the plan's unsigned draft (the exact TBSCertificate Sign will sign): the plan, now
  // signable by this issuer, or FAILED_PRECONDITION naming the rules.
  absl::StatusOr<LintedPlan> Check(CertificatePlan plan) const;
  // Signs with the issuer's key (on the token). INVALID_ARGUMENT for a plan another issuer
  // checked.
  absl::StatusOr<Botan::X509_Certificate> Sign(const LintedPlan& linted) const;
  // Check, and only if it passes, Sign: a lint failure signs nothing on the token.
  absl::StatusOr<Botan::X509_Certificate> Issue(CertificatePlan plan) const;

 private:
  Issuer(IssuerContext context, std::unique_ptr<Botan::X509_Certificate> certificate,
         std::unique_ptr<Botan::Private_Key> key, SignatureShape shape)
      : context_(std::move(context)),
        certificate_(std::move(certificate)),
        key_(std::move(key)),
        shape_(std::move(shape)) {
    context_.certificate = certificate_.get();
  }

  IssuerContext context_;
  std::unique_ptr<Botan::X509_Certificate> certificate_;
  std::unique_ptr<Botan::Private_Key> key_;
  SignatureShape shape_;
};

}  // namespace tessera::ca
