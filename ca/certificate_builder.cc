#include "ca/certificate_builder.h"

#include <botan/der_enc.h>
#include <botan/pubkey.h>
#include <botan/x509_ca.h>
#include <botan/x509_ext.h>

#include <memory>

#include "absl/strings/str_cat.h"
#include "platform/status_macros.h"

namespace tessera::ca {
namespace {

// An extension whose value tessera encodes itself: Botan 2 cannot encode CRL distribution
// points, drops caIssuers from AIA, and has no id-pkix-ocsp-nocheck.
class RawExtension final : public Botan::Certificate_Extension {
 public:
  RawExtension(Botan::OID oid, std::string name, std::vector<uint8_t> value)
      : oid_(std::move(oid)), name_(std::move(name)), value_(std::move(value)) {}
  Botan::OID oid_of() const override { return oid_; }
  std::string oid_name() const override { return name_; }
  Certificate_Extension* copy() const override { return new RawExtension(oid_, name_, value_); }
  void contents_to(Botan::Data_Store&, Botan::Data_Store&) const override {}

 private:
  std::vector<uint8_t> encode_inner() const override { return value_; }
  void decode_inner(const std::vector<uint8_t>&) override {}

  Botan::OID oid_;
  std::string name_;
  std::vector<uint8_t> value_;
};

// CRLDistributionPoints ::= SEQUENCE OF DistributionPoint { [0] fullName [0] GeneralNames
// { uniformResourceIdentifier [6] IA5String } }
std::vector<uint8_t> EncodeCrlDistributionPoint(const std::string& url) {
  std::vector<uint8_t> out;
  const auto context = Botan::ASN1_Tag(Botan::CONTEXT_SPECIFIC | Botan::CONSTRUCTED);
  Botan::DER_Encoder(out)
      .start_cons(Botan::SEQUENCE)
      .start_cons(Botan::SEQUENCE)
      .start_cons(Botan::ASN1_Tag(0), context)
      .start_cons(Botan::ASN1_Tag(0), context)
      .add_object(Botan::ASN1_Tag(6), Botan::CONTEXT_SPECIFIC, url)
      .end_cons()
      .end_cons()
      .end_cons()
      .end_cons();
  return out;
}

// AuthorityInfoAccessSyntax ::= SEQUENCE OF AccessDescription { accessMethod OID,
// accessLocation uniformResourceIdentifier [6] IA5String }. Botan 2 drops caIssuers on encode.
std::vector<uint8_t> EncodeAuthorityInfoAccess(const std::string& ocsp_url,
                                               const std::string& ca_issuers_url) {
  std::vector<uint8_t> out;
  Botan::DER_Encoder(out)
      .start_cons(Botan::SEQUENCE)
      .start_cons(Botan::SEQUENCE)
      .encode(Botan::OID("1.3.6.1.5.5.7.48.1"))
      .add_object(Botan::ASN1_Tag(6), Botan::CONTEXT_SPECIFIC, ocsp_url)
      .end_cons()
      .start_cons(Botan::SEQUENCE)
      .encode(Botan::OID("1.3.6.1.5.5.7.48.2"))
      .add_object(Botan::ASN1_Tag(6), Botan::CONTEXT_SPECIFIC, ca_issuers_url)
      .end_cons()
      .end_cons();
  return out;
}

Botan::Key_Constraints KeyUsageBits(const std::vector<std::string>& names) {
  static const std::map<std::string, Botan::Key_Constraints> kBits = {
      {"digitalSignature", Botan::DIGITAL_SIGNATURE},
      {"nonRepudiation", Botan::NON_REPUDIATION},
      {"keyEncipherment", Botan::KEY_ENCIPHERMENT},
      {"dataEncipherment", Botan::DATA_ENCIPHERMENT},
      {"keyAgreement", Botan::KEY_AGREEMENT},
      {"keyCertSign", Botan::KEY_CERT_SIGN},
      {"cRLSign", Botan::CRL_SIGN}};
  int bits = 0;
  for (const std::string& name : names) bits |= kBits.at(name);
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
  ext.add(new RawExtension(Botan::OID(kOidCrlDistributionPoints), "X509v3.CRLDistributionPoints",
                           EncodeCrlDistributionPoint(issuer.crl_url)),
          false);
  ext.add(new RawExtension(Botan::OID(kOidAuthorityInfoAccess), "PKIX.AuthorityInformationAccess",
                           EncodeAuthorityInfoAccess(issuer.ocsp_url, issuer.ca_issuers_url)),
          false);
  if (profile.ocsp_no_check) {
    std::vector<uint8_t> null_value;
    Botan::DER_Encoder(null_value).encode_null();
    ext.add(new RawExtension(Botan::OID(kOidOcspNoCheck), "PKIX.OCSP.NoCheck", null_value), false);
  }
  return plan;
}

absl::StatusOr<Botan::X509_Certificate> SignPlan(const CertificatePlan& plan,
                                                 const IssuerContext& issuer,
                                                 const Botan::Private_Key& signing_key,
                                                 Botan::RandomNumberGenerator& rng) {
  try {
    Botan::AlgorithmIdentifier signature_algorithm;
    std::unique_ptr<Botan::PK_Signer> signer(
        Botan::choose_sig_format(signing_key, rng, "SHA-256", signature_algorithm));
    return Botan::X509_CA::make_cert(
        signer.get(), rng, plan.serial, signature_algorithm, plan.subject_public_key,
        Botan::X509_Time(plan.not_before), Botan::X509_Time(plan.not_after),
        issuer.certificate->subject_dn(), plan.subject, plan.extensions);
  } catch (const std::exception& e) {
    return absl::UnavailableError(absl::StrCat("signing the certificate failed: ", e.what()));
  }
}

}  // namespace tessera::ca
