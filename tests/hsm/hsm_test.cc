// The PKCS#11 layer against real SoftHSM tokens, checked with openssl and pkcs11-tool.
#include <botan/auto_rng.h>
#include <botan/pkcs10.h>
#include <botan/x509_ca.h>
#include <botan/x509self.h>
#include <gtest/gtest.h>

#include <chrono>

#include "hsm/error.h"
#include "hsm/secret_sealer.h"
#include "hsm/token_key.h"
#include "tests/support/run.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_hsm.h"
#include "tests/support/test_pki.h"

namespace tessera::hsm {
namespace {

using testing::RunCommand;
using testing::ShellQuote;
using testing::TempDir;
using testing::TestSoftHsm;
using testing::WriteFile;

std::vector<uint8_t> Id(std::string_view text) { return {text.begin(), text.end()}; }

TEST(Pkcs11Error, NamesTheCallAndTheCode) {
  absl::Status status = CkStatus("C_Login", CKR_PIN_INCORRECT);
  EXPECT_EQ(status.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(status.message(), "C_Login: CKR_PIN_INCORRECT");
  EXPECT_TRUE(CkStatus("C_Sign", CKR_OK).ok());
  EXPECT_EQ(CkrName(0x80001234), "CKR_0x80001234");
}

TEST(Token, InitFindsByLabelAndSerialAndRefusesToOverwrite) {
  TestSoftHsm& softhsm = TestSoftHsm::Get();
  const std::string label = TestSoftHsm::UniqueLabel("init");
  auto token = softhsm.CreateToken(label);
  ASSERT_FALSE(token->info().serial.empty());

  auto by_label = softhsm.module()->FindTokenByLabel(label);
  ASSERT_TRUE(by_label.ok()) << by_label.status();
  auto by_serial = softhsm.module()->FindTokenBySerial(token->info().serial);
  ASSERT_TRUE(by_serial.ok()) << by_serial.status();
  EXPECT_EQ(by_serial->label, label);
  EXPECT_TRUE(by_label->user_pin_initialized);

  auto again = softhsm.module()->InitToken(label, Secret("11111111"), Secret("22222222"));
  EXPECT_EQ(again.status().code(), absl::StatusCode::kAlreadyExists);

  EXPECT_EQ(softhsm.module()->FindTokenByLabel("no-such-token").status().code(),
            absl::StatusCode::kNotFound);
}

TEST(Token, WrongPinIsAClearError) {
  TestSoftHsm& softhsm = TestSoftHsm::Get();
  const std::string label = TestSoftHsm::UniqueLabel("wrongpin");
  auto token = softhsm.CreateToken(label);
  token.reset();  // log out, so the next login really checks the PIN
  auto wrong = Token::Login(softhsm.module(), label, Secret("00000000"));
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(wrong.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(wrong.status().message(), "C_Login: CKR_PIN_INCORRECT");
  EXPECT_EQ(std::string(wrong.status().message()).find("00000000"), std::string::npos);
}

TEST(Token, SetPinReplacesThePin) {
  TestSoftHsm& softhsm = TestSoftHsm::Get();
  const std::string label = TestSoftHsm::UniqueLabel("setpin");
  auto token = softhsm.CreateToken(label);
  {
    auto lease = token->Acquire();
    ASSERT_TRUE(lease.ok());
    ASSERT_TRUE((*lease)->SetPin(Secret(testing::kTestUserPin), Secret("24681357")).ok());
  }
  token.reset();
  EXPECT_FALSE(Token::Login(softhsm.module(), label, Secret(testing::kTestUserPin)).ok());
  EXPECT_TRUE(Token::Login(softhsm.module(), label, Secret("24681357")).ok());
}

TEST(Token, PrivateKeysAreSensitiveSignOnlyAndNotExtractable) {
  auto token = TestSoftHsm::Get().CreateToken(TestSoftHsm::UniqueLabel("attrs"));
  auto lease = token->Acquire();
  ASSERT_TRUE(lease.ok());
  auto pair = (*lease)->GenerateKeyPair(
      {.algorithm = KeyAlgorithm::kEcP256, .id = Id("k1"), .label = "k1", .allow_decrypt = false});
  ASSERT_TRUE(pair.ok()) << pair.status();
  auto bool_attr = [&](CK_ATTRIBUTE_TYPE type) {
    auto value = (*lease)->GetAttribute(pair->private_key, type);
    EXPECT_TRUE(value.ok()) << value.status();
    return value.ok() && value->size() == 1 && (*value)[0] == CK_TRUE;
  };
  EXPECT_TRUE(bool_attr(CKA_TOKEN));
  EXPECT_TRUE(bool_attr(CKA_PRIVATE));
  EXPECT_TRUE(bool_attr(CKA_SENSITIVE));
  EXPECT_TRUE(bool_attr(CKA_SIGN));
  EXPECT_FALSE(bool_attr(CKA_EXTRACTABLE));
  EXPECT_FALSE(bool_attr(CKA_DECRYPT));
  EXPECT_FALSE(bool_attr(CKA_UNWRAP));
  EXPECT_FALSE(bool_attr(CKA_DERIVE));
  // The token refuses to hand out the private value.
  auto value = (*lease)->GetAttribute(pair->private_key, CKA_VALUE);
  EXPECT_EQ(value.status().message(), "C_GetAttributeValue: CKR_ATTRIBUTE_SENSITIVE");
}

TEST(Token, DataObjectsRoundTripAndDelete) {
  auto token = TestSoftHsm::Get().CreateToken(TestSoftHsm::UniqueLabel("data"));
  auto lease = token->Acquire();
  ASSERT_TRUE(lease.ok());
  const std::vector<uint8_t> value = {1, 2, 3, 0, 255};
  auto handle = (*lease)->WriteData("tessera", "card-state", value, true);
  ASSERT_TRUE(handle.ok()) << handle.status();
  auto read = (*lease)->ReadData("tessera", "card-state");
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(*read, value);
  ASSERT_TRUE((*lease)->DestroyObject(*handle).ok());
  EXPECT_EQ((*lease)->ReadData("tessera", "card-state").status().code(),
            absl::StatusCode::kNotFound);
}

TEST(SecretSealer, RoundTripsAndRefusesTamperedOrMovedBlobs) {
  auto token = TestSoftHsm::Get().CreateToken(TestSoftHsm::UniqueLabel("seal"));
  auto sealer = SecretSealer::Open(token, "sealing-key", /*create_if_missing=*/true);
  ASSERT_TRUE(sealer.ok()) << sealer.status();

  auto blob = sealer->Seal(Secret("4721"), "card 0580010000000001: PIN second half");
  ASSERT_TRUE(blob.ok()) << blob.status();
  EXPECT_EQ(std::string(blob->begin(), blob->end()).find("4721"), std::string::npos);
  auto opened = sealer->Unseal(*blob, "card 0580010000000001: PIN second half");
  ASSERT_TRUE(opened.ok()) << opened.status();
  EXPECT_EQ(opened->view(), "4721");

  // Two seals of one secret differ (fresh IV each time).
  auto second = sealer->Seal(Secret("4721"), "card 0580010000000001: PIN second half");
  ASSERT_TRUE(second.ok());
  EXPECT_NE(*blob, *second);

  std::vector<uint8_t> tampered = *blob;
  tampered[tampered.size() / 2] ^= 0x01;
  EXPECT_EQ(sealer->Unseal(tampered, "card 0580010000000001: PIN second half").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(sealer->Unseal(*blob, "card 0580010000000002: PIN second half").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(sealer->Unseal(std::vector<uint8_t>{1, 2, 3}, "x").status().code(),
            absl::StatusCode::kInvalidArgument);

  // A sealer opened again finds the same key on the token.
  auto reopened = SecretSealer::Open(token, "sealing-key", /*create_if_missing=*/false);
  ASSERT_TRUE(reopened.ok());
  EXPECT_TRUE(reopened->Unseal(*blob, "card 0580010000000001: PIN second half").ok());
  EXPECT_EQ(SecretSealer::Open(token, "other-key", false).status().code(),
            absl::StatusCode::kNotFound);
}

// The Botan adapter with each algorithm: everything it signs must satisfy openssl.
class TokenKeyTest : public ::testing::TestWithParam<KeyAlgorithm> {
 protected:
  void SetUp() override {
    label_ = TestSoftHsm::UniqueLabel("pki");
    token_ = TestSoftHsm::Get().CreateToken(label_);
  }
  std::string OpenSsl(const std::string& args) {
    auto result = RunCommand("openssl " + args);
    EXPECT_EQ(result.exit_code, 0) << "openssl " << args << "\n" << result.output;
    return result.output;
  }

  std::string label_;
  std::shared_ptr<Token> token_;
  TempDir dir_;
  Botan::AutoSeeded_RNG rng_;
};

TEST_P(TokenKeyTest, CsrMadeOnTheTokenVerifiesWithOpenssl) {
  auto key = GenerateTokenKey(token_, {.algorithm = GetParam(), .id = Id("card"), .label = "card"});
  ASSERT_TRUE(key.ok()) << key.status();
  Botan::X509_Cert_Options options("RSSMRA80A01H501U/IT/Ministero dell'Interno/Operatori");
  Botan::PKCS10_Request request = Botan::X509::create_cert_req(options, **key, "SHA-256", rng_);
  WriteFile(dir_.File("req.pem"), request.PEM_encode());
  std::string out = OpenSsl("req -in " + dir_.File("req.pem") + " -noout -verify");
  EXPECT_NE(out.find("verify OK"), std::string::npos) << out;

  // A corrupted signature must fail: the check is real.
  std::vector<uint8_t> der = request.BER_encode();
  der[der.size() - 5] ^= 0x40;
  WriteFile(dir_.File("bad.der"), std::string(der.begin(), der.end()));
  auto bad = RunCommand("openssl req -inform DER -in " + dir_.File("bad.der") + " -noout -verify");
  EXPECT_EQ(bad.output.find("verify OK"), std::string::npos) << bad.output;
}

TEST_P(TokenKeyTest, CaOnTheTokenSignsALeafAndACrlThatOpensslAccepts) {
  testing::TestPki pki(token_, "Tessera Test CA", GetParam());
  WriteFile(dir_.File("ca.pem"), pki.ca_pem());

  testing::IssuedCert leaf = pki.Issue("0580010001", "Postazioni");
  WriteFile(dir_.File("leaf.pem"), leaf.cert_pem);
  std::string verified =
      OpenSsl("verify -check_ss_sig -CAfile " + dir_.File("ca.pem") + " " + dir_.File("leaf.pem"));
  EXPECT_NE(verified.find(": OK"), std::string::npos) << verified;

  // Revoke the leaf in a CRL signed on the token.
  Botan::X509_CA ca(pki.ca_cert(), pki.ca_key(), "SHA-256", rng_);
  Botan::X509_Certificate leaf_cert(reinterpret_cast<const uint8_t*>(leaf.cert_pem.data()),
                                    leaf.cert_pem.size());
  Botan::X509_CRL empty = ca.new_crl(rng_);
  Botan::X509_CRL crl =
      ca.update_crl(empty, {Botan::CRL_Entry(leaf_cert, Botan::KEY_COMPROMISE)}, rng_);
  WriteFile(dir_.File("crl.pem"), crl.PEM_encode());
  std::string crl_out = OpenSsl("crl -in " + dir_.File("crl.pem") + " -CAfile " +
                                dir_.File("ca.pem") + " -noout -verify -text");
  EXPECT_NE(crl_out.find("verify OK"), std::string::npos) << crl_out;
  EXPECT_NE(crl_out.find("Key Compromise"), std::string::npos) << crl_out;

  auto revoked = RunCommand("openssl verify -crl_check -CAfile " + dir_.File("ca.pem") +
                            " -CRLfile " + dir_.File("crl.pem") + " " + dir_.File("leaf.pem"));
  EXPECT_NE(revoked.exit_code, 0);
  EXPECT_NE(revoked.output.find("certificate revoked"), std::string::npos) << revoked.output;

  // A leaf from another CA does not verify against this one.
  auto other_token = TestSoftHsm::Get().CreateToken(TestSoftHsm::UniqueLabel("other"));
  testing::TestPki other(other_token, "Other CA", GetParam());
  WriteFile(dir_.File("stranger.pem"), other.Issue("stranger", "Servizi").cert_pem);
  auto stranger =
      RunCommand("openssl verify -CAfile " + dir_.File("ca.pem") + " " + dir_.File("stranger.pem"));
  EXPECT_NE(stranger.exit_code, 0) << stranger.output;
}

TEST_P(TokenKeyTest, Pkcs11ToolSeesKeyPairAndCertificateUnderOneId) {
  auto key =
      GenerateTokenKey(token_, {.algorithm = GetParam(), .id = Id("\x0a\x0b"), .label = "op"});
  ASSERT_TRUE(key.ok()) << key.status();
  Botan::X509_Cert_Options options("op/IT/Ministero dell'Interno/Operatori");
  Botan::X509_Certificate cert =
      Botan::X509::create_self_signed_cert(options, **key, "SHA-256", rng_);
  {
    auto lease = token_->Acquire();
    ASSERT_TRUE(lease.ok());
    std::vector<uint8_t> der = cert.BER_encode();
    auto written = (*lease)->WriteCertificate(Id("\x0a\x0b"), "op", der);
    ASSERT_TRUE(written.ok()) << written.status();
    auto read = (*lease)->ReadCertificate(Id("\x0a\x0b"));
    ASSERT_TRUE(read.ok());
    EXPECT_EQ(*read, der);
  }
  auto listed = RunCommand("pkcs11-tool --module " + ShellQuote(TestSoftHsm::Get().module_path()) +
                           " --token-label " + ShellQuote(label_) + " --login --pin " +
                           testing::kTestUserPin + " -O");
  ASSERT_EQ(listed.exit_code, 0) << listed.output;
  const std::string& out = listed.output;
  EXPECT_NE(out.find("Private Key Object"), std::string::npos) << out;
  EXPECT_NE(out.find("Public Key Object"), std::string::npos) << out;
  EXPECT_NE(out.find("Certificate Object"), std::string::npos) << out;
  // Three objects, one ID.
  size_t count = 0;
  for (size_t at = out.find("ID:         0a0b"); at != std::string::npos;
       at = out.find("ID:         0a0b", at + 1)) {
    ++count;
  }
  EXPECT_EQ(count, 3u) << out;
}

INSTANTIATE_TEST_SUITE_P(Algorithms, TokenKeyTest,
                         ::testing::Values(KeyAlgorithm::kEcP256, KeyAlgorithm::kRsa2048,
                                           KeyAlgorithm::kRsa3072),
                         testing::KeyAlgorithmTestName);

// OpenSC's module (real card readers) loads behind the same code path as SoftHSM and the
// virtual reader module. Without a reader attached it has no slot, so a daemon configured with
// cards.reader_slots refuses to start rather than wait on readers that are not there.
TEST(OpenScTest, LoadsBehindTheSamePathAndShowsNoSlotWithoutAReader) {
  const std::string opensc = "/usr/lib/x86_64-linux-gnu/opensc-pkcs11.so";
  auto module = Module::Load(opensc);
  ASSERT_TRUE(module.ok()) << module.status();
  auto slots = (*module)->AllSlots();
  ASSERT_TRUE(slots.ok()) << slots.status();
  EXPECT_TRUE(slots->empty());
  auto tokens = (*module)->ListTokens();
  ASSERT_TRUE(tokens.ok()) << tokens.status();
  EXPECT_TRUE(tokens->empty());
  EXPECT_EQ((*module)->FindTokenByLabel("0570010000000001").status().code(),
            absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace tessera::hsm
