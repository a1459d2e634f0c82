#include "tests/support/test_pki.h"

#include <botan/auto_rng.h>
#include <botan/ecdsa.h>
#include <botan/pkcs8.h>
#include <botan/x509_ca.h>
#include <botan/x509self.h>

#include <chrono>
#include <stdexcept>

#include "hsm/token_key.h"

namespace tessera::testing {
namespace {

constexpr char kOrganization[] = "Ministero dell'Interno";

}  // namespace

TestPki::TestPki(std::shared_ptr<hsm::Token> token, const std::string& ca_name,
                 hsm::KeyAlgorithm algorithm)
    : token_(std::move(token)) {
  hsm::KeyPairSpec spec{
      .algorithm = algorithm, .id = {'c', 'a'}, .label = ca_name, .allow_decrypt = false};
  auto key = hsm::GenerateTokenKey(token_, spec);
  if (!key.ok()) throw std::runtime_error(std::string(key.status().message()));
  ca_key_ = std::move(*key);

  Botan::AutoSeeded_RNG rng;
  Botan::X509_Cert_Options options(ca_name + "/IT/" + kOrganization);
  options.CA_key();
  options.start = Botan::X509_Time(std::chrono::system_clock::now() - std::chrono::hours(1));
  options.end = Botan::X509_Time(std::chrono::system_clock::now() + std::chrono::hours(24 * 365));
  ca_cert_ = std::make_unique<Botan::X509_Certificate>(
      Botan::X509::create_self_signed_cert(options, *ca_key_, "SHA-256", rng));
}

IssuedCert TestPki::Issue(const std::string& common_name, std::string_view unit) const {
  Botan::AutoSeeded_RNG rng;
  Botan::ECDSA_PrivateKey key(rng, Botan::EC_Group("secp256r1"));
  Botan::X509_Cert_Options options;
  options.common_name = common_name;
  options.org_unit = std::string(unit);
  options.organization = kOrganization;
  options.country = "IT";
  options.dns = "localhost";
  options.ip = "127.0.0.1";
  options.add_constraints(Botan::Key_Constraints::DIGITAL_SIGNATURE);
  options.add_ex_constraint("PKIX.ServerAuth");
  options.add_ex_constraint("PKIX.ClientAuth");
  Botan::PKCS10_Request request = Botan::X509::create_cert_req(options, key, "SHA-256", rng);

  Botan::X509_CA ca(*ca_cert_, *ca_key_, "SHA-256", rng);
  auto now = std::chrono::system_clock::now();
  Botan::X509_Certificate cert =
      ca.sign_request(request, rng, Botan::X509_Time(now - std::chrono::hours(1)),
                      Botan::X509_Time(now + std::chrono::hours(24 * 30)));
  return IssuedCert{cert.PEM_encode(), Botan::PKCS8::PEM_encode(key)};
}

}  // namespace tessera::testing
