// A card's halves sealed on a real SoftHSM token: each opens for its own card, credential and
// half only, no blob holds its half in clear, and both halves give the credentials back.
#include <gtest/gtest.h>

#include "personalization/credentials.h"
#include "tests/support/test_hsm.h"

namespace tessera::personalization {
namespace {

using testing::TestSoftHsm;

TEST(SealedHalves, EachOpensForItsCardItsCredentialAndItsHalfOnly) {
  auto token = TestSoftHsm::Get().CreateToken(TestSoftHsm::UniqueLabel("halves"));
  auto sealer = hsm::SecretSealer::Open(token, "card-halves", /*create_if_missing=*/true);
  ASSERT_TRUE(sealer.ok()) << sealer.status();
  const CardCredentials credentials = NewCardCredentials();
  const std::string card = "0570010000000001";
  auto envelope = SealHalves(*sealer, card, credentials, Half::kEnvelope);
  auto mail = SealHalves(*sealer, card, credentials, Half::kMail);
  ASSERT_TRUE(envelope.ok() && mail.ok());

  for (Credential c : {Credential::kPin, Credential::kPuk, Credential::kPassword}) {
    const Halves halves = Split(credentials.Get(c));
    const std::vector<uint8_t>& blob = mail->Get(c);
    EXPECT_EQ(std::string(blob.begin(), blob.end()).find(halves.mail.view()), std::string::npos);
    auto opened = OpenHalf(*sealer, card, c, Half::kMail, blob);
    ASSERT_TRUE(opened.ok()) << opened.status();
    EXPECT_EQ(opened->view(), halves.mail.view());
    // Not as another card's, another credential's, or the envelope half.
    EXPECT_EQ(OpenHalf(*sealer, "0570010000000002", c, Half::kMail, blob).status().code(),
              absl::StatusCode::kInvalidArgument);
    const Credential other = c == Credential::kPin ? Credential::kPuk : Credential::kPin;
    EXPECT_EQ(OpenHalf(*sealer, card, other, Half::kMail, blob).status().code(),
              absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(OpenHalf(*sealer, card, c, Half::kEnvelope, blob).status().code(),
              absl::StatusCode::kInvalidArgument);
  }
  auto whole = OpenCredentials(*sealer, card, *envelope, *mail);
  ASSERT_TRUE(whole.ok()) << whole.status();
  EXPECT_EQ(whole->pin.view(), credentials.pin.view());
  EXPECT_EQ(whole->puk.view(), credentials.puk.view());
  EXPECT_EQ(whole->password.view(), credentials.password.view());
}

}  // namespace
}  // namespace tessera::personalization
