#include "ca/pkcs12.h"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pkcs12.h>
#include <openssl/x509.h>

#include <memory>

#include "absl/strings/str_cat.h"
#include "platform/random.h"

namespace tessera::ca {
namespace {

// The password is random with ~93 bits (RandomPassword): key stretching adds little, so the
// count stays modest to keep thousands of bundles cheap, yet above OpenSSL's 2048 default.
constexpr int kIterations = 10000;

template <typename T, void (*Free)(T*)>
struct Deleter {
  void operator()(T* p) const { Free(p); }
};
using KeyPtr = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY, EVP_PKEY_free>>;
using X509Ptr = std::unique_ptr<X509, Deleter<X509, X509_free>>;
using Pkcs12Ptr = std::unique_ptr<PKCS12, Deleter<PKCS12, PKCS12_free>>;
using PrivateKeyInfoPtr =
    std::unique_ptr<PKCS8_PRIV_KEY_INFO, Deleter<PKCS8_PRIV_KEY_INFO, PKCS8_PRIV_KEY_INFO_free>>;

void FreeCertificates(STACK_OF(X509) * stack) { sk_X509_pop_free(stack, X509_free); }
using X509StackPtr = std::unique_ptr<STACK_OF(X509), Deleter<STACK_OF(X509), FreeCertificates>>;

// OpenSSL's error queue, emptied, as text for a status.
std::string OpenSslError() {
  std::string text;
  while (unsigned long code = ERR_get_error()) {
    char buffer[256];
    ERR_error_string_n(code, buffer, sizeof buffer);
    if (!text.empty()) text += "; ";
    text += buffer;
  }
  return text.empty() ? "no detail" : text;
}

absl::StatusOr<X509Ptr> ParseCertificate(std::span<const uint8_t> der, const char* what) {
  const unsigned char* p = der.data();
  X509Ptr cert(d2i_X509(nullptr, &p, static_cast<long>(der.size())));
  if (cert == nullptr || p != der.data() + der.size()) {
    return absl::InvalidArgumentError(absl::StrCat(what, ": not one DER certificate"));
  }
  return cert;
}

}  // namespace

absl::StatusOr<Botan::secure_vector<uint8_t>> CreatePkcs12(const Pkcs12Contents& contents,
                                                           const Secret& password) {
  ERR_clear_error();
  const unsigned char* p = contents.private_key_pkcs8.data();
  PrivateKeyInfoPtr info(
      d2i_PKCS8_PRIV_KEY_INFO(nullptr, &p, static_cast<long>(contents.private_key_pkcs8.size())));
  KeyPtr key(info != nullptr ? EVP_PKCS82PKEY(info.get()) : nullptr);
  if (key == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("private key: not a PKCS#8 key OpenSSL reads: ", OpenSslError()));
  }
  auto cert = ParseCertificate(contents.certificate_der, "certificate");
  if (!cert.ok()) return cert.status();
  if (X509_check_private_key(cert->get(), key.get()) != 1) {
    return absl::InvalidArgumentError("certificate: does not match the private key");
  }
  X509StackPtr chain(sk_X509_new_null());
  for (const std::vector<uint8_t>& der : contents.chain_der) {
    auto ca = ParseCertificate(der, "chain");
    if (!ca.ok()) return ca.status();
    if (chain == nullptr || sk_X509_push(chain.get(), ca->get()) == 0) {
      return absl::ResourceExhaustedError("chain: out of memory");
    }
    ca->release();  // the stack owns it now
  }

  // The password as OpenSSL wants it: NUL-terminated, wiped on release.
  Botan::secure_vector<char> pass(password.view().begin(), password.view().end());
  pass.push_back('\0');
  // mac_iter -1 leaves the MAC out here: PKCS12_set_mac below adds it with SHA-256 named
  // explicitly, not whatever digest this OpenSSL version defaults to.
  Pkcs12Ptr p12(PKCS12_create_ex(pass.data(), contents.friendly_name.c_str(), key.get(),
                                 cert->get(), chain.get(), NID_aes_256_cbc, NID_aes_256_cbc,
                                 kIterations, -1, 0, nullptr, nullptr));
  if (p12 == nullptr) {
    return absl::InternalError(absl::StrCat("PKCS12_create_ex: ", OpenSslError()));
  }
  if (PKCS12_set_mac(p12.get(), pass.data(), -1, nullptr, 0, kIterations, EVP_sha256()) != 1) {
    return absl::InternalError(absl::StrCat("PKCS12_set_mac: ", OpenSslError()));
  }
  unsigned char* der = nullptr;
  const int length = i2d_PKCS12(p12.get(), &der);
  if (length <= 0) return absl::InternalError(absl::StrCat("i2d_PKCS12: ", OpenSslError()));
  Botan::secure_vector<uint8_t> out(der, der + length);
  OPENSSL_free(der);
  return out;
}

Secret RandomPassword(size_t length) {
  return RandomText(length, "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789");
}

}  // namespace tessera::ca
