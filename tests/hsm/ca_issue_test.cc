// An issuing CA whose key is on a SoftHSM token issues an operator certificate for a key
// generated on a card token, after the linter passed it; openssl and certtool check it.
#include <botan/auto_rng.h>
#include <botan/ecdsa.h>
#include <botan/pkcs10.h>
#include <botan/x509self.h>
#include <gtest/gtest.h>

#include "ca/issuer.h"
#include "ca/profile.h"
#include "hsm/token_key.h"
#include "tests/support/run.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_hsm.h"

namespace tessera::ca {
namespace {

using testing::RunCommand;
using testing::TestSoftHsm;
using testing::WriteFile;

std::vector<uint8_t> Id(std::string_view s) { return {s.begin(), s.end()}; }

class CaIssueTest : public ::testing::TestWithParam<hsm::KeyAlgorithm> {
 protected:
  void SetUp() override {
    auto profiles =
        ProfileSet::LoadFile(std::string(TESSERA_SOURCE_DIR) + "/deploy/ca/profiles.toml");
    ASSERT_TRUE(profiles.ok()) << profiles.status();
    profiles_ = std::move(*profiles);

    auto ca_token = TestSoftHsm::Get().CreateToken(TestSoftHsm::UniqueLabel("issuing"));
    auto ca_key = hsm::GenerateTokenKey(
        ca_token, {.algorithm = GetParam(), .id = Id("operators"), .label = "operators"});
    ASSERT_TRUE(ca_key.ok()) << ca_key.status();
    Botan::X509_Cert_Options options("Tessera Operatori CA/IT/Ministero dell'Interno");
    options.CA_key(0);
    auto ca_cert = std::make_unique<Botan::X509_Certificate>(
        Botan::X509::create_self_signed_cert(options, **ca_key, "SHA-256", rng_));
    WriteFile(dir_.File("ca.pem"), ca_cert->PEM_encode());
    auto issuer = Issuer::Create({.name = "operators",
                                  .crl_url = "http://ca.tessera.test/crl/operators.crl",
                                  .ocsp_url = "http://ca.tessera.test/ocsp",
                                  .ca_issuers_url = "http://ca.tessera.test/ca/operators.crt"},
                                 std::move(ca_cert), std::move(*ca_key));
    ASSERT_TRUE(issuer.ok()) << issuer.status();
    issuer_ = std::move(*issuer);

    // The card: its key is generated on its own token; the CA sees only the CSR.
    auto card = TestSoftHsm::Get().CreateToken(TestSoftHsm::UniqueLabel("card"));
    auto card_key = hsm::GenerateTokenKey(
        card, {.algorithm = hsm::KeyAlgorithm::kEcP256, .id = Id("card"), .label = "card"});
    ASSERT_TRUE(card_key.ok()) << card_key.status();
    Botan::X509_Cert_Options request_options("whatever the card says");
    csr_ = std::make_unique<Botan::PKCS10_Request>(
        Botan::X509::create_cert_req(request_options, **card_key, "SHA-256", rng_));
  }

  absl::StatusOr<CertificatePlan> OperatorPlan() {
    std::unique_ptr<Botan::Public_Key> key(csr_->subject_public_key());
    return PlanCertificate(**profiles_.Find("operator"), {.codice_fiscale = "RSSMRA85T10A562S"},
                           *key, issuer_->context(), RandomSerial(rng_),
                           std::chrono::system_clock::now());
  }

  std::string OpenSsl(const std::string& args) {
    auto result = RunCommand("openssl " + args);
    EXPECT_EQ(result.exit_code, 0) << args << "\n" << result.output;
    return result.output;
  }

  Botan::AutoSeeded_RNG rng_;
  testing::TempDir dir_;
  ProfileSet profiles_;
  std::unique_ptr<Issuer> issuer_;
  std::unique_ptr<Botan::PKCS10_Request> csr_;
};

TEST_P(CaIssueTest, OperatorCertificateSignedOnTheTokenPassesOpensslAndCerttool) {
  auto plan = OperatorPlan();
  ASSERT_TRUE(plan.ok()) << plan.status();
  auto cert = issuer_->Issue(*plan);
  ASSERT_TRUE(cert.ok()) << cert.status();
  WriteFile(dir_.File("leaf.pem"), cert->PEM_encode());

  std::string verified = OpenSsl("verify -x509_strict -check_ss_sig -purpose sslclient -CAfile " +
                                 dir_.File("ca.pem") + " " + dir_.File("leaf.pem"));
  EXPECT_NE(verified.find(": OK"), std::string::npos) << verified;

  std::string subject =
      OpenSsl("x509 -in " + dir_.File("leaf.pem") + " -noout -subject -nameopt RFC2253");
  EXPECT_EQ(subject,
            "subject=CN=RSSMRA85T10A562S,OU=Operatori,OU=Anagrafe Nazionale Popolazione "
            "Residente,O=Ministero dell'Interno,C=IT\n");

  std::string text = OpenSsl("x509 -in " + dir_.File("leaf.pem") + " -noout -text");
  for (const char* expected :
       {"X509v3 Key Usage: critical", "Digital Signature", "X509v3 Basic Constraints: critical",
        "CA:FALSE", "TLS Web Client Authentication", "X509v3 Subject Key Identifier",
        "X509v3 Authority Key Identifier", "URI:http://ca.tessera.test/crl/operators.crl",
        "OCSP - URI:http://ca.tessera.test/ocsp",
        "CA Issuers - URI:http://ca.tessera.test/ca/operators.crt"}) {
    EXPECT_NE(text.find(expected), std::string::npos) << expected << "\n" << text;
  }

  WriteFile(dir_.File("chain.pem"), cert->PEM_encode() + issuer_->certificate().PEM_encode());
  auto certtool = RunCommand("certtool --verify-chain --infile " + dir_.File("chain.pem"));
  EXPECT_EQ(certtool.exit_code, 0) << certtool.output;
  EXPECT_NE(certtool.output.find("Chain verification output: Verified."), std::string::npos)
      << certtool.output;
}

TEST_P(CaIssueTest, ALintFailureIsRefusedNamingTheRule) {
  auto plan = OperatorPlan();
  ASSERT_TRUE(plan.ok());
  plan->not_after += std::chrono::hours(24 * 365);  // seven years: not the profile's six
  auto cert = issuer_->Issue(*plan);
  ASSERT_FALSE(cert.ok());
  EXPECT_EQ(cert.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(std::string(cert.status().message()).find("lint: validity_period"), std::string::npos)
      << cert.status();
}

// Only a plan the issuer itself linted reaches its key: Sign takes a LintedPlan, which only
// Check makes, and refuses one another issuer checked.
TEST_P(CaIssueTest, OnlyAPlanThisIssuerLintedIsSigned) {
  auto plan = OperatorPlan();
  ASSERT_TRUE(plan.ok());
  auto linted = issuer_->Check(*plan);
  ASSERT_TRUE(linted.ok()) << linted.status();
  EXPECT_TRUE(issuer_->Sign(*linted).ok());

  Botan::AutoSeeded_RNG rng;
  auto other_key = std::make_unique<Botan::ECDSA_PrivateKey>(rng, Botan::EC_Group("secp256r1"));
  Botan::X509_Cert_Options options("Another CA/IT/Elsewhere");
  options.CA_key(0);
  auto other_cert = std::make_unique<Botan::X509_Certificate>(
      Botan::X509::create_self_signed_cert(options, *other_key, "SHA-256", rng));
  auto other = Issuer::Create(issuer_->context(), std::move(other_cert), std::move(other_key));
  ASSERT_TRUE(other.ok()) << other.status();
  auto refused = (*other)->Sign(*linted);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kInvalidArgument) << refused.status();
}

INSTANTIATE_TEST_SUITE_P(IssuerKeys, CaIssueTest,
                         ::testing::Values(hsm::KeyAlgorithm::kEcP256, hsm::KeyAlgorithm::kRsa3072),
                         testing::KeyAlgorithmTestName);

}  // namespace
}  // namespace tessera::ca
