// The virtual card reader: N slots, each maybe holding a card, and the sessions on them.
//
// Locking: `mu_` guards the session table and each slot's snapshot (presence, label, flags,
// login state) and is never held across a sleep or any file or crypto work. Each slot's
// `card_mu` serializes the calls to its card, as a reader sends one APDU at a time, and is held
// across that call's latency; so slots work in parallel. Order: card_mu, then mu_.
#pragma once

#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "vreader/card.h"
#include "vreader/config.h"

namespace tessera::vreader {

class VirtualReader {
 public:
  // Reads the configuration and loads the cards (inserting blank ones at first start).
  // Writes one line to stderr when it fails.
  static CK_RV Create(std::unique_ptr<VirtualReader>& out);

  // Slots and tokens: never card calls, never wait for a card.
  CK_RV GetSlotList(bool token_present, CK_SLOT_ID* list, CK_ULONG* count);
  CK_RV GetSlotInfo(CK_SLOT_ID slot, CK_SLOT_INFO* info);
  CK_RV GetTokenInfo(CK_SLOT_ID slot, CK_TOKEN_INFO* info);
  CK_RV CheckSlot(CK_SLOT_ID slot) const;

  // Sessions.
  CK_RV OpenSession(CK_SLOT_ID slot, CK_FLAGS flags, CK_SESSION_HANDLE* session);
  CK_RV CloseSession(CK_SESSION_HANDLE session);
  // Closes the slot's sessions; an initialized card then leaves for produced/ (the eject).
  CK_RV CloseAllSessions(CK_SLOT_ID slot);
  CK_RV GetSessionInfo(CK_SESSION_HANDLE session, CK_SESSION_INFO* info);
  CK_RV CheckSession(CK_SESSION_HANDLE session);

  // PINs and login (reader_auth.cc).
  CK_RV InitToken(CK_SLOT_ID slot, const Bytes& so_pin, const uint8_t* label);
  CK_RV Login(CK_SESSION_HANDLE session, CK_USER_TYPE user, const Bytes& pin);
  CK_RV Logout(CK_SESSION_HANDLE session);
  CK_RV InitPin(CK_SESSION_HANDLE session, const Bytes& pin);
  CK_RV SetPin(CK_SESSION_HANDLE session, const Bytes& old_pin, const Bytes& new_pin);

  // Objects, keys and signatures (reader_objects.cc).
  CK_RV CreateObject(CK_SESSION_HANDLE session, const Attrs& tmpl, CK_OBJECT_HANDLE* object);
  CK_RV DestroyObject(CK_SESSION_HANDLE session, CK_OBJECT_HANDLE object);
  CK_RV GetAttributeValue(CK_SESSION_HANDLE session, CK_OBJECT_HANDLE object, CK_ATTRIBUTE* tmpl,
                          CK_ULONG count);
  CK_RV SetAttributeValue(CK_SESSION_HANDLE session, CK_OBJECT_HANDLE object, const Attrs& tmpl);
  CK_RV FindObjectsInit(CK_SESSION_HANDLE session, const Attrs& match);
  CK_RV FindObjects(CK_SESSION_HANDLE session, CK_OBJECT_HANDLE* out, CK_ULONG max,
                    CK_ULONG* count);
  CK_RV FindObjectsFinal(CK_SESSION_HANDLE session);
  CK_RV GenerateKeyPair(CK_SESSION_HANDLE session, CK_MECHANISM_TYPE mechanism,
                        const Attrs& pub_template, const Attrs& priv_template,
                        CK_OBJECT_HANDLE* pub, CK_OBJECT_HANDLE* priv);
  CK_RV SignInit(CK_SESSION_HANDLE session, CK_MECHANISM_TYPE mechanism, CK_OBJECT_HANDLE key);
  CK_RV Sign(CK_SESSION_HANDLE session, const Bytes& data, CK_BYTE* signature,
             CK_ULONG* signature_len);
  CK_RV SignUpdate(CK_SESSION_HANDLE session, const Bytes& part);
  CK_RV SignFinal(CK_SESSION_HANDLE session, CK_BYTE* signature, CK_ULONG* signature_len);
  CK_RV GenerateRandom(CK_SESSION_HANDLE session, CK_BYTE* out, CK_ULONG len);

 private:
  using Clock = std::chrono::steady_clock;
  static constexpr CK_USER_TYPE kNobody = ~CK_USER_TYPE{0};

  struct Slot {
    std::filesystem::path file;
    std::mutex card_mu;
    Card card;            // guarded by card_mu
    std::mt19937_64 rng;  // guarded by card_mu: latency and failure draws
    // Guarded by mu_:
    bool present = false;
    uint64_t card_id = 0;  // which insertion; sessions on an earlier card are stale
    std::string label, serial;
    CK_FLAGS token_flags = 0;
    CK_USER_TYPE login = kNobody;
    Clock::time_point feed_at;  // when the feeder may insert the next blank card
  };

  struct Session {
    size_t slot = 0;
    uint64_t card_id = 0;
    bool rw = false;
    std::optional<std::vector<CK_OBJECT_HANDLE>> found;  // set between FindObjectsInit/Final
    bool signing = false;
    CK_MECHANISM_TYPE sign_mechanism = 0;
    CK_OBJECT_HANDLE sign_key = 0;
    CK_ULONG sign_len = 0;
    Bytes sign_data;  // C_SignUpdate's parts so far
  };

  // A card call in progress: the slot's card_mu is held, the latency slept, failures drawn.
  struct CardCall {
    Slot& slot;
    size_t index;
    CK_SESSION_HANDLE session;  // 0 for a call on the slot (C_InitToken, C_OpenSession)
    bool rw = false;
    CK_USER_TYPE login = kNobody;
  };
  using CardOp = std::function<CK_RV(CardCall&)>;
  enum class Cost { kApdu, kKeyGen };

  VirtualReader(Config config, std::optional<std::string> tray)
      : config_(std::move(config)), tray_(std::move(tray)) {}
  CK_RV LoadSlots();

  CK_RV SessionCall(CK_SESSION_HANDLE session, Cost cost, const CardOp& op);
  CK_RV SlotCall(CK_SLOT_ID slot, Cost cost, const CardOp& op);
  CK_RV RunCardCall(size_t index, CK_SESSION_HANDLE session, Cost cost, const CardOp& op);
  // Latency, a broken reader, random failures and pulls: CKR_OK when the call may go on.
  CK_RV Suffer(Slot& slot, size_t index, Cost cost);

  // Under mu_: the session if it is open on the card now in its slot.
  CK_RV LiveSession(CK_SESSION_HANDLE handle, Session*& session);
  size_t LiveSessionCount(size_t index, bool rw_only) const;  // under mu_
  void SetLogin(CardCall& call, CK_USER_TYPE user);
  void WithSession(CK_SESSION_HANDLE handle, const std::function<void(Session&)>& fn);

  // Under card_mu: saves `next` as the card (file first), then publishes its snapshot.
  CK_RV Commit(CardCall& call, Card next);
  void Publish(Slot& slot);  // takes mu_
  // Under card_mu: the card leaves the slot for the tray `tray`; sessions on it go stale.
  void Pull(Slot& slot, const char* tray);
  // A blank card from the feeder into an empty slot, when its time has come.
  void Refill(size_t index);
  bool TakeFromFeeder();
  void PurgeSessionObjects(Slot& slot);  // under card_mu

  // Under card_mu: checks a PIN, counting wrong tries on the card.
  CK_RV CheckPin(CardCall& call, bool so, const Bytes& pin);
  // C_Sign with `data`, or C_SignFinal with the parts given so far when it is null.
  CK_RV FinishSign(CK_SESSION_HANDLE session, const Bytes* data, CK_BYTE* signature,
                   CK_ULONG* signature_len);
  // Under card_mu: the object if the call's login may see it.
  Object* Visible(CardCall& call, CK_OBJECT_HANDLE handle);

  const Config config_;
  const std::optional<std::string> tray_;  // inspection mode: produced or rejected
  std::vector<std::unique_ptr<Slot>> slots_;

  std::mutex mu_;
  std::map<CK_SESSION_HANDLE, Session> sessions_;
  CK_SESSION_HANDLE next_session_ = 1;
  uint64_t next_card_id_ = 1;

  std::mutex feeder_mu_;
  uint64_t fed_ = 0;  // blank cards taken from the feeder so far (state_dir/feeder)
};

}  // namespace tessera::vreader
