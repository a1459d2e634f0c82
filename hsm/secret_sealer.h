// Seals secrets (second halves of PIN/PUK/password, PKCS#12 passwords) with AES-256-GCM under
// a key that lives on the HSM. A sealed blob is: version byte 0x01 | 12-byte IV | ciphertext
// | 16-byte tag. The associated data binds a blob to its purpose (e.g. "card 0580…: PIN"),
// so a blob moved to another row does not open.
#pragma once

#include <memory>
#include <span>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "hsm/token.h"
#include "platform/secret.h"

namespace tessera::hsm {

class SecretSealer {
 public:
  // Uses the AES key labelled `key_label` on the token, creating it if `create_if_missing`.
  static absl::StatusOr<SecretSealer> Open(std::shared_ptr<Token> token,
                                           const std::string& key_label, bool create_if_missing);

  absl::StatusOr<std::vector<uint8_t>> Seal(const Secret& secret,
                                            std::string_view associated_data) const;
  // Refuses (INVALID_ARGUMENT) a blob that was altered or sealed with other associated data.
  absl::StatusOr<Secret> Unseal(std::span<const uint8_t> blob,
                                std::string_view associated_data) const;

 private:
  SecretSealer(std::shared_ptr<Token> token, std::vector<uint8_t> key_id)
      : token_(std::move(token)), key_id_(std::move(key_id)) {}

  std::shared_ptr<Token> token_;
  std::vector<uint8_t> key_id_;
};

}  // namespace tessera::hsm
