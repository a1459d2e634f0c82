// A card made on a SoftHSM token with its certificate from a real tessera-ca over mTLS, as
// tessera-perso (its service certificate): the certificate on the card chains to the root
// (openssl verify), the card holds one key pair and that certificate (pkcs11-tool -O), and a
// process that died after asking the CA gets the same certificate again, never a second; a card
// given up has its certificate withdrawn (superseded), and only its own.
#include <botan/hex.h>
#include <botan/x509cert.h>
#include <gtest/gtest.h>

#include <memory>

#include "platform/rpc_client.h"
#include "services/perso/ca_bundler.h"
#include "services/perso/ca_certifier.h"
#include "tests/support/card_fakes.h"
#include "tests/support/run.h"
#include "tests/support/service_process.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_ceremony.h"
#include "tests/support/test_hsm.h"
#include "tests/support/test_pg.h"

namespace tessera {
namespace {

using personalization::CardMaker;
using personalization::CardStep;
using personalization::CardToMake;
using testing::RunCommand;
using testing::TestSoftHsm;

class PersoCardTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    ca_ = new testing::RunningCa("tessera-e2e-perso", {{"tessera-ca", {"localhost"}, {"127.0.0.1"}},
                                                       {"tessera-perso", {"localhost"}, {}},
                                                       {"tessera-registry", {"localhost"}, {}},
                                                       {"tessera-cli", {"localhost"}, {}}});
  }
  static void TearDownTestSuite() { delete ca_; }

  // tessera-perso's channel to tessera-ca.
  static std::shared_ptr<grpc::Channel> PersoToCa() {
    const testing::TlsIdentity perso = ca_->hierarchy().ServiceIdentity("tessera-perso");
    return MtlsChannel("localhost:" + std::to_string(ca_->server().port()),
                       testing::ReadFileOrDie(ca_->hierarchy().Pki("bundle.pem")), perso.cert_pem,
                       perso.key_pem);
  }

  void SetUp() override {
    auto vault = TestSoftHsm::Get().CreateToken(TestSoftHsm::UniqueLabel("vault"));
    auto sealer = hsm::SecretSealer::Open(vault, "card-halves", /*create_if_missing=*/true);
    ASSERT_TRUE(sealer.ok()) << sealer.status();
    sealer_ = std::make_unique<hsm::SecretSealer>(*std::move(sealer));
  }

  static testing::RunningCa* ca_;
  std::unique_ptr<hsm::SecretSealer> sealer_;
  testing::MemoryCardJournal journal_;
};

testing::RunningCa* PersoCardTest::ca_ = nullptr;

TEST_F(PersoCardTest, ACardGetsItsCertificateFromTesseraCaOnceWhateverDied) {
  perso_service::CaCertifier ca(PersoToCa());
  CardMaker maker(TestSoftHsm::Get().module(), *sealer_, journal_, ca);
  const std::string number = "057001" + std::to_string(2000000000 + getpid() % 100000000);
  const CardToMake card{number, "RSSMRA85T10H501O", "Rossi", "Mario"};

  // The process dies after tessera-ca answered, before the answer was recorded.
  journal_.crash_at = CardStep::kCertificate;
  ASSERT_EQ(maker.Make(card).status().code(), absl::StatusCode::kUnavailable);
  auto made = maker.Make(card);
  ASSERT_TRUE(made.ok()) << made.status();
  EXPECT_EQ(made->done, CardStep::kProved);

  const Botan::X509_Certificate certificate(made->certificate);
  EXPECT_EQ(certificate.subject_dn().get_first_attribute("CN"), "RSSMRA85T10H501O");
  const std::string pem = ca_->dir().File(number + ".pem");
  testing::WriteFile(pem, certificate.PEM_encode());
  auto verified =
      RunCommand("openssl verify -x509_strict -CAfile " + ca_->hierarchy().Pki("root.pem") +
                 " -untrusted " + ca_->hierarchy().Pki("operators.pem") + " " + pem);
  EXPECT_EQ(verified.exit_code, 0) << verified.output;

  // One certificate for the card at tessera-ca: the retry got the first one back.
  perso_service::CaCertifier again(PersoToCa());
  auto same = again.Certify(card, made->request, made->attempt);
  ASSERT_TRUE(same.ok()) << same.status();
  EXPECT_EQ(*same, made->certificate);

  auto credentials = personalization::OpenCredentials(*sealer_, number, made->envelope, made->mail);
  ASSERT_TRUE(credentials.ok());
  auto objects =
      RunCommand("pkcs11-tool --module " + TestSoftHsm::Get().module_path() + " --token-label " +
                 number + " --login --pin " + std::string(credentials->pin.view()) + " -O");
  ASSERT_EQ(objects.exit_code, 0) << objects.output;
  EXPECT_NE(objects.output.find("Certificate Object"), std::string::npos) << objects.output;
  EXPECT_NE(objects.output.find("RSSMRA85T10H501O"), std::string::npos) << objects.output;
}

TEST_F(PersoCardTest, ACardTesseraCaRefusesFailsWithItsReasonAndGetsNoCertificate) {
  perso_service::CaCertifier ca(PersoToCa());
  CardMaker maker(TestSoftHsm::Get().module(), *sealer_, journal_, ca);
  const std::string number = "057001" + std::to_string(3000000000 + getpid() % 100000000);
  // A codice fiscale whose check character is wrong: the CA refuses the subject.
  auto refused = maker.Make({number, "RSSMRA85T10H501A", "Rossi", "Mario"});
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kInvalidArgument) << refused.status();
  auto record = journal_.Load(number);
  ASSERT_TRUE(record.ok() && record->has_value());
  EXPECT_EQ((*record)->done, CardStep::kRequest);  // resumable once the order is mended
  EXPECT_TRUE((*record)->certificate.empty());
}

// tessera-perso withdraws the certificate of a card it gives up (superseded, a retry answered
// alike), and may not revoke a certificate someone else asked for, nor for another reason.
TEST_F(PersoCardTest, PersonalizationWithdrawsOnlyItsOwnCardsCertificates) {
  perso_service::CaCertifier ca(PersoToCa());
  CardMaker maker(TestSoftHsm::Get().module(), *sealer_, journal_, ca);
  const std::string number = "057001" + std::to_string(5000000000 + getpid() % 100000000);
  const CardToMake card{number, "RSSMRA85T10H501O", "Rossi", "Mario"};
  auto made = maker.Make(card);
  ASSERT_TRUE(made.ok()) << made.status();
  for (int attempt = 0; attempt < 2; ++attempt) {
    absl::Status abandoned = maker.Abandon(card);
    ASSERT_TRUE(abandoned.ok()) << abandoned;
  }
  const std::string serial =
      Botan::hex_encode(Botan::X509_Certificate(made->certificate).serial_number(), false);
  const testing::TlsIdentity cli = ca_->hierarchy().ServiceIdentity("tessera-cli");
  auto as_cli = v1::CertificateAuthority::NewStub(MtlsChannel(
      "localhost:" + std::to_string(ca_->server().port()),
      testing::ReadFileOrDie(ca_->hierarchy().Pki("bundle.pem")), cli.cert_pem, cli.key_pem));
  v1::GetCertificateRequest get;
  get.set_serial(serial.substr(serial.find_first_not_of('0')));
  v1::Certificate got;
  {
    grpc::ClientContext context;
    grpc::Status status = as_cli->GetCertificate(&context, get, &got);
    ASSERT_TRUE(status.ok()) << status.error_message();
  }
  EXPECT_TRUE(got.revoked());
  EXPECT_EQ(got.revocation_reason(), 4);

  // The Ministry's own certificate (the CLI's): not tessera-perso's to revoke.
  const std::string cli_serial = Botan::hex_encode(
      Botan::X509_Certificate(ca_->hierarchy().Pki("tessera-cli.pem")).serial_number(), false);
  auto perso = v1::CertificateAuthority::NewStub(PersoToCa());
  v1::RevokeCertificateRequest revoke;
  revoke.set_request_id("not-mine");
  revoke.set_serial(cli_serial.substr(cli_serial.find_first_not_of('0')));
  revoke.set_reason(4);
  v1::Certificate revoked;
  grpc::ClientContext context;
  grpc::Status refused = perso->RevokeCertificate(&context, revoke, &revoked);
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::PERMISSION_DENIED) << refused.error_message();
  EXPECT_NE(refused.error_message().find("only certificates it asked for"), std::string::npos)
      << refused.error_message();
}

TEST_F(PersoCardTest, AWorkstationBundleIsIssuedOnceAndOnlyItsSerialComesBack) {
  perso_service::CaBundler bundler(PersoToCa());
  auto id = personalization::ParseCommonId("0570010099");  // Accumoli's server
  ASSERT_TRUE(id.ok());
  auto serial = bundler.IssueBundle(*id);
  ASSERT_TRUE(serial.ok()) << serial.status();
  EXPECT_FALSE(serial->empty());
  EXPECT_EQ(serial->find_first_not_of("0123456789abcdef"), std::string::npos) << *serial;
  // A retry (the answer was lost): the same bundle, no second certificate.
  auto again = bundler.IssueBundle(*id);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(*again, *serial);
  // Workstation 1 of the same comune is another bundle.
  auto first = bundler.IssueBundle({"057001", 1});
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_NE(*first, *serial);
}

}  // namespace
}  // namespace tessera
