#include "tests/support/test_pki.h"

#include <stdexcept>

namespace tessera::testing {

TestPki::TestPki(std::shared_ptr<hsm::Token> token, const std::string& ca_name,
                 hsm::KeyAlgorithm algorithm) {
  auto pki = ca::ServicePki::Create(std::move(token), ca_name, algorithm, std::chrono::hours(24));
  if (!pki.ok()) throw std::runtime_error(std::string(pki.status().message()));
  pki_ = std::make_unique<ca::ServicePki>(std::move(*pki));
}

IssuedCert TestPki::Issue(const std::string& common_name, std::string_view unit) const {
  auto issued = pki_->Issue(common_name, unit, std::chrono::hours(24));
  if (!issued.ok()) throw std::runtime_error(std::string(issued.status().message()));
  return std::move(*issued);
}

}  // namespace tessera::testing
