// How a service checks the session token a call carries, locally: the signature with one of the
// registry's published session keys, the expiry, the binding to the very certificate that
// opened the connection (RFC 8705: a token is useless from another machine), and the list of
// sessions ended early (logout, a person blocked or removed), which the service pulls from the
// registry every few seconds. While that list is stale the gate refuses every session
// (UNAVAILABLE): a session ended must not be honoured because the list could not be fetched.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "access/session_token.h"
#include "platform/periodic.h"
#include "platform/principal.h"

namespace tessera::access {

// The registry's session-signing public key, by key id (the token header's kid).
struct SessionKey {
  std::string key_id;
  std::string public_key_pem;
};

// A session ended before its expiry; services keep it until then.
struct EndedSession {
  std::string session_id;
  std::chrono::system_clock::time_point expires_at;
};

// What the registry publishes (GetSessionState): its keys, and the sessions ended since
// `cursor` (0: every ended session not yet expired); `next_cursor` is asked for next time.
struct SessionState {
  std::vector<SessionKey> keys;
  std::vector<EndedSession> ended;
  int64_t next_cursor = 0;
  // Until the first Ministry operator logs in, the Ministry's machine certificate acts for the
  // Ministry by itself (the bootstrap: enrolling the first operator, making their card).
  bool ministry_certificate_acts = false;
};

// base64url (no padding) of the SHA-256 given in lower-case hex: the token's cnf.x5t#S256.
std::string Thumbprint(std::string_view sha256_hex);

class SessionGate {
 public:
  // `max_staleness`: how old the ended-session list may be before every session is refused.
  explicit SessionGate(std::chrono::seconds max_staleness = std::chrono::seconds(30))
      : max_staleness_(max_staleness) {}

  // Takes what the registry published at `fetched_at` (keys replace the known ones; ended
  // sessions add to those known; expired ones are forgotten).
  void Update(const SessionState& state, std::chrono::system_clock::time_point fetched_at);
  // The cursor to ask the registry for next.
  int64_t cursor() const;

  // The session `token` carries, if it verifies with a known key, is current at `now`, is bound
  // to the certificate whose SHA-256 is `certificate_sha256` (hex) and was not ended.
  // UNAUTHENTICATED naming why not; UNAVAILABLE while the gate has no current list.
  absl::StatusOr<PersonSession> Check(std::string_view token, std::string_view certificate_sha256,
                                      std::chrono::system_clock::time_point now) const;

  // OK while the ended-session list is current (the service's health).
  absl::Status Health(std::chrono::system_clock::time_point now) const;

  // Whether the Ministry's machine certificate still acts for the Ministry by itself, as last
  // published; false before the first fetch and once the list is stale (the door stays shut
  // rather than guess), and for good once false was published.
  bool MinistryCertificateActs(std::chrono::system_clock::time_point now) const;

 private:
  const std::chrono::seconds max_staleness_;
  mutable std::mutex mutex_;
  std::vector<SessionKey> keys_;
  std::map<std::string, std::chrono::system_clock::time_point> ended_;  // id → expiry
  int64_t cursor_ = 0;
  bool ministry_certificate_acts_ = false;
  bool ministry_operator_seen_ = false;  // the bootstrap is over, whatever comes later
  std::chrono::system_clock::time_point fetched_at_{};
};

// Keeps `gate` current: `fetch(cursor)` (the registry's GetSessionState, or its own records in
// the registry itself) at once and then every `period`. A failed fetch is logged and the gate
// goes stale after its max_staleness, refusing sessions until a fetch succeeds.
std::unique_ptr<PeriodicTask> KeepSessionGateCurrent(
    SessionGate& gate, std::function<absl::StatusOr<SessionState>(int64_t cursor)> fetch,
    std::chrono::milliseconds period = std::chrono::seconds(2));

}  // namespace tessera::access
