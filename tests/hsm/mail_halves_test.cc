// A card's mail halves sealed on a real SoftHSM token: each opens for its own card and name
// only, and no blob holds its half in clear.
#include <gtest/gtest.h>

#include "personalization/credentials.h"
#include "tests/support/test_hsm.h"

namespace tessera::personalization {
namespace {

using testing::TestSoftHsm;

TEST(MailHalves, EachOpensForItsCardAndItsNameOnly) {
  auto token = TestSoftHsm::Get().CreateToken(TestSoftHsm::UniqueLabel("halves"));
  auto sealer = hsm::SecretSealer::Open(token, "mail-halves", /*create_if_missing=*/true);
  ASSERT_TRUE(sealer.ok()) << sealer.status();
  const CardCredentials credentials = NewCardCredentials();
  const std::string card = "0570010000000001";
  auto sealed = SealMailHalves(*sealer, card, credentials);
  ASSERT_TRUE(sealed.ok()) << sealed.status();

  for (Credential c : {Credential::kPin, Credential::kPuk, Credential::kPassword}) {
    const std::vector<uint8_t>& blob = sealed->Get(c);
    const Halves halves = Split(credentials.Get(c));
    EXPECT_EQ(std::string(blob.begin(), blob.end()).find(halves.mail.view()), std::string::npos);
    auto opened = OpenMailHalf(*sealer, card, c, blob);
    ASSERT_TRUE(opened.ok()) << opened.status();
    EXPECT_EQ(opened->view(), halves.mail.view());
    // The whole secret is the envelope half and this.
    EXPECT_EQ(Join({halves.envelope, *opened}).view(), credentials.Get(c).view());
    // Not as another card's, nor as another credential's.
    EXPECT_EQ(OpenMailHalf(*sealer, "0570010000000002", c, blob).status().code(),
              absl::StatusCode::kInvalidArgument);
    const Credential other = c == Credential::kPin ? Credential::kPuk : Credential::kPin;
    EXPECT_EQ(OpenMailHalf(*sealer, card, other, blob).status().code(),
              absl::StatusCode::kInvalidArgument);
  }
}

}  // namespace
}  // namespace tessera::personalization
