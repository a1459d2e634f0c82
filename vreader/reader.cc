// Slots, sessions and the card-call machinery: latency, failures, pulls, eject and feeder.
#include "vreader/reader.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <thread>

namespace tessera::vreader {
namespace {

namespace fs = std::filesystem;

void Complain(const std::string& line) {
  std::fprintf(stderr, "tessera-vreader: %s\n", line.c_str());
}

// Blank-padded PKCS#11 text field.
void Pad(unsigned char* field, size_t width, std::string_view text) {
  std::memset(field, ' ', width);
  std::memcpy(field, text.data(), std::min(width, text.size()));
}

std::mt19937_64 SlotRng(const Config& config, size_t index) {
  if (config.seed) return std::mt19937_64(*config.seed * 0x9E3779B97F4A7C15ULL + index);
  std::random_device device;
  return std::mt19937_64((static_cast<uint64_t>(device()) << 32) | device());
}

}  // namespace

CK_RV VirtualReader::Create(std::unique_ptr<VirtualReader>& out) {
  std::string error;
  std::optional<Config> config = LoadConfig(error);
  if (!config) {
    Complain(error);
    return CKR_GENERAL_ERROR;
  }
  std::optional<std::string> tray;
  if (const char* env = std::getenv("TESSERA_VREADER_TRAY"); env != nullptr && *env != '\0') {
    tray = env;
    if (*tray != "produced" && *tray != "rejected") {
      Complain("TESSERA_VREADER_TRAY: must be produced or rejected, not '" + *tray + "'");
      return CKR_GENERAL_ERROR;
    }
  }
  std::unique_ptr<VirtualReader> reader(new VirtualReader(*std::move(config), std::move(tray)));
  if (CK_RV rv = reader->LoadSlots(); rv != CKR_OK) return rv;
  out = std::move(reader);
  return CKR_OK;
}

CK_RV VirtualReader::LoadSlots() {
  const fs::path dir = config_.state_dir;
  std::error_code ec;
  for (const char* sub : {"produced", "rejected"}) fs::create_directories(dir / sub, ec);
  if (ec) {
    Complain("state_dir " + dir.string() + ": " + ec.message());
    return CKR_GENERAL_ERROR;
  }
  std::vector<fs::path> files;
  if (tray_) {
    // Inspection: one slot per card in the tray, sorted by name; dot files are temp files.
    for (const fs::directory_entry& entry : fs::directory_iterator(dir / *tray_, ec)) {
      if (entry.is_regular_file() && entry.path().filename().string()[0] != '.') {
        files.push_back(entry.path());
      }
    }
    std::sort(files.begin(), files.end());
  } else {
    for (int n = 0; n < config_.slots; ++n) files.push_back(dir / ("slot-" + std::to_string(n)));
  }

  // The feeder file says how many blank cards were taken; its absence means a first start,
  // where every reader gets a blank card of its own.
  const fs::path feeder = dir / "feeder";
  const bool first_start = !tray_ && !fs::exists(feeder);
  std::string error;
  if (!tray_ && !first_start) {
    std::ifstream in(feeder);
    if (!(in >> fed_)) {
      Complain("corrupt feeder file " + feeder.string());
      return CKR_GENERAL_ERROR;
    }
  }
  for (size_t i = 0; i < files.size(); ++i) {
    auto slot = std::make_unique<Slot>();
    slot->file = files[i];
    slot->rng = SlotRng(config_, i);
    slot->feed_at = Clock::now();
    if (fs::exists(slot->file)) {
      if (!LoadCard(slot->file, slot->card, error)) {
        Complain(error);
        return CKR_GENERAL_ERROR;
      }
      slot->present = true;
    } else if (first_start) {
      // Never over an existing card file: a lost feeder file must not wipe cards.
      slot->card = NewBlankCard();
      if (!SaveCard(slot->file, slot->card, error)) {
        Complain(error);
        return CKR_GENERAL_ERROR;
      }
      slot->present = true;
    }
    if (slot->present) slot->card_id = next_card_id_++;
    slots_.push_back(std::move(slot));
    Publish(*slots_.back());
  }
  if (first_start && !WriteFileAtomically(feeder, "0\n", error)) {
    Complain(error);
    return CKR_GENERAL_ERROR;
  }
  return CKR_OK;
}

CK_RV VirtualReader::CheckSlot(CK_SLOT_ID slot) const {
  return slot < slots_.size() ? CKR_OK : CKR_SLOT_ID_INVALID;
}

CK_RV VirtualReader::GetSlotList(bool token_present, CK_SLOT_ID* list, CK_ULONG* count) {
  if (count == nullptr) return CKR_ARGUMENTS_BAD;
  for (size_t i = 0; i < slots_.size(); ++i) Refill(i);
  std::vector<CK_SLOT_ID> ids;
  {
    std::lock_guard lock(mu_);
    for (size_t i = 0; i < slots_.size(); ++i) {
      if (!token_present || slots_[i]->present) ids.push_back(i);
    }
  }
  if (list != nullptr && *count < ids.size()) {
    *count = ids.size();
    return CKR_BUFFER_TOO_SMALL;
  }
  if (list != nullptr) std::copy(ids.begin(), ids.end(), list);
  *count = ids.size();
  return CKR_OK;
}

CK_RV VirtualReader::GetSlotInfo(CK_SLOT_ID id, CK_SLOT_INFO* info) {
  if (info == nullptr) return CKR_ARGUMENTS_BAD;
  if (CK_RV rv = CheckSlot(id); rv != CKR_OK) return rv;
  Refill(id);
  *info = CK_SLOT_INFO{};
  Pad(info->slotDescription, sizeof info->slotDescription,
      "tessera virtual reader " + std::to_string(id));
  Pad(info->manufacturerID, sizeof info->manufacturerID, "tessera");
  info->flags = CKF_REMOVABLE_DEVICE | CKF_HW_SLOT;
  info->hardwareVersion = {1, 0};
  info->firmwareVersion = {1, 0};
  std::lock_guard lock(mu_);
  if (slots_[id]->present) info->flags |= CKF_TOKEN_PRESENT;
  return CKR_OK;
}

CK_RV VirtualReader::GetTokenInfo(CK_SLOT_ID id, CK_TOKEN_INFO* info) {
  if (info == nullptr) return CKR_ARGUMENTS_BAD;
  if (CK_RV rv = CheckSlot(id); rv != CKR_OK) return rv;
  Refill(id);
  std::lock_guard lock(mu_);
  const Slot& slot = *slots_[id];
  if (!slot.present) return CKR_TOKEN_NOT_PRESENT;
  *info = CK_TOKEN_INFO{};
  Pad(info->label, sizeof info->label, slot.label);
  Pad(info->manufacturerID, sizeof info->manufacturerID, "tessera");
  Pad(info->model, sizeof info->model, "virtual card");
  Pad(info->serialNumber, sizeof info->serialNumber, slot.serial);
  Pad(info->utcTime, sizeof info->utcTime, "");
  info->flags = slot.token_flags;
  info->ulMaxSessionCount = CK_EFFECTIVELY_INFINITE;
  info->ulMaxRwSessionCount = CK_EFFECTIVELY_INFINITE;
  info->ulSessionCount = LiveSessionCount(id, false);
  info->ulRwSessionCount = LiveSessionCount(id, true);
  info->ulMaxPinLen = kMaxPinLen;
  info->ulMinPinLen = kMinPinLen;
  info->ulTotalPublicMemory = CK_UNAVAILABLE_INFORMATION;
  info->ulFreePublicMemory = CK_UNAVAILABLE_INFORMATION;
  info->ulTotalPrivateMemory = CK_UNAVAILABLE_INFORMATION;
  info->ulFreePrivateMemory = CK_UNAVAILABLE_INFORMATION;
  info->hardwareVersion = {1, 0};
  info->firmwareVersion = {1, 0};
  return CKR_OK;
}

CK_RV VirtualReader::OpenSession(CK_SLOT_ID slot, CK_FLAGS flags, CK_SESSION_HANDLE* out) {
  if (out == nullptr) return CKR_ARGUMENTS_BAD;
  if ((flags & CKF_SERIAL_SESSION) == 0) return CKR_SESSION_PARALLEL_NOT_SUPPORTED;
  const bool rw = (flags & CKF_RW_SESSION) != 0;
  return SlotCall(slot, Cost::kApdu, [&](CardCall& call) {
    std::lock_guard lock(mu_);
    if (!rw && call.slot.login == CKU_SO) return CKR_SESSION_READ_WRITE_SO_EXISTS;
    const CK_SESSION_HANDLE handle = next_session_++;
    sessions_[handle] = Session{.slot = call.index, .card_id = call.slot.card_id, .rw = rw};
    *out = handle;
    return CKR_OK;
  });
}

CK_RV VirtualReader::CloseSession(CK_SESSION_HANDLE handle) {
  std::lock_guard lock(mu_);
  auto it = sessions_.find(handle);
  if (it == sessions_.end()) return CKR_SESSION_HANDLE_INVALID;
  const size_t index = it->second.slot;
  sessions_.erase(it);
  // PKCS#11: closing the application's last session on a token logs it out.
  if (LiveSessionCount(index, false) == 0) slots_[index]->login = kNobody;
  return CKR_OK;
}

CK_RV VirtualReader::CloseAllSessions(CK_SLOT_ID id) {
  if (CK_RV rv = CheckSlot(id); rv != CKR_OK) return rv;
  Slot& slot = *slots_[id];
  std::lock_guard card(slot.card_mu);  // a call in flight on the card finishes first
  bool eject = false;
  {
    std::lock_guard lock(mu_);
    std::erase_if(sessions_, [&](const auto& entry) { return entry.second.slot == id; });
    slot.login = kNobody;
    eject = slot.present && slot.card.initialized && !tray_;
  }
  PurgeSessionObjects(slot);
  if (eject) Pull(slot, "produced");
  return CKR_OK;
}

CK_RV VirtualReader::GetSessionInfo(CK_SESSION_HANDLE handle, CK_SESSION_INFO* info) {
  if (info == nullptr) return CKR_ARGUMENTS_BAD;
  std::lock_guard lock(mu_);
  Session* session = nullptr;
  if (CK_RV rv = LiveSession(handle, session); rv != CKR_OK) return rv;
  const CK_USER_TYPE login = slots_[session->slot]->login;
  *info = CK_SESSION_INFO{};
  info->slotID = session->slot;
  info->flags = CKF_SERIAL_SESSION | (session->rw ? CKF_RW_SESSION : 0);
  if (login == CKU_SO) {
    info->state = CKS_RW_SO_FUNCTIONS;
  } else if (login == CKU_USER) {
    info->state = session->rw ? CKS_RW_USER_FUNCTIONS : CKS_RO_USER_FUNCTIONS;
  } else {
    info->state = session->rw ? CKS_RW_PUBLIC_SESSION : CKS_RO_PUBLIC_SESSION;
  }
  return CKR_OK;
}

CK_RV VirtualReader::CheckSession(CK_SESSION_HANDLE handle) {
  std::lock_guard lock(mu_);
  Session* session = nullptr;
  return LiveSession(handle, session);
}

CK_RV VirtualReader::LiveSession(CK_SESSION_HANDLE handle, Session*& session) {
  auto it = sessions_.find(handle);
  if (it == sessions_.end()) return CKR_SESSION_HANDLE_INVALID;
  const Slot& slot = *slots_[it->second.slot];
  if (!slot.present || slot.card_id != it->second.card_id) return CKR_DEVICE_REMOVED;
  session = &it->second;
  return CKR_OK;
}

size_t VirtualReader::LiveSessionCount(size_t index, bool rw_only) const {
  const Slot& slot = *slots_[index];
  return std::count_if(sessions_.begin(), sessions_.end(), [&](const auto& entry) {
    const Session& s = entry.second;
    return s.slot == index && slot.present && s.card_id == slot.card_id && (s.rw || !rw_only);
  });
}

void VirtualReader::SetLogin(CardCall& call, CK_USER_TYPE user) {
  std::lock_guard lock(mu_);
  call.slot.login = user;
  call.login = user;
}

void VirtualReader::WithSession(CK_SESSION_HANDLE handle, const std::function<void(Session&)>& fn) {
  std::lock_guard lock(mu_);
  if (auto it = sessions_.find(handle); it != sessions_.end()) fn(it->second);
}

CK_RV VirtualReader::SessionCall(CK_SESSION_HANDLE handle, Cost cost, const CardOp& op) {
  size_t index = 0;
  {
    std::lock_guard lock(mu_);
    Session* session = nullptr;
    if (CK_RV rv = LiveSession(handle, session); rv != CKR_OK) return rv;
    index = session->slot;
  }
  return RunCardCall(index, handle, cost, op);
}

CK_RV VirtualReader::SlotCall(CK_SLOT_ID id, Cost cost, const CardOp& op) {
  if (CK_RV rv = CheckSlot(id); rv != CKR_OK) return rv;
  Refill(id);
  return RunCardCall(id, 0, cost, op);
}

CK_RV VirtualReader::RunCardCall(size_t index, CK_SESSION_HANDLE handle, Cost cost,
                                 const CardOp& op) {
  Slot& slot = *slots_[index];
  std::lock_guard card(slot.card_mu);
  // Checked before the latency (no card, no waiting) and after it (the session may have
  // been closed meanwhile).
  CardCall call{.slot = slot, .index = index, .session = handle};
  auto check = [&] {
    std::lock_guard lock(mu_);
    if (handle == 0) {
      if (!slot.present) return CKR_TOKEN_NOT_PRESENT;
    } else {
      Session* session = nullptr;
      if (CK_RV rv = LiveSession(handle, session); rv != CKR_OK) return rv;
      call.rw = session->rw;
    }
    call.login = slot.login;
    return CKR_OK;
  };
  if (CK_RV rv = check(); rv != CKR_OK) return rv;
  if (CK_RV rv = Suffer(slot, index, cost); rv != CKR_OK) return rv;
  if (CK_RV rv = check(); rv != CKR_OK) return rv;
  PurgeSessionObjects(slot);
  return op(call);
}

CK_RV VirtualReader::Suffer(Slot& slot, size_t index, Cost cost) {
  if (tray_) return CKR_OK;  // inspection: no latency, no failures
  double ms = config_.apdu.DrawMs(slot.rng);
  if (cost == Cost::kKeyGen) ms += config_.keygen.DrawMs(slot.rng);
  ms *= config_.time_scale;
  if (ms > 0) std::this_thread::sleep_for(std::chrono::duration<double, std::milli>(ms));
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  const double fail = unit(slot.rng), pull = unit(slot.rng);
  if (config_.failing_slots.contains(static_cast<int>(index))) return CKR_DEVICE_ERROR;
  if (fail < config_.fail_rate) return CKR_DEVICE_ERROR;
  if (pull < config_.remove_rate) {
    Pull(slot, "rejected");
    return CKR_DEVICE_REMOVED;
  }
  return CKR_OK;
}

CK_RV VirtualReader::Commit(CardCall& call, Card next) {
  std::string error;
  if (!SaveCard(call.slot.file, next, error)) {
    Complain(error);
    return CKR_DEVICE_ERROR;  // the card is unchanged: memory follows the file
  }
  call.slot.card = std::move(next);
  Publish(call.slot);
  return CKR_OK;
}

void VirtualReader::Publish(Slot& slot) {
  std::lock_guard lock(mu_);
  slot.label = slot.card.label;
  slot.serial = slot.card.serial;
  slot.token_flags = slot.card.TokenFlags();
}

void VirtualReader::Pull(Slot& slot, const char* tray) {
  const fs::path to = fs::path(config_.state_dir) / tray / slot.card.TrayName();
  std::error_code ec;
  fs::rename(slot.file, to, ec);
  if (ec)
    Complain("cannot move " + slot.file.string() + " to " + to.string() + ": " + ec.message());
  slot.card = Card{};
  std::lock_guard lock(mu_);
  slot.present = false;
  slot.login = kNobody;
  slot.label.clear();
  slot.serial.clear();
  slot.token_flags = 0;
  slot.feed_at =
      Clock::now() +
      std::chrono::duration_cast<Clock::duration>(
          std::chrono::duration<double, std::milli>(config_.feed_ms * config_.time_scale));
}

void VirtualReader::Refill(size_t index) {
  if (tray_) return;
  Slot& slot = *slots_[index];
  // A call in flight holds the card; it is not empty then, or it is being pulled right now.
  std::unique_lock card(slot.card_mu, std::try_to_lock);
  if (!card) return;
  {
    std::lock_guard lock(mu_);
    if (slot.present || Clock::now() < slot.feed_at) return;
  }
  if (!TakeFromFeeder()) return;
  Card blank = NewBlankCard();
  std::string error;
  if (!SaveCard(slot.file, blank, error)) {
    Complain(error);
    return;
  }
  slot.card = std::move(blank);
  {
    std::lock_guard lock(mu_);
    slot.present = true;
    slot.card_id = next_card_id_++;
    slot.login = kNobody;
  }
  Publish(slot);
}

bool VirtualReader::TakeFromFeeder() {
  std::lock_guard lock(feeder_mu_);
  if (config_.stock && fed_ >= *config_.stock) return false;
  std::string error;
  if (!WriteFileAtomically(fs::path(config_.state_dir) / "feeder", std::to_string(fed_ + 1) + "\n",
                           error)) {
    Complain(error);
    return false;
  }
  ++fed_;
  return true;
}

void VirtualReader::PurgeSessionObjects(Slot& slot) {
  std::vector<CK_OBJECT_HANDLE> dead;
  std::lock_guard lock(mu_);
  for (const auto& [handle, object] : slot.card.objects) {
    if (!object.is_token() && !sessions_.contains(object.session)) dead.push_back(handle);
  }
  for (CK_OBJECT_HANDLE handle : dead) slot.card.objects.erase(handle);
}

}  // namespace tessera::vreader
