#include "tests/support/test_pki.h"

#include <botan/auto_rng.h>
#include <botan/ecdsa.h>
#include <botan/pkcs8.h>
#include <botan/x509_ca.h>
#include <botan/x509self.h>

#include <chrono>
#include <stdexcept>

#include "ca/subject.h"
#include "hsm/token_key.h"

namespace tessera::testing {
namespace {

constexpr auto kBackdate = std::chrono::minutes(5);  // absorbs clock differences

}  // namespace

KeyAndCsr NewKeyAndCsr() {
  Botan::AutoSeeded_RNG rng;
  Botan::ECDSA_PrivateKey key(rng, Botan::EC_Group("secp256r1"));
  const std::vector<uint8_t> der =
      Botan::X509::create_cert_req(Botan::X509_Cert_Options("anything"), key, "SHA-256", rng)
          .BER_encode();
  return {Botan::PKCS8::PEM_encode(key), std::string(der.begin(), der.end())};
}

TestPki::TestPki(std::shared_ptr<hsm::Token> token, const std::string& ca_name,
                 hsm::KeyAlgorithm algorithm) {
  auto key = hsm::GenerateTokenKey(
      std::move(token),
      {.algorithm = algorithm, .id = {'t', 'e', 's', 't', '-', 'c', 'a'}, .label = ca_name});
  if (!key.ok()) throw std::runtime_error(std::string(key.status().message()));
  ca_key_ = std::move(*key);
  Botan::AutoSeeded_RNG rng;
  Botan::X509_Cert_Options options;
  options.common_name = ca_name;
  options.organization = ca::kOrganization;
  options.country = "IT";
  options.CA_key(0);
  const auto now = std::chrono::system_clock::now();
  options.start = Botan::X509_Time(now - kBackdate);
  options.end = Botan::X509_Time(now + std::chrono::hours(24));
  ca_cert_ = std::make_unique<Botan::X509_Certificate>(
      Botan::X509::create_self_signed_cert(options, *ca_key_, "SHA-256", rng));
}

IssuedCert TestPki::Issue(const std::string& common_name, std::string_view unit) const {
  Botan::AutoSeeded_RNG rng;
  Botan::ECDSA_PrivateKey key(rng, Botan::EC_Group("secp256r1"));
  Botan::X509_Cert_Options options;
  options.common_name = common_name;
  options.org_unit = std::string(unit);
  options.organization = ca::kOrganization;
  options.country = "IT";
  options.dns = "localhost";
  options.ip = "127.0.0.1";
  options.add_constraints(Botan::Key_Constraints::DIGITAL_SIGNATURE);
  options.add_ex_constraint("PKIX.ServerAuth");
  options.add_ex_constraint("PKIX.ClientAuth");
  Botan::PKCS10_Request request = Botan::X509::create_cert_req(options, key, "SHA-256", rng);
  Botan::X509_CA ca(*ca_cert_, *ca_key_, "SHA-256", rng);
  const auto now = std::chrono::system_clock::now();
  Botan::X509_Certificate cert = ca.sign_request(request, rng, Botan::X509_Time(now - kBackdate),
                                                 Botan::X509_Time(now + std::chrono::hours(24)));
  return IssuedCert{cert.PEM_encode(), Botan::PKCS8::PEM_encode(key)};
}

}  // namespace tessera::testing
