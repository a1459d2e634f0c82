// Bulk census import: a spreadsheet saved as CSV (platform/csv.h), one row per user with the
// comune's general data repeated on each of its rows, any number of comuni in one file.
// Every error is reported with its line and column, all of them, not only the first; the
// caller keeps nothing of a file with any error. The layout is in README "Bulk census import".
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "mail/personal_email.h"
#include "registry/census.h"
#include "registry/census_rules.h"
#include "registry/reference_data.h"

namespace tessera::registry {

// The columns, in order, as the header must name them.
const std::vector<std::string>& CensusImportColumns();

struct ParsedImport {
  std::vector<ComuneCensus> censuses;  // in the order of their first row
  // Where each census and user came from, to report validation errors on lines and columns.
  std::vector<int> census_lines;             // first line of each census
  std::vector<std::vector<int>> user_lines;  // line of each user, per census
};

// Reads the file into censuses. Cell-level problems (a date that is no date, an unknown
// profile label, general data that differs between two rows of one comune) are collected in
// `errors`; a file that cannot be read at all (not UTF-8, wrong header, truncated) is the
// returned status.
absl::StatusOr<ParsedImport> ParseCensusImport(std::string_view text,
                                               std::vector<Violation>& errors);

// Where a validator error ("users[2].codice_fiscale") of census `index` sits in the file.
Violation Locate(const ParsedImport& parsed, size_t index, const Violation& error);

// Validates every census of the file against the reference data, the comuni's declarations
// and every census rule (normalizing codici fiscali and e-mails in place), and adds every
// error, located on its line and column, to `errors` (which holds the parse errors: a cell
// that already has one gets no second), sorted by line.
void ValidateImport(ParsedImport& parsed, const ReferenceIndex& reference,
                    const std::map<std::string, ComuneDeclaration>& declarations,
                    const mail::PersonalEmailRules& email_rules,
                    std::shared_ptr<const AcceptedMismatches> accepted,
                    std::chrono::year_month_day today, std::vector<Violation>& errors);

// "line 12, codice_fiscale: check character is 'X', expected 'W'"; a table for people.
// A violation in the import's words: "line 3, email_personale: rule" ("file" for line 0).
std::string FormatInFile(const Violation& violation);

}  // namespace tessera::registry
