#include "ca/lint.h"

#include <botan/ber_dec.h>
#include <botan/ec_group.h>
#include <botan/ecdsa.h>
#include <botan/oids.h>
#include <botan/rsa.h>
#include <botan/x509_ext.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <memory>
#include <regex>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "ca/certificate_builder.h"
#include "ca/extensions.h"
#include "ca/subject.h"
#include "identity/codice_fiscale.h"
#include "platform/status_macros.h"

namespace tessera::ca {
namespace {

absl::Status Fail(const std::string& message) { return absl::FailedPreconditionError(message); }

// What Botan's parsed view hides: the raw serial octets, the time encodings and every
// extension in order (so duplicates show).
struct RawTbs {
  int version = 1;
  std::vector<uint8_t> serial;  // INTEGER content octets
  Botan::ASN1_Tag not_before_type = Botan::NO_OBJECT;
  Botan::ASN1_Tag not_after_type = Botan::NO_OBJECT;
  struct Extension {
    std::string oid;
    bool critical = false;
    std::vector<uint8_t> value;
  };
  std::vector<Extension> extensions;
};

RawTbs ParseTbs(const Botan::X509_Certificate& cert) {
  RawTbs raw;
  // signed_body() is the content of the TBSCertificate SEQUENCE, without its header.
  Botan::BER_Decoder tbs(cert.signed_body());
  Botan::BER_Object object = tbs.get_next_object();
  if (object.is_a(0, Botan::ASN1_Tag(Botan::CONTEXT_SPECIFIC | Botan::CONSTRUCTED))) {
    size_t version = 0;
    Botan::BER_Decoder(object).decode(version).verify_end();
    raw.version = static_cast<int>(version) + 1;
    object = tbs.get_next_object();
  }
  raw.serial.assign(object.bits(), object.bits() + object.length());
  tbs.get_next_object();  // signature algorithm
  tbs.get_next_object();  // issuer
  Botan::BER_Decoder validity = tbs.start_cons(Botan::SEQUENCE);
  raw.not_before_type = validity.get_next_object().type();
  raw.not_after_type = validity.get_next_object().type();
  validity.end_cons();
  tbs.get_next_object();  // subject
  tbs.get_next_object();  // subjectPublicKeyInfo
  while (tbs.more_items()) {
    object = tbs.get_next_object();
    if (!object.is_a(3, Botan::ASN1_Tag(Botan::CONTEXT_SPECIFIC | Botan::CONSTRUCTED))) continue;
    Botan::BER_Decoder list = Botan::BER_Decoder(object).start_cons(Botan::SEQUENCE);
    while (list.more_items()) {
      Botan::BER_Decoder extension = list.start_cons(Botan::SEQUENCE);
      Botan::OID oid;
      bool critical = false;
      std::vector<uint8_t> value;
      extension.decode(oid).decode_optional(critical, Botan::BOOLEAN, Botan::UNIVERSAL, false);
      extension.decode(value, Botan::OCTET_STRING).end_cons();
      raw.extensions.push_back({oid.to_string(), critical, std::move(value)});
    }
  }
  return raw;
}

const char* const kOidBasicConstraints = "2.5.29.19";
const char* const kOidKeyUsage = "2.5.29.15";
const char* const kOidExtendedKeyUsage = "2.5.29.37";
const char* const kOidSubjectKeyId = "2.5.29.14";
const char* const kOidAuthorityKeyId = "2.5.29.35";
const char* const kOidSubjectAltName = "2.5.29.17";

// Rules every certificate shares, leaf or CA.

absl::Status VersionIs3(const Botan::X509_Certificate& cert) {
  RawTbs raw = ParseTbs(cert);
  if (raw.version != 3) return Fail(absl::StrCat("must be X.509 v3, is v", raw.version));
  return absl::OkStatus();
}

absl::Status ValidityEncodedByYear(const Botan::X509_Certificate& cert) {
  RawTbs raw = ParseTbs(cert);
  auto expected = [](const Botan::X509_Time& t) {
    const std::chrono::year_month_day day(
        std::chrono::floor<std::chrono::days>(t.to_std_timepoint()));
    return day.year() < std::chrono::year(2050) ? Botan::UTC_TIME : Botan::GENERALIZED_TIME;
  };
  if (raw.not_before_type != expected(cert.not_before()) ||
      raw.not_after_type != expected(cert.not_after())) {
    return Fail(
        "dates before 2050 must be UTCTime and from 2050 GeneralizedTime (RFC 5280 4.1.2.5)");
  }
  return absl::OkStatus();
}

absl::Status SerialIsRandomAndPositive(const Botan::X509_Certificate& cert) {
  RawTbs raw = ParseTbs(cert);
  const std::vector<uint8_t>& s = raw.serial;
  if (s.empty() || (s[0] & 0x80) != 0) return Fail("serial number must be positive");
  if (s.size() > 20)
    return Fail(absl::StrCat("serial number has ", s.size(), " octets, at most 20"));
  if (cert.serial_number().size() < 9 && Botan::BigInt(s).bits() <= 64) {
    return Fail("serial number must carry at least 64 random bits (more than 2^64)");
  }
  return absl::OkStatus();
}

absl::Status SubjectValuesAreClean(const Botan::X509_Certificate& cert) {
  for (const auto& [oid, value] : cert.subject_dn().dn_info()) {
    if (absl::Status st = CheckDnValue(oid.to_formatted_string(), value.value()); !st.ok()) {
      return Fail(std::string(st.message()));
    }
  }
  return absl::OkStatus();
}

// RSA of one of `rsa_bits` sizes with e = 65537, or EC P-256/P-384. `rsa_name` words the
// refusal ("RSA key", "RSA CA key").
absl::Status KeyIsAllowed(const Botan::X509_Certificate& cert, const char* rsa_name,
                          const std::vector<size_t>& rsa_bits) {
  std::unique_ptr<Botan::Public_Key> key(cert.subject_public_key());
  if (auto* rsa = dynamic_cast<Botan::RSA_PublicKey*>(key.get())) {
    const size_t bits = rsa->get_n().bits();
    if (std::find(rsa_bits.begin(), rsa_bits.end(), bits) == rsa_bits.end()) {
      std::string sizes;
      for (size_t i = 0; i < rsa_bits.size(); ++i) {
        absl::StrAppend(&sizes,
                        i == 0                     ? ""
                        : i + 1 == rsa_bits.size() ? " or "
                                                   : ", ",
                        rsa_bits[i]);
      }
      return Fail(absl::StrCat(rsa_name, " of ", bits, " bits: must be ", sizes));
    }
    if (rsa->get_e() != 65537) return Fail("RSA public exponent must be 65537");
    return absl::OkStatus();
  }
  if (auto* ec = dynamic_cast<Botan::ECDSA_PublicKey*>(key.get())) {
    const Botan::OID curve = ec->domain().get_curve_oid();
    if (curve != Botan::OID("1.2.840.10045.3.1.7") && curve != Botan::OID("1.3.132.0.34")) {
      return Fail(absl::StrCat("EC curve ", curve.to_string(), ": must be P-256 or P-384"));
    }
    return absl::OkStatus();
  }
  return Fail(absl::StrCat("key algorithm ", key->algo_name(), ": must be RSA or ECDSA"));
}

// Signed with SHA-256 and the algorithm of the key that signs (the issuer's).
absl::Status SignatureAlgorithmFits(const Botan::X509_Certificate& cert,
                                    const Botan::X509_Certificate& signer) {
  const std::string algorithm = cert.signature_algorithm().get_oid().to_formatted_string();
  // The key's algorithm from its SPKI's OID: loading an RSA key would set up its Montgomery
  // parameters (~0.6 ms for 3072 bits) on every issuance for nothing.
  const std::string expected =
      signer.subject_public_key_algo().get_oid().to_formatted_string() == "RSA"
          ? "RSA/EMSA3(SHA-256)"
          : "ECDSA/EMSA1(SHA-256)";
  if (algorithm != expected) {
    return Fail(absl::StrCat("signature algorithm ", algorithm, ", expected ", expected,
                             " for the issuer's key"));
  }
  return absl::OkStatus();
}

// Each extension in `allowed` present exactly once with the criticality given; no other.
absl::Status ExtensionsAreExactly(const Botan::X509_Certificate& cert,
                                  const std::map<std::string, bool>& allowed) {
  std::map<std::string, int> seen;
  for (const auto& [oid, critical, value] : ParseTbs(cert).extensions) {
    auto it = allowed.find(oid);
    if (it == allowed.end()) return Fail(absl::StrCat("extension ", oid, " is not in the profile"));
    if (critical != it->second) {
      return Fail(
          absl::StrCat("extension ", oid, " must be ", it->second ? "critical" : "non-critical"));
    }
    if (++seen[oid] > 1) return Fail(absl::StrCat("extension ", oid, " appears more than once"));
  }
  for (const auto& [oid, critical] : allowed) {
    if (!seen.contains(oid)) return Fail(absl::StrCat("extension ", oid, " is missing"));
  }
  return absl::OkStatus();
}

// The http:// CRL distribution point URLs, read from the DER (Botan's parsed form prefixes the
// URL with its type): SEQUENCE OF DistributionPoint { [0] { [0] { [6] URI } } }.
std::vector<std::string> CrlDistributionUrls(const Botan::X509_Certificate& cert) {
  std::vector<std::string> urls;
  for (const auto& extension : ParseTbs(cert).extensions) {
    if (extension.oid != kOidCrlDistributionPoints) continue;
    Botan::BER_Decoder points = Botan::BER_Decoder(extension.value).start_cons(Botan::SEQUENCE);
    while (points.more_items()) {
      Botan::BER_Object name = points.start_cons(Botan::SEQUENCE)
                                   .start_cons(Botan::ASN1_Tag(0), Botan::PRIVATE)
                                   .start_cons(Botan::ASN1_Tag(0), Botan::PRIVATE)
                                   .get_next_object();
      if (name.is_a(6, Botan::CONTEXT_SPECIFIC)) {
        urls.emplace_back(reinterpret_cast<const char*>(name.bits()), name.length());
      }
    }
  }
  return urls;
}

absl::Status RevocationPointersAreHttp(const Botan::X509_Certificate& cert) {
  const std::vector<std::string> issuers = cert.ca_issuers();
  if (issuers.size() != 1 || !issuers[0].starts_with("http://")) {
    return Fail("AIA must give one http:// caIssuers URL");
  }
  const std::vector<std::string> urls = CrlDistributionUrls(cert);
  if (urls.size() != 1 || !urls[0].starts_with("http://")) {
    return Fail("the CRL distribution point must be one http:// URL");
  }
  return absl::OkStatus();
}

// Leaf rules.

absl::Status CheckVersion(const LintInput& in) { return VersionIs3(in.certificate); }

absl::Status CheckSubject(const LintInput& in) {
  if (in.certificate.raw_subject_dn() != EncodeDn(in.expected_subject)) {
    return Fail(absl::StrCat("subject is '", in.certificate.subject_dn().to_string(),
                             "', the profile requires '", in.expected_subject.to_string(),
                             "' in the order C, O, OU..., CN"));
  }
  return absl::OkStatus();
}

absl::Status CheckSubjectValues(const LintInput& in) {
  return SubjectValuesAreClean(in.certificate);
}

absl::Status CheckCommonName(const LintInput& in) {
  const std::string cn = in.certificate.subject_dn().get_first_attribute("X520.CommonName");
  switch (in.profile.subject_kind) {
    case SubjectKind::kOperator:
      if (absl::Status st = identity::ValidateCodiceFiscale(cn); !st.ok()) {
        return Fail(absl::StrCat("CN '", cn, "' is not a codice fiscale: ", st.message()));
      }
      return absl::OkStatus();
    case SubjectKind::kWorkstation: {
      // The template with {istat} as 6 digits and {progressive} as 4 digits, rest literal.
      std::string pattern;
      for (size_t i = 0; i < in.profile.common_name.size();) {
        if (in.profile.common_name.compare(i, 7, "{istat}") == 0) {
          pattern += "[0-9]{6}";
          i += 7;
        } else if (in.profile.common_name.compare(i, 13, "{progressive}") == 0) {
          pattern += "[0-9]{4}";
          i += 13;
        } else {
          const char c = in.profile.common_name[i++];
          pattern += std::isalnum(static_cast<unsigned char>(c)) ? std::string(1, c)
                                                                 : std::string("\\") + c;
        }
      }
      if (!std::regex_match(cn, std::regex(pattern))) {
        return Fail(absl::StrCat("CN '", cn, "' does not match ", in.profile.common_name,
                                 " (ISTAT code: 6 digits, progressive: 4 digits)"));
      }
      return absl::OkStatus();
    }
    case SubjectKind::kService:
    case SubjectKind::kOcspResponder:
      if (!std::regex_match(cn, std::regex("[a-z0-9-]{1,64}"))) {
        return Fail(absl::StrCat("CN '", cn, "' is not a service name"));
      }
      return absl::OkStatus();
  }
  return absl::OkStatus();
}

absl::Status CheckValidityPeriod(const LintInput& in) {
  const auto not_before = in.certificate.not_before().to_std_timepoint();
  const auto not_after = in.certificate.not_after().to_std_timepoint();
  const auto expected = NotAfter(in.profile, not_before);
  if (not_after != expected) {
    return Fail(absl::StrCat("notAfter is ", in.certificate.not_after().readable_string(),
                             ", the profile requires ",
                             Botan::X509_Time(expected).readable_string()));
  }
  return absl::OkStatus();
}

absl::Status CheckValidityEncoding(const LintInput& in) {
  return ValidityEncodedByYear(in.certificate);
}

absl::Status CheckSerial(const LintInput& in) { return SerialIsRandomAndPositive(in.certificate); }

absl::Status CheckPublicKey(const LintInput& in) {
  return KeyIsAllowed(in.certificate, "RSA key", {2048, 3072, 4096});
}

absl::Status CheckKeyUsage(const LintInput& in) {
  std::set<std::string> expected(in.profile.key_usage.begin(), in.profile.key_usage.end());
  std::unique_ptr<Botan::Public_Key> key(in.certificate.subject_public_key());
  if (key->algo_name() == "RSA")
    expected.insert(in.profile.rsa_key_usage.begin(), in.profile.rsa_key_usage.end());
  std::set<std::string> actual;
  for (const auto& [name, bit] : KnownKeyUsages()) {
    if ((in.certificate.constraints() & bit) != 0) actual.insert(name);
  }
  if (actual != expected) {
    return Fail(absl::StrCat("key usage is {", absl::StrJoin(actual, ", "),
                             "}, the profile requires {", absl::StrJoin(expected, ", "), "}"));
  }
  return absl::OkStatus();
}

absl::Status CheckExtendedKeyUsage(const LintInput& in) {
  std::set<std::string> expected;
  for (const std::string& name : in.profile.extended_key_usage) {
    expected.insert(KnownExtendedKeyUsages().at(name));
  }
  std::set<std::string> actual;
  for (const Botan::OID& oid : in.certificate.extended_key_usage()) actual.insert(oid.to_string());
  if (actual != expected) {
    return Fail(absl::StrCat("extended key usage is {", absl::StrJoin(actual, ", "),
                             "}, the profile requires {", absl::StrJoin(expected, ", "), "}"));
  }
  return absl::OkStatus();
}

absl::Status CheckBasicConstraints(const LintInput& in) {
  // Not is_CA_cert(): that also wants keyCertSign, and CA:TRUE alone is already wrong.
  const auto* constraints =
      in.certificate.v3_extensions()
          .get_extension_object_as<Botan::Cert_Extension::Basic_Constraints>();
  if (constraints == nullptr || constraints->get_is_ca()) {
    return Fail("a leaf must have basicConstraints CA:FALSE");
  }
  return absl::OkStatus();
}

// Each extension tessera writes, exactly once, with RFC 5280's criticality; nothing else.
absl::Status CheckExtensions(const LintInput& in) {
  std::map<std::string, bool> required = {
      {kOidBasicConstraints, true},     {kOidKeyUsage, true},
      {kOidExtendedKeyUsage, false},    {kOidSubjectKeyId, false},
      {kOidAuthorityKeyId, false},      {kOidCrlDistributionPoints, false},
      {kOidAuthorityInfoAccess, false},
  };
  if (in.profile.ocsp_no_check) required[kOidOcspNoCheck] = false;
  if (in.profile.subject_alt_names) required[kOidSubjectAltName] = false;
  return ExtensionsAreExactly(in.certificate, required);
}

absl::Status CheckKeyIdentifiers(const LintInput& in) {
  if (in.certificate.subject_key_id().empty()) return Fail("subjectKeyIdentifier is empty");
  if (in.certificate.authority_key_id() != in.issuer.subject_key_id()) {
    return Fail("authorityKeyIdentifier does not match the issuer's subjectKeyIdentifier");
  }
  if (in.certificate.raw_issuer_dn() != in.issuer.raw_subject_dn()) {
    return Fail("issuer name does not match the issuing CA's subject");
  }
  return absl::OkStatus();
}

absl::Status CheckRevocationPointers(const LintInput& in) {
  const std::string ocsp = in.certificate.ocsp_responder();
  if (!ocsp.starts_with("http://")) return Fail("AIA must give an http:// OCSP responder URL");
  return RevocationPointersAreHttp(in.certificate);
}

absl::Status CheckSignatureAlgorithm(const LintInput& in) {
  return SignatureAlgorithmFits(in.certificate, in.issuer);
}

// CA rules (the ceremony's root and issuing CAs).

absl::Status CheckCaVersion(const CaLintInput& in) { return VersionIs3(in.certificate); }

// C, O and CN present, values clean; the issuer name is the parent's subject, or the
// certificate's own for the self-signed root.
absl::Status CheckCaNames(const CaLintInput& in) {
  const Botan::X509_DN& dn = in.certificate.subject_dn();
  for (const char* attribute : {"X520.Country", "X520.Organization", "X520.CommonName"}) {
    if (dn.get_first_attribute(attribute).empty()) {
      return Fail(absl::StrCat("subject must carry ", attribute));
    }
  }
  TESSERA_RETURN_IF_ERROR(SubjectValuesAreClean(in.certificate));
  const std::vector<uint8_t>& expected_issuer =
      in.parent != nullptr ? in.parent->raw_subject_dn() : in.certificate.raw_subject_dn();
  if (in.certificate.raw_issuer_dn() != expected_issuer) {
    return Fail(in.parent != nullptr ? "issuer name does not match the root's subject"
                                     : "a root's issuer name must be its own subject");
  }
  return absl::OkStatus();
}

// The ceremony file's years exactly, encoded by year, and never beyond the parent's notAfter
// (a CA that outlives its root leaves its last certificates unverifiable).
absl::Status CheckCaValidity(const CaLintInput& in) {
  Profile years;
  years.validity_months = 12 * in.validity_years;
  const auto not_before = in.certificate.not_before().to_std_timepoint();
  const auto not_after = in.certificate.not_after().to_std_timepoint();
  if (not_after != NotAfter(years, not_before)) {
    return Fail(absl::StrCat("notAfter is ", in.certificate.not_after().readable_string(),
                             ", the ceremony file asks for ", in.validity_years, " years"));
  }
  if (in.parent != nullptr && not_after > in.parent->not_after().to_std_timepoint()) {
    return Fail(absl::StrCat("notAfter ", in.certificate.not_after().readable_string(),
                             " is after the root's ", in.parent->not_after().readable_string()));
  }
  return ValidityEncodedByYear(in.certificate);
}

absl::Status CheckCaSerial(const CaLintInput& in) {
  return SerialIsRandomAndPositive(in.certificate);
}

// A CA key is EC P-256/P-384 or RSA of at least 3072 bits.
absl::Status CheckCaPublicKey(const CaLintInput& in) {
  return KeyIsAllowed(in.certificate, "RSA CA key", {3072, 4096});
}

// CA:TRUE; the root may certify one level of CAs (pathLen 1), an issuing CA only leaves (0).
absl::Status CheckCaBasicConstraints(const CaLintInput& in) {
  const auto* constraints =
      in.certificate.v3_extensions()
          .get_extension_object_as<Botan::Cert_Extension::Basic_Constraints>();
  if (constraints == nullptr || !constraints->get_is_ca()) {
    return Fail("a CA must have basicConstraints CA:TRUE");
  }
  const size_t expected = in.parent == nullptr ? 1 : 0;
  if (constraints->get_path_limit() != expected) {
    return Fail(absl::StrCat("pathLenConstraint must be ", expected, " for ",
                             in.parent == nullptr ? "the root" : "an issuing CA"));
  }
  return absl::OkStatus();
}

absl::Status CheckCaKeyUsage(const CaLintInput& in) {
  if (in.certificate.constraints() != (Botan::KEY_CERT_SIGN | Botan::CRL_SIGN)) {
    return Fail("key usage must be exactly keyCertSign and cRLSign");
  }
  return absl::OkStatus();
}

// basicConstraints and keyUsage critical, SKI; an issuing CA also AKI, CRL DP and AIA. No
// extendedKeyUsage: these CAs are constrained by profile, not by EKU chaining.
absl::Status CheckCaExtensions(const CaLintInput& in) {
  std::map<std::string, bool> allowed = {
      {kOidBasicConstraints, true}, {kOidKeyUsage, true}, {kOidSubjectKeyId, false}};
  if (in.parent != nullptr) {
    allowed[kOidAuthorityKeyId] = false;
    allowed[kOidCrlDistributionPoints] = false;
    allowed[kOidAuthorityInfoAccess] = false;
  }
  return ExtensionsAreExactly(in.certificate, allowed);
}

absl::Status CheckCaKeyIdentifiers(const CaLintInput& in) {
  if (in.certificate.subject_key_id().empty()) return Fail("subjectKeyIdentifier is empty");
  if (in.parent != nullptr && in.certificate.authority_key_id() != in.parent->subject_key_id()) {
    return Fail("authorityKeyIdentifier does not match the root's subjectKeyIdentifier");
  }
  return absl::OkStatus();
}

absl::Status CheckCaRevocationPointers(const CaLintInput& in) {
  if (in.parent == nullptr) return absl::OkStatus();  // nothing revokes a root
  return RevocationPointersAreHttp(in.certificate);
}

absl::Status CheckCaSignatureAlgorithm(const CaLintInput& in) {
  return SignatureAlgorithmFits(in.certificate, in.parent != nullptr ? *in.parent : in.certificate);
}

// Runs `rules` and joins every failure into one FAILED_PRECONDITION.
template <typename Input, typename Rule>
absl::Status RunRules(const Input& input, const std::vector<Rule>& rules) {
  std::vector<std::string> failures;
  for (const Rule& rule : rules) {
    absl::Status status;
    try {
      status = rule.check(input);
    } catch (const std::exception& e) {
      status = Fail(absl::StrCat("certificate could not be read: ", e.what()));
    }
    if (!status.ok()) failures.push_back(absl::StrCat(rule.name, ": ", status.message()));
  }
  if (failures.empty()) return absl::OkStatus();
  return absl::FailedPreconditionError(absl::StrCat("lint: ", absl::StrJoin(failures, "; ")));
}

}  // namespace

const std::vector<LintRule>& LintRules() {
  static const std::vector<LintRule> kRules = {
      {"version", CheckVersion},
      {"subject_matches_profile", CheckSubject},
      {"subject_values", CheckSubjectValues},
      {"common_name_format", CheckCommonName},
      {"validity_period", CheckValidityPeriod},
      {"validity_encoding", CheckValidityEncoding},
      {"serial_number", CheckSerial},
      {"public_key", CheckPublicKey},
      {"key_usage", CheckKeyUsage},
      {"extended_key_usage", CheckExtendedKeyUsage},
      {"basic_constraints", CheckBasicConstraints},
      {"extensions", CheckExtensions},
      {"key_identifiers", CheckKeyIdentifiers},
      {"revocation_pointers", CheckRevocationPointers},
      {"signature_algorithm", CheckSignatureAlgorithm},
  };
  return kRules;
}

absl::Status Lint(const LintInput& input) { return RunRules(input, LintRules()); }

const std::vector<CaLintRule>& CaLintRules() {
  static const std::vector<CaLintRule> kRules = {
      {"ca_version", CheckCaVersion},
      {"ca_names", CheckCaNames},
      {"ca_validity", CheckCaValidity},
      {"ca_serial_number", CheckCaSerial},
      {"ca_public_key", CheckCaPublicKey},
      {"ca_basic_constraints", CheckCaBasicConstraints},
      {"ca_key_usage", CheckCaKeyUsage},
      {"ca_extensions", CheckCaExtensions},
      {"ca_key_identifiers", CheckCaKeyIdentifiers},
      {"ca_revocation_pointers", CheckCaRevocationPointers},
      {"ca_signature_algorithm", CheckCaSignatureAlgorithm},
  };
  return kRules;
}

absl::Status LintCa(const CaLintInput& input) { return RunRules(input, CaLintRules()); }

}  // namespace tessera::ca
