// The temporary daily password: readable, hashed with Argon2id only, matching only itself,
// ending at the next midnight in Rome (an injected clock across midnight).
#include "access/daily_password.h"

#include <gtest/gtest.h>

#include "platform/random.h"

namespace tessera::access {
namespace {

Clock::TimePoint Utc(int y, unsigned m, unsigned d, int hour, int minute) {
  return std::chrono::sys_days(std::chrono::year(y) / m / d) + std::chrono::hours(hour) +
         std::chrono::minutes(minute);
}

TEST(DailyPassword, IsReadableHashedWithArgon2idAndMatchesOnlyItself) {
  auto made = NewDailyPassword(Utc(2026, 12, 2, 10, 0));
  ASSERT_TRUE(made.ok()) << made.status();
  EXPECT_EQ(made->password.size(), kDailyPasswordLength);
  EXPECT_EQ(std::string(made->password.view()).find_first_not_of(kReadableAlphabet),
            std::string::npos);
  EXPECT_EQ(made->hash.rfind("$argon2id$v=19$m=19456,t=2,p=1$", 0), 0u) << made->hash;
  EXPECT_EQ(made->hash.find(made->password.view()), std::string::npos);
  EXPECT_TRUE(PasswordMatches(made->hash, made->password));
  std::string wrong(made->password.view());
  wrong.back() = wrong.back() == 'A' ? 'C' : 'A';
  EXPECT_FALSE(PasswordMatches(made->hash, Secret(wrong)));
  EXPECT_FALSE(PasswordMatches("", made->password));
  EXPECT_FALSE(PasswordMatches("$argon2i$v=19$m=8,t=1,p=1$c2FsdHNhbHQ$aGFzaA", made->password));
  auto again = NewDailyPassword(Utc(2026, 12, 2, 10, 0));
  ASSERT_TRUE(again.ok());
  EXPECT_NE(again->password.view(), made->password.view());
  EXPECT_NE(again->hash, made->hash);  // salted
}

TEST(DailyPassword, EndsAtTheNextMidnightInRome) {
  // 23:59 in Rome (22:59 UTC, winter): valid one minute.
  auto late = NewDailyPassword(Utc(2026, 12, 2, 22, 59));
  ASSERT_TRUE(late.ok());
  EXPECT_EQ(late->expires_at, Utc(2026, 12, 2, 23, 0));
  // 00:01 in Rome: valid the whole new day.
  auto early = NewDailyPassword(Utc(2026, 12, 2, 23, 1));
  ASSERT_TRUE(early.ok());
  EXPECT_EQ(early->expires_at, Utc(2026, 12, 3, 23, 0));
}

}  // namespace
}  // namespace tessera::access
