// The temporary daily password (seed 001 §8.1): an operator whose card is being replaced,
// authorized by the Amministratore Sicurezza until an end date, logs in from a certified
// workstation with codice fiscale + a password e-mailed to them, valid until the end of that
// Italian day; a new one each day while authorized. Only an Argon2id hash is stored (Debian's
// libargon2): a stolen table gives no password back, and guessing one costs 19 MiB and two
// passes per try.
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "platform/clock.h"
#include "platform/secret.h"

namespace tessera::access {

inline constexpr size_t kDailyPasswordLength = 14;  // of kReadableAlphabet: ~79 bits

struct DailyPassword {
  Secret password;   // for the mail, once; never stored
  std::string hash;  // Argon2id, PHC string form ($argon2id$v=19$m=19456,t=2,p=1$salt$hash)
  Clock::TimePoint expires_at;  // the next midnight in Europe/Rome after it was made
};

// A fresh password made at `now`, its hash and its end.
absl::StatusOr<DailyPassword> NewDailyPassword(Clock::TimePoint now);

// Whether `candidate` is the password `hash` was made from (constant time in the password).
bool PasswordMatches(const std::string& hash, const Secret& candidate);

}  // namespace tessera::access
