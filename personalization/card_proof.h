// The last checks before a card is produced: the certificate written on it certifies the key
// pair generated on it, and the card signs with its holder's PIN what its certificate then
// verifies (docs/process.md, "Producing a card").
#pragma once

#include <botan/pk_keys.h>
#include <botan/x509cert.h>

#include <cstdint>
#include <memory>
#include <span>

#include "absl/status/status.h"
#include "hsm/token.h"

namespace tessera::personalization {

// FAILED_PRECONDITION unless `certificate` certifies `key` (the same public key).
absl::Status CheckCertificateMatchesKey(const Botan::X509_Certificate& certificate,
                                        const Botan::Public_Key& key);

// Signs a fresh random challenge with the key pair `key_id` on `token` (logged in with the
// user PIN) and verifies the signature with `certificate`'s public key: FAILED_PRECONDITION if
// it does not verify or the certificate is for another key; the token's own error if it
// cannot sign.
absl::Status ProveCard(std::shared_ptr<hsm::Token> token, std::span<const uint8_t> key_id,
                       const Botan::X509_Certificate& certificate);

}  // namespace tessera::personalization
