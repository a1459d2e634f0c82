// A session token: what a card login proves (the person, the office they act for, their
// profiles) bound to the workstation certificate of the connection that logged in, as a JWT
// (RFC 7519) signed with ES256. The registry signs it with a key that never leaves its HSM
// (any Botan::Private_Key: hsm::LoadTokenKey's signs with C_Sign); every service verifies it
// locally with the published public key.
//
// Verification pins the algorithm: libjwt 1.10 (Debian 12) verifies whatever the token's
// header names, so an HS256 token keyed with the public key's PEM text would pass jwt_decode.
#pragma once

#include <botan/pk_keys.h>

#include <chrono>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace tessera::access {

inline constexpr char kSessionIssuer[] = "tessera-registry";

struct SessionClaims {
  std::string session_id;  // jti: what logout and blocking revoke
  std::string person;      // sub: the codice fiscale
  std::string office;      // "comune:<ISTAT>", "prefettura:<province code>" or "ministero"
  std::vector<std::string> profiles;
  // cnf.x5t#S256 (RFC 8705): the base64url SHA-256 of the workstation certificate (DER) the
  // session is bound to; a service refuses the token on a connection with another certificate.
  std::string workstation_sha256;
  std::chrono::system_clock::time_point issued_at;
  std::chrono::system_clock::time_point expires_at;
};

// header.payload.signature, ES256 (`key` must be EC P-256), `key_id` in the header's kid.
absl::StatusOr<std::string> SignSession(const SessionClaims& claims, const Botan::Private_Key& key,
                                        const std::string& key_id);

// The claims of `token` if its signature verifies with `public_key_pem` under ES256, its issuer
// is kSessionIssuer and it is valid at `now` (60 s of clock skew allowed on issued_at).
// UNAUTHENTICATED naming what is wrong otherwise (malformed, another algorithm, a bad signature,
// expired, a claim missing).
absl::StatusOr<SessionClaims> VerifySession(const std::string& token,
                                            const std::string& public_key_pem,
                                            std::chrono::system_clock::time_point now);

}  // namespace tessera::access
