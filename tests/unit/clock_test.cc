// The Italian date: what "today" means for a census window, whatever UTC says.
#include "platform/clock.h"

#include <gtest/gtest.h>

namespace tessera {
namespace {

using std::chrono::year;

Clock::TimePoint Utc(int y, unsigned m, unsigned d, int hour, int minute) {
  return std::chrono::sys_days(year(y) / m / d) + std::chrono::hours(hour) +
         std::chrono::minutes(minute);
}

TEST(ItalianDate, IsRomesCalendarDayNotUtcs) {
  ASSERT_TRUE(CheckItalianTimeZone().ok());
  // Summer (UTC+2): 22:30 UTC on 30 June is already 1 July in Rome.
  EXPECT_EQ(ItalianDate(Utc(2026, 6, 30, 22, 30)), year(2026) / 7 / 1);
  EXPECT_EQ(ItalianDate(Utc(2026, 6, 30, 21, 59)), year(2026) / 6 / 30);
  // Winter (UTC+1): 23:00 UTC on 31 December is New Year's Day.
  EXPECT_EQ(ItalianDate(Utc(2026, 12, 31, 23, 0)), year(2027) / 1 / 1);
  EXPECT_EQ(ItalianDate(Utc(2026, 12, 31, 22, 59)), year(2026) / 12 / 31);
}

}  // namespace
}  // namespace tessera
