#include "personalization/card_proof.h"

#include <botan/pubkey.h>

#include <string>

#include "absl/strings/str_cat.h"
#include "access/card_signature.h"
#include "hsm/token_key.h"
#include "platform/random.h"
#include "platform/status_macros.h"

namespace tessera::personalization {

using access::CardSignatureScheme;

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
    Botan::PK_Signer signer(*key, ThreadRng(), CardSignatureScheme(*key));
    signature = signer.sign_message(challenge, ThreadRng());
  } catch (const std::exception& e) {
    // A reader's glitch stays UNAVAILABLE (the proof is tried again); a key that cannot sign
    // fails the card.
    return hsm::SignatureFailure(e, "the card did not sign", absl::StatusCode::kFailedPrecondition);
  }
  std::unique_ptr<Botan::Public_Key> certified(certificate.subject_public_key());
  Botan::PK_Verifier verifier(*certified, CardSignatureScheme(*certified));
  if (!verifier.verify_message(challenge, signature)) {
    return absl::FailedPreconditionError(
        "the card's signature does not verify with its certificate");
  }
  return absl::OkStatus();
}

}  // namespace tessera::personalization
