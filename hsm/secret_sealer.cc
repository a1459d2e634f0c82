#include "hsm/secret_sealer.h"

#include "absl/strings/str_cat.h"
#include "platform/status_macros.h"

namespace tessera::hsm {
namespace {

constexpr uint8_t kVersion = 0x01;
constexpr size_t kIvBytes = 12;
constexpr size_t kTagBytes = 16;

std::span<const uint8_t> Bytes(std::string_view text) {
  return {reinterpret_cast<const uint8_t*>(text.data()), text.size()};
}

}  // namespace

absl::StatusOr<SecretSealer> SecretSealer::Open(std::shared_ptr<Token> token,
                                                const std::string& key_label,
                                                bool create_if_missing) {
  // The key's CKA_ID is its label, so the sealer can find it again from any session.
  std::vector<uint8_t> id(key_label.begin(), key_label.end());
  TESSERA_ASSIGN_OR_RETURN(Token::Lease lease, token->Acquire());
  absl::StatusOr<CK_OBJECT_HANDLE> key = lease->FindById(CKO_SECRET_KEY, id);
  if (absl::IsNotFound(key.status()) && create_if_missing) {
    key = lease->GenerateAesKey(id, key_label);
  }
  if (!key.ok()) return key.status();
  return SecretSealer(std::move(token), std::move(id));
}

absl::StatusOr<std::vector<uint8_t>> SecretSealer::Seal(const Secret& secret,
                                                        std::string_view associated_data) const {
  TESSERA_ASSIGN_OR_RETURN(Token::Lease lease, token_->Acquire());
  TESSERA_ASSIGN_OR_RETURN(CK_OBJECT_HANDLE key, lease->FindById(CKO_SECRET_KEY, key_id_));
  // A fresh random IV from the token for every blob: GCM must never reuse one under a key.
  TESSERA_ASSIGN_OR_RETURN(std::vector<uint8_t> iv, lease->GenerateRandom(kIvBytes));
  TESSERA_ASSIGN_OR_RETURN(
      std::vector<uint8_t> ciphertext,
      lease->EncryptAesGcm(key, iv, Bytes(associated_data),
                           std::span<const uint8_t>(secret.data(), secret.size())));
  std::vector<uint8_t> blob;
  blob.reserve(1 + iv.size() + ciphertext.size());
  blob.push_back(kVersion);
  blob.insert(blob.end(), iv.begin(), iv.end());
  blob.insert(blob.end(), ciphertext.begin(), ciphertext.end());
  return blob;
}

absl::StatusOr<Secret> SecretSealer::Unseal(std::span<const uint8_t> blob,
                                            std::string_view associated_data) const {
  if (blob.size() < 1 + kIvBytes + kTagBytes || blob[0] != kVersion) {
    return absl::InvalidArgumentError(absl::StrCat("sealed secret: not a version-", kVersion,
                                                   " blob of at least ", 1 + kIvBytes + kTagBytes,
                                                   " bytes"));
  }
  TESSERA_ASSIGN_OR_RETURN(Token::Lease lease, token_->Acquire());
  TESSERA_ASSIGN_OR_RETURN(CK_OBJECT_HANDLE key, lease->FindById(CKO_SECRET_KEY, key_id_));
  absl::StatusOr<Botan::secure_vector<uint8_t>> plain = lease->DecryptAesGcm(
      key, blob.subspan(1, kIvBytes), Bytes(associated_data), blob.subspan(1 + kIvBytes));
  if (!plain.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "sealed secret: authentication failed (altered, or sealed for another purpose): ",
        plain.status().message()));
  }
  return Secret(std::move(*plain));
}

}  // namespace tessera::hsm
