// The card's cryptography, done with Botan: key pairs generated "on the card" (the private
// half goes only into the card's memory) and signatures with the mechanisms a card offers.
#pragma once

#include <vector>

#include "vreader/card.h"

namespace tessera::vreader {

// Mechanisms the card offers, for C_GetMechanismList/C_GetMechanismInfo.
const std::vector<CK_MECHANISM_TYPE>& Mechanisms();
bool MechanismInfo(CK_MECHANISM_TYPE type, CK_MECHANISM_INFO& info);

// C_GenerateKeyPair: builds both objects from the caller's templates (already parsed).
// The private key is sensitive and never extractable whatever the template says.
CK_RV GenerateKeyPair(CK_MECHANISM_TYPE mechanism, const Attrs& pub_template,
                      const Attrs& priv_template, Object& pub, Object& priv);

// Checks that `key` may sign with `mechanism`; sets the signature length.
CK_RV CheckSignKey(const Object& key, CK_MECHANISM_TYPE mechanism, CK_ULONG& signature_len);
// Signs `data` (a digest, a DigestInfo or the message, as the mechanism says).
CK_RV Sign(Object& key, CK_MECHANISM_TYPE mechanism, const Bytes& data, Bytes& signature);

}  // namespace tessera::vreader
