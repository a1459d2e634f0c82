// A throwaway PKI for tests: ca::ServicePki (CA key on a SoftHSM token) with errors turned
// into exceptions, so a fixture fails loudly. Nothing is checked in: every run makes its keys.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "ca/service_pki.h"

namespace tessera::testing {

using IssuedCert = ca::TlsIdentity;

class TestPki {
 public:
  TestPki(std::shared_ptr<hsm::Token> token, const std::string& ca_name,
          hsm::KeyAlgorithm algorithm = hsm::KeyAlgorithm::kEcP256);

  const Botan::X509_Certificate& ca_cert() const { return pki_->ca_cert(); }
  std::string ca_pem() const { return pki_->ca_pem(); }
  Botan::Private_Key& ca_key() const { return pki_->ca_key(); }
  IssuedCert Issue(const std::string& common_name, std::string_view unit) const;

 private:
  std::unique_ptr<ca::ServicePki> pki_;
};

}  // namespace tessera::testing
