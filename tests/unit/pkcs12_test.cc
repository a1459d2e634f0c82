// The PKCS#12 writer's refusals and the password generator; files themselves are opened by
// openssl and pk12util in tests/pg/workstation_bundle_test.cc.
#include "ca/pkcs12.h"

#include <botan/auto_rng.h>
#include <botan/ecdsa.h>
#include <botan/pkcs8.h>
#include <botan/x509self.h>
#include <gtest/gtest.h>

#include <set>

namespace tessera::ca {
namespace {

TEST(RandomPassword, SixteenUnambiguousCharactersNeverRepeated) {
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    Secret password = RandomPassword();
    ASSERT_EQ(password.size(), 16u);
    EXPECT_EQ(std::string(password.view()).find_first_of("0O1lI"), std::string::npos)
        << password.view();
    for (char c : password.view()) EXPECT_TRUE(std::isalnum(static_cast<unsigned char>(c)));
    seen.insert(std::string(password.view()));
  }
  EXPECT_EQ(seen.size(), 1000u);
}

TEST(CreatePkcs12, RefusesAKeyThatIsNotTheCertificates) {
  Botan::AutoSeeded_RNG rng;
  Botan::ECDSA_PrivateKey key(rng, Botan::EC_Group("secp256r1"));
  Botan::ECDSA_PrivateKey other(rng, Botan::EC_Group("secp256r1"));
  Botan::X509_Certificate cert = Botan::X509::create_self_signed_cert(
      Botan::X509_Cert_Options("0580910001"), key, "SHA-256", rng);
  Pkcs12Contents contents{.private_key_pkcs8 = Botan::PKCS8::BER_encode(other),
                          .certificate_der = cert.BER_encode(),
                          .friendly_name = "0580910001"};
  auto mismatched = CreatePkcs12(contents, Secret("password"));
  EXPECT_TRUE(absl::IsInvalidArgument(mismatched.status())) << mismatched.status();

  contents.private_key_pkcs8 = Botan::PKCS8::BER_encode(key);
  EXPECT_TRUE(CreatePkcs12(contents, Secret("password")).ok());
  contents.chain_der = {{0x30, 0x03, 0x02, 0x01, 0x01}};
  auto bad_chain = CreatePkcs12(contents, Secret("password"));
  EXPECT_TRUE(absl::IsInvalidArgument(bad_chain.status())) << bad_chain.status();
  EXPECT_EQ(bad_chain.status().message().rfind("chain:", 0), 0u);

  contents.private_key_pkcs8 = {1, 2, 3};
  auto garbage = CreatePkcs12(contents, Secret("password"));
  EXPECT_TRUE(absl::IsInvalidArgument(garbage.status())) << garbage.status();
}

}  // namespace
}  // namespace tessera::ca
