#include "ca/csr.h"

#include <botan/auto_rng.h>
#include <botan/ecdsa.h>
#include <botan/rsa.h>
#include <botan/x509self.h>
#include <gtest/gtest.h>

namespace tessera::ca {
namespace {

class CsrTest : public ::testing::Test {
 protected:
  std::vector<uint8_t> Csr(const Botan::Private_Key& key) {
    Botan::X509_Cert_Options options("RSSMRA85T10A562S/IT");
    return Botan::X509::create_cert_req(options, key, "SHA-256", rng_).BER_encode();
  }
  std::string Error(std::span<const uint8_t> der) {
    auto key = CheckCsr(der);
    EXPECT_EQ(key.status().code(), absl::StatusCode::kInvalidArgument);
    return std::string(key.status().message());
  }
  Botan::AutoSeeded_RNG rng_;
};

TEST_F(CsrTest, AcceptsP256P384AndRsa2048) {
  for (const char* curve : {"secp256r1", "secp384r1"}) {
    Botan::ECDSA_PrivateKey key(rng_, Botan::EC_Group(curve));
    auto checked = CheckCsr(Csr(key));
    ASSERT_TRUE(checked.ok()) << checked.status();
    EXPECT_EQ((*checked)->public_key_bits(), key.public_key_bits());
  }
  Botan::RSA_PrivateKey rsa(rng_, 2048);
  EXPECT_TRUE(CheckCsr(Csr(rsa)).ok());
}

TEST_F(CsrTest, RefusesWeakOrUnlistedKeys) {
  Botan::RSA_PrivateKey rsa1024(rng_, 1024);
  EXPECT_EQ(Error(Csr(rsa1024)), "csr: RSA key of 1024 bits, at least 2048");
  Botan::ECDSA_PrivateKey p521(rng_, Botan::EC_Group("secp521r1"));
  EXPECT_EQ(Error(Csr(p521)), "csr: EC curve secp521r1 is not allowed (P-256, P-384)");
  Botan::ECDSA_PrivateKey brainpool(rng_, Botan::EC_Group("brainpool256r1"));
  EXPECT_EQ(Error(Csr(brainpool)), "csr: EC curve brainpool256r1 is not allowed (P-256, P-384)");
}

TEST_F(CsrTest, RefusesBrokenRequests) {
  Botan::ECDSA_PrivateKey key(rng_, Botan::EC_Group("secp256r1"));
  std::vector<uint8_t> der = Csr(key);
  std::vector<uint8_t> bad_signature = der;
  bad_signature[bad_signature.size() - 3] ^= 0x01;
  EXPECT_EQ(Error(bad_signature), "csr: the signature does not verify with the request's key");
  EXPECT_EQ(Error(std::vector<uint8_t>{0x30, 0x03, 0x02, 0x01}),
            "csr: not a DER-encoded PKCS#10 request");
  EXPECT_EQ(Error(std::vector<uint8_t>{}), "csr: is empty");
  EXPECT_EQ(Error(std::vector<uint8_t>(20000, 0x30)), "csr: 20000 bytes, at most 16384");
}

}  // namespace
}  // namespace tessera::ca
