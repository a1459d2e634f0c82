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

absl::StatusOr<std::optional<TokenInfo>> Module::Describe(CK_SLOT_ID slot) const {
  bool removable;
  {
    std::lock_guard lock(remembered_mutex_);
    if (auto known = remembered_.find(slot); known != remembered_.end()) return known->second;
    if (retired_.contains(slot)) return std::nullopt;
    removable = removable_.contains(slot);
  }
  if (!removable) {
    CK_SLOT_INFO slot_info{};
    const CK_RV slot_rv = [&] {
      std::shared_lock slots = LockSlots();
      return fn_->C_GetSlotInfo(slot, &slot_info);
    }();
    TESSERA_RETURN_IF_ERROR(CkStatus("C_GetSlotInfo", slot_rv));
    removable = (slot_info.flags & CKF_REMOVABLE_DEVICE) != 0;
    if (removable) {
      std::lock_guard lock(remembered_mutex_);
      removable_.insert(slot);
    }
  }

  CK_TOKEN_INFO info{};
  const CK_RV rv = [&] {
    std::shared_lock slots = LockSlots();
    return fn_->C_GetTokenInfo(slot, &info);
  }();
  if (rv == CKR_TOKEN_NOT_PRESENT || rv == CKR_DEVICE_REMOVED || rv == CKR_DEVICE_ERROR ||
      rv == CKR_TOKEN_NOT_RECOGNIZED || rv == CKR_GENERAL_ERROR) {
    // A card pulled out of its reader, or a token a crashed process left half-written
    // (SoftHSM: C_InitToken killed midway): not a token anyone can use. The others are.
    LogEvent(spdlog::level::warn, "token_unreadable",
             {{"module", path_},
              {"slot", std::to_string(slot)},
              {"error", std::string(CkStatus("C_GetTokenInfo", rv).message())}});
    return std::nullopt;
  }
  TESSERA_RETURN_IF_ERROR(CkStatus("C_GetTokenInfo", rv));
  TokenInfo token{
      .slot = slot,
      .label = Trim(info.label, sizeof info.label),
      .serial = Trim(info.serialNumber, sizeof info.serialNumber),
      .manufacturer = Trim(info.manufacturerID, sizeof info.manufacturerID),
      .model = Trim(info.model, sizeof info.model),
      .initialized = (info.flags & CKF_TOKEN_INITIALIZED) != 0,
      .user_pin_initialized = (info.flags & CKF_USER_PIN_INITIALIZED) != 0,
  };
  // A blank token is about to change (C_InitToken): only initialized ones are remembered.
  if (!removable && token.initialized) {
    std::lock_guard lock(remembered_mutex_);
    remembered_[slot] = token;
    by_label_.emplace(token.label, slot);
  }
  return token;
}

void Module::Forget(CK_SLOT_ID slot) const {
  std::lock_guard lock(remembered_mutex_);
  if (auto known = remembered_.find(slot); known != remembered_.end()) {
    if (auto named = by_label_.find(known->second.label);
        named != by_label_.end() && named->second == slot) {
      by_label_.erase(named);
    }
    remembered_.erase(known);
  }
}

void Module::Retire(CK_SLOT_ID slot) {
  Forget(slot);
  std::lock_guard lock(remembered_mutex_);
  retired_.insert(slot);
}

absl::StatusOr<std::vector<CK_SLOT_ID>> Module::Slots(CK_BBOOL token_present) const {
  // SoftHSM adds its free slot inside C_GetSlotList, unguarded: alone, and both calls at once.
  std::unique_lock lock(slots_mutex_);
  CK_ULONG count = 0;
  TESSERA_RETURN_IF_ERROR(
      CkStatus("C_GetSlotList", fn_->C_GetSlotList(token_present, nullptr, &count)));
  std::vector<CK_SLOT_ID> slots(count);
  TESSERA_RETURN_IF_ERROR(
      CkStatus("C_GetSlotList", fn_->C_GetSlotList(token_present, slots.data(), &count)));
  slots.resize(count);
  return slots;
}

absl::StatusOr<std::vector<TokenInfo>> Module::ListTokens() const {
  TESSERA_ASSIGN_OR_RETURN(std::vector<CK_SLOT_ID> slots, Slots(CK_TRUE));
  std::vector<TokenInfo> tokens;
  tokens.reserve(slots.size());
  for (CK_SLOT_ID slot : slots) {
    TESSERA_ASSIGN_OR_RETURN(std::optional<TokenInfo> token, Describe(slot));
    if (token) tokens.push_back(*std::move(token));
  }
  return tokens;
}

absl::StatusOr<std::optional<TokenInfo>> Module::FindToken(
    const std::function<bool(const TokenInfo&)>& wanted) const {
  TESSERA_ASSIGN_OR_RETURN(std::vector<CK_SLOT_ID> slots, Slots(CK_TRUE));
  // Remembered tokens first, without copying them: thousands on a personalization daemon.
  std::vector<CK_SLOT_ID> to_read;
  {
    std::lock_guard lock(remembered_mutex_);
    for (CK_SLOT_ID slot : slots) {
      auto known = remembered_.find(slot);
      if (known == remembered_.end()) {
        if (!retired_.contains(slot)) to_read.push_back(slot);
      } else if (wanted(known->second)) {
        return known->second;
      }
    }
  }
  for (CK_SLOT_ID slot : to_read) {
    TESSERA_ASSIGN_OR_RETURN(std::optional<TokenInfo> token, Describe(slot));
    if (token && wanted(*token)) return token;
  }
  return std::nullopt;
}

absl::StatusOr<std::vector<CK_SLOT_ID>> Module::AllSlots() const { return Slots(CK_FALSE); }

absl::Status Module::LetGo(CK_SLOT_ID slot) {
  Forget(slot);
  std::shared_lock slots = LockSlots();
  return CkStatus("C_CloseAllSessions", fn_->C_CloseAllSessions(slot));
}

absl::StatusOr<TokenInfo> Module::FindTokenByLabel(std::string_view label,
                                                   std::optional<CK_SLOT_ID> in_slot) const {
  if (in_slot) {
    TESSERA_ASSIGN_OR_RETURN(std::optional<TokenInfo> there, Describe(*in_slot));
    if (there && there->initialized && there->label == label) return *std::move(there);
    return absl::NotFoundError(absl::StrCat("no token labelled '", std::string(label), "' in slot ",
                                            *in_slot, " of ", path_));
  }
  {
    // A remembered token by its label: no slot listing (SoftHSM's grows with every token).
    std::lock_guard lock(remembered_mutex_);
    if (auto named = by_label_.find(std::string(label)); named != by_label_.end()) {
      return remembered_.at(named->second);
    }
  }
  TESSERA_ASSIGN_OR_RETURN(std::optional<TokenInfo> found, FindToken([&](const TokenInfo& t) {
                             return t.initialized && t.label == label;
                           }));
  if (found) return *std::move(found);
  return absl::NotFoundError(
      absl::StrCat("no token labelled '", std::string(label), "' in ", path_));
}

absl::StatusOr<TokenInfo> Module::FindTokenBySerial(std::string_view serial) const {
  TESSERA_ASSIGN_OR_RETURN(std::optional<TokenInfo> found, FindToken([&](const TokenInfo& t) {
                             return t.initialized && t.serial == serial;
                           }));
  if (found) return *std::move(found);
  return absl::NotFoundError(
      absl::StrCat("no token with serial '", std::string(serial), "' in ", path_));
}

absl::StatusOr<TokenInfo> Module::InitToken(std::string_view label, const Secret& so_pin,
                                            const Secret& user_pin,
                                            std::optional<CK_SLOT_ID> in_slot) {
  if (label.empty() || label.size() > 32) {
    return absl::InvalidArgumentError("token label: must be 1 to 32 characters");
  }
  if (in_slot) {
    TESSERA_ASSIGN_OR_RETURN(std::optional<TokenInfo> card, Describe(*in_slot));
    if (!card)
      return absl::UnavailableError(absl::StrCat("reader slot ", *in_slot, " holds no card"));
    if (card->initialized) {
      return absl::UnavailableError(absl::StrCat("the card in reader slot ", *in_slot,
                                                 " is not blank (labelled '", card->label,
                                                 "'): take it out"));
    }
    return InitTokenIn(*in_slot, label, so_pin, user_pin);
  }
  std::lock_guard lock(init_token_);
  // One pass over the slots: a token already labelled so, or the free slot.
  TESSERA_ASSIGN_OR_RETURN(std::optional<TokenInfo> free_slot, FindToken([&](const TokenInfo& t) {
                             return !t.initialized || t.label == label;
                           }));
  if (free_slot && free_slot->initialized) {
    return absl::AlreadyExistsError(absl::StrCat("a token labelled '", std::string(label),
                                                 "' already exists; refusing to overwrite"));
  }
  if (!free_slot) {
    return absl::ResourceExhaustedError(absl::StrCat("no free slot for a new token in ", path_));
  }

  return InitTokenIn(free_slot->slot, label, so_pin, user_pin);
}

absl::StatusOr<TokenInfo> Module::InitTokenIn(CK_SLOT_ID slot, std::string_view label,
                                              const Secret& so_pin, const Secret& user_pin) {
  unsigned char padded[32];
  std::fill(std::begin(padded), std::end(padded), ' ');
  std::copy(label.begin(), label.end(), padded);
  const CK_RV rv = [&] {
    std::shared_lock slots = LockSlots();
    return fn_->C_InitToken(slot, const_cast<uint8_t*>(so_pin.data()), so_pin.size(), padded);
  }();
  TESSERA_RETURN_IF_ERROR(CkStatus("C_InitToken", rv));

  // The token keeps its slot for this process's life (SoftHSM adds a new free slot beside it
  // and renumbers only at the next start).
  Forget(slot);
  {
    TESSERA_ASSIGN_OR_RETURN(std::unique_ptr<Session> session,
                             Session::Open(shared_from_this(), slot));
    TESSERA_RETURN_IF_ERROR(session->Login(CKU_SO, so_pin));
    TESSERA_RETURN_IF_ERROR(session->InitPin(user_pin));
    TESSERA_RETURN_IF_ERROR(session->Logout());
  }
  return FindTokenByLabel(label, slot);
}

}  // namespace tessera::hsm
