// Made-up access codes cost little: per-comune lock-out after repeated failures, a global
// budget of lookups, and codes that checked out need no lookup for a while.
#include "registry/access_code_throttle.h"

#include <gtest/gtest.h>

namespace tessera::registry {
namespace {

using std::chrono::seconds;

AccessCode Code(const std::string& istat, uint8_t tag) {
  AccessCode code{.office = istat};
  code.digest.fill(tag);
  return code;
}

TEST(AccessCodeThrottle, AComuneWithTooManyWrongCodesWaitsWithoutALookup) {
  AccessCodeThrottle throttle({.failures_per_comune = 3, .comune_window = seconds(60)});
  const Clock::TimePoint t0 = std::chrono::system_clock::now();
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(throttle.Admit(Code("057001", i), t0).ok());
    throttle.Failed(Code("057001", i), t0);
  }
  absl::Status refused = throttle.Admit(Code("057001", 9), t0 + seconds(1));
  EXPECT_EQ(refused.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_NE(refused.message().find("office 057001; try again in 59 s"), std::string::npos)
      << refused;
  EXPECT_TRUE(throttle.Admit(Code("057002", 1), t0 + seconds(1)).ok()) << "other comuni go on";
  EXPECT_TRUE(throttle.Admit(Code("057001", 9), t0 + seconds(61)).ok()) << "the window moved";
}

TEST(AccessCodeThrottle, LookupsAcrossComuniHaveABudget) {
  AccessCodeThrottle throttle({.lookups_per_second = 10, .burst = 20});
  const Clock::TimePoint t0 = std::chrono::system_clock::now();
  int admitted = 0;
  for (int i = 0; i < 10000; ++i) {  // 10,000 made-up codes for as many comuni, at once
    if (throttle.Admit(Code(std::to_string(100000 + i), 1), t0).ok()) ++admitted;
  }
  EXPECT_EQ(admitted, 20);
  // Half a second later: five more.
  admitted = 0;
  for (int i = 0; i < 100; ++i) {
    if (throttle.Admit(Code("058091", 2), t0 + std::chrono::milliseconds(500)).ok()) ++admitted;
  }
  EXPECT_EQ(admitted, 5);
}

TEST(AccessCodeThrottle, AGoodCodeIsKnownForAWhileAndForgottenWhenItChanges) {
  AccessCodeThrottle throttle({.known_good_ttl = seconds(10)});
  const Clock::TimePoint t0 = std::chrono::system_clock::now();
  const AccessCode good = Code("057002", 7);
  EXPECT_FALSE(throttle.KnownGood(good, t0));
  throttle.Succeeded(good, t0);
  EXPECT_TRUE(throttle.KnownGood(good, t0 + seconds(9)));
  EXPECT_FALSE(throttle.KnownGood(Code("057003", 7), t0)) << "the digest binds the comune";
  EXPECT_FALSE(throttle.KnownGood(good, t0 + seconds(10)));
  throttle.Succeeded(good, t0);
  throttle.Forget("057002");  // a new code, or the census submitted
  EXPECT_FALSE(throttle.KnownGood(good, t0 + seconds(1)));
}

}  // namespace
}  // namespace tessera::registry
