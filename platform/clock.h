// An injected clock, so certificate validity, daily password expiry and lot deadlines are
// tested without sleeping.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <ctime>
#include <string>

#include "absl/status/statusor.h"

namespace tessera {

class Clock {
 public:
  using TimePoint = std::chrono::system_clock::time_point;
  virtual ~Clock() = default;
  virtual TimePoint Now() const = 0;
};

// Whole seconds since the Unix epoch, the form times take in SQL (to_timestamp, extract(epoch))
// and in protos (*_unix fields).
inline int64_t UnixSeconds(Clock::TimePoint t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}
inline Clock::TimePoint FromUnixSeconds(int64_t seconds) {
  return Clock::TimePoint(std::chrono::seconds(seconds));
}

// "2026-11-23T12:00:00Z", for messages and logs.
inline std::string UtcText(Clock::TimePoint t) {
  const std::time_t seconds = static_cast<std::time_t>(UnixSeconds(t));
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return text;
}

// "1985-12-10" <-> year_month_day; a malformed or impossible date is INVALID_ARGUMENT.
std::string IsoDate(std::chrono::year_month_day date);
// "10/12/1985": a date as Italian documents print it (card faces, receipts, forms).
std::string PrintedDate(std::chrono::year_month_day date);
absl::StatusOr<std::chrono::year_month_day> ParseIsoDate(const std::string& text);

// The calendar date in Italy (Europe/Rome) at `t`: the day a rule about "today" means (a
// census window, a daily password). The zone comes from the system's tzdata.
std::chrono::year_month_day ItalianDate(Clock::TimePoint t);
// The first instant of the next Italian day after `t` (midnight in Europe/Rome, whatever the
// daylight-saving offset): when something valid "until the end of the day" ends.
Clock::TimePoint EndOfItalianDay(Clock::TimePoint t);
// FAILED_PRECONDITION if tzdata has no Europe/Rome (ItalianDate would then be off by an hour
// or two around midnight): services that use ItalianDate call it at start.
absl::Status CheckItalianTimeZone();

class SystemClock final : public Clock {
 public:
  TimePoint Now() const override { return std::chrono::system_clock::now(); }
};

// A clock tests set and advance by hand.
class FakeClock final : public Clock {
 public:
  explicit FakeClock(TimePoint start) : now_(start.time_since_epoch().count()) {}
  TimePoint Now() const override { return TimePoint(TimePoint::duration(now_.load())); }
  void Set(TimePoint t) { now_ = t.time_since_epoch().count(); }
  void Advance(std::chrono::system_clock::duration d) { now_ += d.count(); }

 private:
  std::atomic<TimePoint::rep> now_;
};

}  // namespace tessera
