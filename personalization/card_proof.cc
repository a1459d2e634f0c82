#include "personalization/card_proof.h"

#include <botan/pubkey.h>

#include <string>

#include "absl/strings/str_cat.h"
#include "hsm/token_key.h"
#include "platform/random.h"
#include "platform/status_macros.h"

namespace tessera::personalization {
namespace {

// The signature scheme a card key signs with: PKCS#1 v1.5 for RSA, ECDSA otherwise, SHA-256.
std::string SchemeFor(const Botan::Public_Key& key) {
  return key.algo_name() == "RSA" ? "EMSA3(SHA-256)" : "EMSA1(SHA-256)";
}

}  // namespace

absl::Status CheckCertificateMatchesKey(const Botan::X509_Certificate& certificate,
                                        const Botan::Public_Key& key) {
  std::unique_ptr<Botan::Public_Key> certified(certificate.subject_public_key());
  if (certified->public_key_bits() != key.public_key_bits()) {
    return absl::FailedPreconditionError("the certificate certifies another key than the card's");
  }
  return absl::OkStatus();
}

absl::Status ProveCard(std::shared_ptr<hsm::Token> token, std::span<const uint8_t> key_id,
                       const Botan::X509_Certificate& certificate) {
  TESSERA_ASSIGN_OR_RETURN(std::unique_ptr<Botan::Private_Key> key,
                           hsm::LoadTokenKey(std::move(token), key_id));
  TESSERA_RETURN_IF_ERROR(CheckCertificateMatchesKey(certificate, *key));
  const Botan::secure_vector<uint8_t> challenge = ThreadRng().random_vec(32);
  std::vector<uint8_t> signature;
  try {
    Botan::PK_Signer signer(*key, ThreadRng(), SchemeFor(*key));
    signature = signer.sign_message(challenge, ThreadRng());
  } catch (const std::exception& e) {
    // A reader's glitch stays UNAVAILABLE (the proof is tried again); a key that cannot sign
    // fails the card.
    return hsm::SignatureFailure(e, "the card did not sign", absl::StatusCode::kFailedPrecondition);
  }
  std::unique_ptr<Botan::Public_Key> certified(certificate.subject_public_key());
  Botan::PK_Verifier verifier(*certified, SchemeFor(*certified));
  if (!verifier.verify_message(challenge, signature)) {
    return absl::FailedPreconditionError(
        "the card's signature does not verify with its certificate");
  }
  return absl::OkStatus();
}

}  // namespace tessera::personalization
