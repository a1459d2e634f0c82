#include "ca/csr.h"

#include <botan/ber_dec.h>
#include <botan/ecdsa.h>
#include <botan/pkcs10.h>
#include <botan/rsa.h>

#include <map>
#include <string_view>

#include "absl/strings/str_cat.h"

namespace tessera::ca {
namespace {

absl::Status Invalid(const std::string& rule) {
  return absl::InvalidArgumentError(absl::StrCat("csr: ", rule));
}

// Signature algorithms by OID, as RFC 3279/4055/5758 name them; `strong` ones are accepted.
struct SignatureAlgorithm {
  const char* name;
  bool strong;
};
const std::map<std::string, SignatureAlgorithm>& SignatureAlgorithms() {
  static const auto* algorithms = new std::map<std::string, SignatureAlgorithm>{
      {"1.2.840.10045.4.3.2", {"ecdsa-with-SHA256", true}},
      {"1.2.840.10045.4.3.3", {"ecdsa-with-SHA384", true}},
      {"1.2.840.10045.4.3.4", {"ecdsa-with-SHA512", true}},
      {"1.2.840.113549.1.1.11", {"sha256WithRSAEncryption", true}},
      {"1.2.840.113549.1.1.12", {"sha384WithRSAEncryption", true}},
      {"1.2.840.113549.1.1.13", {"sha512WithRSAEncryption", true}},
      {"1.2.840.113549.1.1.10", {"RSASSA-PSS", true}},  // if its hashes are (below)
      {"1.2.840.113549.1.1.2", {"md2WithRSAEncryption", false}},
      {"1.2.840.113549.1.1.4", {"md5WithRSAEncryption", false}},
      {"1.2.840.113549.1.1.5", {"sha1WithRSAEncryption", false}},
      {"1.3.14.3.2.29", {"sha1WithRSASignature", false}},
      {"1.2.840.113549.1.1.14", {"sha224WithRSAEncryption", false}},
      {"1.2.840.10045.4.1", {"ecdsa-with-SHA1", false}},
      {"1.2.840.10045.4.3.1", {"ecdsa-with-SHA224", false}},
      {"1.2.840.10040.4.3", {"dsa-with-SHA1", false}},
      {"2.16.840.1.101.3.4.3.1", {"dsa-with-SHA224", false}},
  };
  return *algorithms;
}

std::string HashName(const Botan::OID& oid) {
  static const auto* names = new std::map<std::string, std::string>{
      {"1.2.840.113549.2.5", "MD5"},         {"1.3.14.3.2.26", "SHA-1"},
      {"2.16.840.1.101.3.4.2.4", "SHA-224"}, {"2.16.840.1.101.3.4.2.1", "SHA-256"},
      {"2.16.840.1.101.3.4.2.2", "SHA-384"}, {"2.16.840.1.101.3.4.2.3", "SHA-512"}};
  auto it = names->find(oid.to_string());
  return it != names->end() ? it->second : oid.to_string();
}

bool StrongHash(const std::string& name) {
  return name == "SHA-256" || name == "SHA-384" || name == "SHA-512";
}

// RSASSA-PSS-params (RFC 4055): hash and MGF1's hash, both SHA-1 when absent.
absl::Status CheckPssParameters(const std::vector<uint8_t>& parameters) {
  const Botan::AlgorithmIdentifier sha1("SHA-160", Botan::AlgorithmIdentifier::USE_NULL_PARAM);
  const Botan::AlgorithmIdentifier mgf1_sha1("MGF1", sha1.BER_encode());
  Botan::AlgorithmIdentifier hash, mgf, mgf_hash;
  try {
    Botan::BER_Decoder(parameters)
        .start_cons(Botan::SEQUENCE)
        .decode_optional(hash, Botan::ASN1_Tag(0), Botan::PRIVATE, sha1)
        .decode_optional(mgf, Botan::ASN1_Tag(1), Botan::PRIVATE, mgf1_sha1)
        .discard_remaining();
    Botan::BER_Decoder(mgf.get_parameters()).decode(mgf_hash);
  } catch (const std::exception&) {
    return Invalid("signature algorithm RSASSA-PSS has parameters that do not parse");
  }
  for (const std::string& name : {HashName(hash.get_oid()), HashName(mgf_hash.get_oid())}) {
    if (!StrongHash(name)) {
      return Invalid(absl::StrCat("signature algorithm RSASSA-PSS with ", name,
                                  " is too weak; use SHA-256 or stronger"));
    }
  }
  return absl::OkStatus();
}

// Read from the outer SEQUENCE before the request is decoded, so that a weak signature is
// refused by name and never verified.
absl::Status CheckSignatureAlgorithm(std::span<const uint8_t> der) {
  Botan::AlgorithmIdentifier algorithm;
  try {
    Botan::BER_Decoder request =
        Botan::BER_Decoder(der.data(), der.size()).start_cons(Botan::SEQUENCE);
    request.get_next_object();  // certificationRequestInfo
    request.decode(algorithm);
  } catch (const std::exception&) {
    return Invalid("not a DER-encoded PKCS#10 request");
  }
  const std::string oid = algorithm.get_oid().to_string();
  auto known = SignatureAlgorithms().find(oid);
  if (known == SignatureAlgorithms().end()) {
    return Invalid(absl::StrCat("signature algorithm ", oid,
                                " is not allowed (ECDSA or RSA with SHA-256, SHA-384 or SHA-512, "
                                "or RSASSA-PSS)"));
  }
  if (!known->second.strong) {
    return Invalid(absl::StrCat("signature algorithm ", known->second.name,
                                " is too weak; use SHA-256 or stronger"));
  }
  if (oid == "1.2.840.113549.1.1.10") return CheckPssParameters(algorithm.get_parameters());
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<Botan::Public_Key>> CheckCsr(std::span<const uint8_t> der) {
  if (der.empty()) return Invalid("is empty");
  if (der.size() > kMaxCsrBytes) {
    return Invalid(absl::StrCat(der.size(), " bytes, at most ", kMaxCsrBytes));
  }
  if (absl::Status algorithm = CheckSignatureAlgorithm(der); !algorithm.ok()) return algorithm;
  std::unique_ptr<Botan::PKCS10_Request> request;
  try {
    request = std::make_unique<Botan::PKCS10_Request>(std::vector<uint8_t>(der.begin(), der.end()));
  } catch (const std::exception& e) {
    // Botan checks the self-signature while decoding and says so.
    if (std::string_view(e.what()).find("signature") != std::string_view::npos) {
      return Invalid("the signature does not verify with the request's key");
    }
    return Invalid("not a DER-encoded PKCS#10 request");
  }
  std::unique_ptr<Botan::Public_Key> key;
  try {
    key.reset(request->subject_public_key());
  } catch (const std::exception&) {
    return Invalid("the public key cannot be read (unknown algorithm or curve)");
  }
  if (auto* rsa = dynamic_cast<Botan::RSA_PublicKey*>(key.get())) {
    const size_t bits = rsa->get_n().bits();
    if (bits < 2048) return Invalid(absl::StrCat("RSA key of ", bits, " bits, at least 2048"));
    if (bits > 4096) return Invalid(absl::StrCat("RSA key of ", bits, " bits, at most 4096"));
    if (rsa->get_e() != 65537) return Invalid("RSA public exponent must be 65537");
  } else if (auto* ec = dynamic_cast<Botan::ECDSA_PublicKey*>(key.get())) {
    const Botan::OID curve = ec->domain().get_curve_oid();
    if (curve != Botan::OID("1.2.840.10045.3.1.7") && curve != Botan::OID("1.3.132.0.34")) {
      return Invalid(
          absl::StrCat("EC curve ", curve.to_formatted_string(), " is not allowed (P-256, P-384)"));
    }
  } else {
    return Invalid(absl::StrCat("key algorithm ", key->algo_name(), " is not allowed"));
  }
  // No second verification here: the PKCS10_Request constructor above has already checked the
  // self-signature with this key (Botan 2 throws "Bad signature"), and a verification is the
  // costliest step of the whole check.
  return key;
}

}  // namespace tessera::ca
