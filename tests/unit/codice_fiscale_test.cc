#include "identity/codice_fiscale.h"

#include <gtest/gtest.h>

namespace tessera::identity {
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

TEST(FoldName, AccentsApostrophesAndSeparatorsFoldToLetters) {
  EXPECT_EQ(*FoldName("Nicolò"), "NICOLO");
  EXPECT_EQ(*FoldName("D'Angelo"), "DANGELO");
  EXPECT_EQ(*FoldName("D\u2019Angelo"), "DANGELO");
  EXPECT_EQ(*FoldName("De Santis-Müller"), "DESANTISMULLER");
  EXPECT_EQ(*FoldName("Łukasz Šťastný"), "LUKASZSTASTNY");
  EXPECT_EQ(*FoldName("Cæsar"), "CAESAR");
  EXPECT_EQ(FoldName("R0ssi").status().message(),
            "character '0' is not a letter, space, apostrophe, dot or dash");
  EXPECT_EQ(FoldName("Ann×").status().message(), "character U+00D7 is not a Latin letter");
  EXPECT_EQ(FoldName("Σοφία").status().message(), "character U+03A3 is not a Latin letter");
  EXPECT_EQ(FoldName("\xff").status().message(), "character at byte 1 is not a Latin letter");
  EXPECT_EQ(FoldName(" '").status().message(), "has no letters");
}

TEST(CodiceFiscaleParts, SurnameNameAndBirthCodes) {
  EXPECT_EQ(SurnameCode("ROSSI"), "RSS");
  EXPECT_EQ(SurnameCode("BIANCHI"), "BNC");
  EXPECT_EQ(SurnameCode("RE"), "REX");   // consonant, vowel, padding
  EXPECT_EQ(SurnameCode("FOI"), "FOI");  // one consonant, then the vowels
  EXPECT_EQ(SurnameCode("OIE"), "OIE");
  EXPECT_EQ(NameCode("MARIO"), "MRA");
  EXPECT_EQ(NameCode("GIANFRANCO"), "GFR");  // 4+ consonants: 1st, 3rd, 4th
  EXPECT_EQ(NameCode("GIULIA"), "GLI");
  EXPECT_EQ(NameCode("ALBERTO"), "LRT");  // exactly 3 consonants
  EXPECT_EQ(NameCode("EVA"), "VEA");
  using std::chrono::year, std::chrono::month, std::chrono::day;
  EXPECT_EQ(BirthCode(year(1985) / 12 / 10, Sex::kMale), "85T10");
  EXPECT_EQ(BirthCode(year(1990) / 1 / 1, Sex::kFemale), "90A41");
  EXPECT_EQ(BirthCode(year(2004) / 5 / 9, Sex::kMale), "04E09");
}

TEST(CodiceFiscaleParts, OmocodiaIsUndoneForComparison) {
  // RSSMRA85T10A562S with the last digits replaced (5->R, 6->S, 2->N).
  const std::string first15 = "RSSMRA85T10A5SN";
  const std::string cf = first15 + CodiceFiscaleCheckCharacter(first15);
  EXPECT_EQ(WithoutOmocodia(cf).substr(0, 15), "RSSMRA85T10A562");
  EXPECT_EQ(BirthplaceCode(cf), "A562");
  EXPECT_EQ(BirthplaceCode("RSSMRA85T10A562S"), "A562");
}

Person Mario() {
  using std::chrono::year;
  return {.surname = "Rossi",
          .name = "Mario",
          .birth_date = year(1985) / 12 / 10,
          .sex = Sex::kMale,
          .birthplace_codes = {"A562"}};
}

TEST(CodiceFiscaleMatches, TheTextbookPersonMatchesAndEachPartIsNamed) {
  EXPECT_TRUE(CheckCodiceFiscaleMatches("RSSMRA85T10A562S", Mario()).ok());
  auto message = [](const Person& p) {
    return std::string(CheckCodiceFiscaleMatches("RSSMRA85T10A562S", p).message());
  };
  Person p = Mario();
  p.surname = "Bianchi";
  EXPECT_EQ(message(p), "surname: the code has 'RSS', 'Bianchi' gives 'BNC'");
  p = Mario();
  p.name = "Marco";
  EXPECT_EQ(message(p), "name: the code has 'MRA', 'Marco' gives 'MRC'");
  p = Mario();
  p.birth_date = std::chrono::year(1986) / 12 / 10;
  EXPECT_EQ(message(p), "birth_date: the code has year and month '85T', the date gives '86T'");
  p = Mario();
  p.birth_date = std::chrono::year(1985) / 12 / 11;
  EXPECT_EQ(message(p), "birth_date: the code has day '10', the date and sex give '11'");
  p = Mario();
  p.sex = Sex::kFemale;
  EXPECT_EQ(message(p), "sex: the code's day '10' is for a man");
  p = Mario();
  p.birthplace_codes = {"H501"};
  EXPECT_EQ(message(p), "birthplace: the code has 'A562', the declared birthplace has H501");
  p.birthplace_codes = {"H501", "A562"};  // a comune that changed code: either is right
  EXPECT_EQ(message(p), "");
  p = Mario();
  p.surname = "R0ssi";
  EXPECT_EQ(message(p), "surname: character '0' is not a letter, space, apostrophe, dot or dash");
}

TEST(CodiceFiscaleMatches, OmocodiaAndAccentsStillMatch) {
  std::string cf = "RSSMRAURT10A562";  // 85 -> UR (omocodia on the year)
  cf += CodiceFiscaleCheckCharacter(cf);
  ASSERT_TRUE(ValidateCodiceFiscale(cf).ok()) << ValidateCodiceFiscale(cf);
  EXPECT_TRUE(CheckCodiceFiscaleMatches(cf, Mario()).ok())
      << CheckCodiceFiscaleMatches(cf, Mario());
  // Nicolò Dell'Àcqua, woman born 1 February 2000 in Milano (F205).
  std::string nicole =
      SurnameCode(*FoldName("Dell'Àcqua")) + NameCode(*FoldName("Nicolò")) + "00B41F205";
  nicole += CodiceFiscaleCheckCharacter(nicole);
  EXPECT_EQ(nicole.substr(0, 6), "DLLNCL");
  EXPECT_TRUE(CheckCodiceFiscaleMatches(nicole, {.surname = "Dell'Àcqua",
                                                 .name = "Nicolò",
                                                 .birth_date = std::chrono::year(2000) / 2 / 1,
                                                 .sex = Sex::kFemale,
                                                 .birthplace_codes = {"F205"}})
                  .ok());
}

}  // namespace
}  // namespace tessera::identity
