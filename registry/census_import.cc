#include "registry/census_import.h"

#include <algorithm>
#include <regex>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "mail/personal_email.h"
#include "platform/clock.h"
#include "platform/csv.h"

namespace tessera::registry {
namespace {

// Columns of the comune's general data (the same on every row of one comune), then the user's.
enum Column {
  kIstat,
  kComune,
  kIndirizzo,
  kCap,
  kTelefono,
  kFax,
  kEmail,
  kPec,
  kCognomeSindaco,
  kNomeSindaco,
  kSocietaInformatica,
  kApplicazioneSoftware,
  kPartitaIva,
  kPostazioni,
  kNome,
  kCognome,
  kCodiceFiscale,
  kDataNascita,
  kLuogoNascita,
  kProvinciaNascita,
  kSesso,
  kEmailPersonale,
  kProfili,
  kColumnCount
};
constexpr int kFirstUserColumn = kNome;

// Census field names (as the validator reports them) -> import columns.
const std::map<std::string, Column>& FieldColumns() {
  static const std::map<std::string, Column> kMap = {{"istat", kIstat},
                                                     {"name", kComune},
                                                     {"address", kIndirizzo},
                                                     {"cap", kCap},
                                                     {"phone", kTelefono},
                                                     {"fax", kFax},
                                                     {"email", kEmail},
                                                     {"pec", kPec},
                                                     {"mayor_surname", kCognomeSindaco},
                                                     {"mayor_name", kNomeSindaco},
                                                     {"it_supplier", kSocietaInformatica},
                                                     {"registry_software", kApplicazioneSoftware},
                                                     {"vat_number", kPartitaIva},
                                                     {"workstations", kPostazioni}};
  return kMap;
}
const std::map<std::string, Column>& UserFieldColumns() {
  static const std::map<std::string, Column> kMap = {{"name", kNome},
                                                     {"surname", kCognome},
                                                     {"codice_fiscale", kCodiceFiscale},
                                                     {"birth_date", kDataNascita},
                                                     {"birth_place", kLuogoNascita},
                                                     {"birth_province", kProvinciaNascita},
                                                     {"sex", kSesso},
                                                     {"email", kEmailPersonale},
                                                     {"profiles", kProfili}};
  return kMap;
}

// dd/mm/yyyy as Italian spreadsheets write dates, or ISO yyyy-mm-dd.
absl::StatusOr<std::chrono::year_month_day> ParseDate(const std::string& text) {
  static const std::regex kItalian("([0-9]{1,2})/([0-9]{1,2})/([0-9]{4})");
  std::smatch m;
  if (std::regex_match(text, m, kItalian)) {
    const std::chrono::year_month_day date{std::chrono::year(std::stoi(m[3])),
                                           std::chrono::month(std::stoi(m[2])),
                                           std::chrono::day(std::stoi(m[1]))};
    if (!date.ok()) return absl::InvalidArgumentError(absl::StrCat("'", text, "' does not exist"));
    return date;
  }
  absl::StatusOr<std::chrono::year_month_day> iso = ParseIsoDate(text);
  if (!iso.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("'", text, "' is not a date (dd/mm/yyyy or yyyy-mm-dd)"));
  }
  return iso;
}

// Profile codes or the forms' labels (ProfileNamed), separated by '|', ',' or ';', any case.
absl::StatusOr<std::vector<std::string>> ParseProfiles(const std::string& text) {
  std::vector<std::string> codes;
  for (absl::string_view item : absl::StrSplit(text, absl::ByAnyChar("|,;"), absl::SkipEmpty())) {
    const std::string wanted(absl::StripAsciiWhitespace(item));
    if (wanted.empty()) continue;
    const Profile* found = ProfileNamed(wanted, CensusKind::kComune);
    if (found == nullptr) {
      return absl::InvalidArgumentError(
          absl::StrCat("'", std::string(item), "' is not a comune profile"));
    }
    codes.push_back(found->code);
  }
  return codes;
}

}  // namespace

const std::vector<std::string>& CensusImportColumns() {
  static const std::vector<std::string> kColumns = {"istat",
                                                    "comune",
                                                    "indirizzo",
                                                    "cap",
                                                    "telefono",
                                                    "fax",
                                                    "email",
                                                    "pec",
                                                    "cognome_sindaco",
                                                    "nome_sindaco",
                                                    "societa_informatica",
                                                    "applicazione_software",
                                                    "partita_iva",
                                                    "postazioni",
                                                    "nome",
                                                    "cognome",
                                                    "codice_fiscale",
                                                    "data_nascita",
                                                    "luogo_nascita",
                                                    "provincia_nascita",
                                                    "sesso",
                                                    "email_personale",
                                                    "profili"};
  return kColumns;
}

absl::StatusOr<ParsedImport> ParseCensusImport(std::string_view text,
                                               std::vector<Violation>& errors) {
  absl::StatusOr<csv::Table> table =
      csv::Parse(text, {.max_bytes = 64 << 20, .max_rows = 200'000, .max_field_bytes = 1024});
  if (!table.ok()) return table.status();
  if (absl::Status st = csv::CheckHeader(*table, CensusImportColumns()); !st.ok()) return st;
  if (table->rows.empty()) return absl::InvalidArgumentError("file: no rows after the header");

  ParsedImport parsed;
  std::map<std::string, size_t> index_of;            // ISTAT code -> census
  std::vector<std::vector<std::string>> first_rows;  // each census's first row, as written
  for (const csv::Row& row : table->rows) {
    const std::vector<std::string>& f = row.fields;
    auto error = [&](Column column, const std::string& rule) {
      errors.push_back({CensusImportColumns()[column], rule, row.line});
    };
    auto [it, added] = index_of.try_emplace(f[kIstat], parsed.censuses.size());
    if (added) {
      ComuneCensus c{.istat = f[kIstat],
                     .name = f[kComune],
                     .contacts = {.address = f[kIndirizzo],
                                  .cap = f[kCap],
                                  .phone = f[kTelefono],
                                  .fax = f[kFax],
                                  .email = f[kEmail],
                                  .pec = f[kPec]},
                     .mayor_surname = f[kCognomeSindaco],
                     .mayor_name = f[kNomeSindaco],
                     .it_supplier = f[kSocietaInformatica],
                     .registry_software = f[kApplicazioneSoftware],
                     .vat_number = f[kPartitaIva]};
      const std::string& count = f[kPostazioni];
      if (count.empty() || count.size() > 4 ||
          count.find_first_not_of("0123456789") != std::string::npos) {
        error(kPostazioni, "a whole number of workstations");
      } else {
        c.workstations = std::stoi(count);
      }
      parsed.censuses.push_back(std::move(c));
      first_rows.push_back(f);
      parsed.census_lines.push_back(row.line);
      parsed.user_lines.emplace_back();
    } else {
      // The general data repeats on every row of the comune: it must be the first row's.
      const std::vector<std::string>& first = first_rows[it->second];
      for (int column = kComune; column < kFirstUserColumn; ++column) {
        if (f[column] != first[column]) {
          error(static_cast<Column>(column),
                absl::StrCat("differs from line ", parsed.census_lines[it->second],
                             " for the same comune ", f[kIstat]));
        }
      }
    }
    CensusUser user{.name = f[kNome],
                    .surname = f[kCognome],
                    .codice_fiscale = f[kCodiceFiscale],
                    .birth_place = f[kLuogoNascita],
                    .birth_province = absl::AsciiStrToUpper(f[kProvinciaNascita]),
                    .sex = absl::AsciiStrToUpper(f[kSesso]),
                    .email = f[kEmailPersonale]};
    absl::StatusOr<std::chrono::year_month_day> birth = ParseDate(f[kDataNascita]);
    if (birth.ok()) {
      user.birth_date = *birth;
    } else {
      error(kDataNascita, std::string(birth.status().message()));
    }
    absl::StatusOr<std::vector<std::string>> profiles = ParseProfiles(f[kProfili]);
    if (profiles.ok()) {
      user.profiles = std::move(*profiles);
    } else {
      error(kProfili, std::string(profiles.status().message()));
    }
    parsed.censuses[it->second].users.push_back(std::move(user));
    parsed.user_lines[it->second].push_back(row.line);
  }
  return parsed;
}

Violation Locate(const ParsedImport& parsed, size_t index, const Violation& error) {
  static const std::regex kUserField("users\\[([0-9]+)\\]\\.([a-z_]+)");
  std::smatch m;
  if (std::regex_match(error.field, m, kUserField)) {
    const size_t user = std::stoul(m[1]);
    auto column = UserFieldColumns().find(m[2]);
    return {column == UserFieldColumns().end() ? std::string(m[2])
                                               : CensusImportColumns()[column->second],
            error.rule, parsed.user_lines[index].at(user)};
  }
  auto column = FieldColumns().find(error.field);
  const std::string where = column != FieldColumns().end()
                                ? CensusImportColumns()[column->second]
                                : (error.field.empty() ? "" : error.field);
  return {where,
          error.field == "users" || error.field == "switch_over" || error.field.empty()
              ? absl::StrCat("comune ", parsed.censuses[index].istat, ": ", error.rule)
              : error.rule,
          parsed.census_lines[index]};
}

void ValidateImport(ParsedImport& parsed, const ReferenceIndex& reference,
                    const std::map<std::string, ComuneDeclaration>& declarations,
                    const mail::PersonalEmailRules& email_rules,
                    std::shared_ptr<const AcceptedMismatches> accepted,
                    std::chrono::year_month_day today, std::vector<Violation>& errors) {
  CensusValidator validator(
      email_rules,
      [&](const std::string& place,
          const std::string& sigla) -> absl::StatusOr<std::vector<std::string>> {
        return reference.BirthplaceCodes(place, sigla);
      },
      std::move(accepted));
  std::set<std::pair<int, std::string>> reported;  // cells with a parse error already
  for (const Violation& e : errors) reported.insert({e.line, e.field});
  for (size_t i = 0; i < parsed.censuses.size(); ++i) {
    ComuneCensus& census = parsed.censuses[i];
    const Comune* comune = reference.FindComune(census.istat);
    if (comune == nullptr) {
      // A spreadsheet that treated the column as numbers drops the leading zero: say so.
      const bool lost_zero = !census.istat.empty() && census.istat.size() < 6 &&
                             census.istat.find_first_not_of("0123456789") == std::string::npos;
      errors.push_back(
          {"istat",
           absl::StrCat("'", census.istat, "' is no comune in the reference list",
                        lost_zero ? ": an ISTAT code has 6 digits (did the spreadsheet drop a "
                                    "leading zero? keep the column as text)"
                                  : ""),
           parsed.census_lines[i]});
      continue;
    }
    auto declaration = declarations.find(census.istat);
    if (declaration == declarations.end()) {
      errors.push_back({"istat",
                        absl::StrCat("comune ", census.istat,
                                     " has no declaration (monitoring sheet) on record"),
                        parsed.census_lines[i]});
      continue;
    }
    // The in-memory lookup cannot fail, so neither can the validation as a whole.
    absl::StatusOr<std::vector<Violation>> found =
        validator.ValidateComune(census, *comune, declaration->second, today);
    for (const Violation& e : found.value_or(std::vector<Violation>{})) {
      Violation located = Locate(parsed, i, e);
      if (!reported.contains({located.line, located.field})) {
        errors.push_back(std::move(located));
      }
    }
  }
  std::stable_sort(errors.begin(), errors.end(),
                   [](const Violation& a, const Violation& b) { return a.line < b.line; });
}

std::string FormatInFile(const Violation& e) {
  std::string where = e.line > 0 ? absl::StrCat("line ", e.line) : "file";
  if (!e.field.empty()) absl::StrAppend(&where, ", ", e.field);
  return absl::StrCat(where, ": ", e.rule);
}

}  // namespace tessera::registry
