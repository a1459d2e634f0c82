// The CA that certifies tessera's own TLS endpoints and clients: its key is generated on a
// PKCS#11 token and never leaves it; the TLS keys it certifies are software keys, because
// gRPC's TLS stack reads them from PEM. Until the key ceremony (root + issuing CAs) exists,
// this is how the demo and the tests get their mTLS certificates.
#pragma once

#include <botan/pk_keys.h>
#include <botan/x509cert.h>

#include <chrono>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "hsm/session.h"
#include "hsm/token.h"

namespace tessera::ca {

inline constexpr char kOrganization[] = "Ministero dell'Interno";

struct TlsIdentity {
  std::string cert_pem;
  std::string key_pem;  // unencrypted PKCS#8; the caller stores it with mode 0600
};

class ServicePki {
 public:
  // Generates the CA key on `token` under CKA_ID "service-ca" and self-signs its certificate.
  static absl::StatusOr<ServicePki> Create(std::shared_ptr<hsm::Token> token,
                                           const std::string& ca_name, hsm::KeyAlgorithm algorithm,
                                           std::chrono::hours validity);

  const Botan::X509_Certificate& ca_cert() const { return *ca_cert_; }
  std::string ca_pem() const { return ca_cert_->PEM_encode(); }
  Botan::Private_Key& ca_key() const { return *ca_key_; }

  // CN=<common_name>, OU=<unit>, O=Ministero dell'Interno, C=IT; serverAuth and clientAuth;
  // SAN DNS:localhost and IP:127.0.0.1; a fresh software P-256 key.
  absl::StatusOr<TlsIdentity> Issue(const std::string& common_name, std::string_view unit,
                                    std::chrono::hours validity) const;

 private:
  ServicePki(std::unique_ptr<Botan::Private_Key> key, std::unique_ptr<Botan::X509_Certificate> cert)
      : ca_key_(std::move(key)), ca_cert_(std::move(cert)) {}

  std::shared_ptr<Botan::Private_Key> ca_key_;
  std::shared_ptr<Botan::X509_Certificate> ca_cert_;
};

}  // namespace tessera::ca
