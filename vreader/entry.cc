// The C ABI: C_GetFunctionList, the only exported symbol, and the function list behind it.
// Each entry checks its pointers, turns the caller's buffers into Bytes/Attrs and calls the
// VirtualReader; nothing may throw across this boundary.
#include <atomic>
#include <cstdio>
#include <mutex>
#include <new>

#include "vreader/keys.h"
#include "vreader/reader.h"

namespace tessera::vreader {
namespace {

std::mutex life_mu;  // C_Initialize / C_Finalize
std::atomic<VirtualReader*> the_reader{nullptr};

template <typename Body>
CK_RV With(Body body) {
  VirtualReader* reader = the_reader.load();
  if (reader == nullptr) return CKR_CRYPTOKI_NOT_INITIALIZED;
  try {
    return body(*reader);
  } catch (const std::bad_alloc&) {
    return CKR_HOST_MEMORY;
  } catch (...) {
    return CKR_GENERAL_ERROR;
  }
}

Bytes ToBytes(const CK_BYTE* data, CK_ULONG len) {
  return data ? Bytes(data, data + len) : Bytes();
}

CK_RV Initialize(void* init_args) {
  if (init_args != nullptr) {
    const auto* args = static_cast<const CK_C_INITIALIZE_ARGS*>(init_args);
    if (args->pReserved != nullptr) return CKR_ARGUMENTS_BAD;
    const int given = (args->CreateMutex != nullptr) + (args->DestroyMutex != nullptr) +
                      (args->LockMutex != nullptr) + (args->UnlockMutex != nullptr);
    if (given != 0 && given != 4) return CKR_ARGUMENTS_BAD;
    // We lock with the OS; an application that insists on its own mutexes cannot have us.
    if (given == 4 && (args->flags & CKF_OS_LOCKING_OK) == 0) return CKR_CANT_LOCK;
  }
  std::lock_guard lock(life_mu);
  if (the_reader.load() != nullptr) return CKR_CRYPTOKI_ALREADY_INITIALIZED;
  try {
    std::unique_ptr<VirtualReader> reader;
    if (CK_RV rv = VirtualReader::Create(reader); rv != CKR_OK) return rv;
    the_reader = reader.release();
    return CKR_OK;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "tessera-vreader: %s\n", e.what());
    return CKR_GENERAL_ERROR;
  }
}

CK_RV Finalize(void* reserved) {
  if (reserved != nullptr) return CKR_ARGUMENTS_BAD;
  std::lock_guard lock(life_mu);
  VirtualReader* reader = the_reader.exchange(nullptr);
  if (reader == nullptr) return CKR_CRYPTOKI_NOT_INITIALIZED;
  delete reader;
  return CKR_OK;
}

CK_RV GetInfo(CK_INFO* info) {
  if (info == nullptr) return CKR_ARGUMENTS_BAD;
  return With([&](VirtualReader&) {
    *info = CK_INFO{};
    info->cryptokiVersion = {2, 40};
    std::fill(std::begin(info->manufacturerID), std::end(info->manufacturerID), ' ');
    std::fill(std::begin(info->libraryDescription), std::end(info->libraryDescription), ' ');
    const std::string_view maker = "tessera", description = "tessera virtual card reader";
    std::copy(maker.begin(), maker.end(), info->manufacturerID);
    std::copy(description.begin(), description.end(), info->libraryDescription);
    info->libraryVersion = {1, 0};
    return CKR_OK;
  });
}

CK_RV GetFunctionList(CK_FUNCTION_LIST** list);

CK_RV GetSlotList(CK_BBOOL present, CK_SLOT_ID* list, CK_ULONG* count) {
  return With([&](VirtualReader& r) { return r.GetSlotList(present != CK_FALSE, list, count); });
}

CK_RV GetSlotInfo(CK_SLOT_ID slot, CK_SLOT_INFO* info) {
  return With([&](VirtualReader& r) { return r.GetSlotInfo(slot, info); });
}

CK_RV GetTokenInfo(CK_SLOT_ID slot, CK_TOKEN_INFO* info) {
  return With([&](VirtualReader& r) { return r.GetTokenInfo(slot, info); });
}

CK_RV GetMechanismList(CK_SLOT_ID slot, CK_MECHANISM_TYPE* list, CK_ULONG* count) {
  if (count == nullptr) return CKR_ARGUMENTS_BAD;
  return With([&](VirtualReader& r) {
    if (CK_RV rv = r.CheckSlot(slot); rv != CKR_OK) return rv;
    const std::vector<CK_MECHANISM_TYPE>& all = Mechanisms();
    if (list != nullptr && *count < all.size()) {
      *count = all.size();
      return CKR_BUFFER_TOO_SMALL;
    }
    if (list != nullptr) std::copy(all.begin(), all.end(), list);
    *count = all.size();
    return CKR_OK;
  });
}

CK_RV GetMechanismInfo(CK_SLOT_ID slot, CK_MECHANISM_TYPE type, CK_MECHANISM_INFO* info) {
  if (info == nullptr) return CKR_ARGUMENTS_BAD;
  return With([&](VirtualReader& r) {
    if (CK_RV rv = r.CheckSlot(slot); rv != CKR_OK) return rv;
    return MechanismInfo(type, *info) ? CKR_OK : CKR_MECHANISM_INVALID;
  });
}

CK_RV InitToken(CK_SLOT_ID slot, CK_UTF8CHAR* pin, CK_ULONG pin_len, CK_UTF8CHAR* label) {
  if (pin == nullptr) return CKR_ARGUMENTS_BAD;
  return With([&](VirtualReader& r) { return r.InitToken(slot, ToBytes(pin, pin_len), label); });
}

CK_RV InitPIN(CK_SESSION_HANDLE session, CK_UTF8CHAR* pin, CK_ULONG pin_len) {
  if (pin == nullptr) return CKR_ARGUMENTS_BAD;
  return With([&](VirtualReader& r) { return r.InitPin(session, ToBytes(pin, pin_len)); });
}

CK_RV SetPIN(CK_SESSION_HANDLE session, CK_UTF8CHAR* old_pin, CK_ULONG old_len,
             CK_UTF8CHAR* new_pin, CK_ULONG new_len) {
  if (old_pin == nullptr || new_pin == nullptr) return CKR_ARGUMENTS_BAD;
  return With([&](VirtualReader& r) {
    return r.SetPin(session, ToBytes(old_pin, old_len), ToBytes(new_pin, new_len));
  });
}

CK_RV OpenSession(CK_SLOT_ID slot, CK_FLAGS flags, void*, CK_NOTIFY, CK_SESSION_HANDLE* out) {
  return With([&](VirtualReader& r) { return r.OpenSession(slot, flags, out); });
}

CK_RV CloseSession(CK_SESSION_HANDLE session) {
  return With([&](VirtualReader& r) { return r.CloseSession(session); });
}

CK_RV CloseAllSessions(CK_SLOT_ID slot) {
  return With([&](VirtualReader& r) { return r.CloseAllSessions(slot); });
}

CK_RV GetSessionInfo(CK_SESSION_HANDLE session, CK_SESSION_INFO* info) {
  return With([&](VirtualReader& r) { return r.GetSessionInfo(session, info); });
}

CK_RV Login(CK_SESSION_HANDLE session, CK_USER_TYPE user, CK_UTF8CHAR* pin, CK_ULONG pin_len) {
  if (pin == nullptr) return CKR_ARGUMENTS_BAD;  // no protected authentication path
  return With([&](VirtualReader& r) { return r.Login(session, user, ToBytes(pin, pin_len)); });
}

CK_RV Logout(CK_SESSION_HANDLE session) {
  return With([&](VirtualReader& r) { return r.Logout(session); });
}

CK_RV CreateObject(CK_SESSION_HANDLE session, CK_ATTRIBUTE* tmpl, CK_ULONG count,
                   CK_OBJECT_HANDLE* object) {
  return With([&](VirtualReader& r) {
    Attrs attrs;
    if (CK_RV rv = ParseTemplate(tmpl, count, attrs); rv != CKR_OK) return rv;
    return r.CreateObject(session, attrs, object);
  });
}

CK_RV DestroyObject(CK_SESSION_HANDLE session, CK_OBJECT_HANDLE object) {
  return With([&](VirtualReader& r) { return r.DestroyObject(session, object); });
}

CK_RV GetAttributeValue(CK_SESSION_HANDLE session, CK_OBJECT_HANDLE object, CK_ATTRIBUTE* tmpl,
                        CK_ULONG count) {
  return With([&](VirtualReader& r) { return r.GetAttributeValue(session, object, tmpl, count); });
}

CK_RV SetAttributeValue(CK_SESSION_HANDLE session, CK_OBJECT_HANDLE object, CK_ATTRIBUTE* tmpl,
                        CK_ULONG count) {
  return With([&](VirtualReader& r) {
    Attrs attrs;
    if (CK_RV rv = ParseTemplate(tmpl, count, attrs); rv != CKR_OK) return rv;
    return r.SetAttributeValue(session, object, attrs);
  });
}

CK_RV FindObjectsInit(CK_SESSION_HANDLE session, CK_ATTRIBUTE* tmpl, CK_ULONG count) {
  return With([&](VirtualReader& r) {
    Attrs match;
    if (CK_RV rv = ParseTemplate(tmpl, count, match); rv != CKR_OK) return rv;
    return r.FindObjectsInit(session, match);
  });
}

CK_RV FindObjects(CK_SESSION_HANDLE session, CK_OBJECT_HANDLE* out, CK_ULONG max, CK_ULONG* count) {
  return With([&](VirtualReader& r) { return r.FindObjects(session, out, max, count); });
}

CK_RV FindObjectsFinal(CK_SESSION_HANDLE session) {
  return With([&](VirtualReader& r) { return r.FindObjectsFinal(session); });
}

// The card's mechanisms take no parameters.
CK_RV CheckMechanism(const CK_MECHANISM* mechanism) {
  if (mechanism == nullptr) return CKR_ARGUMENTS_BAD;
  if (mechanism->pParameter != nullptr || mechanism->ulParameterLen != 0) {
    return CKR_MECHANISM_PARAM_INVALID;
  }
  return CKR_OK;
}

CK_RV GenerateKeyPair(CK_SESSION_HANDLE session, CK_MECHANISM* mechanism, CK_ATTRIBUTE* pub,
                      CK_ULONG pub_count, CK_ATTRIBUTE* priv, CK_ULONG priv_count,
                      CK_OBJECT_HANDLE* pub_out, CK_OBJECT_HANDLE* priv_out) {
  if (CK_RV rv = CheckMechanism(mechanism); rv != CKR_OK) return rv;
  return With([&](VirtualReader& r) {
    Attrs pub_attrs, priv_attrs;
    if (CK_RV rv = ParseTemplate(pub, pub_count, pub_attrs); rv != CKR_OK) return rv;
    if (CK_RV rv = ParseTemplate(priv, priv_count, priv_attrs); rv != CKR_OK) return rv;
    return r.GenerateKeyPair(session, mechanism->mechanism, pub_attrs, priv_attrs, pub_out,
                             priv_out);
  });
}

CK_RV SignInit(CK_SESSION_HANDLE session, CK_MECHANISM* mechanism, CK_OBJECT_HANDLE key) {
  if (CK_RV rv = CheckMechanism(mechanism); rv != CKR_OK) return rv;
  return With([&](VirtualReader& r) { return r.SignInit(session, mechanism->mechanism, key); });
}

CK_RV Sign(CK_SESSION_HANDLE session, CK_BYTE* data, CK_ULONG len, CK_BYTE* signature,
           CK_ULONG* signature_len) {
  if (data == nullptr && len > 0) return CKR_ARGUMENTS_BAD;
  return With([&](VirtualReader& r) {
    return r.Sign(session, ToBytes(data, len), signature, signature_len);
  });
}

CK_RV SignUpdate(CK_SESSION_HANDLE session, CK_BYTE* part, CK_ULONG len) {
  if (part == nullptr && len > 0) return CKR_ARGUMENTS_BAD;
  return With([&](VirtualReader& r) { return r.SignUpdate(session, ToBytes(part, len)); });
}

CK_RV SignFinal(CK_SESSION_HANDLE session, CK_BYTE* signature, CK_ULONG* signature_len) {
  return With([&](VirtualReader& r) { return r.SignFinal(session, signature, signature_len); });
}

CK_RV SeedRandom(CK_SESSION_HANDLE session, CK_BYTE*, CK_ULONG) {
  // The card's generator needs no help; the seed is accepted and ignored.
  return With([&](VirtualReader& r) { return r.CheckSession(session); });
}

CK_RV GenerateRandom(CK_SESSION_HANDLE session, CK_BYTE* out, CK_ULONG len) {
  return With([&](VirtualReader& r) { return r.GenerateRandom(session, out, len); });
}

// Every other entry: one stub per signature, returning CKR_FUNCTION_NOT_SUPPORTED.
template <typename... Args>
CK_RV NotSupported(Args...) {
  return CKR_FUNCTION_NOT_SUPPORTED;
}

template <typename Fn>
struct Stub;
template <typename... Args>
struct Stub<CK_RV (*)(Args...)> {
  static constexpr CK_RV (*fn)(Args...) = &NotSupported<Args...>;
};
#define VREADER_STUB(name) Stub<CK_##name>::fn

CK_FUNCTION_LIST function_list = {
    .version = {2, 40},
    .C_Initialize = Initialize,
    .C_Finalize = Finalize,
    .C_GetInfo = GetInfo,
    .C_GetFunctionList = GetFunctionList,
    .C_GetSlotList = GetSlotList,
    .C_GetSlotInfo = GetSlotInfo,
    .C_GetTokenInfo = GetTokenInfo,
    .C_GetMechanismList = GetMechanismList,
    .C_GetMechanismInfo = GetMechanismInfo,
    .C_InitToken = InitToken,
    .C_InitPIN = InitPIN,
    .C_SetPIN = SetPIN,
    .C_OpenSession = OpenSession,
    .C_CloseSession = CloseSession,
    .C_CloseAllSessions = CloseAllSessions,
    .C_GetSessionInfo = GetSessionInfo,
    .C_GetOperationState = VREADER_STUB(C_GetOperationState),
    .C_SetOperationState = VREADER_STUB(C_SetOperationState),
    .C_Login = Login,
    .C_Logout = Logout,
    .C_CreateObject = CreateObject,
    .C_CopyObject = VREADER_STUB(C_CopyObject),
    .C_DestroyObject = DestroyObject,
    .C_GetObjectSize = VREADER_STUB(C_GetObjectSize),
    .C_GetAttributeValue = GetAttributeValue,
    .C_SetAttributeValue = SetAttributeValue,
    .C_FindObjectsInit = FindObjectsInit,
    .C_FindObjects = FindObjects,
    .C_FindObjectsFinal = FindObjectsFinal,
    .C_EncryptInit = VREADER_STUB(C_EncryptInit),
    .C_Encrypt = VREADER_STUB(C_Encrypt),
    .C_EncryptUpdate = VREADER_STUB(C_EncryptUpdate),
    .C_EncryptFinal = VREADER_STUB(C_EncryptFinal),
    .C_DecryptInit = VREADER_STUB(C_DecryptInit),
    .C_Decrypt = VREADER_STUB(C_Decrypt),
    .C_DecryptUpdate = VREADER_STUB(C_DecryptUpdate),
    .C_DecryptFinal = VREADER_STUB(C_DecryptFinal),
    .C_DigestInit = VREADER_STUB(C_DigestInit),
    .C_Digest = VREADER_STUB(C_Digest),
    .C_DigestUpdate = VREADER_STUB(C_DigestUpdate),
    .C_DigestKey = VREADER_STUB(C_DigestKey),
    .C_DigestFinal = VREADER_STUB(C_DigestFinal),
    .C_SignInit = SignInit,
    .C_Sign = Sign,
    .C_SignUpdate = SignUpdate,
    .C_SignFinal = SignFinal,
    .C_SignRecoverInit = VREADER_STUB(C_SignRecoverInit),
    .C_SignRecover = VREADER_STUB(C_SignRecover),
    .C_VerifyInit = VREADER_STUB(C_VerifyInit),
    .C_Verify = VREADER_STUB(C_Verify),
    .C_VerifyUpdate = VREADER_STUB(C_VerifyUpdate),
    .C_VerifyFinal = VREADER_STUB(C_VerifyFinal),
    .C_VerifyRecoverInit = VREADER_STUB(C_VerifyRecoverInit),
    .C_VerifyRecover = VREADER_STUB(C_VerifyRecover),
    .C_DigestEncryptUpdate = VREADER_STUB(C_DigestEncryptUpdate),
    .C_DecryptDigestUpdate = VREADER_STUB(C_DecryptDigestUpdate),
    .C_SignEncryptUpdate = VREADER_STUB(C_SignEncryptUpdate),
    .C_DecryptVerifyUpdate = VREADER_STUB(C_DecryptVerifyUpdate),
    .C_GenerateKey = VREADER_STUB(C_GenerateKey),
    .C_GenerateKeyPair = GenerateKeyPair,
    .C_WrapKey = VREADER_STUB(C_WrapKey),
    .C_UnwrapKey = VREADER_STUB(C_UnwrapKey),
    .C_DeriveKey = VREADER_STUB(C_DeriveKey),
    .C_SeedRandom = SeedRandom,
    .C_GenerateRandom = GenerateRandom,
    .C_GetFunctionStatus = VREADER_STUB(C_GetFunctionStatus),
    .C_CancelFunction = VREADER_STUB(C_CancelFunction),
    .C_WaitForSlotEvent = VREADER_STUB(C_WaitForSlotEvent),
};

CK_RV GetFunctionList(CK_FUNCTION_LIST** list) {
  if (list == nullptr) return CKR_ARGUMENTS_BAD;
  *list = &function_list;
  return CKR_OK;
}

}  // namespace
}  // namespace tessera::vreader

extern "C" __attribute__((visibility("default"))) CK_RV C_GetFunctionList(CK_FUNCTION_LIST** list) {
  return tessera::vreader::GetFunctionList(list);
}
