// Census access codes: format, reading as typed, and refusals that never echo the code.
#include "registry/access_code.h"

#include <gtest/gtest.h>

#include <regex>
#include <set>

namespace tessera::registry {
namespace {

TEST(AccessCode, IsTheIstatCodeAndTwentyFiveCrockfordCharactersInGroupsOfFive) {
  const Secret code = NewAccessCode("057001");
  const std::string text(code.view());
  EXPECT_TRUE(std::regex_match(text, std::regex("057001(-[0-9ABCDEFGHJKMNPQRSTVWXYZ]{5}){5}")))
      << text;
  auto parsed = ParseAccessCode(text);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->office, "057001");
}

TEST(AccessCode, EveryCodeIsNew) {
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) seen.insert(std::string(NewAccessCode("057001").view()));
  EXPECT_EQ(seen.size(), 1000u);
}

TEST(AccessCode, IsReadAsAPersonTypesIt) {
  const std::string code = "057001-7KQ2M-X9T4R-ABCDE-FGHJK-MNPQ0";
  auto canonical = ParseAccessCode(code);
  ASSERT_TRUE(canonical.ok()) << canonical.status();
  // Lower case, spaces instead of dashes, O for 0: the same code.
  auto typed = ParseAccessCode("057001 7kq2m x9t4r abcde fghjk mnpqo");
  ASSERT_TRUE(typed.ok()) << typed.status();
  EXPECT_EQ(typed->digest, canonical->digest);
  auto ones = ParseAccessCode("057001-7KQ2M-X9T4R-ABCDE-FGHJK-MNPQ1");
  auto letters = ParseAccessCode("057001-7KQ2M-X9T4R-ABCDE-FGHJK-MNPQl");
  ASSERT_TRUE(ones.ok() && letters.ok());
  EXPECT_EQ(ones->digest, letters->digest);
  // One character different: another digest.
  auto other = ParseAccessCode("057001-7KQ2M-X9T4R-ABCDE-FGHJK-MNPQ2");
  ASSERT_TRUE(other.ok());
  EXPECT_NE(other->digest, canonical->digest);
  // The ISTAT code is part of what is hashed: the same secret for another comune differs.
  auto elsewhere = ParseAccessCode("057002-7KQ2M-X9T4R-ABCDE-FGHJK-MNPQ0");
  ASSERT_TRUE(elsewhere.ok());
  EXPECT_NE(elsewhere->digest, canonical->digest);
}

TEST(AccessCode, MalformedCodesAreUnauthenticatedWithoutEchoingThem) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"057001-7KQ2M-X9T4R-ABCDE-FGHJK", "too short"},
      {"057001-7KQ2M-X9T4R-ABCDE-FGHJK-MNPQ0-X", "too long"},
      {"057001-7KQ2M-X9T4R-ABCDE-FGHJK-MNPQU", "Crockford"},
      {"05700A-7KQ2M-X9T4R-ABCDE-FGHJK-MNPQ0", "6-digit code"},
      {"057001-7KQ2M-X9T4R-ABCDE-FGHJK-MNPQ'", "Crockford"},
      {"", "too short"},
  };
  for (const auto& [typed, rule] : cases) {
    auto parsed = ParseAccessCode(typed);
    ASSERT_FALSE(parsed.ok()) << typed;
    EXPECT_EQ(parsed.status().code(), absl::StatusCode::kUnauthenticated) << typed;
    EXPECT_NE(parsed.status().message().find(rule), std::string_view::npos)
        << typed << ": " << parsed.status();
    if (!typed.empty()) {
      EXPECT_EQ(parsed.status().message().find(typed.substr(7)), std::string_view::npos);
    }
  }
}

TEST(AccessCode, TheOfficeCodeNamesAComuneOrAPrefettura) {
  EXPECT_EQ(CensusOwnerOf("057001").kind, CensusKind::kComune);
  EXPECT_EQ(CensusOwnerOf("057001").owner, "057001");
  EXPECT_EQ(CensusOwnerOf("057000").kind, CensusKind::kPrefettura);
  EXPECT_EQ(CensusOwnerOf("057000").owner, "057");
  auto prefettura = ParseAccessCode(NewAccessCode("057000").view());
  ASSERT_TRUE(prefettura.ok()) << prefettura.status();
  EXPECT_EQ(prefettura->office, "057000");
}

}  // namespace
}  // namespace tessera::registry
