#include "platform/clock.h"

#include <optional>

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

}  // namespace

std::chrono::year_month_day ItalianDate(Clock::TimePoint t) {
  // Without tzdata: Italy's winter offset (CheckItalianTimeZone keeps services from this).
  const absl::TimeZone italy = Italy() != nullptr ? *Italy() : absl::FixedTimeZone(3600);
  const absl::CivilDay day = absl::ToCivilDay(absl::FromChrono(t), italy);
  return std::chrono::year(static_cast<int>(day.year())) / static_cast<unsigned>(day.month()) /
         static_cast<unsigned>(day.day());
}

absl::Status CheckItalianTimeZone() {
  if (Italy() == nullptr) {
    return absl::FailedPreconditionError(
        "time zone Europe/Rome not found: install tzdata (dates such as a census's opening "
        "day are Italian dates)");
  }
  return absl::OkStatus();
}

}  // namespace tessera
