#include "hsm/module.h"

#include <dlfcn.h>

#include <map>
#include <mutex>

#include "absl/strings/str_cat.h"
#include "hsm/error.h"
#include "hsm/session.h"
#include "platform/log.h"
#include "platform/status_macros.h"

namespace tessera::hsm {
namespace {

// Fixed-width, blank-padded PKCS#11 text fields.
std::string Trim(const unsigned char* text, size_t width) {
  std::string s(reinterpret_cast<const char*>(text), width);
  size_t end = s.find_last_not_of(' ');
  return end == std::string::npos ? std::string() : s.substr(0, end + 1);
}

std::mutex registry_mutex;
std::map<std::string, std::weak_ptr<Module>>& Registry() {
  static auto* registry = new std::map<std::string, std::weak_ptr<Module>>();
  return *registry;
}

}  // namespace

absl::StatusOr<std::shared_ptr<Module>> Module::Load(const std::string& path) {
  std::lock_guard lock(registry_mutex);
  if (auto existing = Registry()[path].lock()) return existing;

  void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    return absl::UnavailableError(
        absl::StrCat("PKCS#11 module ", path, " cannot be loaded: ", dlerror()));
  }
  auto get_function_list =
      reinterpret_cast<CK_C_GetFunctionList>(dlsym(handle, "C_GetFunctionList"));
  if (get_function_list == nullptr) {
    dlclose(handle);
    return absl::UnavailableError(absl::StrCat(path, " has no C_GetFunctionList"));
  }
  CK_FUNCTION_LIST* fn = nullptr;
  if (absl::Status st = CkStatus("C_GetFunctionList", get_function_list(&fn)); !st.ok()) {
    dlclose(handle);
    return st;
  }
  CK_C_INITIALIZE_ARGS args{};
  args.flags = CKF_OS_LOCKING_OK;
  if (absl::Status st = CkStatus("C_Initialize", fn->C_Initialize(&args)); !st.ok()) {
    dlclose(handle);
    return st;
  }
  std::shared_ptr<Module> module(new Module(path, handle, fn));
  Registry()[path] = module;
  return module;
}

Module::~Module() {
  fn_->C_Finalize(nullptr);
  dlclose(handle_);
}

absl::StatusOr<std::vector<TokenInfo>> Module::ListTokens() const {
  CK_ULONG count = 0;
  TESSERA_RETURN_IF_ERROR(CkStatus("C_GetSlotList", fn_->C_GetSlotList(CK_TRUE, nullptr, &count)));
  std::vector<CK_SLOT_ID> slots(count);
  TESSERA_RETURN_IF_ERROR(
      CkStatus("C_GetSlotList", fn_->C_GetSlotList(CK_TRUE, slots.data(), &count)));
  slots.resize(count);

  std::vector<TokenInfo> tokens;
  for (CK_SLOT_ID slot : slots) {
    CK_TOKEN_INFO info{};
    const CK_RV rv = fn_->C_GetTokenInfo(slot, &info);
    if (rv == CKR_TOKEN_NOT_PRESENT || rv == CKR_DEVICE_REMOVED || rv == CKR_DEVICE_ERROR ||
        rv == CKR_TOKEN_NOT_RECOGNIZED || rv == CKR_GENERAL_ERROR) {
      // A card pulled out of its reader, or a token a crashed process left half-written
      // (SoftHSM: C_InitToken killed midway): not a token anyone can use. The others are.
      LogEvent(spdlog::level::warn, "token_unreadable",
               {{"module", path_},
                {"slot", std::to_string(slot)},
                {"error", std::string(CkStatus("C_GetTokenInfo", rv).message())}});
      continue;
    }
    TESSERA_RETURN_IF_ERROR(CkStatus("C_GetTokenInfo", rv));
    tokens.push_back(TokenInfo{
        .slot = slot,
        .label = Trim(info.label, sizeof info.label),
        .serial = Trim(info.serialNumber, sizeof info.serialNumber),
        .manufacturer = Trim(info.manufacturerID, sizeof info.manufacturerID),
        .model = Trim(info.model, sizeof info.model),
        .initialized = (info.flags & CKF_TOKEN_INITIALIZED) != 0,
        .user_pin_initialized = (info.flags & CKF_USER_PIN_INITIALIZED) != 0,
    });
  }
  return tokens;
}

absl::StatusOr<TokenInfo> Module::FindTokenByLabel(std::string_view label) const {
  TESSERA_ASSIGN_OR_RETURN(std::vector<TokenInfo> tokens, ListTokens());
  for (const TokenInfo& token : tokens) {
    if (token.initialized && token.label == label) return token;
  }
  return absl::NotFoundError(
      absl::StrCat("no token labelled '", std::string(label), "' in ", path_));
}

absl::StatusOr<TokenInfo> Module::FindTokenBySerial(std::string_view serial) const {
  TESSERA_ASSIGN_OR_RETURN(std::vector<TokenInfo> tokens, ListTokens());
  for (const TokenInfo& token : tokens) {
    if (token.initialized && token.serial == serial) return token;
  }
  return absl::NotFoundError(
      absl::StrCat("no token with serial '", std::string(serial), "' in ", path_));
}

absl::StatusOr<TokenInfo> Module::InitToken(std::string_view label, const Secret& so_pin,
                                            const Secret& user_pin) {
  if (label.empty() || label.size() > 32) {
    return absl::InvalidArgumentError("token label: must be 1 to 32 characters");
  }
  std::lock_guard lock(init_token_);
  TESSERA_ASSIGN_OR_RETURN(std::vector<TokenInfo> tokens, ListTokens());
  const TokenInfo* free_slot = nullptr;
  for (const TokenInfo& token : tokens) {
    if (token.initialized && token.label == label) {
      return absl::AlreadyExistsError(absl::StrCat("a token labelled '", std::string(label),
                                                   "' already exists; refusing to overwrite"));
    }
    if (!token.initialized && free_slot == nullptr) free_slot = &token;
  }
  if (free_slot == nullptr) {
    return absl::ResourceExhaustedError(absl::StrCat("no free slot for a new token in ", path_));
  }

  unsigned char padded[32];
  std::fill(std::begin(padded), std::end(padded), ' ');
  std::copy(label.begin(), label.end(), padded);
  TESSERA_RETURN_IF_ERROR(
      CkStatus("C_InitToken", fn_->C_InitToken(free_slot->slot, const_cast<uint8_t*>(so_pin.data()),
                                               so_pin.size(), padded)));

  // SoftHSM renumbers slots after C_InitToken: find the token again by its label.
  TESSERA_ASSIGN_OR_RETURN(TokenInfo created, FindTokenByLabel(label));
  {
    TESSERA_ASSIGN_OR_RETURN(std::unique_ptr<Session> session,
                             Session::Open(shared_from_this(), created.slot));
    TESSERA_RETURN_IF_ERROR(session->Login(CKU_SO, so_pin));
    TESSERA_RETURN_IF_ERROR(session->InitPin(user_pin));
    TESSERA_RETURN_IF_ERROR(session->Logout());
  }
  return FindTokenByLabel(label);
}

}  // namespace tessera::hsm
