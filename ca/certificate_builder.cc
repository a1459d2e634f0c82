#include "ca/certificate_builder.h"

#include <botan/pubkey.h>
#include <botan/x509_ca.h>
#include <botan/x509_ext.h>

#include <algorithm>
#include <memory>

#include "absl/strings/str_cat.h"
#include "ca/extensions.h"
#include "ca/signing.h"
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

absl::StatusOr<Botan::X509_Certificate> SignPlan(const CertificatePlan& plan,
                                                 const IssuerContext& issuer,
                                                 const Botan::Private_Key& signing_key,
                                                 Botan::RandomNumberGenerator& rng) {
  try {
    auto [signature_algorithm, signer] = MakeSigner(signing_key, rng);
    return Botan::X509_CA::make_cert(
        signer.get(), rng, plan.serial, signature_algorithm, plan.subject_public_key,
        Botan::X509_Time(plan.not_before), Botan::X509_Time(plan.not_after),
        issuer.certificate->subject_dn(), plan.subject, plan.extensions);
  } catch (const std::exception& e) {
    return absl::UnavailableError(absl::StrCat("signing the certificate failed: ", e.what()));
  }
}

}  // namespace tessera::ca
