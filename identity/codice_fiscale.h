// The Italian codice fiscale of a person: structure, month letter, day, birthplace code,
// omocodia and check character (the CA checks the CN of every operator certificate with
// these), and its consistency with the person it claims to describe: surname, name, birth
// date, sex and birthplace (the census checks every user with those).
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace tessera::identity {

// Upper case, spaces and dashes dropped: the only form tessera stores.
std::string NormalizeCodiceFiscale(std::string_view raw);

// The check character for the first 15 characters, as written (omocodia letters in place).
char CodiceFiscaleCheckCharacter(std::string_view first15);

// OK if `cf` (already normalized) is a well-formed codice fiscale; otherwise
// INVALID_ARGUMENT whose message names the rule, e.g. "check character is 'U', expected 'S'".
absl::Status ValidateCodiceFiscale(std::string_view cf);

// A name as the codice fiscale reads it: UTF-8 letters folded to A-Z (accents dropped: "Nicolò"
// -> "NICOLO"), apostrophes, spaces, dots and dashes removed. INVALID_ARGUMENT naming the
// character if one is neither a Latin letter nor one of those separators.
absl::StatusOr<std::string> FoldName(std::string_view utf8);

// The three letters for a surname: its consonants, then its vowels, then X ("Rossi" -> "RSS",
// "Fo" -> "FOX"). `surname` as FoldName returns it.
std::string SurnameCode(std::string_view folded_surname);
// The three letters for a first name: with four or more consonants the 1st, 3rd and 4th
// ("Gianfranco" -> "GFR"), otherwise as for a surname.
std::string NameCode(std::string_view folded_name);

enum class Sex { kMale, kFemale };

// Characters 7-11: year (2 digits), month letter, day (+40 for women): 1985-12-10 M -> "85T10".
std::string BirthCode(std::chrono::year_month_day birth_date, Sex sex);

// `cf` with omocodia undone: the digit positions hold digits again (the check character is left
// as written). For comparing a code with what a person's data give.
std::string WithoutOmocodia(std::string_view cf);

// The person a code names: its first 15 characters with omocodia undone (the check character
// dropped), so every spelling of one code gives the same key. Registries compare people on it.
std::string PersonKey(std::string_view cf);

// Characters 12-15 with omocodia undone: the cadastral code of the birthplace ("A562", "Z404").
std::string BirthplaceCode(std::string_view cf);

// What the census declares about a person, for the consistency checks.
struct Person {
  std::string surname;  // UTF-8, as declared
  std::string name;
  std::chrono::year_month_day birth_date;
  Sex sex = Sex::kMale;
  // Every cadastral code the declared birthplace has had (a comune may have changed code,
  // e.g. after a merger): the codice fiscale must carry one of them.
  std::vector<std::string> birthplace_codes;
};

// A part of the person the well-formed, normalized `cf` does not match: "surname", "name",
// "birth_date", "sex" or "birthplace", and how ("the code has 'RSS', 'Bianchi' gives 'BNC'").
struct CodeMismatch {
  std::string part;
  std::string rule;
};
// Every part that does not match, in that order (none: the code describes the person).
std::vector<CodeMismatch> CodiceFiscaleMismatches(std::string_view cf, const Person& person);

// OK if the well-formed, normalized `cf` matches `person`; otherwise INVALID_ARGUMENT naming
// the first part that does not, e.g. "surname: the code has 'RSS', 'Bianchi' gives 'BNC'".
absl::Status CheckCodiceFiscaleMatches(std::string_view cf, const Person& person);

}  // namespace tessera::identity
