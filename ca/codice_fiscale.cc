#include "ca/codice_fiscale.h"

#include <array>
#include <cctype>

#include "absl/strings/str_cat.h"

namespace tessera::ca {
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

}  // namespace tessera::ca
