// One smart card: what it remembers (PINs, retry counters, objects) and its file format.
#pragma once

#include <botan/pk_keys.h>

#include <filesystem>
#include <map>
#include <memory>
#include <string>

#include "vreader/attributes.h"

namespace tessera::vreader {

inline constexpr unsigned kMaxPinTries = 3;
inline constexpr size_t kMinPinLen = 4;
inline constexpr size_t kMaxPinLen = 64;

struct Object {
  Attrs attrs;
  // 0 for a token object; otherwise the session that made it (a session object dies with it).
  CK_SESSION_HANDLE session = 0;
  // The parsed private key, cached from kCardSecret so a signature does not reparse PKCS#8.
  std::shared_ptr<const Botan::Private_Key> key;

  bool is_token() const { return session == 0; }
  bool is_private() const { return GetBool(attrs, CKA_PRIVATE).value_or(false); }
};

struct Card {
  std::string serial;  // 16 hex digits, fixed when the card is made
  bool initialized = false;
  std::string label;  // 32 bytes, blank padded, as C_InitToken gives it
  Bytes so_pin;
  Bytes user_pin;
  bool user_pin_set = false;
  unsigned so_tries = 0;  // wrong tries since the last right one
  unsigned user_tries = 0;
  std::map<CK_OBJECT_HANDLE, Object> objects;

  bool so_locked() const { return so_tries >= kMaxPinTries; }
  bool user_locked() const { return user_tries >= kMaxPinTries; }
  CK_FLAGS TokenFlags() const;
  // "<label>-<serial>" with characters unsafe in a file name replaced: its name in a tray.
  std::string TrayName() const;
};

// A blank card with a fresh serial number.
Card NewBlankCard();
// Handles unique in the process, across slots and cards.
CK_OBJECT_HANDLE NextObjectHandle();

// Reads a card file; false with `error` set when it is unreadable or corrupt.
bool LoadCard(const std::filesystem::path& file, Card& card, std::string& error);
// Writes the card's token objects and state atomically: temp file, fsync, rename, fsync dir.
bool SaveCard(const std::filesystem::path& file, const Card& card, std::string& error);

// Atomically replaces `file` with `data` (the same temp/fsync/rename steps).
bool WriteFileAtomically(const std::filesystem::path& file, const std::string& data,
                         std::string& error);

}  // namespace tessera::vreader
