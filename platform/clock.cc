#include "platform/clock.h"

#include <optional>
#include <regex>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"

namespace tessera {
namespace {

// Europe/Rome from tzdata, loaded once; nullptr without tzdata.
const absl::TimeZone* Italy() {
  static const std::optional<absl::TimeZone> italy = []() -> std::optional<absl::TimeZone> {
    absl::TimeZone zone;
    if (!absl::LoadTimeZone("Europe/Rome", &zone)) return std::nullopt;
    return zone;
  }();
  return italy ? &*italy : nullptr;
}

// The zone Italian dates are read in. Without tzdata: Italy's winter offset
// (CheckItalianTimeZone keeps services from this).
absl::TimeZone ItalianZone() { return Italy() != nullptr ? *Italy() : absl::FixedTimeZone(3600); }

// The Italian calendar day `t` falls on.
absl::CivilDay ItalianDay(Clock::TimePoint t) {
  return absl::ToCivilDay(absl::FromChrono(t), ItalianZone());
}

}  // namespace

std::chrono::year_month_day ItalianDate(Clock::TimePoint t) {
  const absl::CivilDay day = ItalianDay(t);
  return std::chrono::year(static_cast<int>(day.year())) / static_cast<unsigned>(day.month()) /
         static_cast<unsigned>(day.day());
}

Clock::TimePoint EndOfItalianDay(Clock::TimePoint t) {
  return absl::ToChronoTime(absl::FromCivil(ItalianDay(t) + 1, ItalianZone()));
}

absl::Status CheckItalianTimeZone() {
  if (Italy() == nullptr) {
    return absl::FailedPreconditionError(
        "time zone Europe/Rome not found: install tzdata (dates such as a census's opening "
        "day are Italian dates)");
  }
  return absl::OkStatus();
}

std::string IsoDate(std::chrono::year_month_day date) {
  return absl::StrFormat("%04d-%02u-%02u", static_cast<int>(date.year()),
                         static_cast<unsigned>(date.month()), static_cast<unsigned>(date.day()));
}

std::string PrintedDate(std::chrono::year_month_day date) {
  return absl::StrFormat("%02u/%02u/%04d", static_cast<unsigned>(date.day()),
                         static_cast<unsigned>(date.month()), static_cast<int>(date.year()));
}

absl::StatusOr<std::chrono::year_month_day> ParseIsoDate(const std::string& text) {
  static const std::regex kDate("([0-9]{4})-([0-9]{2})-([0-9]{2})");
  std::smatch m;
  if (!std::regex_match(text, m, kDate)) {
    return absl::InvalidArgumentError(absl::StrCat("'", text, "' is not a date YYYY-MM-DD"));
  }
  const std::chrono::year_month_day date{std::chrono::year(std::stoi(m[1])),
                                         std::chrono::month(std::stoi(m[2])),
                                         std::chrono::day(std::stoi(m[3]))};
  if (!date.ok()) return absl::InvalidArgumentError(absl::StrCat("'", text, "' does not exist"));
  return date;
}

}  // namespace tessera
