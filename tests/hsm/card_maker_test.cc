// One card made on a real SoftHSM token, step by step, with the process "dying" after each
// step's work and before its record: the rerun resumes and the card ends with one key pair and
// one matching certificate (pkcs11-tool -O), issued once, proved, and its PIN the one sealed.
#include "personalization/card_maker.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstring>
#include <map>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "hsm/token.h"
#include "platform/random.h"
#include "tests/support/card_fakes.h"
#include "tests/support/run.h"
#include "tests/support/test_hsm.h"

namespace tessera::personalization {
namespace {

using testing::MemoryCardJournal;
using testing::RunCommand;
using testing::ShellQuote;
using testing::SoftwareCardCa;
using testing::TestSoftHsm;

size_t Count(const std::string& text, const std::string& part) {
  size_t n = 0;
  for (size_t at = text.find(part); at != std::string::npos; at = text.find(part, at + 1)) ++n;
  return n;
}

class CardMakerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto vault = TestSoftHsm::Get().CreateToken(TestSoftHsm::UniqueLabel("vault"));
    auto sealer = hsm::SecretSealer::Open(vault, "card-halves", /*create_if_missing=*/true);
    ASSERT_TRUE(sealer.ok()) << sealer.status();
    sealer_ = std::make_unique<hsm::SecretSealer>(*std::move(sealer));
  }
  // A card number no other test of this process used (it labels the card's token).
  static std::string NewCardNumber() {
    static int next = 0;
    return absl::StrFormat("057001%010d", getpid() % 100000 * 100 + ++next);
  }
  // The card's objects as pkcs11-tool lists them, logged in with `pin`.
  static std::string Objects(const std::string& card_number, std::string_view pin) {
    auto listed =
        RunCommand("pkcs11-tool --module " + ShellQuote(TestSoftHsm::Get().module_path()) +
                   " --token-label " + card_number + " --login --pin " + std::string(pin) + " -O");
    EXPECT_EQ(listed.exit_code, 0) << listed.output;
    return listed.output;
  }

  std::unique_ptr<hsm::SecretSealer> sealer_;
  MemoryCardJournal journal_;
  SoftwareCardCa ca_;
};

TEST_F(CardMakerTest, ACardIsMadeAndProvedWithOneKeyAndOneCertificate) {
  for (hsm::KeyAlgorithm algorithm : {hsm::KeyAlgorithm::kEcP256, hsm::KeyAlgorithm::kRsa2048}) {
    CardMaker maker(TestSoftHsm::Get().module(), *sealer_, journal_, ca_, algorithm);
    const CardToMake card{NewCardNumber(), "RSSMRA85T10H501O", "Rossi", "Mario"};
    auto made = maker.Make(card);
    ASSERT_TRUE(made.ok()) << made.status();
    EXPECT_EQ(made->done, CardStep::kProved);
    auto credentials = OpenCredentials(*sealer_, card.card_number, made->envelope, made->mail);
    ASSERT_TRUE(credentials.ok()) << credentials.status();
    const std::string objects = Objects(card.card_number, credentials->pin.view());
    EXPECT_EQ(Count(objects, "Private Key Object"), 1u) << objects;
    EXPECT_EQ(Count(objects, "Public Key Object"), 1u) << objects;
    EXPECT_EQ(Count(objects, "Certificate Object"), 1u) << objects;
    EXPECT_EQ(Count(objects, "ID:         01"), 3u) << objects;  // one CKA_ID for the three
    // Made already: running it again changes nothing on the card.
    ASSERT_TRUE(maker.Make(card).ok());
    EXPECT_EQ(Objects(card.card_number, credentials->pin.view()), objects);
  }
  EXPECT_EQ(ca_.issued(), 2u);
}

TEST_F(CardMakerTest, AProcessThatDiesAfterAnyStepResumesAndDoesNothingTwice) {
  CardMaker maker(TestSoftHsm::Get().module(), *sealer_, journal_, ca_);
  for (CardStep step :
       {CardStep::kCredentials, CardStep::kToken, CardStep::kKey, CardStep::kRequest,
        CardStep::kCertificate, CardStep::kWritten, CardStep::kProved}) {
    const CardToMake card{NewCardNumber(), "BNCNNA90A41H501T", "Bianchi", "Anna"};
    journal_.crash_at = step;
    auto died = maker.Make(card);
    ASSERT_EQ(died.status().code(), absl::StatusCode::kUnavailable) << CardStepName(step);
    auto made = maker.Make(card);
    ASSERT_TRUE(made.ok()) << CardStepName(step) << ": " << made.status();
    EXPECT_EQ(made->done, CardStep::kProved);
    auto credentials = OpenCredentials(*sealer_, card.card_number, made->envelope, made->mail);
    ASSERT_TRUE(credentials.ok());
    const std::string objects = Objects(card.card_number, credentials->pin.view());
    EXPECT_EQ(Count(objects, "Private Key Object"), 1u) << CardStepName(step) << objects;
    EXPECT_EQ(Count(objects, "Certificate Object"), 1u) << CardStepName(step) << objects;
  }
  EXPECT_EQ(ca_.issued(), 7u);  // one certificate per card, whatever died
}

// A process killed inside C_GenerateKeyPair can leave the card's public key without its
// private key (SoftHSM writes one object file, then the other): the rerun removes what was
// left and generates one whole key pair, never a second public key beside the first.
TEST_F(CardMakerTest, AKeyGenerationCutShortIsRemovedAndMadeAgain) {
  CardMaker maker(TestSoftHsm::Get().module(), *sealer_, journal_, ca_);
  const CardToMake card{NewCardNumber(), "VRDLGU80A01H501U", "Verdi", "Luigi"};
  journal_.crash_at = CardStep::kKey;  // the key made, its record lost
  ASSERT_EQ(maker.Make(card).status().code(), absl::StatusCode::kUnavailable);
  auto record = journal_.Load(card.card_number);
  ASSERT_TRUE(record.ok() && record->has_value());
  auto credentials =
      OpenCredentials(*sealer_, card.card_number, (*record)->envelope, (*record)->mail);
  ASSERT_TRUE(credentials.ok());
  {  // What a cut-short generation leaves: the private key never written.
    auto token = hsm::Token::Login(TestSoftHsm::Get().module(), card.card_number, credentials->pin);
    ASSERT_TRUE(token.ok()) << token.status();
    auto lease = (*token)->Acquire();
    ASSERT_TRUE(lease.ok());
    auto private_key = (*lease)->FindById(CKO_PRIVATE_KEY, kCardKeyId);
    ASSERT_TRUE(private_key.ok()) << private_key.status();
    ASSERT_TRUE((*lease)->DestroyObject(*private_key).ok());
  }
  auto made = maker.Make(card);
  ASSERT_TRUE(made.ok()) << made.status();
  const std::string objects = Objects(card.card_number, credentials->pin.view());
  EXPECT_EQ(Count(objects, "Private Key Object"), 1u) << objects;
  EXPECT_EQ(Count(objects, "Public Key Object"), 1u) << objects;
  EXPECT_EQ(Count(objects, "Certificate Object"), 1u) << objects;
  EXPECT_EQ(ca_.issued(), 1u);
}

// A card given up withdraws the certificate issued for it, and only a card that has one.
TEST_F(CardMakerTest, AnAbandonedCardWithdrawsItsCertificate) {
  CardMaker maker(TestSoftHsm::Get().module(), *sealer_, journal_, ca_);
  const CardToMake before{NewCardNumber(), "VRDLGU80A01H501U", "Verdi", "Luigi"};
  journal_.crash_at = CardStep::kRequest;  // stopped before the CA was asked
  ASSERT_FALSE(maker.Make(before).ok());
  ASSERT_TRUE(maker.Abandon(before).ok());
  EXPECT_EQ(ca_.withdrawn(), 0u);
  const CardToMake after{NewCardNumber(), "VRDLGU80A01H501U", "Verdi", "Luigi"};
  journal_.crash_at = CardStep::kWritten;  // certified, then stopped
  ASSERT_FALSE(maker.Make(after).ok());
  ASSERT_TRUE(maker.Abandon(after).ok());
  EXPECT_EQ(ca_.withdrawn(), 1u);
}

// A card certified and then not found in this station (its token left in the reader of a
// station that died; here its token given another label) starts again on a new token: the
// first attempt's certificate is withdrawn, the second attempt asks the CA under its own
// request id, and the card ends proved with one key and the new certificate. After
// kCardAttempts it is given up.
TEST_F(CardMakerTest, ACardWhoseTokenIsNotHereStartsAgainAndWithdrawsTheFirstCertificate) {
  auto module = TestSoftHsm::Get().module();
  CardMaker maker(module, *sealer_, journal_, ca_);
  const CardToMake card{NewCardNumber(), "RSSMRA85T10H501O", "Rossi", "Mario"};
  journal_.crash_at = CardStep::kWritten;
  ASSERT_FALSE(maker.Make(card).ok());
  auto first = journal_.Load(card.card_number);
  ASSERT_TRUE(first.ok() && first->has_value());
  ASSERT_EQ((*first)->done, CardStep::kCertificate);
  const std::vector<uint8_t> first_certificate = (*first)->certificate;
  auto credentials =
      OpenCredentials(*sealer_, card.card_number, (*first)->envelope, (*first)->mail);
  ASSERT_TRUE(credentials.ok());

  // The token leaves: relabelled by its security officer (the PUK), as far as this station
  // can tell the card is in no reader of it.
  auto away = [&] {
    auto token = module->FindTokenByLabel(card.card_number);
    ASSERT_TRUE(token.ok()) << token.status();
    unsigned char label[32];
    std::fill(std::begin(label), std::end(label), ' ');
    std::memcpy(label, "elsewhere", 9);
    ASSERT_EQ(module->fn()->C_InitToken(token->slot, const_cast<uint8_t*>(credentials->puk.data()),
                                        credentials->puk.size(), label),
              CKR_OK);
    module->Forget(token->slot);
  };
  away();
  auto restarted = maker.Make(card);
  EXPECT_EQ(restarted.status().code(), absl::StatusCode::kAborted) << restarted.status();
  EXPECT_TRUE(ca_.IsWithdrawn(first_certificate));

  auto made = maker.Make(card);
  ASSERT_TRUE(made.ok()) << made.status();
  EXPECT_EQ(made->done, CardStep::kProved);
  EXPECT_EQ(made->attempt, 1);
  EXPECT_NE(made->certificate, first_certificate);
  EXPECT_EQ(ca_.issued(), 2u);
  const std::string objects = Objects(card.card_number, credentials->pin.view());
  EXPECT_EQ(Count(objects, "Private Key Object"), 1u) << objects;
  EXPECT_EQ(Count(objects, "Certificate Object"), 1u) << objects;

  // A card that keeps leaving is given up after kCardAttempts, its last certificate withdrawn.
  absl::Status last;
  for (int attempt = 1; attempt < kCardAttempts; ++attempt) {
    CardRecord record = **journal_.Load(card.card_number);
    record.done = CardStep::kWritten;  // as if the proof had not been recorded
    ASSERT_TRUE(journal_.Save(record).ok());
    away();
    last = maker.Make(card).status();
    if (last.code() == absl::StatusCode::kAborted) {
      ASSERT_TRUE(maker.Make(card).ok());
    }
  }
  EXPECT_EQ(last.code(), absl::StatusCode::kFailedPrecondition) << last;
  EXPECT_NE(last.message().find("given up"), std::string::npos) << last;
  EXPECT_EQ(ca_.withdrawn(), static_cast<size_t>(kCardAttempts));
}

TEST_F(CardMakerTest, ATokenThatIsNotTheCardsIsRefused) {
  // Someone else's token already carries the card number as its label.
  const std::string number = NewCardNumber();
  TestSoftHsm::Get().CreateToken(number);
  CardMaker maker(TestSoftHsm::Get().module(), *sealer_, journal_, ca_);
  auto refused = maker.Make({number, "RSSMRA85T10H501O", "Rossi", "Mario"});
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kFailedPrecondition) << refused.status();
  EXPECT_EQ(ca_.issued(), 0u);
}

}  // namespace
}  // namespace tessera::personalization
