// What card login keeps (registry.login_challenges, registry.sessions) and what it asks of the
// registry's records about a person.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "access/office.h"
#include "access/session_gate.h"

namespace tessera::registry {

struct LoginChallenge {
  std::string id;
  std::string codice_fiscale;  // normalized
  std::string machine;         // the connection certificate's CN
  std::string machine_sha256;  // its SHA-256, hex
  std::string to_sign;
  std::chrono::system_clock::time_point created_at;
  std::chrono::system_clock::time_point expires_at;
};

// What the records say of a person logging in at an office.
struct LoginStanding {
  bool known = false;          // a person on record
  std::string codice_fiscale;  // as on record
  // Their profiles at the office, from its submitted census (none for the Ministry).
  std::vector<std::string> profiles;
  bool ministry_operator = false;
  // The certificate serial (lower-case hex) of their live card, once produced; "" if none.
  std::string live_card_serial;
};

// A user of an office as the dispatch service asks after them: who they are, where their
// card's second halves go, their profiles there.
struct OfficeUser {
  std::string codice_fiscale;  // as on record
  std::string surname;
  std::string name;
  std::string email;  // personal mailbox: the office's census's, or the Ministry's records'
  std::vector<std::string> profiles;
};

struct SessionRecord {
  std::string id;
  std::string codice_fiscale;
  std::string office;  // access::Office::Text()
  std::vector<std::string> profiles;
  std::string machine;
  std::string machine_sha256;
  std::string method;       // "card" or "daily_password"
  std::string card_serial;  // method "card"
  std::chrono::system_clock::time_point started_at;
  std::chrono::system_clock::time_point expires_at;
  std::chrono::system_clock::time_point renew_until;
  std::optional<std::chrono::system_clock::time_point> ended_at;
};

class LoginStore {
 public:
  virtual ~LoginStore() = default;

  virtual absl::Status PutChallenge(const LoginChallenge& challenge) = 0;
  // The challenge, marked used at `now` in the same statement: NOT_FOUND if there is none,
  // FAILED_PRECONDITION if it was used already (a replay).
  virtual absl::StatusOr<LoginChallenge> TakeChallenge(
      const std::string& id, std::chrono::system_clock::time_point now) = 0;
  virtual absl::StatusOr<LoginStanding> StandingOf(const std::string& codice_fiscale,
                                                   const access::Office& office) = 0;
  // The person as a user of `office` (a submitted census's, or a Ministry operator for the
  // Ministry); nullopt when they are none.
  virtual absl::StatusOr<std::optional<OfficeUser>> UserAt(const std::string& codice_fiscale,
                                                           const access::Office& office) = 0;

  virtual absl::Status OpenSession(const SessionRecord& session) = 0;
  // NOT_FOUND if there is none.
  virtual absl::StatusOr<SessionRecord> GetSession(const std::string& id) = 0;
  // A live session's new expiry; FAILED_PRECONDITION if it has ended.
  virtual absl::Status ExtendSession(const std::string& id,
                                     std::chrono::system_clock::time_point expires_at) = 0;
  // Ends a live session (`reason`: logout, removed, blocked); ending an ended one changes
  // nothing. Returns whether it was live.
  virtual absl::StatusOr<bool> EndSession(const std::string& id, const std::string& reason,
                                          std::chrono::system_clock::time_point now) = 0;
  // Ends every live session of the person (any spelling of the code) at `office` (all offices
  // if empty); returns how many.
  virtual absl::StatusOr<int> EndSessionsOf(const std::string& codice_fiscale,
                                            const std::string& office, const std::string& reason,
                                            std::chrono::system_clock::time_point now) = 0;
  // Live card sessions at `now`: id, codice fiscale and card serial.
  virtual absl::StatusOr<std::vector<SessionRecord>> LiveCardSessions(
      std::chrono::system_clock::time_point now) = 0;
  // Whether any Ministry operator has ever logged in (a session at office "ministero").
  virtual absl::StatusOr<bool> MinistryOperatorLoggedIn() = 0;
  // Sessions ended after `cursor` that have not expired at `now`, and the cursor to ask next.
  virtual absl::StatusOr<access::SessionState> EndedSince(
      int64_t cursor, std::chrono::system_clock::time_point now) = 0;
};

}  // namespace tessera::registry
