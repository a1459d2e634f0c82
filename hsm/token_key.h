// A Botan::Private_Key whose private half stays on a PKCS#11 token: Botan computes the hash
// (and, for RSA, the DigestInfo) and the token signs it with C_Sign. With it
// X509::create_cert_req, X509::create_self_signed_cert, X509_CA::sign_request and
// X509_CA::new_crl work unchanged with keys that never leave the token.
#pragma once

#include <botan/pk_keys.h>

#include <memory>
#include <span>

#include "absl/status/statusor.h"
#include "hsm/session.h"
#include "hsm/token.h"

namespace tessera::hsm {

// Loads the key pair with CKA_ID == id from a logged-in token (EC P-256/P-384 or RSA).
absl::StatusOr<std::unique_ptr<Botan::Private_Key>> LoadTokenKey(std::shared_ptr<Token> token,
                                                                 std::span<const uint8_t> id);

// Generates a key pair on the token and returns it as a token-backed Botan key.
absl::StatusOr<std::unique_ptr<Botan::Private_Key>> GenerateTokenKey(std::shared_ptr<Token> token,
                                                                     const KeyPairSpec& spec);

}  // namespace tessera::hsm
