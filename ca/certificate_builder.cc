#include "ca/certificate_builder.h"

#include <botan/der_enc.h>
#include <botan/ecc_key.h>
#include <botan/pubkey.h>
#include <botan/rsa.h>
#include <botan/x509_ca.h>
#include <botan/x509_ext.h>

#include <algorithm>
#include <memory>

#include "absl/strings/str_cat.h"
#include "ca/extensions.h"
#include "ca/internal/signing.h"
#include "ca/internal/tbs.h"
#include "platform/random.h"
#include "platform/status_macros.h"

namespace tessera::ca {
namespace {

Botan::Key_Constraints KeyUsageBits(const std::vector<std::string>& names) {
  int bits = 0;
  for (const auto& [name, bit] : KnownKeyUsages()) {
    if (std::find(names.begin(), names.end(), name) != names.end()) bits |= bit;
  }
  return static_cast<Botan::Key_Constraints>(bits);
}

}  // namespace

Botan::BigInt RandomSerial(Botan::RandomNumberGenerator& rng) {
  for (;;) {
    std::vector<uint8_t> bytes(16);
    rng.randomize(bytes.data(), bytes.size());
    bytes[0] &= 0x7f;
    Botan::BigInt serial(bytes);
    if (serial.bits() > 64) return serial;  // below 2^64 only with chance 2^-63
  }
}

std::chrono::system_clock::time_point NotAfter(const Profile& profile,
                                               std::chrono::system_clock::time_point not_before) {
  using namespace std::chrono;
  if (profile.validity_days > 0) return not_before + days(profile.validity_days) - seconds(1);
  const sys_days day = floor<days>(not_before);
  const auto time_of_day = not_before - day;
  year_month_day ymd(day);
  year_month_day target = ymd + months(profile.validity_months);
  if (!target.ok()) target = year_month_day_last(target.year(), month_day_last(target.month()));
  return sys_days(target) + time_of_day - seconds(1);
}

absl::StatusOr<CertificatePlan> PlanCertificate(const Profile& profile, const SubjectData& data,
                                                const Botan::Public_Key& subject_key,
                                                const IssuerContext& issuer,
                                                const Botan::BigInt& serial,
                                                std::chrono::system_clock::time_point now) {
  if (issuer.certificate == nullptr) return absl::FailedPreconditionError("issuer: no certificate");
  CertificatePlan plan;
  plan.profile = &profile;
  plan.serial = serial;
  TESSERA_ASSIGN_OR_RETURN(plan.subject, BuildSubject(profile, data));
  plan.subject_public_key = subject_key.subject_public_key();
  plan.subject_key_algorithm = subject_key.algo_name();
  // Whole seconds: X.509 times carry no fractions.
  plan.not_before = std::chrono::floor<std::chrono::seconds>(now);
  plan.not_after = NotAfter(profile, plan.not_before);

  std::vector<std::string> usages = profile.key_usage;
  if (plan.subject_key_algorithm == "RSA") {
    usages.insert(usages.end(), profile.rsa_key_usage.begin(), profile.rsa_key_usage.end());
  }
  std::vector<Botan::OID> ekus;
  for (const std::string& eku : profile.extended_key_usage) {
    ekus.push_back(Botan::OID(KnownExtendedKeyUsages().at(eku)));
  }
  Botan::Extensions& ext = plan.extensions;
  ext.add(new Botan::Cert_Extension::Basic_Constraints(false), true);
  ext.add(new Botan::Cert_Extension::Key_Usage(KeyUsageBits(usages)), true);
  ext.add(new Botan::Cert_Extension::Extended_Key_Usage(ekus), false);
  ext.add(new Botan::Cert_Extension::Subject_Key_ID(subject_key.public_key_bits(), "SHA-160"),
          false);
  ext.add(new Botan::Cert_Extension::Authority_Key_ID(issuer.certificate->subject_key_id()), false);
  ext.add(CrlDistributionPoint(issuer.crl_url).release(), false);
  ext.add(AuthorityInfoAccess(issuer.ocsp_url, issuer.ca_issuers_url).release(), false);
  if (profile.ocsp_no_check) ext.add(OcspNoCheck().release(), false);
  if (profile.subject_alt_names) {
    TESSERA_ASSIGN_OR_RETURN(Botan::AlternativeName names, BuildAlternativeName(profile, data));
    ext.add(new Botan::Cert_Extension::Subject_Alternative_Name(names), false);
  }
  return plan;
}

Botan::secure_vector<uint8_t> EncodeTbs(const TbsFields& f) {
  Botan::secure_vector<uint8_t> tbs;
  Botan::DER_Encoder(tbs)
      .start_cons(Botan::SEQUENCE)
      .start_explicit(0)
      .encode(size_t{2})  // v3
      .end_explicit()
      .encode(f.serial)
      .encode(f.signature_algorithm)
      .encode(f.issuer)
      .start_cons(Botan::SEQUENCE)
      .encode(Botan::X509_Time(f.not_before))
      .encode(Botan::X509_Time(f.not_after))
      .end_cons()
      .encode(f.subject)
      .raw_bytes(f.subject_public_key)
      .start_explicit(3)
      .start_cons(Botan::SEQUENCE)
      .encode(*f.extensions)
      .end_cons()
      .end_explicit()
      .end_cons();
  return tbs;
}

absl::StatusOr<Botan::X509_Certificate> UnsignedDraft(const Botan::secure_vector<uint8_t>& tbs,
                                                      const SignatureShape& shape) {
  try {
    const std::vector<uint8_t> zeros(shape.signature_bytes, 0);
    std::vector<uint8_t> der;
    Botan::DER_Encoder(der)
        .start_cons(Botan::SEQUENCE)
        .raw_bytes(tbs)
        .encode(shape.algorithm)
        .encode(zeros, Botan::BIT_STRING)
        .end_cons();
    return Botan::X509_Certificate(der);
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat("the draft certificate does not parse: ", e.what()));
  }
}

absl::StatusOr<Botan::X509_Certificate> SignTbs(const Botan::secure_vector<uint8_t>& tbs,
                                                const Botan::AlgorithmIdentifier& algorithm,
                                                const Botan::Private_Key& key,
                                                Botan::RandomNumberGenerator& rng) {
  try {
    auto [key_algorithm, signer] = MakeSigner(key, rng);
    if (key_algorithm != algorithm) {
      return absl::InternalError("the signing key's algorithm is not the one the TBS names");
    }
    return Botan::X509_Certificate(
        Botan::X509_Object::make_signed(signer.get(), rng, algorithm, tbs));
  } catch (const std::exception& e) {
    return absl::UnavailableError(absl::StrCat("signing the certificate failed: ", e.what()));
  }
}

Botan::secure_vector<uint8_t> PlanTbs(const CertificatePlan& plan, const IssuerContext& issuer,
                                      const Botan::AlgorithmIdentifier& algorithm) {
  return EncodeTbs({.serial = plan.serial,
                    .signature_algorithm = algorithm,
                    .issuer = issuer.certificate->subject_dn(),
                    .not_before = plan.not_before,
                    .not_after = plan.not_after,
                    .subject = plan.subject,
                    .subject_public_key = plan.subject_public_key,
                    .extensions = &plan.extensions});
}

absl::StatusOr<Botan::X509_Certificate> DraftPlan(const CertificatePlan& plan,
                                                  const IssuerContext& issuer,
                                                  const SignatureShape& shape) {
  return UnsignedDraft(PlanTbs(plan, issuer, shape.algorithm), shape);
}

absl::StatusOr<Botan::X509_Certificate> SignPlan(const CertificatePlan& plan,
                                                 const IssuerContext& issuer,
                                                 const Botan::Private_Key& signing_key,
                                                 Botan::RandomNumberGenerator& rng) {
  TESSERA_ASSIGN_OR_RETURN(SignatureShape shape, ShapeOf(signing_key));
  return SignTbs(PlanTbs(plan, issuer, shape.algorithm), shape.algorithm, signing_key, rng);
}

absl::StatusOr<SignatureShape> ShapeOf(const Botan::Private_Key& key) {
  SignatureShape shape;
  if (const auto* ec = dynamic_cast<const Botan::EC_PublicKey*>(&key)) {
    // ECDSA-Sig-Value: SEQUENCE { INTEGER r, INTEGER s }, each at most order + 1 octets.
    shape.signature_bytes = 2 * (ec->domain().get_order().bytes() + 3) + 2;
  } else if (const auto* rsa = dynamic_cast<const Botan::RSA_PublicKey*>(&key)) {
    shape.signature_bytes = rsa->get_n().bytes();
  } else {
    return absl::InvalidArgumentError(
        absl::StrCat("key: algorithm ", key.algo_name(), " is not supported"));
  }
  try {
    shape.algorithm = MakeSigner(key, ThreadRng()).algorithm;
  } catch (const std::exception& e) {
    return absl::InvalidArgumentError(absl::StrCat("key: no signature format: ", e.what()));
  }
  return shape;
}

}  // namespace tessera::ca
