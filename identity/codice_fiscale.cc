#include "identity/codice_fiscale.h"

#include <algorithm>

#include <array>
#include <cctype>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace tessera::identity {
namespace {

constexpr std::string_view kMonthLetters = "ABCDEHLMPRST";
// Omocodia replaces a digit d with kOmocodia[d].
constexpr std::string_view kOmocodia = "LMNPQRSTUV";
// Positions (0-based) that hold digits, unless replaced for omocodia.
constexpr std::array<int, 7> kDigitPositions = {6, 7, 9, 10, 12, 13, 14};
// Values of characters in odd positions (1st, 3rd, ... i.e. 0-based even), indexed by the
// digit value or the letter's index in the alphabet.
constexpr std::array<int, 26> kOddValues = {1,  0,  5, 7, 9, 13, 15, 17, 19, 21, 2,  4,  18,
                                            20, 11, 3, 6, 8, 12, 14, 16, 10, 22, 25, 24, 23};

int IndexOf(char c) { return std::isdigit(static_cast<unsigned char>(c)) ? c - '0' : c - 'A'; }

// The digit a position stands for, undoing omocodia; -1 if it is neither.
int DigitAt(std::string_view cf, int position) {
  const char c = cf[position];
  if (c >= '0' && c <= '9') return c - '0';
  const size_t replaced = kOmocodia.find(c);
  return replaced == std::string_view::npos ? -1 : static_cast<int>(replaced);
}

bool IsUpperLetter(char c) { return c >= 'A' && c <= 'Z'; }

}  // namespace

std::string NormalizeCodiceFiscale(std::string_view raw) {
  std::string out;
  for (char c : raw) {
    if (c == ' ' || c == '-') continue;
    out.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
  }
  return out;
}

char CodiceFiscaleCheckCharacter(std::string_view first15) {
  int sum = 0;
  for (int i = 0; i < 15; ++i) {
    const int index = IndexOf(first15[i]);
    sum += (i % 2 == 0) ? kOddValues[index] : index;
  }
  return static_cast<char>('A' + sum % 26);
}

absl::Status ValidateCodiceFiscale(std::string_view cf) {
  if (cf.size() != 16) {
    return absl::InvalidArgumentError(absl::StrCat("must be 16 characters, has ", cf.size()));
  }
  for (int i = 0; i < 16; ++i) {
    const char c = cf[i];
    if (!IsUpperLetter(c) && !(c >= '0' && c <= '9')) {
      return absl::InvalidArgumentError(
          absl::StrCat("character ", i + 1, " must be a letter A-Z or a digit"));
    }
  }
  for (int i : {0, 1, 2, 3, 4, 5, 8, 11, 15}) {
    if (!IsUpperLetter(cf[i])) {
      return absl::InvalidArgumentError(absl::StrCat("character ", i + 1, " must be a letter"));
    }
  }
  for (int i : kDigitPositions) {
    if (DigitAt(cf, i) < 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("character ", i + 1, " must be a digit or an omocodia letter (LMNPQRSTUV)"));
    }
  }
  if (kMonthLetters.find(cf[8]) == std::string_view::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat("month letter '", std::string(1, cf[8]), "' is not one of ABCDEHLMPRST"));
  }
  const int month = static_cast<int>(kMonthLetters.find(cf[8])) + 1;
  int day = DigitAt(cf, 9) * 10 + DigitAt(cf, 10);
  if (day > 40) day -= 40;  // women: day + 40
  const int year = DigitAt(cf, 6) * 10 + DigitAt(cf, 7);
  // The century is not in the code: February 29 is allowed in any year divisible by 4
  // (2000 was a leap year, 1900 is out of any living operator's range).
  static constexpr int kDaysInMonth[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  int max_day = kDaysInMonth[month - 1];
  if (month == 2 && year % 4 != 0) max_day = 28;
  if (day < 1 || day > max_day) {
    return absl::InvalidArgumentError(
        absl::StrCat("day ", DigitAt(cf, 9) * 10 + DigitAt(cf, 10), " is not valid for month ",
                     month, " (1-", max_day, " for men, 41-", 40 + max_day, " for women)"));
  }
  const char expected = CodiceFiscaleCheckCharacter(cf.substr(0, 15));
  if (cf[15] != expected) {
    return absl::InvalidArgumentError(absl::StrCat("check character is '", std::string(1, cf[15]),
                                                   "', expected '", std::string(1, expected), "'"));
  }
  return absl::OkStatus();
}

namespace {

// The base letter of each Latin letter with a diacritic, from U+00C0 to U+017F ('*' where the
// code point is no letter: × and ÷). Latin-1 Supplement and Latin Extended-A hold every
// letter of the names a census sees. Æ and Œ fold to their first letter plus E (below).
constexpr std::string_view kLatin1Base =
    "AAAAAAACEEEEIIII"   // U+00C0-00CF
    "DNOOOOO*OUUUUYTS"   // U+00D0-00DF
    "AAAAAAACEEEEIIII"   // U+00E0-00EF
    "DNOOOOO*OUUUUYTY";  // U+00F0-00FF
constexpr std::string_view kLatinExtendedABase =
    "AAAAAACCCCCCCCDDDDEEEEEEEEEEGGGGGGGGHHHHIIIIIIIIIIIIJJKKKLLLLLLL"   // U+0100-013F
    "LLLNNNNNNNNNOOOOOOOORRRRRRSSSSSSSSTTTTTTUUUUUUUUUUUUWWYYYZZZZZZS";  // U+0140-017F

bool IsVowel(char c) { return c == 'A' || c == 'E' || c == 'I' || c == 'O' || c == 'U'; }

std::string ThreeLetters(std::string consonants, const std::string& vowels) {
  std::string code = consonants + vowels + "XXX";
  return code.substr(0, 3);
}

void SplitLetters(std::string_view folded, std::string& consonants, std::string& vowels) {
  for (char c : folded) (IsVowel(c) ? vowels : consonants).push_back(c);
}

}  // namespace

absl::StatusOr<std::string> FoldName(std::string_view utf8) {
  std::string out;
  for (size_t i = 0; i < utf8.size();) {
    const unsigned char c = static_cast<unsigned char>(utf8[i]);
    if (c < 0x80) {
      ++i;
      if (std::isalpha(c)) {
        out.push_back(static_cast<char>(std::toupper(c)));
      } else if (c != ' ' && c != '\'' && c != '-' && c != '.') {
        return absl::InvalidArgumentError(
            absl::StrCat("character '", std::string(1, static_cast<char>(c)),
                         "' is not a letter, space, apostrophe, dot or dash"));
      }
      continue;
    }
    if (utf8.substr(i, 3) == "\xE2\x80\x99") {  // ’ typed for an apostrophe (D’Angelo)
      i += 3;
      continue;
    }
    // Two-byte UTF-8 sequences cover U+0080-07FF, where every Latin letter with a
    // diacritic lives; anything longer is not a Latin letter.
    if ((c & 0xE0) != 0xC0 || i + 1 >= utf8.size() ||
        (static_cast<unsigned char>(utf8[i + 1]) & 0xC0) != 0x80) {
      return absl::InvalidArgumentError(
          absl::StrCat("character at byte ", i + 1, " is not a Latin letter"));
    }
    const int code_point = ((c & 0x1F) << 6) | (static_cast<unsigned char>(utf8[i + 1]) & 0x3F);
    i += 2;
    char base = '*';
    if (code_point >= 0xC0 && code_point <= 0xFF) {
      base = kLatin1Base[code_point - 0xC0];
    } else if (code_point >= 0x100 && code_point <= 0x17F) {
      base = kLatinExtendedABase[code_point - 0x100];
    }
    if (base == '*') {
      return absl::InvalidArgumentError(
          absl::StrCat("character U+",
                       absl::AsciiStrToUpper(absl::StrCat(absl::Hex(code_point, absl::kZeroPad4))),
                       " is not a Latin letter"));
    }
    out.push_back(base);
    if (code_point == 0xC6 || code_point == 0xE6 || code_point == 0x152 || code_point == 0x153) {
      out.push_back('E');  // Æ æ Œ œ
    }
  }
  if (out.empty()) return absl::InvalidArgumentError("has no letters");
  return out;
}

std::string SurnameCode(std::string_view folded_surname) {
  std::string consonants, vowels;
  SplitLetters(folded_surname, consonants, vowels);
  return ThreeLetters(consonants, vowels);
}

std::string NameCode(std::string_view folded_name) {
  std::string consonants, vowels;
  SplitLetters(folded_name, consonants, vowels);
  if (consonants.size() >= 4) return {consonants[0], consonants[2], consonants[3]};
  return ThreeLetters(consonants, vowels);
}

std::string BirthCode(std::chrono::year_month_day birth_date, Sex sex) {
  const int year = static_cast<int>(birth_date.year()) % 100;
  const unsigned month = static_cast<unsigned>(birth_date.month());
  const unsigned day = static_cast<unsigned>(birth_date.day()) + (sex == Sex::kFemale ? 40 : 0);
  return absl::StrCat(absl::Dec(year, absl::kZeroPad2), std::string(1, kMonthLetters[month - 1]),
                      absl::Dec(day, absl::kZeroPad2));
}

std::string WithoutOmocodia(std::string_view cf) {
  std::string out(cf);
  for (int position : kDigitPositions) {
    const int digit = DigitAt(cf, position);
    if (digit >= 0) out[position] = static_cast<char>('0' + digit);
  }
  return out;
}

std::string PersonKey(std::string_view cf) { return WithoutOmocodia(cf.substr(0, 15)); }

std::string BirthplaceCode(std::string_view cf) { return WithoutOmocodia(cf).substr(11, 4); }

std::vector<CodeMismatch> CodiceFiscaleMismatches(std::string_view cf, const Person& person) {
  const std::string plain = WithoutOmocodia(cf);
  std::vector<CodeMismatch> out;
  auto differs = [&](const char* part, size_t at, size_t length, const std::string& declared,
                     const std::string& expected) {
    const std::string written = plain.substr(at, length);
    if (written != expected) {
      out.push_back({part, absl::StrCat("the code has '", written, "', '", declared, "' gives '",
                                        expected, "'")});
    }
  };
  absl::StatusOr<std::string> surname = FoldName(person.surname);
  absl::StatusOr<std::string> name = FoldName(person.name);
  if (!surname.ok()) {
    out.push_back({"surname", std::string(surname.status().message())});
  } else {
    differs("surname", 0, 3, person.surname, SurnameCode(*surname));
  }
  if (!name.ok()) {
    out.push_back({"name", std::string(name.status().message())});
  } else {
    differs("name", 3, 3, person.name, NameCode(*name));
  }
  if (!person.birth_date.ok()) {
    out.push_back({"birth_date", "not a date"});
  } else {
    const std::string birth = BirthCode(person.birth_date, person.sex);
    const std::string written = plain.substr(6, 5);
    if (written.substr(0, 3) != birth.substr(0, 3)) {
      out.push_back({"birth_date", absl::StrCat("the code has year and month '",
                                                written.substr(0, 3), "', the date gives '",
                                                birth.substr(0, 3), "'")});
    } else if (written.substr(3) != birth.substr(3)) {
      const bool other_sex =
          BirthCode(person.birth_date, person.sex == Sex::kMale ? Sex::kFemale : Sex::kMale)
              .substr(3) == written.substr(3);
      if (other_sex) {
        out.push_back({"sex", absl::StrCat("the code's day '", written.substr(3), "' is for ",
                                           person.sex == Sex::kMale ? "a woman" : "a man")});
      } else {
        out.push_back({"birth_date", absl::StrCat("the code has day '", written.substr(3),
                                                  "', the date and sex give '", birth.substr(3),
                                                  "'")});
      }
    }
  }
  const std::string place = BirthplaceCode(cf);
  if (std::find(person.birthplace_codes.begin(), person.birthplace_codes.end(), place) ==
      person.birthplace_codes.end()) {
    out.push_back(
        {"birthplace",
         absl::StrCat("the code has '", place, "', the declared birthplace has ",
                      person.birthplace_codes.empty() ? std::string("no known cadastral code")
                                                      : absl::StrJoin(person.birthplace_codes,
                                                                      ", "))});
  }
  return out;
}

absl::Status CheckCodiceFiscaleMatches(std::string_view cf, const Person& person) {
  const std::vector<CodeMismatch> mismatches = CodiceFiscaleMismatches(cf, person);
  if (mismatches.empty()) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat(mismatches.front().part, ": ", mismatches.front().rule));
}

}  // namespace tessera::identity
