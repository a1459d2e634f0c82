#include "ca/csr.h"

#include <botan/auto_rng.h>
#include <botan/ecdsa.h>
#include <botan/pkcs10.h>
#include <botan/rsa.h>
#include <botan/x509self.h>
#include <gtest/gtest.h>

#include <algorithm>

#include "tests/support/run.h"
#include "tests/support/temp_dir.h"

namespace tessera::ca {
namespace {

class CsrTest : public ::testing::Test {
 protected:
  std::vector<uint8_t> Csr(const Botan::Private_Key& key, const std::string& hash = "SHA-256",
                           const std::string& padding = "") {
    Botan::X509_Cert_Options options("RSSMRA85T10A562S/IT");
    if (!padding.empty()) options.set_padding_scheme(padding);
    return Botan::X509::create_cert_req(options, key, hash, rng_).BER_encode();
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

TEST_F(CsrTest, AcceptsSha2SignaturesAndPss) {
  Botan::RSA_PrivateKey rsa(rng_, 2048);
  Botan::ECDSA_PrivateKey ec(rng_, Botan::EC_Group("secp256r1"));
  for (const char* hash : {"SHA-256", "SHA-384", "SHA-512"}) {
    EXPECT_TRUE(CheckCsr(Csr(rsa, hash)).ok()) << hash << CheckCsr(Csr(rsa, hash)).status();
    EXPECT_TRUE(CheckCsr(Csr(ec, hash)).ok()) << hash << CheckCsr(Csr(ec, hash)).status();
  }
  const std::vector<uint8_t> pss = Csr(rsa, "SHA-256", "EMSA4(SHA-256)");
  EXPECT_EQ(Botan::PKCS10_Request(pss).signature_algorithm().get_oid(),
            Botan::OID("1.2.840.113549.1.1.10"));
  auto checked = CheckCsr(pss);
  EXPECT_TRUE(checked.ok()) << checked.status();
}

// Botan calls SHA-1 "SHA-160".
TEST_F(CsrTest, RefusesMd5AndSha1Signatures) {
  Botan::RSA_PrivateKey rsa(rng_, 2048);
  Botan::ECDSA_PrivateKey ec(rng_, Botan::EC_Group("secp256r1"));
  EXPECT_EQ(Error(Csr(rsa, "SHA-160")),
            "csr: signature algorithm sha1WithRSAEncryption is too weak; use SHA-256 or stronger");
  EXPECT_EQ(Error(Csr(rsa, "MD5")),
            "csr: signature algorithm md5WithRSAEncryption is too weak; use SHA-256 or stronger");
  EXPECT_EQ(
      Error(Csr(rsa, "SHA-224")),
      "csr: signature algorithm sha224WithRSAEncryption is too weak; use SHA-256 or stronger");
  EXPECT_EQ(Error(Csr(ec, "SHA-160")),
            "csr: signature algorithm ecdsa-with-SHA1 is too weak; use SHA-256 or stronger");
  EXPECT_EQ(Error(Csr(rsa, "SHA-160", "EMSA4(SHA-160)")),
            "csr: signature algorithm RSASSA-PSS with SHA-1 is too weak; use SHA-256 or stronger");
}

// Requests made by openssl req, as an operator would: SHA-1 and MD5 refused, SHA-256 taken;
// RSASSA-PSS only when MGF1 hashes with SHA-2 as well.
TEST_F(CsrTest, RefusesWeakRequestsMadeByOpenssl) {
  testing::TempDir dir("tessera-csr");
  auto request = [&](const std::string& name, const std::string& options) {
    const std::string out = dir.File(name + ".der");
    testing::CommandResult made = testing::RunCommand(
        "openssl req -new -newkey rsa:2048 -nodes -keyout " + dir.File(name + ".key") +
        " -subj /CN=RSSMRA85T10A562S " + options + " -outform DER -out " + out);
    EXPECT_EQ(made.exit_code, 0) << made.output;
    const std::string der = testing::ReadFileOrDie(out);
    return std::vector<uint8_t>(der.begin(), der.end());
  };
  EXPECT_EQ(Error(request("sha1", "-sha1")),
            "csr: signature algorithm sha1WithRSAEncryption is too weak; use SHA-256 or stronger");
  EXPECT_EQ(Error(request("md5", "-md5")),
            "csr: signature algorithm md5WithRSAEncryption is too weak; use SHA-256 or stronger");
  EXPECT_EQ(Error(request("pss-mgf1-sha1",
                          "-sha256 -sigopt rsa_padding_mode:pss "
                          "-sigopt rsa_mgf1_md:sha1")),
            "csr: signature algorithm RSASSA-PSS with SHA-1 is too weak; use SHA-256 or stronger");
  for (const char* options : {"-sha256", "-sha384 -sigopt rsa_padding_mode:pss"}) {
    auto checked = CheckCsr(request("strong", options));
    EXPECT_TRUE(checked.ok()) << options << ": " << checked.status();
  }
}

TEST_F(CsrTest, RefusesAnUnlistedSignatureAlgorithm) {
  Botan::ECDSA_PrivateKey key(rng_, Botan::EC_Group("secp256r1"));
  std::vector<uint8_t> der = Csr(key);
  // ecdsa-with-SHA256 (1.2.840.10045.4.3.2) becomes 1.2.840.10045.4.3.9 in the outer
  // AlgorithmIdentifier, the one after the request info.
  const std::vector<uint8_t> oid = {0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02};
  auto at = std::find_end(der.begin(), der.end(), oid.begin(), oid.end());
  ASSERT_NE(at, der.end());
  *(at + oid.size() - 1) = 0x09;
  EXPECT_EQ(Error(der),
            "csr: signature algorithm 1.2.840.10045.4.3.9 is not allowed (ECDSA or RSA with "
            "SHA-256, SHA-384 or SHA-512, or RSASSA-PSS)");
}

}  // namespace
}  // namespace tessera::ca
