// CRLs signed on a SoftHSM token, checked with openssl and Botan's parser.
#include "ca/crl.h"

#include <botan/auto_rng.h>
#include <botan/ecdsa.h>
#include <botan/x509_ca.h>
#include <botan/x509_crl.h>
#include <botan/x509self.h>
#include <gtest/gtest.h>

#include "ca/authority.h"
#include "hsm/token_key.h"
#include "tests/support/run.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_hsm.h"

namespace tessera::ca {
namespace {

using std::chrono::system_clock;
using testing::RunCommand;
using testing::TestSoftHsm;

class CrlTest : public ::testing::TestWithParam<hsm::KeyAlgorithm> {
 protected:
  void SetUp() override {
    auto token = TestSoftHsm::Get().CreateToken(TestSoftHsm::UniqueLabel("crl"));
    auto key = hsm::GenerateTokenKey(token, {.algorithm = GetParam(), .id = {'c'}, .label = "c"});
    ASSERT_TRUE(key.ok()) << key.status();
    key_ = std::move(*key);
    Botan::X509_Cert_Options options("Tessera CA Operatori/IT/Ministero dell'Interno");
    options.CA_key(0);
    ca_ = std::make_unique<Botan::X509_Certificate>(
        Botan::X509::create_self_signed_cert(options, *key_, "SHA-256", rng_));
    testing::WriteFile(dir_.File("ca.pem"), ca_->PEM_encode());
  }

  // A leaf signed by the CA (Botan's own path: the CRL code is what is under test).
  Botan::X509_Certificate Leaf() {
    Botan::ECDSA_PrivateKey leaf_key(rng_, Botan::EC_Group("secp256r1"));
    Botan::X509_Cert_Options options("RSSMRA85T10A562S/IT");
    Botan::X509_CA ca(*ca_, *key_, "SHA-256", rng_);
    const auto now = system_clock::now();
    return ca.sign_request(Botan::X509::create_cert_req(options, leaf_key, "SHA-256", rng_), rng_,
                           Botan::X509_Time(now - std::chrono::hours(1)),
                           Botan::X509_Time(now + std::chrono::hours(24)));
  }

  std::string OpenSslCrl(const std::vector<uint8_t>& der) {
    testing::WriteFile(dir_.File("list.crl"), std::string(der.begin(), der.end()));
    auto out = RunCommand("openssl crl -inform DER -in " + dir_.File("list.crl") + " -CAfile " +
                          dir_.File("ca.pem") + " -noout -verify -text");
    EXPECT_EQ(out.exit_code, 0) << out.output;
    EXPECT_NE(out.output.find("verify OK"), std::string::npos) << out.output;
    return out.output;
  }

  Botan::AutoSeeded_RNG rng_;
  testing::TempDir dir_;
  std::unique_ptr<Botan::Private_Key> key_;
  std::unique_ptr<Botan::X509_Certificate> ca_;
};

TEST_P(CrlTest, EntriesKeepTheirRecordedDateAndReason) {
  Botan::X509_Certificate revoked = Leaf();
  Botan::X509_Certificate good = Leaf();
  const auto this_update = std::chrono::floor<std::chrono::seconds>(system_clock::now());
  const auto revoked_at = std::chrono::sys_days(std::chrono::year(2026) / 3 / 14) +
                          std::chrono::hours(15) + std::chrono::minutes(9);
  CrlContent content{.number = 7,
                     .this_update = this_update,
                     .next_update = this_update + std::chrono::hours(24),
                     .entries = {{SerialHex(Botan::BigInt(revoked.serial_number())), revoked_at, 1},
                                 {"1a2b3c4d5e6f7a8b9c", revoked_at, 0},
                                 {"7f00000000000000000001", revoked_at, 5}}};
  auto der = SignCrl(content, *ca_, *key_);
  ASSERT_TRUE(der.ok()) << der.status();

  std::string text = OpenSslCrl(*der);
  EXPECT_NE(text.find("Version 2"), std::string::npos) << text;
  EXPECT_NE(text.find("X509v3 CRL Number: \n                7"), std::string::npos) << text;
  EXPECT_NE(text.find("X509v3 Authority Key Identifier"), std::string::npos) << text;
  EXPECT_NE(text.find("Revocation Date: Mar 14 15:09:00 2026 GMT"), std::string::npos) << text;
  EXPECT_NE(text.find("Key Compromise"), std::string::npos) << text;
  EXPECT_NE(text.find("Cessation Of Operation"), std::string::npos) << text;
  EXPECT_NE(text.find("Serial Number: 1A2B3C4D5E6F7A8B9C"), std::string::npos) << text;

  Botan::X509_CRL parsed(*der);
  EXPECT_EQ(parsed.crl_number(), 7u);
  EXPECT_EQ(parsed.get_revoked().size(), 3u);
  EXPECT_TRUE(parsed.is_revoked(revoked));
  EXPECT_FALSE(parsed.is_revoked(good));

  // openssl's own revocation check, with the CRL as PEM.
  testing::WriteFile(dir_.File("list.pem"), parsed.PEM_encode());
  testing::WriteFile(dir_.File("revoked.pem"), revoked.PEM_encode());
  testing::WriteFile(dir_.File("good.pem"), good.PEM_encode());
  auto check = [&](const std::string& leaf) {
    return RunCommand("openssl verify -crl_check -CAfile " + dir_.File("ca.pem") + " -CRLfile " +
                      dir_.File("list.pem") + " " + dir_.File(leaf));
  };
  auto refused = check("revoked.pem");
  EXPECT_NE(refused.exit_code, 0);
  EXPECT_NE(refused.output.find("certificate revoked"), std::string::npos) << refused.output;
  EXPECT_EQ(check("good.pem").exit_code, 0);
}

TEST_P(CrlTest, AnEmptyCrlIsValidToo) {
  const auto now = std::chrono::floor<std::chrono::seconds>(system_clock::now());
  auto der = SignCrl({.number = 1, .this_update = now, .next_update = now + std::chrono::hours(6)},
                     *ca_, *key_);
  ASSERT_TRUE(der.ok()) << der.status();
  std::string text = OpenSslCrl(*der);
  EXPECT_NE(text.find("No Revoked Certificates."), std::string::npos) << text;
}

INSTANTIATE_TEST_SUITE_P(IssuerKeys, CrlTest,
                         ::testing::Values(hsm::KeyAlgorithm::kEcP256, hsm::KeyAlgorithm::kRsa3072),
                         testing::KeyAlgorithmTestName);

}  // namespace
}  // namespace tessera::ca
