#include "platform/clock.h"

#include "absl/time/civil_time.h"
#include "absl/time/time.h"

namespace tessera {
namespace {

constexpr char kItaly[] = "Europe/Rome";

}  // namespace

std::chrono::year_month_day ItalianDate(Clock::TimePoint t) {
  absl::TimeZone italy;
  if (!absl::LoadTimeZone(kItaly, &italy)) {
    // Without tzdata: Italy's winter offset (CheckItalianTimeZone keeps services from this).
    italy = absl::FixedTimeZone(3600);
  }
  const absl::CivilDay day = absl::ToCivilDay(absl::FromChrono(t), italy);
  return std::chrono::year(static_cast<int>(day.year())) / static_cast<unsigned>(day.month()) /
         static_cast<unsigned>(day.day());
}

absl::Status CheckItalianTimeZone() {
  absl::TimeZone italy;
  if (!absl::LoadTimeZone(kItaly, &italy)) {
    return absl::FailedPreconditionError(
        "time zone Europe/Rome not found: install tzdata (dates such as a census's opening "
        "day are Italian dates)");
  }
  return absl::OkStatus();
}

}  // namespace tessera
