#include "ca/csr.h"

#include <botan/ecdsa.h>
#include <botan/pkcs10.h>
#include <botan/rsa.h>

#include <string_view>

#include "absl/strings/str_cat.h"

namespace tessera::ca {
namespace {

absl::Status Invalid(const std::string& rule) {
  return absl::InvalidArgumentError(absl::StrCat("csr: ", rule));
}

}  // namespace

absl::StatusOr<std::unique_ptr<Botan::Public_Key>> CheckCsr(std::span<const uint8_t> der) {
  if (der.empty()) return Invalid("is empty");
  if (der.size() > kMaxCsrBytes) {
    return Invalid(absl::StrCat(der.size(), " bytes, at most ", kMaxCsrBytes));
  }
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
