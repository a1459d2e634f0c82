#include "ca/codice_fiscale.h"

#include <gtest/gtest.h>

namespace tessera::ca {
namespace {

std::string Message(std::string_view cf) {
  return std::string(ValidateCodiceFiscale(cf).message());
}

TEST(CodiceFiscale, AcceptsWellFormedCodes) {
  EXPECT_TRUE(ValidateCodiceFiscale("RSSMRA85T10A562S").ok());  // the textbook example
  EXPECT_TRUE(ValidateCodiceFiscale("RSSMRA80A01H501U").ok());
  EXPECT_TRUE(ValidateCodiceFiscale("BNCGLI90A41F205H").ok());  // a woman: day 01 + 40
}

TEST(CodiceFiscale, NormalizesCaseSpacesAndDashes) {
  EXPECT_EQ(NormalizeCodiceFiscale(" rssmra85t10-a562s "), "RSSMRA85T10A562S");
}

TEST(CodiceFiscale, WrongCheckCharacterNamesBoth) {
  EXPECT_EQ(Message("RSSMRA85T10A562X"), "check character is 'X', expected 'S'");
}

TEST(CodiceFiscale, StructureRules) {
  EXPECT_EQ(Message("RSSMRA85T10A562"), "must be 16 characters, has 15");
  EXPECT_EQ(Message("RSSMRA85T10A562s"), "character 16 must be a letter A-Z or a digit");
  EXPECT_EQ(Message("R5SMRA85T10A562S"), "character 2 must be a letter");
  EXPECT_EQ(Message("RSSMRA8AT10A562S"),
            "character 8 must be a digit or an omocodia letter (LMNPQRSTUV)");
  EXPECT_EQ(Message("RSSMRA85F10A562S"), "month letter 'F' is not one of ABCDEHLMPRST");
}

TEST(CodiceFiscale, DayIsCheckedAgainstMonthSexAndLeapYears) {
  auto with = [](std::string first15) { return first15 + CodiceFiscaleCheckCharacter(first15); };
  EXPECT_TRUE(ValidateCodiceFiscale(with("RSSMRA80B29H501")).ok());   // 1980 leap year
  EXPECT_FALSE(ValidateCodiceFiscale(with("RSSMRA81B29H501")).ok());  // 1981 not
  EXPECT_FALSE(ValidateCodiceFiscale(with("RSSMRA81B69H501")).ok());  // woman, 1981
  EXPECT_TRUE(ValidateCodiceFiscale(with("RSSMRA80B69H501")).ok());   // woman, 29 Feb
  EXPECT_FALSE(ValidateCodiceFiscale(with("RSSMRA80D31H501")).ok());  // 31 April
  EXPECT_FALSE(ValidateCodiceFiscale(with("RSSMRA80A32H501")).ok());
  EXPECT_FALSE(ValidateCodiceFiscale(with("RSSMRA80A00H501")).ok());
  EXPECT_FALSE(ValidateCodiceFiscale(with("RSSMRA80A40H501")).ok());
  EXPECT_FALSE(ValidateCodiceFiscale(with("RSSMRA80A72H501")).ok());
  EXPECT_EQ(Message(with("RSSMRA80D31H501")),
            "day 31 is not valid for month 4 (1-30 for men, 41-70 for women)");
}

TEST(CodiceFiscale, OmocodiaLettersStandForDigitsAndTheCheckUsesTheLetters) {
  // 6 -> S in position 14, 2 -> N in position 15: still born 10 Dec 1985 in A562.
  std::string omocodic = "RSSMRA85T10A5SN";
  const char check = CodiceFiscaleCheckCharacter(omocodic);
  EXPECT_NE(check, 'S');  // computed over the letters, not the digits they replace
  EXPECT_TRUE(ValidateCodiceFiscale(omocodic + check).ok()) << Message(omocodic + check);
  // Year and day in letters: 85 -> TR, 10 -> MM... (8->T, 5->R, 1->M, 0->L)
  std::string all = "RSSMRATRTML";
  all += "A5SN";
  EXPECT_TRUE(ValidateCodiceFiscale(all + CodiceFiscaleCheckCharacter(all)).ok())
      << Message(all + CodiceFiscaleCheckCharacter(all));
  // A letter that is not an omocodia letter is refused in a digit position.
  EXPECT_FALSE(ValidateCodiceFiscale("RSSMRA85T10A5AZS").ok());
}

}  // namespace
}  // namespace tessera::ca
