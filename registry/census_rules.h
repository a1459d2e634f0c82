// The census rules (docs/process.md, README "Census rules"), one function each: OK, or
// INVALID_ARGUMENT whose message is the rule (without the field: CensusValidator puts
// "users[3].codice_fiscale: " in front). CensusValidator runs them all and returns every error, not
// only the first.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "mail/personal_email.h"
#include "registry/census.h"
#include "registry/reference_data.h"

namespace tessera::registry {

// --- single fields
absl::Status CheckRequiredText(std::string_view value, size_t max_length);
absl::Status CheckCap(std::string_view cap);      // 5 digits
absl::Status CheckPhone(std::string_view phone);  // 6-15 digits, optional +, spaces
// A phone number as tessera stores it: the separators people write (spaces, - / .) become one
// space each ("06-1234567", "06/1234567", "06.1234567" -> "06 1234567"), a leading + kept.
std::string NormalizePhone(std::string_view phone);
absl::Status CheckPartitaIva(std::string_view vat_number);  // 11 digits and its check digit
absl::Status CheckAddressSyntax(std::string_view address);  // an institutional e-mail or PEC
absl::Status CheckSex(std::string_view sex);                // M or F
absl::Status CheckSigla(std::string_view sigla);            // 2 capital letters, EE abroad
// Born at least 16 years before `today` and not before 1900.
absl::Status CheckBirthDate(std::chrono::year_month_day birth_date,
                            std::chrono::year_month_day today);

// --- a census as a whole
// Known profiles of this kind of census, at least one, none twice; Sindaco/Delegato alone.
absl::Status CheckProfiles(const std::vector<std::string>& profiles, CensusKind kind);
// A comune certifies its server and at least one workstation (2 or more), and at most the
// workstations it declared, plus one (its server).
absl::Status CheckComuneWorkstations(int workstations, int declared);
// A prefettura: 1 to 5 workstations.
absl::Status CheckPrefetturaWorkstations(int workstations);
// A comune's card holders: at least one, at most its declared employees.
absl::Status CheckCardHolders(int card_holders, int declared_employees);
// A comune has exactly one Sindaco/Delegato.
absl::Status CheckOneSindaco(const std::vector<CensusUser>& users);
// A prefettura: 1 to 5 users, at least one Amministratore Sicurezza and one Amministratore
// Postazioni.
absl::Status CheckPrefetturaUsers(const std::vector<CensusUser>& users);
// The census opens at most two months before the switch-over date.
absl::Status CheckCensusWindow(std::chrono::year_month_day today,
                               std::chrono::year_month_day switch_over);

// A rule broken, and where: the one violation type of censuses, drafts and census files.
struct Violation {
  // "users[3].codice_fiscale" in a census; in a census file the column ("codice_fiscale");
  // "" for the census or the file as a whole
  std::string field;
  std::string rule;
  int line = 0;  // a census file's line; 0 for a census sent without a file
};

// The parts of `user`'s identity that disagree with the person on record for the same code
// (surname, name: compared as the codice fiscale reads them, FoldName; birth date, sex,
// birthplace), each as an error on `path`.<field>. The rule never shows the recorded value:
// it was declared by another office.
std::vector<Violation> DisagreementsWithRecord(const CensusUser& user, const PersonIdentity& record,
                                               const std::string& path);

// INVALID_ARGUMENT listing every error ("field: rule; field: rule"), or OK if there is none.
absl::Status ToStatus(const std::vector<Violation>& errors);

// Codice fiscale -> the parts of its mismatch with its holder's data the Ministry accepted
// ("surname", "name", "birth_date", "sex", "birthplace", as identity::CodiceFiscaleMismatches
// names them; code_mismatches.h).
using AcceptedMismatches = std::map<std::string, std::set<std::string>>;

// Every cadastral code a birthplace has had (PgReferenceStore::BirthplaceCodes).
using BirthplaceLookup = std::function<absl::StatusOr<std::vector<std::string>>(
    const std::string& place, const std::string& sigla)>;

// When a census is checked: a draft may be incomplete (a value left empty is not checked, nor
// are the rules that need the whole census: one Sindaco, at least one card holder, at least
// one Amministratore), but every value it holds is normalized and checked as for submission;
// a submission must be complete. Upper bounds (workstations, card holders, users) hold for both.
enum class Stage { kDraft, kSubmission };

class CensusValidator {
 public:
  // `accepted`: mismatches between a code and its holder's data the Ministry accepted;
  // nullptr: none.
  CensusValidator(const mail::PersonalEmailRules& email_rules, BirthplaceLookup birthplaces,
                  std::shared_ptr<const AcceptedMismatches> accepted = nullptr)
      : email_rules_(email_rules),
        birthplaces_(std::move(birthplaces)),
        accepted_(std::move(accepted)) {}

  // Normalizes what has a canonical form (codice fiscale, e-mail, phone numbers, sex and
  // province sigla in capitals) in place and returns every rule the census breaks at `stage`.
  // A failing lookup is returned as the status. A submission is checked against the census
  // window too; a draft is not (the window is checked on the comune's calls).
  absl::StatusOr<std::vector<Violation>> ValidateComune(ComuneCensus& census,
                                                        const Comune& reference,
                                                        const ComuneDeclaration& declaration,
                                                        std::chrono::year_month_day today,
                                                        Stage stage = Stage::kSubmission);
  absl::StatusOr<std::vector<Violation>> ValidatePrefettura(PrefetturaCensus& census,
                                                            const std::string& province_name,
                                                            std::chrono::year_month_day today,
                                                            Stage stage = Stage::kSubmission);
  // One person outside any census (a Ministry operator): identity, codice fiscale and
  // personal mailbox, each error on `path`.<field>; `user.profiles` is not looked at.
  absl::StatusOr<std::vector<Violation>> ValidatePerson(CensusUser& user, const std::string& path,
                                                        std::chrono::year_month_day today);

 private:
  absl::Status ValidateUser(CensusUser& user, const std::string& path,
                            std::chrono::year_month_day today, Stage stage,
                            std::vector<Violation>& errors);
  // Every user, their profiles for this kind of census, and nobody twice.
  absl::Status ValidateUsers(std::vector<CensusUser>& users, CensusKind kind,
                             std::chrono::year_month_day today, Stage stage,
                             std::vector<Violation>& errors);

  const mail::PersonalEmailRules& email_rules_;
  BirthplaceLookup birthplaces_;
  std::shared_ptr<const AcceptedMismatches> accepted_;
};

}  // namespace tessera::registry
