#include "access/session_gate.h"

#include <botan/base64.h>
#include <botan/hex.h>

#include <algorithm>
#include <thread>

#include "absl/strings/str_cat.h"
#include "platform/clock.h"
#include "platform/log.h"

namespace tessera::access {

std::string Thumbprint(std::string_view sha256_hex) {
  std::vector<uint8_t> digest;
  try {
    digest = Botan::hex_decode(std::string(sha256_hex));
  } catch (const std::exception&) {
    return "";
  }
  std::string text = Botan::base64_encode(digest);
  text.erase(std::remove(text.begin(), text.end(), '='), text.end());
  std::replace(text.begin(), text.end(), '+', '-');
  std::replace(text.begin(), text.end(), '/', '_');
  return text;
}

void SessionGate::Update(const SessionState& state,
                         std::chrono::system_clock::time_point fetched_at) {
  std::lock_guard lock(mutex_);
  if (!state.keys.empty()) keys_ = state.keys;
  for (const EndedSession& ended : state.ended) ended_[ended.session_id] = ended.expires_at;
  std::erase_if(ended_, [&](const auto& entry) { return entry.second <= fetched_at; });
  cursor_ = std::max(cursor_, state.next_cursor);
  fetched_at_ = fetched_at;
  if (!state.ministry_certificate_acts) ministry_operator_seen_ = true;
  ministry_certificate_acts_ = state.ministry_certificate_acts && !ministry_operator_seen_;
}

bool SessionGate::MinistryCertificateActs(std::chrono::system_clock::time_point now) const {
  if (!Health(now).ok()) return false;
  std::lock_guard lock(mutex_);
  return ministry_certificate_acts_;
}

int64_t SessionGate::cursor() const {
  std::lock_guard lock(mutex_);
  return cursor_;
}

absl::Status SessionGate::Health(std::chrono::system_clock::time_point now) const {
  std::lock_guard lock(mutex_);
  if (keys_.empty())
    return absl::UnavailableError("session keys not fetched from the registry yet");
  if (now - fetched_at_ > max_staleness_) {
    return absl::UnavailableError(absl::StrCat("the list of ended sessions is stale (fetched at ",
                                               UtcText(fetched_at_), ")"));
  }
  return absl::OkStatus();
}

absl::StatusOr<PersonSession> SessionGate::Check(std::string_view token,
                                                 std::string_view certificate_sha256,
                                                 std::chrono::system_clock::time_point now) const {
  std::vector<SessionKey> keys;
  {
    absl::Status health = Health(now);
    if (!health.ok()) {
      return absl::UnavailableError(
          absl::StrCat("sessions cannot be checked now: ", health.message()));
    }
    std::lock_guard lock(mutex_);
    keys = keys_;
  }
  // A token names no key the gate could trust before verifying, so each published key (one,
  // two while the registry's key is being replaced) is tried.
  absl::StatusOr<SessionClaims> claims = absl::UnauthenticatedError("session token: no key");
  for (const SessionKey& key : keys) {
    claims = VerifySession(std::string(token), key.public_key_pem, now);
    if (claims.ok()) break;
  }
  if (!claims.ok()) return claims.status();
  if (claims->workstation_sha256 != Thumbprint(certificate_sha256)) {
    return absl::UnauthenticatedError(
        "session token: bound to another machine's certificate than this connection's");
  }
  {
    std::lock_guard lock(mutex_);
    if (ended_.contains(claims->session_id)) {
      return absl::UnauthenticatedError(
          "session token: the session has ended (logged out or blocked)");
    }
  }
  return PersonSession{.id = claims->session_id,
                       .person = claims->person,
                       .office = claims->office,
                       .profiles = claims->profiles,
                       .expires_at = claims->expires_at};
}

std::unique_ptr<PeriodicTask> KeepSessionGateCurrent(
    SessionGate& gate, std::function<absl::StatusOr<SessionState>(int64_t cursor)> fetch,
    std::chrono::milliseconds period) {
  auto fetch_once = [&gate, fetch]() -> absl::Status {
    const auto started = std::chrono::system_clock::now();
    absl::StatusOr<SessionState> state = fetch(gate.cursor());
    if (!state.ok()) return state.status();
    gate.Update(*state, started);
    return absl::OkStatus();
  };
  // The first fetch before serving, so a service that just started takes sessions (and knows
  // the Ministry's rights) at once: tried for up to 10 s, as the registry may be starting too or
  // slow under load; then the service serves anyway and the task keeps trying every period.
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  for (absl::Status first = fetch_once(); !first.ok(); first = fetch_once()) {
    if (std::chrono::steady_clock::now() >= give_up) {
      LogEvent(spdlog::level::warn, "session_gate_not_current",
               {{"error", std::string(first.message())}});
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
  auto task = std::make_unique<PeriodicTask>("session_gate", period, fetch_once);
  task->Start();
  return task;
}

}  // namespace tessera::access
