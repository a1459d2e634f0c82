// A Botan::Private_Key whose private half stays on a PKCS#11 token: Botan computes the hash
// (and, for RSA, the DigestInfo) and the token signs it with C_Sign. With it
// X509::create_cert_req, X509::create_self_signed_cert, X509_CA::sign_request and
// X509_CA::new_crl work unchanged with keys that never leave the token.
#pragma once

#include <botan/exceptn.h>
#include <botan/pk_keys.h>

#include <memory>
#include <span>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "hsm/session.h"
#include "hsm/token.h"

namespace tessera::hsm {

// What a token key throws when the token fails a signature (Botan's interface allows only an
// exception): the token's status, so that a caller can tell a reader's glitch (UNAVAILABLE: try
// again) from a key that cannot sign.
class TokenKeyError : public Botan::Exception {
 public:
  explicit TokenKeyError(absl::Status status)
      : Botan::Exception("token key: " + status.ToString()), status_(std::move(status)) {}
  const absl::Status& status() const { return status_; }

 private:
  absl::Status status_;
};

// The status of a failed signature with a token key, `what` failing: the token's own code (its
// message prefixed) if the token failed, else `otherwise` with the exception's message.
absl::Status SignatureFailure(const std::exception& e, const std::string& what,
                              absl::StatusCode otherwise);

// Loads the key pair with CKA_ID == id from a logged-in token (EC P-256/P-384 or RSA).
absl::StatusOr<std::unique_ptr<Botan::Private_Key>> LoadTokenKey(std::shared_ptr<Token> token,
                                                                 std::span<const uint8_t> id);

// A certificate object on a token, with the CKA_ID its key pair shares.
struct TokenCertificate {
  std::vector<uint8_t> id;
  std::vector<uint8_t> der;
};
// Every X.509 certificate object on the token (a card holds its holder's).
absl::StatusOr<std::vector<TokenCertificate>> ListCertificates(std::shared_ptr<Token> token);

// Generates a key pair on the token and returns it as a token-backed Botan key.
absl::StatusOr<std::unique_ptr<Botan::Private_Key>> GenerateTokenKey(std::shared_ptr<Token> token,
                                                                     const KeyPairSpec& spec);

// A service's own signing key, which no ceremony makes (session tokens, audit anchors): the
// key pair whose CKA_ID and label are `label`, made on the token (EC P-256, never extractable)
// the first time it is asked for.
struct OwnKey {
  std::unique_ptr<Botan::Private_Key> key;
  bool made = false;  // made by this call
};
absl::StatusOr<OwnKey> LoadOrMakeOwnKey(std::shared_ptr<Token> token, const std::string& label);

}  // namespace tessera::hsm
