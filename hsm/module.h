// A loaded PKCS#11 module (SoftHSM, OpenSC, a vendor HSM) and the tokens in its slots.
// One Module per module path per process: a second C_Initialize in a process fails, so
// Load() hands out the same instance while it is alive.
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "absl/status/statusor.h"
#include "hsm/pkcs11.h"
#include "platform/secret.h"

namespace tessera::hsm {

struct TokenInfo {
  CK_SLOT_ID slot = 0;
  std::string label;   // trailing blanks removed
  std::string serial;  // trailing blanks removed
  std::string manufacturer;
  std::string model;
  bool initialized = false;
  bool user_pin_initialized = false;
};

class Module : public std::enable_shared_from_this<Module> {
 public:
  // dlopens `path` and calls C_Initialize with OS locking.
  static absl::StatusOr<std::shared_ptr<Module>> Load(const std::string& path);
  ~Module();  // C_Finalize, dlclose
  Module(const Module&) = delete;
  Module& operator=(const Module&) = delete;

  CK_FUNCTION_LIST* fn() const { return fn_; }
  // Held (shared) around every call that names a slot (C_OpenSession, C_GetTokenInfo, …):
  // SoftHSM 2.6 adds its free slot to its slot table inside C_GetSlotList without a lock, so
  // a slot lookup in another thread at that moment reads a table being changed (seen: a
  // crash, CKR_SLOT_ID_INVALID). Slot listings take it exclusively.
  std::shared_lock<std::shared_mutex> LockSlots() const {
    return std::shared_lock<std::shared_mutex>(slots_mutex_);
  }
  const std::string& path() const { return path_; }

  // Every slot that holds a token, initialized or not. A slot whose token cannot be read (a
  // card pulled out, a token a crashed process left half-written) is logged and left out.
  // The token of a slot that is not a removable device (SoftHSM's, an HSM's) changes only
  // through this process (InitToken, Session::InitPin): it is read once and remembered, so a
  // lookup does not cost one C_GetTokenInfo per token (SoftHSM: ~90 µs each, and a
  // personalization daemon's module holds thousands). A reader's slot is read every time.
  absl::StatusOr<std::vector<TokenInfo>> ListTokens() const;
  // Slot ids change (SoftHSM renumbers them at start-up): look tokens up every time. With
  // `in_slot`, only the token in that slot (a card reader's) is looked at.
  absl::StatusOr<TokenInfo> FindTokenByLabel(std::string_view label,
                                             std::optional<CK_SLOT_ID> in_slot = {}) const;
  absl::StatusOr<TokenInfo> FindTokenBySerial(std::string_view serial) const;

  // Initializes a fresh token in a free slot with `label` and SO PIN, then sets the user PIN.
  // Refuses (ALREADY_EXISTS) when a token with that label exists: never overwrites a token.
  // One at a time per module: SoftHSM offers a single free slot, which two threads would
  // otherwise both take.
  // With `in_slot` (a card reader's slot), the blank card in that slot is initialized, in
  // parallel with other slots; UNAVAILABLE, saying why, if the slot holds no card or a card
  // that is not blank (someone must take it out).
  absl::StatusOr<TokenInfo> InitToken(std::string_view label, const Secret& so_pin,
                                      const Secret& user_pin,
                                      std::optional<CK_SLOT_ID> in_slot = {});

  // Every slot, with or without a token, in the module's order (a card line's readers).
  absl::StatusOr<std::vector<CK_SLOT_ID>> AllSlots() const;
  // The token in `slot`, if one is there and readable.
  absl::StatusOr<std::optional<TokenInfo>> TokenIn(CK_SLOT_ID slot) const { return Describe(slot); }
  // Closes every session on the slot: the encoder lets go of the card, which a card line then
  // takes out of the reader (the virtual reader module ejects it into its tray).
  absl::Status LetGo(CK_SLOT_ID slot);

  // The slot's token changed (its user PIN set, the token initialized): read it again.
  void Forget(CK_SLOT_ID slot) const;
  // The slot's token was moved out of the module's store while loaded (SoftHSM: its directory
  // archived; personalization/token_archive.h): never looked at again by this process.
  void Retire(CK_SLOT_ID slot);

 private:
  Module(std::string path, void* handle, CK_FUNCTION_LIST* fn)
      : path_(std::move(path)), handle_(handle), fn_(fn) {}

  // C_GetSlotList: every slot, or only those holding a token.
  absl::StatusOr<std::vector<CK_SLOT_ID>> Slots(CK_BBOOL token_present) const;
  absl::StatusOr<TokenInfo> InitTokenIn(CK_SLOT_ID slot, std::string_view label,
                                        const Secret& so_pin, const Secret& user_pin);
  // The slot's token as C_GetTokenInfo describes it, read again unless remembered; nullopt if
  // it cannot be read.
  absl::StatusOr<std::optional<TokenInfo>> Describe(CK_SLOT_ID slot) const;
  // The first readable token `wanted` accepts.
  absl::StatusOr<std::optional<TokenInfo>> FindToken(
      const std::function<bool(const TokenInfo&)>& wanted) const;

  std::string path_;
  std::mutex init_token_;
  mutable std::shared_mutex slots_mutex_;
  mutable std::mutex remembered_mutex_;
  mutable std::unordered_map<CK_SLOT_ID, TokenInfo> remembered_;  // fixed slots, initialized
  mutable std::unordered_set<CK_SLOT_ID> removable_;              // slots read every time
  mutable std::unordered_map<std::string, CK_SLOT_ID> by_label_;  // remembered, first per label
  std::unordered_set<CK_SLOT_ID> retired_;
  void* handle_;
  CK_FUNCTION_LIST* fn_;
};

}  // namespace tessera::hsm
