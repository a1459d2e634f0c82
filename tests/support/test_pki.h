// A throwaway PKI for tests: a CA whose key is generated on a SoftHSM token through hsm/, and
// TLS certificates it issues with software keys (gRPC reads TLS keys from PEM). Errors throw,
// so a fixture fails loudly. Nothing is checked in: every run makes its own keys.
#pragma once

#include <botan/pk_keys.h>
#include <botan/x509cert.h>

#include <memory>
#include <string>
#include <string_view>

#include "hsm/session.h"
#include "hsm/token.h"

namespace tessera::testing {

struct IssuedCert {
  std::string cert_pem;
  std::string key_pem;  // unencrypted PKCS#8
};

// A fresh software P-256 key and a PKCS#10 request for it: what a client sends tessera-ca.
struct KeyAndCsr {
  std::string key_pem;  // unencrypted PKCS#8
  std::string csr_der;
};
KeyAndCsr NewKeyAndCsr();

class TestPki {
 public:
  TestPki(std::shared_ptr<hsm::Token> token, const std::string& ca_name,
          hsm::KeyAlgorithm algorithm = hsm::KeyAlgorithm::kEcP256);

  const Botan::X509_Certificate& ca_cert() const { return *ca_cert_; }
  std::string ca_pem() const { return ca_cert_->PEM_encode(); }
  Botan::Private_Key& ca_key() const { return *ca_key_; }

  // CN=<common_name>, OU=<unit>, O=Ministero dell'Interno, C=IT; serverAuth and clientAuth;
  // SAN DNS:localhost and IP:127.0.0.1; a fresh software P-256 key.
  IssuedCert Issue(const std::string& common_name, std::string_view unit) const;

 private:
  std::unique_ptr<Botan::Private_Key> ca_key_;
  std::unique_ptr<Botan::X509_Certificate> ca_cert_;
};

}  // namespace tessera::testing
