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

// "Until the end of the day" ends at midnight in Rome, on the days the clocks change too.
TEST(EndOfItalianDay, IsTheNextMidnightInRome) {
  ASSERT_TRUE(CheckItalianTimeZone().ok());
  // Winter: midnight in Rome is 23:00 UTC.
  EXPECT_EQ(EndOfItalianDay(Utc(2026, 12, 2, 10, 0)), Utc(2026, 12, 2, 23, 0));
  EXPECT_EQ(EndOfItalianDay(Utc(2026, 12, 2, 22, 59)), Utc(2026, 12, 2, 23, 0));
  EXPECT_EQ(EndOfItalianDay(Utc(2026, 12, 2, 23, 0)), Utc(2026, 12, 3, 23, 0));
  // 29 March 2026 has 23 hours (clocks forward at 02:00): it ends at 22:00 UTC.
  EXPECT_EQ(EndOfItalianDay(Utc(2026, 3, 28, 23, 30)), Utc(2026, 3, 29, 22, 0));
  // 25 October 2026 has 25 hours (clocks back at 03:00): it ends at 23:00 UTC.
  EXPECT_EQ(EndOfItalianDay(Utc(2026, 10, 24, 22, 30)), Utc(2026, 10, 25, 23, 0));
}

}  // namespace
}  // namespace tessera
