#include "hsm/session.h"

#include <botan/bigint.h>
#include <botan/der_enc.h>
#include <botan/x509cert.h>

#include "absl/strings/str_cat.h"
#include "hsm/error.h"
#include "platform/status_macros.h"

namespace tessera::hsm {
namespace {

// DER of OID 1.2.840.10045.3.1.7 (prime256v1 / secp256r1), the CKA_EC_PARAMS of P-256.
constexpr uint8_t kP256Params[] = {0x06, 0x08, 0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x03, 0x01, 0x07};
constexpr uint8_t kRsaPublicExponent[] = {0x01, 0x00, 0x01};
constexpr size_t kMaxSignatureBytes = 1024;  // RSA-8192; every key we make is smaller
constexpr size_t kGcmTagBytes = 16;

}  // namespace

const char* KeyAlgorithmName(KeyAlgorithm algorithm) {
  switch (algorithm) {
    case KeyAlgorithm::kEcP256:
      return "EC P-256";
    case KeyAlgorithm::kRsa2048:
      return "RSA-2048";
    case KeyAlgorithm::kRsa3072:
      return "RSA-3072";
  }
  return "unknown";
}

absl::StatusOr<std::unique_ptr<Session>> Session::Open(std::shared_ptr<Module> module,
                                                       CK_SLOT_ID slot) {
  CK_SESSION_HANDLE handle = CK_INVALID_HANDLE;
  const CK_RV rv = [&] {
    std::shared_lock slots = module->LockSlots();
    return module->fn()->C_OpenSession(slot, CKF_SERIAL_SESSION | CKF_RW_SESSION, nullptr, nullptr,
                                       &handle);
  }();
  TESSERA_RETURN_IF_ERROR(CkStatus("C_OpenSession", rv));
  return std::unique_ptr<Session>(new Session(std::move(module), slot, handle));
}

Session::~Session() { module_->fn()->C_CloseSession(handle_); }

absl::Status Session::Check(std::string_view call, CK_RV rv) {
  if (rv != CKR_OK) failed_ = true;
  return CkStatus(call, rv);
}

absl::Status Session::Login(CK_USER_TYPE user, const Secret& pin) {
  CK_RV rv = module_->fn()->C_Login(handle_, user, const_cast<uint8_t*>(pin.data()), pin.size());
  if (rv == CKR_USER_ALREADY_LOGGED_IN) return absl::OkStatus();
  return Check("C_Login", rv);
}

absl::Status Session::Logout() {
  CK_RV rv = module_->fn()->C_Logout(handle_);
  if (rv == CKR_USER_NOT_LOGGED_IN) return absl::OkStatus();
  return Check("C_Logout", rv);
}

absl::Status Session::InitPin(const Secret& new_pin) {
  module_->Forget(slot_);  // the token's CKF_USER_PIN_INITIALIZED changes
  return Check("C_InitPIN", module_->fn()->C_InitPIN(handle_, const_cast<uint8_t*>(new_pin.data()),
                                                     new_pin.size()));
}

absl::Status Session::SetPin(const Secret& old_pin, const Secret& new_pin) {
  return Check("C_SetPIN", module_->fn()->C_SetPIN(
                               handle_, const_cast<uint8_t*>(old_pin.data()), old_pin.size(),
                               const_cast<uint8_t*>(new_pin.data()), new_pin.size()));
}

absl::StatusOr<std::vector<CK_OBJECT_HANDLE>> Session::FindObjects(Attributes& match) {
  CK_FUNCTION_LIST* fn = module_->fn();
  TESSERA_RETURN_IF_ERROR(
      Check("C_FindObjectsInit", fn->C_FindObjectsInit(handle_, match.data(), match.size())));
  std::vector<CK_OBJECT_HANDLE> found;
  CK_OBJECT_HANDLE batch[32];
  absl::Status status;
  for (;;) {
    CK_ULONG count = 0;
    status = Check("C_FindObjects", fn->C_FindObjects(handle_, batch, std::size(batch), &count));
    if (!status.ok() || count == 0) break;
    found.insert(found.end(), batch, batch + count);
  }
  absl::Status final_status = Check("C_FindObjectsFinal", fn->C_FindObjectsFinal(handle_));
  if (!status.ok()) return status;
  if (!final_status.ok()) return final_status;
  return found;
}

absl::StatusOr<CK_OBJECT_HANDLE> Session::FindById(CK_OBJECT_CLASS object_class,
                                                   std::span<const uint8_t> id) {
  Attributes match;
  match.Ulong(CKA_CLASS, object_class).Bytes(CKA_ID, id);
  TESSERA_ASSIGN_OR_RETURN(std::vector<CK_OBJECT_HANDLE> found, FindObjects(match));
  if (found.empty()) {
    return absl::NotFoundError(
        absl::StrCat("no object of class ", object_class, " with the requested CKA_ID"));
  }
  if (found.size() > 1) {
    return absl::FailedPreconditionError(
        absl::StrCat(found.size(), " objects of class ", object_class, " share one CKA_ID"));
  }
  return found.front();
}

absl::StatusOr<std::vector<uint8_t>> Session::GetAttribute(CK_OBJECT_HANDLE object,
                                                           CK_ATTRIBUTE_TYPE type) {
  CK_ATTRIBUTE query{type, nullptr, 0};
  CK_FUNCTION_LIST* fn = module_->fn();
  TESSERA_RETURN_IF_ERROR(
      Check("C_GetAttributeValue", fn->C_GetAttributeValue(handle_, object, &query, 1)));
  std::vector<uint8_t> value(query.ulValueLen);
  query.pValue = value.data();
  TESSERA_RETURN_IF_ERROR(
      Check("C_GetAttributeValue", fn->C_GetAttributeValue(handle_, object, &query, 1)));
  value.resize(query.ulValueLen);
  return value;
}

absl::StatusOr<CK_ULONG> Session::GetUlongAttribute(CK_OBJECT_HANDLE object,
                                                    CK_ATTRIBUTE_TYPE type) {
  CK_ULONG value = 0;
  CK_ATTRIBUTE query{type, &value, sizeof value};
  TESSERA_RETURN_IF_ERROR(
      Check("C_GetAttributeValue", module_->fn()->C_GetAttributeValue(handle_, object, &query, 1)));
  return value;
}

absl::StatusOr<CK_OBJECT_HANDLE> Session::CreateObject(Attributes& attributes) {
  CK_OBJECT_HANDLE object = CK_INVALID_HANDLE;
  TESSERA_RETURN_IF_ERROR(
      Check("C_CreateObject",
            module_->fn()->C_CreateObject(handle_, attributes.data(), attributes.size(), &object)));
  return object;
}

absl::Status Session::DestroyObject(CK_OBJECT_HANDLE object) {
  return Check("C_DestroyObject", module_->fn()->C_DestroyObject(handle_, object));
}

absl::StatusOr<KeyPair> Session::GenerateKeyPair(const KeyPairSpec& spec) {
  if (spec.id.empty() || spec.label.empty()) {
    return absl::InvalidArgumentError("key pair: CKA_ID and CKA_LABEL are required");
  }
  const bool is_ec = spec.algorithm == KeyAlgorithm::kEcP256;
  CK_MECHANISM mechanism{is_ec ? CKM_EC_KEY_PAIR_GEN : CKM_RSA_PKCS_KEY_PAIR_GEN, nullptr, 0};

  Attributes pub;
  pub.Ulong(CKA_CLASS, CKO_PUBLIC_KEY)
      .Bool(CKA_TOKEN, true)
      .Bool(CKA_PRIVATE, false)
      .Bool(CKA_VERIFY, true)
      .Bool(CKA_ENCRYPT, spec.allow_decrypt)
      .Bool(CKA_WRAP, false)
      .Bytes(CKA_ID, spec.id)
      .Text(CKA_LABEL, spec.label);
  if (is_ec) {
    pub.Bytes(CKA_EC_PARAMS, kP256Params);
  } else {
    pub.Ulong(CKA_MODULUS_BITS, spec.algorithm == KeyAlgorithm::kRsa2048 ? 2048 : 3072)
        .Bytes(CKA_PUBLIC_EXPONENT, kRsaPublicExponent);
  }

  // SoftHSM grants decrypt/unwrap/derive unless told otherwise: say no explicitly.
  Attributes priv;
  priv.Ulong(CKA_CLASS, CKO_PRIVATE_KEY)
      .Bool(CKA_TOKEN, true)
      .Bool(CKA_PRIVATE, true)
      .Bool(CKA_SENSITIVE, true)
      .Bool(CKA_EXTRACTABLE, false)
      .Bool(CKA_SIGN, true)
      .Bool(CKA_DECRYPT, spec.allow_decrypt)
      .Bool(CKA_UNWRAP, false)
      .Bool(CKA_DERIVE, false)
      .Bytes(CKA_ID, spec.id)
      .Text(CKA_LABEL, spec.label);

  KeyPair pair;
  TESSERA_RETURN_IF_ERROR(Check(
      "C_GenerateKeyPair",
      module_->fn()->C_GenerateKeyPair(handle_, &mechanism, pub.data(), pub.size(), priv.data(),
                                       priv.size(), &pair.public_key, &pair.private_key)));
  return pair;
}

absl::StatusOr<std::vector<uint8_t>> Session::Sign(CK_OBJECT_HANDLE key,
                                                   CK_MECHANISM_TYPE mechanism_type,
                                                   std::span<const uint8_t> data) {
  CK_MECHANISM mechanism{mechanism_type, nullptr, 0};
  CK_FUNCTION_LIST* fn = module_->fn();
  TESSERA_RETURN_IF_ERROR(Check("C_SignInit", fn->C_SignInit(handle_, &mechanism, key)));
  std::vector<uint8_t> signature(kMaxSignatureBytes);
  CK_ULONG length = signature.size();
  TESSERA_RETURN_IF_ERROR(Check("C_Sign", fn->C_Sign(handle_, const_cast<uint8_t*>(data.data()),
                                                     data.size(), signature.data(), &length)));
  signature.resize(length);
  return signature;
}

absl::StatusOr<CK_OBJECT_HANDLE> Session::WriteCertificate(std::span<const uint8_t> id,
                                                           std::string_view label,
                                                           std::span<const uint8_t> der) {
  // Readers (pkcs11-tool, browsers, OpenSC) look certificates up by subject and issuer too.
  std::vector<uint8_t> subject, issuer, serial;
  try {
    Botan::X509_Certificate parsed(der.data(), der.size());
    subject = parsed.raw_subject_dn();
    issuer = parsed.raw_issuer_dn();
    Botan::DER_Encoder(serial).encode(Botan::BigInt(parsed.serial_number()));
  } catch (const std::exception& e) {
    return absl::InvalidArgumentError(absl::StrCat("certificate: not DER X.509: ", e.what()));
  }
  Attributes cert;
  cert.Ulong(CKA_CLASS, CKO_CERTIFICATE)
      .Ulong(CKA_CERTIFICATE_TYPE, CKC_X_509)
      .Bool(CKA_TOKEN, true)
      .Bool(CKA_PRIVATE, false)
      .Bytes(CKA_ID, id)
      .Text(CKA_LABEL, label)
      .Bytes(CKA_SUBJECT, subject)
      .Bytes(CKA_ISSUER, issuer)
      .Bytes(CKA_SERIAL_NUMBER, serial)
      .Bytes(CKA_VALUE, der);
  return CreateObject(cert);
}

absl::StatusOr<std::vector<uint8_t>> Session::ReadCertificate(std::span<const uint8_t> id) {
  TESSERA_ASSIGN_OR_RETURN(CK_OBJECT_HANDLE cert, FindById(CKO_CERTIFICATE, id));
  return GetAttribute(cert, CKA_VALUE);
}

absl::StatusOr<CK_OBJECT_HANDLE> Session::WriteData(std::string_view application,
                                                    std::string_view label,
                                                    std::span<const uint8_t> value,
                                                    bool is_private) {
  Attributes data;
  data.Ulong(CKA_CLASS, CKO_DATA)
      .Bool(CKA_TOKEN, true)
      .Bool(CKA_PRIVATE, is_private)
      .Text(CKA_APPLICATION, application)
      .Text(CKA_LABEL, label)
      .Bytes(CKA_VALUE, value);
  return CreateObject(data);
}

absl::StatusOr<std::vector<uint8_t>> Session::ReadData(std::string_view application,
                                                       std::string_view label) {
  Attributes match;
  match.Ulong(CKA_CLASS, CKO_DATA).Text(CKA_APPLICATION, application).Text(CKA_LABEL, label);
  TESSERA_ASSIGN_OR_RETURN(std::vector<CK_OBJECT_HANDLE> found, FindObjects(match));
  if (found.size() != 1) {
    return absl::NotFoundError(absl::StrCat(found.size(), " data objects for application '",
                                            std::string(application), "' label '",
                                            std::string(label), "', expected 1"));
  }
  return GetAttribute(found.front(), CKA_VALUE);
}

absl::StatusOr<CK_OBJECT_HANDLE> Session::GenerateAesKey(std::span<const uint8_t> id,
                                                         std::string_view label) {
  CK_MECHANISM mechanism{CKM_AES_KEY_GEN, nullptr, 0};
  Attributes key;
  key.Ulong(CKA_CLASS, CKO_SECRET_KEY)
      .Ulong(CKA_KEY_TYPE, CKK_AES)
      .Ulong(CKA_VALUE_LEN, 32)
      .Bool(CKA_TOKEN, true)
      .Bool(CKA_PRIVATE, true)
      .Bool(CKA_SENSITIVE, true)
      .Bool(CKA_EXTRACTABLE, false)
      .Bool(CKA_ENCRYPT, true)
      .Bool(CKA_DECRYPT, true)
      .Bool(CKA_WRAP, false)
      .Bool(CKA_UNWRAP, false)
      .Bool(CKA_SIGN, false)
      .Bool(CKA_DERIVE, false)
      .Bytes(CKA_ID, id)
      .Text(CKA_LABEL, label);
  CK_OBJECT_HANDLE handle = CK_INVALID_HANDLE;
  TESSERA_RETURN_IF_ERROR(
      Check("C_GenerateKey",
            module_->fn()->C_GenerateKey(handle_, &mechanism, key.data(), key.size(), &handle)));
  return handle;
}

namespace {
CK_GCM_PARAMS GcmParams(std::span<const uint8_t> iv, std::span<const uint8_t> aad) {
  CK_GCM_PARAMS params{};
  params.pIv = const_cast<uint8_t*>(iv.data());
  params.ulIvLen = iv.size();
  params.ulIvBits = iv.size() * 8;
  params.pAAD = const_cast<uint8_t*>(aad.data());
  params.ulAADLen = aad.size();
  params.ulTagBits = kGcmTagBytes * 8;
  return params;
}
}  // namespace

absl::StatusOr<std::vector<uint8_t>> Session::EncryptAesGcm(CK_OBJECT_HANDLE key,
                                                            std::span<const uint8_t> iv,
                                                            std::span<const uint8_t> aad,
                                                            std::span<const uint8_t> plaintext) {
  CK_GCM_PARAMS params = GcmParams(iv, aad);
  CK_MECHANISM mechanism{CKM_AES_GCM, &params, sizeof params};
  CK_FUNCTION_LIST* fn = module_->fn();
  TESSERA_RETURN_IF_ERROR(Check("C_EncryptInit", fn->C_EncryptInit(handle_, &mechanism, key)));
  std::vector<uint8_t> out(plaintext.size() + kGcmTagBytes);
  CK_ULONG length = out.size();
  TESSERA_RETURN_IF_ERROR(
      Check("C_Encrypt", fn->C_Encrypt(handle_, const_cast<uint8_t*>(plaintext.data()),
                                       plaintext.size(), out.data(), &length)));
  out.resize(length);
  return out;
}

absl::StatusOr<Botan::secure_vector<uint8_t>> Session::DecryptAesGcm(
    CK_OBJECT_HANDLE key, std::span<const uint8_t> iv, std::span<const uint8_t> aad,
    std::span<const uint8_t> ciphertext) {
  CK_GCM_PARAMS params = GcmParams(iv, aad);
  CK_MECHANISM mechanism{CKM_AES_GCM, &params, sizeof params};
  CK_FUNCTION_LIST* fn = module_->fn();
  TESSERA_RETURN_IF_ERROR(Check("C_DecryptInit", fn->C_DecryptInit(handle_, &mechanism, key)));
  Botan::secure_vector<uint8_t> out(ciphertext.size());
  CK_ULONG length = out.size();
  TESSERA_RETURN_IF_ERROR(
      Check("C_Decrypt", fn->C_Decrypt(handle_, const_cast<uint8_t*>(ciphertext.data()),
                                       ciphertext.size(), out.data(), &length)));
  out.resize(length);
  return out;
}

absl::StatusOr<std::vector<uint8_t>> Session::GenerateRandom(size_t length) {
  std::vector<uint8_t> out(length);
  TESSERA_RETURN_IF_ERROR(
      Check("C_GenerateRandom", module_->fn()->C_GenerateRandom(handle_, out.data(), length)));
  return out;
}

}  // namespace tessera::hsm
