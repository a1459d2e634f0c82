// The temporary daily password (seed 001 §8.1), around access/daily_password.h: an operator
// whose card is being replaced is authorized by the security administrator of their office (the
// mayor when that administrator's own card is out; the Ministry for a prefettura's users) until
// an end date; each Italian day while authorized they get a new password by mail, and log in
// with codice fiscale and password from a workstation of that office. The session ends at the
// end of the day at the latest.
//
// Lock-out: 5 wrong passwords for one codice fiscale within 15 minutes, or 20 from one machine
// within an hour, refuse every password login of that person (or at that machine) until the
// window has passed (RESOURCE_EXHAUSTED, saying until when), checked before any password is
// compared, so guessing costs the guesser time and not the registry CPU.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "access/office.h"
#include "platform/clock.h"
#include "platform/principal.h"
#include "platform/secret.h"
#include "registry/card_login.h"
#include "registry/change_request.h"
#include "registry/login_store.h"

namespace tessera::registry {

struct DailyAccessLimits {
  int person_failures = 5;
  std::chrono::minutes person_window{15};
  int machine_failures = 20;
  std::chrono::minutes machine_window{60};
  int longest_grant_days = 30;
};

// A mail for the outbox; a body holding a secret is sealed before it is stored.
struct OutboxMail {
  std::string kind;
  std::string to;
  std::string subject;
  std::vector<uint8_t> sealed_body;
};

// The associated data a sealed outbox body is sealed with: a blob sealed for another purpose
// does not open as mail.
inline constexpr char kOutboxSealPurpose[] = "tessera outbox mail v1";

// Seals a mail body (in tessera-registry: AES-256-GCM under a key on its HSM).
using MailSealer = std::function<absl::StatusOr<std::vector<uint8_t>>(std::string_view body)>;

struct DailyGrant {
  std::string codice_fiscale;  // as on record
  std::string office;          // access::Office::Text()
  std::chrono::year_month_day until;
  std::string reason;
  std::string granted_by;          // the administrator's codice fiscale
  std::string granted_by_session;  // and session
  std::string request_id;
  std::chrono::system_clock::time_point granted_at;
};

// One day's password as stored: its hash only.
struct DayPassword {
  std::chrono::year_month_day day;
  std::string hash;
  std::chrono::system_clock::time_point expires_at;
  std::chrono::system_clock::time_point issued_at;
};

class DailyAccessStore {
 public:
  virtual ~DailyAccessStore() = default;

  // The person's personal mailbox as the office's submitted census declares it; "" if the
  // person is not in it.
  virtual absl::StatusOr<std::string> MailboxAt(const std::string& codice_fiscale,
                                                const access::Office& office) = 0;
  // Records the grant (replacing one for the same person and office), today's password, its
  // mail and `request` (the registry's request journal), in one transaction. A request_id used
  // before: ALREADY_EXISTS.
  virtual absl::Status Grant(const DailyGrant& grant, const DayPassword& today,
                             const OutboxMail& mail, const Request& request) = 0;
  struct Due {
    std::string codice_fiscale;
    std::string office;
    std::string mailbox;
  };
  // Grants still running on `today` that have no password for it.
  virtual absl::StatusOr<std::vector<Due>> DueOn(std::chrono::year_month_day today) = 0;
  // Records `password` for `due` and its mail; nothing if that day has one already.
  virtual absl::Status Issue(const Due& due, const DayPassword& password,
                             const OutboxMail& mail) = 0;
  // Today's password of a grant running today, if there is one.
  virtual absl::StatusOr<std::optional<DayPassword>> PasswordOn(
      const std::string& codice_fiscale, const access::Office& office,
      std::chrono::year_month_day today) = 0;
  virtual absl::Status RecordAttempt(const std::string& codice_fiscale, const std::string& machine,
                                     bool succeeded, std::chrono::system_clock::time_point at) = 0;
  // Failed attempts for the person since `person_since`, and at the machine since
  // `machine_since`, with the oldest of each counted (for "until when").
  struct Failures {
    int person = 0;
    std::chrono::system_clock::time_point person_oldest;
    int machine = 0;
    std::chrono::system_clock::time_point machine_oldest;
  };
  virtual absl::StatusOr<Failures> FailuresSince(
      const std::string& codice_fiscale, const std::string& machine,
      std::chrono::system_clock::time_point person_since,
      std::chrono::system_clock::time_point machine_since) = 0;
};

class DailyAccess {
 public:
  DailyAccess(DailyAccessStore& store, LoginStore& logins, CardLogin& sessions, MailSealer seal,
              const Clock& clock, DailyAccessLimits limits = {})
      : store_(store),
        logins_(logins),
        sessions_(sessions),
        seal_(std::move(seal)),
        clock_(clock),
        limits_(limits) {}

  struct Authorized {
    std::chrono::year_month_day until;
    std::chrono::system_clock::time_point first_password_expires_at;
  };
  // `caller` (a session) authorizes `codice_fiscale` at `office` ("" for the caller's own) until
  // `until` (YYYY-MM-DD, today to longest_grant_days ahead); today's password is mailed at once.
  // PERMISSION_DENIED: an office the caller does not administer, or themselves; NOT_FOUND: no
  // user of that office; INVALID_ARGUMENT naming the field.
  absl::StatusOr<Authorized> Authorize(const std::string& codice_fiscale, const std::string& office,
                                       const std::string& until, const std::string& reason,
                                       Request request, const Principal& caller);

  // Makes and mails today's password for every grant running today that has none yet; how
  // many. Run every minute: the first run after midnight starts the day.
  absl::StatusOr<int> IssueDue();

  // A session for `codice_fiscale` at `machine`'s office with today's password.
  // RESOURCE_EXHAUSTED while locked out; UNAUTHENTICATED "codice fiscale or daily password
  // wrong" for any other failure (no grant, expired, wrong), never saying which.
  absl::StatusOr<CardLogin::Issued> Login(const std::string& codice_fiscale, const Secret& password,
                                          const Machine& machine);

 private:
  absl::StatusOr<std::pair<DayPassword, OutboxMail>> NewPasswordMail(
      const std::string& mailbox, const std::string& office, std::chrono::year_month_day until);

  DailyAccessStore& store_;
  LoginStore& logins_;
  CardLogin& sessions_;
  const MailSealer seal_;
  const Clock& clock_;
  const DailyAccessLimits limits_;
};

}  // namespace tessera::registry
