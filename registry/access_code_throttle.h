// Keeps made-up access codes from costing the registry anything. A malformed code is refused
// before this (ParseAccessCode, no database); a well-formed one costs one indexed lookup, so:
//   - a comune whose codes failed `failures_per_comune` times within `comune_window` is
//     refused without a lookup until the window moves on (guessing one comune's code is
//     hopeless at 125 bits; this only stops the load);
//   - lookups, across all comuni, draw from a token bucket (`lookups_per_second`, `burst`):
//     10,000 made-up codes from anywhere cost at most that rate of queries;
//   - a code that checked out is known good for `known_good_ttl`, without a lookup, so a
//     comune already at work is not slowed by someone else's flood. A new code or a
//     submission forgets the comune at once (another registry replica: within the ttl).
// gRPC 1.51's AuthMetadataProcessor does not see the peer address, so limits are per comune
// and global rather than per address.
#pragma once

#include <chrono>
#include <deque>
#include <map>
#include <mutex>
#include <string>

#include "absl/status/status.h"
#include "platform/clock.h"
#include "registry/access_code.h"

namespace tessera::registry {

struct AccessCodeLimits {
  int failures_per_comune = 10;
  std::chrono::seconds comune_window{300};
  double lookups_per_second = 50;
  double burst = 100;
  std::chrono::seconds known_good_ttl{10};
};

class AccessCodeThrottle {
 public:
  explicit AccessCodeThrottle(AccessCodeLimits limits = {}) : limits_(limits) {}

  // True if `code` checked out within known_good_ttl: no lookup needed.
  bool KnownGood(const AccessCode& code, Clock::TimePoint now);
  // OK to look the code up; otherwise RESOURCE_EXHAUSTED saying when to try again.
  absl::Status Admit(const AccessCode& code, Clock::TimePoint now);
  void Succeeded(const AccessCode& code, Clock::TimePoint now);
  void Failed(const AccessCode& code, Clock::TimePoint now);
  // The comune's code changed (a new one, or its census submitted): nothing known good stays.
  void Forget(const std::string& office);

 private:
  const AccessCodeLimits limits_;
  std::mutex mutex_;
  double tokens_ = -1;  // -1: not started (full)
  Clock::TimePoint refilled_;
  std::map<std::string, std::deque<Clock::TimePoint>> failures_;               // by ISTAT code
  std::map<AccessCodeDigest, std::pair<std::string, Clock::TimePoint>> good_;  // office, until
};

}  // namespace tessera::registry
