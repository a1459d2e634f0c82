// A card's credentials: their form, their randomness, their halves and the sealing context.
#include "personalization/credentials.h"

#include <gtest/gtest.h>

#include <map>
#include <set>
#include <string>

#include "platform/random.h"

namespace tessera::personalization {
namespace {

std::string Text(const Secret& secret) { return std::string(secret.view()); }

TEST(Credentials, HaveTheirFormAndAreNewEachTime) {
  std::set<std::string> pins, passwords;
  for (int i = 0; i < 200; ++i) {
    const CardCredentials c = NewCardCredentials();
    ASSERT_EQ(c.pin.size(), kPinDigits);
    ASSERT_EQ(c.puk.size(), kPukDigits);
    ASSERT_EQ(c.password.size(), kPasswordLength);
    EXPECT_EQ(Text(c.pin).find_first_not_of("0123456789"), std::string::npos);
    EXPECT_EQ(Text(c.puk).find_first_not_of("0123456789"), std::string::npos);
    EXPECT_EQ(Text(c.password).find_first_not_of(kPasswordAlphabet), std::string::npos);
    pins.insert(Text(c.pin));
    passwords.insert(Text(c.password));
    EXPECT_EQ(&c.Get(Credential::kPuk), &c.puk);
  }
  // 10^8 PINs and 50^12 passwords: 200 draws repeat neither (a stuck generator would).
  EXPECT_EQ(pins.size(), 200u);
  EXPECT_EQ(passwords.size(), 200u);
}

TEST(Credentials, NoCharacterIsLikelierThanAnother) {
  // 20,000 characters over 50 letters: each expected 400 times; a bias of one character in ten
  // (e.g. a modulo bias) would put some outside 400 +- 25 %.
  const Secret text = RandomText(20000, kPasswordAlphabet);
  std::map<char, int> counts;
  for (char c : text.view()) ++counts[c];
  EXPECT_EQ(counts.size(), kPasswordAlphabet.size());
  for (const auto& [c, n] : counts) {
    EXPECT_GT(n, 300) << c;
    EXPECT_LT(n, 500) << c;
  }
  // No look-alikes on the printed sheet.
  for (char c : std::string("0Oo1Il5S2Z8B")) {
    EXPECT_EQ(kPasswordAlphabet.find(c), std::string_view::npos) << c;
  }
}

TEST(Credentials, SplitInHalvesThatJoinBack) {
  const Halves pin = Split(Secret("12345678"));
  EXPECT_EQ(Text(pin.envelope), "1234");
  EXPECT_EQ(Text(pin.mail), "5678");
  EXPECT_EQ(Text(Join(pin)), "12345678");
  const Halves password = Split(Secret("ACDEFGhijk34"));
  EXPECT_EQ(Text(password.envelope), "ACDEFG");
  EXPECT_EQ(Text(password.mail), "hijk34");
  const Halves odd = Split(Secret("abcde"));  // never by tessera, but whole again all the same
  EXPECT_EQ(Text(Join(odd)), "abcde");
}

TEST(Credentials, EachHalfIsSealedForItsCardItsNameAndItsHalf) {
  EXPECT_EQ(HalfContext("0580910000000001", Credential::kPin, Half::kMail),
            "card 0580910000000001: PIN mail half");
  std::set<std::string> contexts;
  for (const char* card : {"0580910000000001", "0580910000000002"}) {
    for (Credential c : {Credential::kPin, Credential::kPuk, Credential::kPassword}) {
      for (Half h : {Half::kEnvelope, Half::kMail}) contexts.insert(HalfContext(card, c, h));
    }
  }
  EXPECT_EQ(contexts.size(), 12u);
}

}  // namespace
}  // namespace tessera::personalization
