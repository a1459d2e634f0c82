// The certificate builder and every lint rule, with software keys (no token needed here; the
// hsm suite signs the same plans on SoftHSM and checks them with openssl).
#include "ca/lint.h"

#include <botan/auto_rng.h>
#include <botan/der_enc.h>
#include <botan/ecdsa.h>
#include <botan/pubkey.h>
#include <botan/rsa.h>
#include <botan/x509_ca.h>
#include <botan/x509_ext.h>
#include <botan/x509_key.h>
#include <botan/x509self.h>
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "ca/certificate_builder.h"
#include "ca/extensions.h"
#include "ca/internal/tbs.h"
#include "tests/unit/test_profiles.h"

namespace tessera::ca {
namespace {

using std::chrono::system_clock;

// The rules a lint message names ("lint: a: ...; b: ..." -> {a, b}), to check that an input
// breaks exactly the rule it was made for.
std::set<std::string> FailedRules(const std::string& message) {
  std::set<std::string> names;
  if (!message.starts_with("lint: ")) return names;
  size_t start = 6;
  while (start < message.size()) {
    size_t end = message.find("; ", start);
    if (end == std::string::npos) end = message.size();
    names.insert(message.substr(start, message.find(':', start) - start));
    start = end + 2;
  }
  return names;
}

// Botan 2 writes dates before 2050 as UTCTime; this is the same instant as GeneralizedTime
// (for 2000 to 2049, whose UTCTime string lacks only the century).
Botan::X509_Time AsGeneralizedTime(system_clock::time_point t) {
  const Botan::X509_Time time(t);
  if (time.to_string().size() == 15) return time;  // 2050 on: GeneralizedTime already
  return Botan::X509_Time("20" + time.to_string(), Botan::GENERALIZED_TIME);
}

// EncodeTbs (ca/certificate_builder.cc) with what it never varies made variable, to build
// certificates the linter must refuse: `version` 1 omits the version field (extensions are
// still written), 2 writes v2; `generalized_time` writes both dates as GeneralizedTime
// whatever their year. With (3, false) it is EncodeTbs byte for byte (a test holds that).
Botan::secure_vector<uint8_t> HandEncodeTbs(const TbsFields& f, int version,
                                            bool generalized_time) {
  auto date = [&](system_clock::time_point t) {
    return generalized_time ? AsGeneralizedTime(t) : Botan::X509_Time(t);
  };
  Botan::secure_vector<uint8_t> tbs;
  Botan::DER_Encoder der(tbs);
  der.start_cons(Botan::SEQUENCE);
  if (version > 1) der.start_explicit(0).encode(static_cast<size_t>(version - 1)).end_explicit();
  der.encode(f.serial)
      .encode(f.signature_algorithm)
      .encode(f.issuer)
      .start_cons(Botan::SEQUENCE)
      .encode(date(f.not_before))
      .encode(date(f.not_after))
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

class LintTest : public ::testing::Test {
 protected:
  void SetUp() override {
    issuer_key_ = std::make_unique<Botan::ECDSA_PrivateKey>(rng_, Botan::EC_Group("secp256r1"));
    Botan::X509_Cert_Options options("Tessera Operatori CA/IT/Ministero dell'Interno");
    options.CA_key(0);
    issuer_cert_ = std::make_unique<Botan::X509_Certificate>(
        Botan::X509::create_self_signed_cert(options, *issuer_key_, "SHA-256", rng_));
    issuer_ = IssuerContext{"operators", issuer_cert_.get(), "http://ca.test/crl/operators.crl",
                            "http://ca.test/ocsp", "http://ca.test/ca/operators.crt"};
    subject_key_ = std::make_unique<Botan::ECDSA_PrivateKey>(rng_, Botan::EC_Group("secp256r1"));
    profile_ = TestOperatorProfile();
  }

  CertificatePlan Plan(const Botan::Public_Key& key) {
    auto plan = PlanCertificate(profile_, {.codice_fiscale = "RSSMRA85T10A562S"}, key, issuer_,
                                RandomSerial(rng_), now_);
    EXPECT_TRUE(plan.ok()) << plan.status();
    return std::move(*plan);
  }
  CertificatePlan Plan() { return Plan(*subject_key_); }

  // Lints `cert`, made from `plan`; returns the lint message ("" when clean).
  std::string LintCert(const Botan::X509_Certificate& cert, const CertificatePlan& plan,
                       const Profile* profile = nullptr) {
    absl::Status status = Lint({cert, profile ? *profile : profile_, plan.subject, *issuer_cert_});
    if (!status.ok()) {
      EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition);
    }
    return std::string(status.message());
  }

  // Lints `plan` signed by the issuer; returns the lint message ("" when clean).
  std::string LintOf(const CertificatePlan& plan, const Profile* profile = nullptr) {
    auto cert = SignPlan(plan, issuer_, *issuer_key_, rng_);
    EXPECT_TRUE(cert.ok()) << cert.status();
    return LintCert(*cert, plan, profile);
  }

  // `plan` as PlanTbs would encode it, but through HandEncodeTbs, signed by the issuer.
  std::string LintHandEncoded(const CertificatePlan& plan, int version, bool generalized_time) {
    auto shape = ShapeOf(*issuer_key_);
    EXPECT_TRUE(shape.ok()) << shape.status();
    const TbsFields fields{.serial = plan.serial,
                           .signature_algorithm = shape->algorithm,
                           .issuer = issuer_cert_->subject_dn(),
                           .not_before = plan.not_before,
                           .not_after = plan.not_after,
                           .subject = plan.subject,
                           .subject_public_key = plan.subject_public_key,
                           .extensions = &plan.extensions};
    EXPECT_EQ(HandEncodeTbs(fields, 3, false), EncodeTbs(fields));
    auto cert = SignTbs(HandEncodeTbs(fields, version, generalized_time), shape->algorithm,
                        *issuer_key_, rng_);
    EXPECT_TRUE(cert.ok()) << cert.status();
    return LintCert(*cert, plan);
  }

  Botan::AutoSeeded_RNG rng_;
  std::unique_ptr<Botan::Private_Key> issuer_key_;
  std::unique_ptr<Botan::X509_Certificate> issuer_cert_;
  IssuerContext issuer_;
  std::unique_ptr<Botan::Private_Key> subject_key_;
  Profile profile_;
  system_clock::time_point now_ = system_clock::now();
};

TEST_F(LintTest, AProperlyBuiltOperatorCertificatePassesEveryRule) {
  EXPECT_EQ(LintOf(Plan()), "");
  Botan::RSA_PrivateKey rsa(rng_, 2048);
  EXPECT_EQ(LintOf(Plan(rsa)), "");  // RSA: digitalSignature + keyEncipherment
}

TEST_F(LintTest, SixYearsFromIssueInclusive) {
  using namespace std::chrono;
  const auto start = sys_days(year(2026) / November / 23) + hours(10);
  EXPECT_EQ(NotAfter(profile_, start),
            sys_days(year(2032) / November / 23) + hours(10) - seconds(1));
  // 29 February + 6 years lands on a year without it: the last day of February.
  const auto leap = sys_days(year(2028) / February / 29);
  EXPECT_EQ(NotAfter(profile_, leap), sys_days(year(2034) / February / 28) - seconds(1));
}

TEST_F(LintTest, SerialsArePositiveWideAndFresh) {
  Botan::BigInt a = RandomSerial(rng_), b = RandomSerial(rng_);
  EXPECT_NE(a, b);
  EXPECT_GT(a.bits(), 64u);
  EXPECT_LE(a.bits(), 127u);
}

TEST_F(LintTest, SubjectInAnotherOrderIsRefused) {
  CertificatePlan plan = Plan();
  Botan::X509_DN expected = plan.subject;
  Botan::X509_DN reordered;  // Botan's default order: CN first
  reordered.add_attribute("X520.CommonName", "RSSMRA85T10A562S");
  reordered.add_attribute("X520.Country", "IT");
  reordered.add_attribute("X520.Organization", "Ministero dell'Interno");
  reordered.add_attribute("X520.OrganizationalUnit", "Anagrafe Nazionale Popolazione Residente");
  reordered.add_attribute("X520.OrganizationalUnit", "Operatori");
  plan.subject = reordered;
  auto cert = SignPlan(plan, issuer_, *issuer_key_, rng_);
  ASSERT_TRUE(cert.ok());
  std::string message(Lint({*cert, profile_, expected, *issuer_cert_}).message());
  EXPECT_NE(message.find("subject_matches_profile:"), std::string::npos) << message;
}

TEST_F(LintTest, WrongValidityIsRefused) {
  CertificatePlan plan = Plan();
  plan.not_after += std::chrono::hours(24);
  EXPECT_NE(LintOf(plan).find("validity_period: notAfter is"), std::string::npos);
}

TEST_F(LintTest, DatesFrom2050AreGeneralizedTimeAndPass) {
  CertificatePlan plan = Plan();
  plan.not_before = std::chrono::sys_days(std::chrono::year(2047) / 1 / 1);
  plan.not_after = NotAfter(profile_, plan.not_before);  // 2052 -> GeneralizedTime
  EXPECT_EQ(LintOf(plan), "");
}

TEST_F(LintTest, WeakOrUnknownKeysAreRefused) {
  Botan::RSA_PrivateKey rsa1024(rng_, 1024);
  EXPECT_NE(LintOf(Plan(rsa1024)).find("public_key: RSA key of 1024 bits"), std::string::npos);
  Botan::ECDSA_PrivateKey p521(rng_, Botan::EC_Group("secp521r1"));
  EXPECT_NE(LintOf(Plan(p521)).find("public_key: EC curve 1.3.132.0.35"), std::string::npos);
}

TEST_F(LintTest, KeyUsagesMustMatchTheProfile) {
  Profile server = profile_;
  server.key_usage = {"digitalSignature", "nonRepudiation"};
  server.extended_key_usage = {"clientAuth", "serverAuth"};
  std::string message = LintOf(Plan(), &server);
  EXPECT_NE(message.find("key_usage: key usage is {digitalSignature}"), std::string::npos)
      << message;
  EXPECT_NE(message.find("extended_key_usage:"), std::string::npos) << message;
}

TEST_F(LintTest, ExtensionsExactlyOnceAndNothingElse) {
  CertificatePlan extra = Plan();
  Botan::AlternativeName san;
  san.add_attribute("DNS", "example.test");
  extra.extensions.add(new Botan::Cert_Extension::Subject_Alternative_Name(san));
  EXPECT_NE(LintOf(extra).find("extensions: extension 2.5.29.17 is not in the profile"),
            std::string::npos);

  CertificatePlan ca = Plan();
  ca.extensions.replace(new Botan::Cert_Extension::Basic_Constraints(true), true);
  EXPECT_NE(LintOf(ca).find("basic_constraints: a leaf must have basicConstraints CA:FALSE"),
            std::string::npos);
}

TEST_F(LintTest, SmallSerialsAreRefused) {
  CertificatePlan plan = Plan();
  plan.serial = Botan::BigInt(12345);
  EXPECT_NE(LintOf(plan).find("serial_number: serial number must carry at least 64"),
            std::string::npos);
}

TEST_F(LintTest, AnotherIssuersKeyIdentifierIsRefused) {
  CertificatePlan plan = Plan();
  auto cert = SignPlan(plan, issuer_, *issuer_key_, rng_);
  ASSERT_TRUE(cert.ok());
  Botan::ECDSA_PrivateKey other_key(rng_, Botan::EC_Group("secp256r1"));
  Botan::X509_Cert_Options options("Other CA/IT/Ministero dell'Interno");
  options.CA_key(0);
  Botan::X509_Certificate other =
      Botan::X509::create_self_signed_cert(options, other_key, "SHA-256", rng_);
  std::string message(Lint({*cert, profile_, plan.subject, other}).message());
  EXPECT_NE(message.find("key_identifiers: authorityKeyIdentifier does not match"),
            std::string::npos)
      << message;
}

TEST_F(LintTest, WorkstationCommonNameFollowsItsTemplate) {
  Profile seed = profile_;
  seed.subject_kind = SubjectKind::kWorkstation;
  seed.units = {"Anagrafe Nazionale Popolazione Residente", "Postazioni"};
  seed.common_name = "{istat}{progressive}";
  Profile field = seed;
  field.common_name = "{istat}-PC-{progressive}";
  auto plan = PlanCertificate(field, {.istat = "058091", .progressive = 1}, *subject_key_, issuer_,
                              RandomSerial(rng_), now_);
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_EQ(LintOf(*plan, &field), "");
  std::string message = LintOf(*plan, &seed);
  EXPECT_NE(message.find("common_name_format: CN '058091-PC-0001' does not match"),
            std::string::npos)
      << message;
}

TEST_F(LintTest, ServiceCertificatesCarryCheckedSubjectAltNames) {
  Profile service = profile_;
  service.subject_kind = SubjectKind::kService;
  service.units = {"Anagrafe Nazionale Popolazione Residente", "Servizi"};
  service.common_name = "{service}";
  service.rsa_key_usage = {};
  service.extended_key_usage = {"serverAuth", "clientAuth"};
  service.subject_alt_names = true;
  SubjectData data{.service = "tessera-ca",
                   .dns_names = {"localhost", "ca.tessera.test"},
                   .ip_addresses = {"127.0.0.1"}};
  auto plan = PlanCertificate(service, data, *subject_key_, issuer_, RandomSerial(rng_), now_);
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_EQ(LintOf(*plan, &service), "");
  // The same certificate under a profile without SANs has an extension too many.
  EXPECT_NE(LintOf(*plan, &profile_).find("extension 2.5.29.17 is not in the profile"),
            std::string::npos);

  auto message = [&](SubjectData d) {
    return std::string(PlanCertificate(service, d, *subject_key_, issuer_, RandomSerial(rng_), now_)
                           .status()
                           .message());
  };
  EXPECT_EQ(message({.service = "tessera-ca"}),
            "subject.dns_names: a TLS certificate needs at least one DNS name or IP address");
  EXPECT_EQ(message({.service = "tessera-ca", .dns_names = {"Bad_Host"}}),
            "subject.dns_names[0]: must be a lower-case host name");
  EXPECT_EQ(message({.service = "tessera-ca", .ip_addresses = {"127.0.0.256"}}),
            "subject.ip_addresses[0]: must be an IPv4 address");
}

TEST_F(LintTest, OnlyVersion3Passes) {
  CertificatePlan plan = Plan();
  EXPECT_EQ(LintHandEncoded(plan, 3, false), "");
  // v1 (no version field) carrying v3 extensions; Botan still reads it, the linter refuses it.
  const std::string v1 = LintHandEncoded(plan, 1, false);
  EXPECT_EQ(FailedRules(v1), std::set<std::string>{"version"}) << v1;
  EXPECT_NE(v1.find("lint: version: must be X.509 v3, is v1"), std::string::npos) << v1;
  const std::string v2 = LintHandEncoded(plan, 2, false);
  EXPECT_NE(v2.find("lint: version: must be X.509 v3, is v2"), std::string::npos) << v2;
}

TEST_F(LintTest, DatesBefore2050InGeneralizedTimeAreRefused) {
  CertificatePlan plan = Plan();  // now + 6 years: both dates before 2050, so UTCTime
  EXPECT_EQ(LintHandEncoded(plan, 3, false), "");
  const std::string message = LintHandEncoded(plan, 3, true);
  EXPECT_EQ(FailedRules(message), std::set<std::string>{"validity_encoding"}) << message;
  EXPECT_NE(message.find("lint: validity_encoding: dates before 2050 must be UTCTime"),
            std::string::npos)
      << message;
  // From 2050 GeneralizedTime is right (a UTCTime "50" would read as 1950, so the other way
  // round cannot even be written).
  plan.not_before = std::chrono::sys_days(std::chrono::year(2050) / 1 / 1);
  plan.not_after = NotAfter(profile_, plan.not_before);
  EXPECT_EQ(LintHandEncoded(plan, 3, true), "");
}

TEST_F(LintTest, SubjectValuesWithReservedCharactersAreRefused) {
  CertificatePlan plan = Plan();
  // The same subject, in the same order, with a '+' (an RDN separator) in the units; the CN
  // is untouched, and the linter is told to expect this very subject.
  Botan::X509_DN tampered;
  for (const auto& [oid, value] : plan.subject.dn_info()) {
    tampered.add_attribute(oid, oid.to_formatted_string() == "X520.OrganizationalUnit"
                                    ? value.value() + " + Admin"
                                    : value.value());
  }
  plan.subject = tampered;
  const std::string message = LintOf(plan);
  EXPECT_EQ(FailedRules(message), std::set<std::string>{"subject_values"}) << message;
  EXPECT_NE(message.find("lint: subject_values: X520.OrganizationalUnit: the character '+'"),
            std::string::npos)
      << message;
}

TEST_F(LintTest, RevocationPointersMustBeHttp) {
  auto lint_with = [&](Botan::Certificate_Extension* extension) {
    CertificatePlan plan = Plan();
    plan.extensions.replace(extension, false);
    return LintOf(plan);
  };
  const std::vector<std::pair<std::string, std::string>> cases = {
      {lint_with(AuthorityInfoAccess("", issuer_.ca_issuers_url).release()),
       "AIA must give an http:// OCSP responder URL"},
      {lint_with(AuthorityInfoAccess("https://ca.test/ocsp", issuer_.ca_issuers_url).release()),
       "AIA must give an http:// OCSP responder URL"},
      {lint_with(AuthorityInfoAccess(issuer_.ocsp_url, "ldap://ca.test/operators").release()),
       "AIA must give one http:// caIssuers URL"},
      {lint_with(CrlDistributionPoint("ldap://ca.test/operators.crl").release()),
       "the CRL distribution point must be one http:// URL"},
  };
  for (const auto& [message, reason] : cases) {
    EXPECT_EQ(FailedRules(message), std::set<std::string>{"revocation_pointers"}) << message;
    EXPECT_NE(message.find("lint: revocation_pointers: " + reason), std::string::npos) << message;
  }
  // Without the CRL distribution point at all, the extension list is short too.
  CertificatePlan plan = Plan();
  ASSERT_TRUE(plan.extensions.remove(Botan::OID(kOidCrlDistributionPoints)));
  const std::string message = LintOf(plan);
  EXPECT_EQ(FailedRules(message), (std::set<std::string>{"extensions", "revocation_pointers"}))
      << message;
}

// Criticality is part of the "extensions" rule (there is no rule of its own).
TEST_F(LintTest, ExtensionsWithTheWrongCriticalityAreRefused) {
  CertificatePlan soft = Plan();
  const auto* usage = soft.extensions.get_extension_object_as<Botan::Cert_Extension::Key_Usage>();
  ASSERT_NE(usage, nullptr);
  soft.extensions.replace(new Botan::Cert_Extension::Key_Usage(usage->get_constraints()), false);
  const std::string message = LintOf(soft);
  EXPECT_EQ(FailedRules(message), std::set<std::string>{"extensions"}) << message;
  EXPECT_NE(message.find("lint: extensions: extension 2.5.29.15 must be critical"),
            std::string::npos)
      << message;

  CertificatePlan hard = Plan();
  const auto* eku =
      hard.extensions.get_extension_object_as<Botan::Cert_Extension::Extended_Key_Usage>();
  ASSERT_NE(eku, nullptr);
  hard.extensions.replace(new Botan::Cert_Extension::Extended_Key_Usage(eku->get_oids()), true);
  const std::string critical_eku = LintOf(hard);
  EXPECT_EQ(FailedRules(critical_eku), std::set<std::string>{"extensions"}) << critical_eku;
  EXPECT_NE(critical_eku.find("lint: extensions: extension 2.5.29.37 must be non-critical"),
            std::string::npos)
      << critical_eku;
}

TEST_F(LintTest, SignatureAlgorithmMustBeTheIssuersKeys) {
  // Signed by an RSA key while the issuer's certificate holds an EC key.
  Botan::RSA_PrivateKey rsa(rng_, 2048);
  CertificatePlan plan = Plan();
  auto cert = SignPlan(plan, issuer_, rsa, rng_);
  ASSERT_TRUE(cert.ok()) << cert.status();
  const std::string message = LintCert(*cert, plan);
  EXPECT_EQ(FailedRules(message), std::set<std::string>{"signature_algorithm"}) << message;
  EXPECT_NE(message.find("lint: signature_algorithm: signature algorithm RSA/EMSA3(SHA-256), "
                         "expected ECDSA/EMSA1(SHA-256)"),
            std::string::npos)
      << message;
}

TEST_F(LintTest, EveryRuleHasANameAndRuns) {
  std::set<std::string> names;
  for (const LintRule& rule : LintRules()) names.insert(rule.name);
  EXPECT_EQ(names.size(), LintRules().size());
  EXPECT_GE(names.size(), 15u);
}

// The linter reads an unsigned draft of the very TBSCertificate the token then signs; the
// encoder matches Botan's own X509_CA::make_cert byte for byte, for EC and RSA issuers.
TEST_F(LintTest, TheDraftCarriesTheBytesThatGetSigned) {
  Botan::RSA_PrivateKey rsa_issuer(rng_, 3072);
  const std::vector<std::pair<const Botan::Private_Key*, const char*>> issuers = {
      {issuer_key_.get(), "EMSA1(SHA-256)"}, {&rsa_issuer, "EMSA3(SHA-256)"}};
  for (const auto& [key, padding] : issuers) {
    CertificatePlan plan = Plan();
    auto signed_cert = SignPlan(plan, issuer_, *key, rng_);
    ASSERT_TRUE(signed_cert.ok()) << signed_cert.status();
    std::unique_ptr<Botan::Public_Key> public_key(Botan::X509::load_key(key->subject_public_key()));
    EXPECT_TRUE(signed_cert->check_signature(*public_key));
    auto shape = ShapeOf(*key);
    ASSERT_TRUE(shape.ok()) << shape.status();
    auto draft = DraftPlan(plan, issuer_, *shape);
    ASSERT_TRUE(draft.ok()) << draft.status();
    EXPECT_EQ(draft->signed_body(), signed_cert->signed_body());
    EXPECT_EQ(draft->signature_algorithm(), signed_cert->signature_algorithm());
    EXPECT_NEAR(static_cast<double>(draft->BER_encode().size()),
                static_cast<double>(signed_cert->BER_encode().size()), 4.0);

    Botan::PK_Signer signer(*key, rng_, padding);
    const Botan::X509_Certificate botans = Botan::X509_CA::make_cert(
        &signer, rng_, plan.serial, shape->algorithm, plan.subject_public_key,
        Botan::X509_Time(plan.not_before), Botan::X509_Time(plan.not_after),
        issuer_cert_->subject_dn(), plan.subject, plan.extensions);
    EXPECT_EQ(botans.signed_body(), draft->signed_body());
  }
}

// CA certificates as the ceremony makes them, with knobs to break one rule at a time.
struct CaKnobs {
  size_t path_limit = 0;
  Botan::Key_Constraints usage = Botan::Key_Constraints(Botan::KEY_CERT_SIGN | Botan::CRL_SIGN);
  bool is_ca = true;
  bool pointers = true;  // AKI, CRL DP, AIA (an issuing CA's)
  int years = 10;
  Botan::BigInt serial = Botan::BigInt("0x5f3c9a0e77d1c2b4a6908172635445ab");
  std::string common_name = "Tessera CA Operatori";
  bool extended_key_usage = false;
  std::string crl_url = "http://ca.test/crl/root.crl";  // with pointers
  int version = 3;                                      // else HandEncodeTbs
};

class CaLintTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_key_ = std::make_unique<Botan::ECDSA_PrivateKey>(rng_, Botan::EC_Group("secp256r1"));
    root_ = Make(*root_key_, *root_key_, nullptr,
                 {.path_limit = 1, .pointers = false, .years = 20, .common_name = "Root"});
    key_ = std::make_unique<Botan::ECDSA_PrivateKey>(rng_, Botan::EC_Group("secp256r1"));
  }

  std::unique_ptr<Botan::X509_Certificate> Make(const Botan::Private_Key& subject_key,
                                                const Botan::Private_Key& signer,
                                                const Botan::X509_Certificate* parent,
                                                const CaKnobs& k) {
    Botan::X509_DN subject;
    subject.add_attribute("X520.Country", "IT");
    subject.add_attribute("X520.Organization", "Ministero dell'Interno");
    subject.add_attribute("X520.CommonName", k.common_name);
    Botan::Extensions ext;
    ext.add(new Botan::Cert_Extension::Basic_Constraints(k.is_ca, k.path_limit), true);
    ext.add(new Botan::Cert_Extension::Key_Usage(k.usage), true);
    ext.add(new Botan::Cert_Extension::Subject_Key_ID(subject_key.public_key_bits(), "SHA-160"));
    if (k.pointers) {
      ext.add(new Botan::Cert_Extension::Authority_Key_ID(parent ? parent->subject_key_id()
                                                                 : std::vector<uint8_t>{1, 2}));
      ext.add(CrlDistributionPoint(k.crl_url).release());
      ext.add(AuthorityInfoAccess("", "http://ca.test/ca/root.crt").release());
    }
    if (k.extended_key_usage) {
      ext.add(new Botan::Cert_Extension::Extended_Key_Usage({Botan::OID("1.3.6.1.5.5.7.3.2")}));
    }
    Profile years;
    years.validity_months = 12 * k.years;
    const auto not_before = std::chrono::floor<std::chrono::seconds>(now_);
    auto shape = ShapeOf(signer);
    EXPECT_TRUE(shape.ok()) << shape.status();
    const TbsFields fields{.serial = k.serial,
                           .signature_algorithm = shape->algorithm,
                           .issuer = parent ? parent->subject_dn() : subject,
                           .not_before = not_before,
                           .not_after = NotAfter(years, not_before),
                           .subject = subject,
                           .subject_public_key = subject_key.subject_public_key(),
                           .extensions = &ext};
    auto cert =
        SignTbs(k.version == 3 ? EncodeTbs(fields) : HandEncodeTbs(fields, k.version, false),
                shape->algorithm, signer, rng_);
    EXPECT_TRUE(cert.ok()) << cert.status();
    return std::make_unique<Botan::X509_Certificate>(*cert);
  }

  // Lints an issuing CA built with `knobs`; "" when clean.
  std::string LintIssuing(const CaKnobs& knobs) {
    auto cert = Make(*key_, *root_key_, root_.get(), knobs);
    absl::Status status = LintCa({*cert, root_.get(), knobs.years});
    if (!status.ok()) {
      EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition);
    }
    return std::string(status.message());
  }

  Botan::AutoSeeded_RNG rng_;
  system_clock::time_point now_ = system_clock::now();
  std::unique_ptr<Botan::Private_Key> root_key_;
  std::unique_ptr<Botan::X509_Certificate> root_;
  std::unique_ptr<Botan::Private_Key> key_;
};

TEST_F(CaLintTest, RootAndIssuingCaAsTheCeremonyMakesThemPass) {
  EXPECT_TRUE(LintCa({*root_, nullptr, 20}).ok()) << LintCa({*root_, nullptr, 20});
  EXPECT_EQ(LintIssuing({}), "");
}

TEST_F(CaLintTest, BasicConstraintsAndPathLength) {
  EXPECT_NE(LintIssuing({.is_ca = false}).find("ca_basic_constraints: a CA must have"),
            std::string::npos);
  EXPECT_NE(LintIssuing({.path_limit = 2}).find("pathLenConstraint must be 0 for an issuing CA"),
            std::string::npos);
  auto root =
      Make(*root_key_, *root_key_, nullptr, {.path_limit = 0, .pointers = false, .years = 20});
  EXPECT_NE(std::string(LintCa({*root, nullptr, 20}).message())
                .find("pathLenConstraint must be 1 for the root"),
            std::string::npos);
}

TEST_F(CaLintTest, KeyUsageIsExactlyCertAndCrlSigning) {
  const auto with_signature =
      Botan::Key_Constraints(Botan::KEY_CERT_SIGN | Botan::CRL_SIGN | Botan::DIGITAL_SIGNATURE);
  EXPECT_NE(LintIssuing({.usage = with_signature}).find("ca_key_usage:"), std::string::npos);
  EXPECT_NE(LintIssuing({.usage = Botan::KEY_CERT_SIGN}).find("ca_key_usage:"), std::string::npos);
}

TEST_F(CaLintTest, ValidityFollowsTheFileAndStaysInsideTheRoot) {
  const std::string longer = std::string(
      LintCa({*Make(*key_, *root_key_, root_.get(), {.years = 25}), root_.get(), 25}).message());
  EXPECT_NE(longer.find("ca_validity: notAfter"), std::string::npos) << longer;
  EXPECT_NE(longer.find("is after the root's"), std::string::npos) << longer;
  const std::string mismatch = std::string(
      LintCa({*Make(*key_, *root_key_, root_.get(), {.years = 9}), root_.get(), 10}).message());
  EXPECT_NE(mismatch.find("the ceremony file asks for 10 years"), std::string::npos) << mismatch;
}

TEST_F(CaLintTest, ExtensionsIdentifiersAndPointers) {
  EXPECT_NE(LintIssuing({.extended_key_usage = true})
                .find("ca_extensions: extension 2.5.29.37 is not in the profile"),
            std::string::npos);
  EXPECT_NE(LintIssuing({.pointers = false}).find("ca_extensions: extension"), std::string::npos);
  // An issuing CA whose AKI names another key.
  Botan::ECDSA_PrivateKey other(rng_, Botan::EC_Group("secp256r1"));
  auto other_root = Make(other, other, nullptr,
                         {.path_limit = 1, .pointers = false, .years = 20, .common_name = "Root"});
  auto cert = Make(*key_, *root_key_, other_root.get(), {});
  const std::string message(LintCa({*cert, root_.get(), 10}).message());
  EXPECT_NE(message.find("ca_key_identifiers: authorityKeyIdentifier does not match"),
            std::string::npos)
      << message;
}

TEST_F(CaLintTest, SerialNamesAndKeys) {
  EXPECT_NE(LintIssuing({.serial = Botan::BigInt(7)}).find("ca_serial_number:"), std::string::npos);
  EXPECT_NE(LintIssuing({.common_name = "Evil, CN=Root"}).find("ca_names:"), std::string::npos);
  Botan::RSA_PrivateKey weak(rng_, 2048);
  auto cert = Make(weak, *root_key_, root_.get(), {});
  EXPECT_NE(std::string(LintCa({*cert, root_.get(), 10}).message())
                .find("ca_public_key: RSA CA key of 2048 bits"),
            std::string::npos);
}

TEST_F(CaLintTest, OnlyVersion3Passes) {
  const std::string v2 = LintIssuing({.version = 2});
  EXPECT_EQ(FailedRules(v2), std::set<std::string>{"ca_version"}) << v2;
  EXPECT_NE(v2.find("lint: ca_version: must be X.509 v3, is v2"), std::string::npos) << v2;
  auto root =
      Make(*root_key_, *root_key_, nullptr,
           {.path_limit = 1, .pointers = false, .years = 20, .common_name = "Root", .version = 1});
  const std::string v1(LintCa({*root, nullptr, 20}).message());
  EXPECT_EQ(FailedRules(v1), std::set<std::string>{"ca_version"}) << v1;
  EXPECT_NE(v1.find("is v1"), std::string::npos) << v1;
}

TEST_F(CaLintTest, AnIssuingCasRevocationPointersAreHttp) {
  const std::string message = LintIssuing({.crl_url = "ldap://ca.test/crl/root.crl"});
  EXPECT_EQ(FailedRules(message), std::set<std::string>{"ca_revocation_pointers"}) << message;
  EXPECT_NE(message.find("lint: ca_revocation_pointers: the CRL distribution point must be one "
                         "http:// URL"),
            std::string::npos)
      << message;
}

TEST_F(CaLintTest, SignatureAlgorithmIsTheSignersKeys) {
  // An RSA signature under a root (and on a root) whose key is EC.
  Botan::RSA_PrivateKey rsa(rng_, 2048);
  auto issuing = Make(*key_, rsa, root_.get(), {});
  const std::string message(LintCa({*issuing, root_.get(), 10}).message());
  EXPECT_EQ(FailedRules(message), std::set<std::string>{"ca_signature_algorithm"}) << message;
  EXPECT_NE(message.find("lint: ca_signature_algorithm: signature algorithm RSA/EMSA3(SHA-256)"),
            std::string::npos)
      << message;
  auto root = Make(*root_key_, rsa, nullptr,
                   {.path_limit = 1, .pointers = false, .years = 20, .common_name = "Root"});
  const std::string self(LintCa({*root, nullptr, 20}).message());
  EXPECT_EQ(FailedRules(self), std::set<std::string>{"ca_signature_algorithm"}) << self;
}

TEST_F(CaLintTest, EveryCaRuleHasANameAndRuns) {
  std::set<std::string> names;
  for (const CaLintRule& rule : CaLintRules()) names.insert(rule.name);
  EXPECT_EQ(names.size(), CaLintRules().size());
  EXPECT_GE(names.size(), 11u);
}

}  // namespace
}  // namespace tessera::ca
