// The card proves itself on a real SoftHSM token: its key signs a challenge that its
// certificate verifies; a certificate for another key is refused.
#include "personalization/card_proof.h"

#include <botan/ecdsa.h>
#include <botan/x509self.h>
#include <gtest/gtest.h>

#include "hsm/token_key.h"
#include "platform/random.h"
#include "tests/support/test_hsm.h"

namespace tessera::personalization {
namespace {

using testing::TestSoftHsm;

Botan::X509_Certificate SelfSigned(const Botan::Private_Key& key) {
  Botan::X509_Cert_Options options;
  options.common_name = "RSSMRA85T10H501O";
  options.country = "IT";
  return Botan::X509::create_self_signed_cert(options, key, "SHA-256", ThreadRng());
}

TEST(CardProof, TheCardsKeySignsWhatItsCertificateVerifies) {
  for (hsm::KeyAlgorithm algorithm : {hsm::KeyAlgorithm::kEcP256, hsm::KeyAlgorithm::kRsa2048}) {
    auto token = TestSoftHsm::Get().CreateToken(TestSoftHsm::UniqueLabel("card"));
    const std::vector<uint8_t> id = {'c', 'a', 'r', 'd'};
    auto key = hsm::GenerateTokenKey(token, {.algorithm = algorithm, .id = id, .label = "card"});
    ASSERT_TRUE(key.ok()) << key.status();
    const Botan::X509_Certificate certificate = SelfSigned(**key);
    EXPECT_TRUE(CheckCertificateMatchesKey(certificate, **key).ok());
    absl::Status proved = ProveCard(token, id, certificate);
    EXPECT_TRUE(proved.ok()) << hsm::KeyAlgorithmName(algorithm) << ": " << proved;

    // A certificate for a key that is not on the card.
    Botan::ECDSA_PrivateKey elsewhere(ThreadRng(), Botan::EC_Group("secp256r1"));
    const Botan::X509_Certificate other = SelfSigned(elsewhere);
    EXPECT_EQ(CheckCertificateMatchesKey(other, **key).code(),
              absl::StatusCode::kFailedPrecondition);
    EXPECT_EQ(ProveCard(token, id, other).code(), absl::StatusCode::kFailedPrecondition);
    // No key pair with that id: the token says so.
    EXPECT_FALSE(ProveCard(token, std::vector<uint8_t>{'x'}, certificate).ok());
  }
}

// A reader's glitch while the card signs stays UNAVAILABLE (the step is tried again); anything
// else a signature throws takes the caller's code (the proof fails, the request spoils).
TEST(CardProof, AGlitchWhileTheCardSignsIsToBeTriedAgain) {
  const absl::Status glitch =
      hsm::SignatureFailure(hsm::TokenKeyError(absl::UnavailableError("C_Sign: CKR_DEVICE_ERROR")),
                            "the card did not sign", absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(glitch.code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(glitch.message(), "the card did not sign: C_Sign: CKR_DEVICE_ERROR");
  const absl::Status other =
      hsm::SignatureFailure(Botan::Invalid_Argument("bad padding"), "the card did not sign",
                            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(other.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(other.message().find("bad padding"), absl::string_view::npos);
}

}  // namespace
}  // namespace tessera::personalization
