// PINs as a smart card keeps them: three wrong tries lock a PIN, the SO PIN (the PUK) unblocks
// the user PIN, and every counter change is on the card before the call returns.
#include "vreader/reader.h"

namespace tessera::vreader {
namespace {

bool PinLengthOk(const Bytes& pin) { return pin.size() >= kMinPinLen && pin.size() <= kMaxPinLen; }

}  // namespace

CK_RV VirtualReader::CheckPin(CardCall& call, bool so, const Bytes& pin) {
  const Card& card = call.slot.card;
  const unsigned tries = so ? card.so_tries : card.user_tries;
  if (tries >= kMaxPinTries) return CKR_PIN_LOCKED;
  Card next = card;
  unsigned& counter = so ? next.so_tries : next.user_tries;
  if (pin == (so ? card.so_pin : card.user_pin)) {
    if (tries == 0) return CKR_OK;
    counter = 0;
    return Commit(call, std::move(next));
  }
  ++counter;
  const CK_RV rv = Commit(call, std::move(next));
  return rv == CKR_OK ? CKR_PIN_INCORRECT : rv;
}

CK_RV VirtualReader::InitToken(CK_SLOT_ID slot, const Bytes& so_pin, const uint8_t* label) {
  if (label == nullptr) return CKR_ARGUMENTS_BAD;
  if (!PinLengthOk(so_pin)) return CKR_PIN_LEN_RANGE;
  return SlotCall(slot, Cost::kApdu, [&](CardCall& call) {
    {
      std::lock_guard lock(mu_);
      if (LiveSessionCount(call.index, false) > 0) return CKR_SESSION_EXISTS;
    }
    if (call.slot.card.initialized) {
      // Re-initializing needs the SO PIN and wipes the card (PKCS#11 C_InitToken).
      if (CK_RV rv = CheckPin(call, true, so_pin); rv != CKR_OK) return rv;
    }
    Card next = call.slot.card;
    next.initialized = true;
    next.label.assign(reinterpret_cast<const char*>(label), 32);
    next.so_pin = so_pin;
    next.so_tries = 0;
    next.user_pin.clear();
    next.user_pin_set = false;
    next.user_tries = 0;
    next.objects.clear();
    return Commit(call, std::move(next));
  });
}

CK_RV VirtualReader::Login(CK_SESSION_HANDLE session, CK_USER_TYPE user, const Bytes& pin) {
  if (user != CKU_SO && user != CKU_USER) return CKR_USER_TYPE_INVALID;
  return SessionCall(session, Cost::kApdu, [&](CardCall& call) {
    if (call.login == user) return CKR_USER_ALREADY_LOGGED_IN;
    if (call.login != kNobody) return CKR_USER_ANOTHER_ALREADY_LOGGED_IN;
    const Card& card = call.slot.card;
    if (user == CKU_USER && !card.user_pin_set) return CKR_USER_PIN_NOT_INITIALIZED;
    if (user == CKU_SO) {
      if (!card.initialized) return CKR_TOKEN_NOT_RECOGNIZED;
      std::lock_guard lock(mu_);
      if (LiveSessionCount(call.index, false) > LiveSessionCount(call.index, true)) {
        return CKR_SESSION_READ_ONLY_EXISTS;
      }
    }
    if (CK_RV rv = CheckPin(call, user == CKU_SO, pin); rv != CKR_OK) return rv;
    SetLogin(call, user);
    return CKR_OK;
  });
}

CK_RV VirtualReader::Logout(CK_SESSION_HANDLE session) {
  return SessionCall(session, Cost::kApdu, [&](CardCall& call) {
    if (call.login == kNobody) return CKR_USER_NOT_LOGGED_IN;
    SetLogin(call, kNobody);
    return CKR_OK;
  });
}

CK_RV VirtualReader::InitPin(CK_SESSION_HANDLE session, const Bytes& pin) {
  if (!PinLengthOk(pin)) return CKR_PIN_LEN_RANGE;
  return SessionCall(session, Cost::kApdu, [&](CardCall& call) {
    if (call.login != CKU_SO) return CKR_USER_NOT_LOGGED_IN;
    if (!call.rw) return CKR_SESSION_READ_ONLY;
    Card next = call.slot.card;
    next.user_pin = pin;
    next.user_pin_set = true;
    next.user_tries = 0;  // the PUK unblocks
    return Commit(call, std::move(next));
  });
}

CK_RV VirtualReader::SetPin(CK_SESSION_HANDLE session, const Bytes& old_pin, const Bytes& new_pin) {
  if (!PinLengthOk(new_pin)) return CKR_PIN_LEN_RANGE;
  return SessionCall(session, Cost::kApdu, [&](CardCall& call) {
    if (!call.rw) return CKR_SESSION_READ_ONLY;
    const bool so = call.login == CKU_SO;
    if (!so && !call.slot.card.user_pin_set) return CKR_USER_PIN_NOT_INITIALIZED;
    if (!call.slot.card.initialized) return CKR_TOKEN_NOT_RECOGNIZED;
    if (CK_RV rv = CheckPin(call, so, old_pin); rv != CKR_OK) return rv;
    Card next = call.slot.card;
    (so ? next.so_pin : next.user_pin) = new_pin;
    return Commit(call, std::move(next));
  });
}

}  // namespace tessera::vreader
