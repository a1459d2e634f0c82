// How a card's key signs (its proof at personalization, its login challenge): SHA-256 with
// PKCS#1 v1.5 for an RSA key, with ECDSA otherwise; an ECDSA signature as r||s (IEEE 1363,
// Botan's default form).
#pragma once

#include <botan/pk_keys.h>

#include <string>

namespace tessera::access {

// Botan's name of the scheme, for PK_Signer and PK_Verifier.
inline std::string CardSignatureScheme(const Botan::Public_Key& key) {
  return key.algo_name() == "RSA" ? "EMSA3(SHA-256)" : "EMSA1(SHA-256)";
}

}  // namespace tessera::access
