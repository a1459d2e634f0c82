// A PKCS#11 session on one token, closed when the object goes away. Not for concurrent use:
// SoftHSM crashes when two threads sign on one session. After any failed call the session
// marks itself failed so pools close it instead of reusing it.
#pragma once

#include <botan/secmem.h>

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "hsm/attributes.h"
#include "hsm/module.h"
#include "hsm/pkcs11.h"
#include "platform/secret.h"

namespace tessera::hsm {

enum class KeyAlgorithm { kEcP256, kRsa2048, kRsa3072 };
const char* KeyAlgorithmName(KeyAlgorithm algorithm);

struct KeyPairSpec {
  KeyAlgorithm algorithm = KeyAlgorithm::kEcP256;
  std::vector<uint8_t> id;     // CKA_ID shared by the key pair and its certificate
  std::string label;           // CKA_LABEL shared likewise
  bool allow_decrypt = false;  // RSA card keys may decrypt; CA and signing keys never
};

struct KeyPair {
  CK_OBJECT_HANDLE public_key = CK_INVALID_HANDLE;
  CK_OBJECT_HANDLE private_key = CK_INVALID_HANDLE;
};

class Session {
 public:
  static absl::StatusOr<std::unique_ptr<Session>> Open(std::shared_ptr<Module> module,
                                                       CK_SLOT_ID slot);
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  CK_SESSION_HANDLE handle() const { return handle_; }
  Module& module() const { return *module_; }
  // True once any call on this session has failed: do not reuse it.
  bool failed() const { return failed_; }

  // Login state is per token and per process: logging in one session logs in all of them.
  absl::Status Login(CK_USER_TYPE user, const Secret& pin);
  absl::Status Logout();
  absl::Status InitPin(const Secret& new_pin);  // needs a security-officer login
  absl::Status SetPin(const Secret& old_pin, const Secret& new_pin);

  absl::StatusOr<std::vector<CK_OBJECT_HANDLE>> FindObjects(Attributes& match);
  // Exactly one object of `object_class` with CKA_ID == id, or NOT_FOUND.
  absl::StatusOr<CK_OBJECT_HANDLE> FindById(CK_OBJECT_CLASS object_class,
                                            std::span<const uint8_t> id);
  absl::StatusOr<std::vector<uint8_t>> GetAttribute(CK_OBJECT_HANDLE object,
                                                    CK_ATTRIBUTE_TYPE type);
  absl::StatusOr<CK_ULONG> GetUlongAttribute(CK_OBJECT_HANDLE object, CK_ATTRIBUTE_TYPE type);
  absl::StatusOr<CK_OBJECT_HANDLE> CreateObject(Attributes& attributes);
  absl::Status DestroyObject(CK_OBJECT_HANDLE object);

  // Generates a signing key pair on the token: token objects, private key sensitive and not
  // extractable, sign-only unless `allow_decrypt`.
  absl::StatusOr<KeyPair> GenerateKeyPair(const KeyPairSpec& spec);
  absl::StatusOr<std::vector<uint8_t>> Sign(CK_OBJECT_HANDLE key, CK_MECHANISM_TYPE mechanism,
                                            std::span<const uint8_t> data);

  // X.509 certificate object (CKC_X_509) with the given CKA_ID/CKA_LABEL.
  absl::StatusOr<CK_OBJECT_HANDLE> WriteCertificate(std::span<const uint8_t> id,
                                                    std::string_view label,
                                                    std::span<const uint8_t> der);
  absl::StatusOr<std::vector<uint8_t>> ReadCertificate(std::span<const uint8_t> id);
  // CKO_DATA object identified by application + label.
  absl::StatusOr<CK_OBJECT_HANDLE> WriteData(std::string_view application, std::string_view label,
                                             std::span<const uint8_t> value, bool is_private);
  absl::StatusOr<std::vector<uint8_t>> ReadData(std::string_view application,
                                                std::string_view label);

  // AES-256 secret key on the token for sealing secrets: sensitive, never extractable.
  absl::StatusOr<CK_OBJECT_HANDLE> GenerateAesKey(std::span<const uint8_t> id,
                                                  std::string_view label);
  absl::StatusOr<std::vector<uint8_t>> EncryptAesGcm(CK_OBJECT_HANDLE key,
                                                     std::span<const uint8_t> iv,
                                                     std::span<const uint8_t> aad,
                                                     std::span<const uint8_t> plaintext);
  absl::StatusOr<Botan::secure_vector<uint8_t>> DecryptAesGcm(CK_OBJECT_HANDLE key,
                                                              std::span<const uint8_t> iv,
                                                              std::span<const uint8_t> aad,
                                                              std::span<const uint8_t> ciphertext);

  absl::StatusOr<std::vector<uint8_t>> GenerateRandom(size_t length);

 private:
  Session(std::shared_ptr<Module> module, CK_SLOT_ID slot, CK_SESSION_HANDLE handle)
      : module_(std::move(module)), slot_(slot), handle_(handle) {}
  // Records a failure so pools discard this session; returns the status for chaining.
  absl::Status Check(std::string_view call, CK_RV rv);

  std::shared_ptr<Module> module_;
  CK_SLOT_ID slot_;
  CK_SESSION_HANDLE handle_;
  bool failed_ = false;
};

}  // namespace tessera::hsm
