#include "registry/census_rules.h"

#include <algorithm>
#include <cctype>
#include <regex>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "identity/codice_fiscale.h"
#include "platform/status_macros.h"

namespace tessera::registry {
namespace {

absl::Status Rule(const std::string& rule) { return absl::InvalidArgumentError(rule); }

// Nothing but spaces and tabs: a value not given.
bool Blank(std::string_view value) {
  return value.find_first_not_of(" \t") == std::string_view::npos;
}

bool AllDigits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

const Profile* FindProfile(const std::string& code) {
  for (const Profile& p : Profiles()) {
    if (code == p.code) return &p;
  }
  return nullptr;
}

bool Has(const CensusUser& user, const char* profile) {
  return std::find(user.profiles.begin(), user.profiles.end(), profile) != user.profiles.end();
}

}  // namespace

const std::vector<Profile>& Profiles() {
  static const std::vector<Profile> kProfiles = {
      {kAccessoWeb, "Accesso Web", CensusKind::kComune},
      {kSindacoDelegato, "Sindaco/Delegato", CensusKind::kComune},
      {kAmministratorePostazioni, "Amministratore Postazioni", CensusKind::kComune},
      {"operatore_consultazione", "Operatore Consultazione", CensusKind::kComune},
      {"operatore_estrazione", "Operatore Estrazione", CensusKind::kComune},
      {"operatore_iscrizione", "Operatore Iscrizione", CensusKind::kComune},
      {"operatore_mutazione", "Operatore Mutazione", CensusKind::kComune},
      {"operatore_annullamento", "Operatore Annullamento", CensusKind::kComune},
      {"operatore_cancellazione", "Operatore Cancellazione", CensusKind::kComune},
      {"supervisore", "Supervisore", CensusKind::kComune},
      {"operatore_ci", "Operatore C.I.", CensusKind::kComune},
      {"operatore_subentro", "Operatore Subentro", CensusKind::kComune},
      {"operatore_certificazione", "Operatore Certificazione", CensusKind::kComune},
      {"operatore_amm_monitoraggio", "Operatore Amm. Monitoraggio", CensusKind::kComune},
      {kAmministratoreSicurezza, "Amministratore Sicurezza", CensusKind::kPrefettura},
      {"amministratore_postazioni_prefettura", "Amministratore Postazioni",
       CensusKind::kPrefettura},
      {"operatore_monitoraggio_operazioni", "Operatore Monitoraggio Operazioni",
       CensusKind::kPrefettura},
      {"operatore_monitoraggio_subentro_anomalie", "Operatore Monitoraggio Subentro Anomalie",
       CensusKind::kPrefettura},
  };
  return kProfiles;
}

const char* CensusKindName(CensusKind kind) {
  return kind == CensusKind::kComune ? "comune" : "prefettura";
}

CensusKind CensusKindOf(const access::Office& office) {
  return office.kind == access::Office::Kind::kComune ? CensusKind::kComune
                                                      : CensusKind::kPrefettura;
}

std::string OfficeCode(CensusKind kind, const std::string& owner) {
  return kind == CensusKind::kComune ? owner : owner + "000";
}

CensusOwner CensusOwnerOf(const std::string& office) {
  if (office.size() == 6 && office.ends_with("000")) {
    return {CensusKind::kPrefettura, office.substr(0, 3)};
  }
  return {CensusKind::kComune, office};
}

const Profile* ProfileNamed(std::string_view name, CensusKind kind) {
  // Lower case, runs of spaces as one, none around '/'.
  std::string wanted;
  bool space = false;
  for (char c : name) {
    if (c == ' ' || c == '\t') {
      space = !wanted.empty() && wanted.back() != '/';
      continue;
    }
    if (space && c != '/') wanted += ' ';
    space = false;
    wanted += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  // Other labels the seeds write for the same profile.
  static const std::vector<std::pair<std::string_view, std::string_view>> kAliases = {
      {"sindaco", kSindacoDelegato}, {"sindaco o delegato", kSindacoDelegato}};
  for (const auto& [alias, code] : kAliases) {
    if (wanted == alias) wanted = code;
  }
  for (const Profile& p : Profiles()) {
    if (p.kind != kind) continue;
    if (wanted == p.code || wanted == absl::AsciiStrToLower(p.label)) return &p;
  }
  return nullptr;
}

bool GetsCard(const CensusUser& user, CensusKind kind) {
  return kind == CensusKind::kPrefettura || Has(user, kAccessoWeb) || Has(user, kSindacoDelegato);
}

absl::Status CheckRequiredText(std::string_view value, size_t max_length) {
  if (Blank(value)) return Rule("is required");
  if (value.size() > max_length) return Rule(absl::StrCat("at most ", max_length, " characters"));
  for (char c : value) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7F) {
      return Rule("must not contain control characters or line breaks");
    }
  }
  // A spreadsheet would run a cell that starts like a formula when the data goes back to one.
  if (std::string_view("=+-@").find(value.front()) != std::string_view::npos) {
    return Rule("must not start with = + - or @ (a spreadsheet formula)");
  }
  return absl::OkStatus();
}

absl::Status CheckCap(std::string_view cap) {
  if (cap.size() != 5 || !AllDigits(cap)) return Rule("a CAP is 5 digits");
  return absl::OkStatus();
}

absl::Status CheckPhone(std::string_view phone) {
  static const std::regex kPhone("\\+?[0-9][0-9 ]*");
  const std::string text(phone);
  const size_t digits = std::count_if(text.begin(), text.end(), ::isdigit);
  if (!std::regex_match(text, kPhone) || digits < 6 || digits > 15) {
    return Rule("a phone number is 6 to 15 digits, optionally after + and with spaces");
  }
  return absl::OkStatus();
}

std::string NormalizePhone(std::string_view phone) {
  std::string out;
  bool separator = false;
  for (char c : phone) {
    if (c == ' ' || c == '-' || c == '/' || c == '.' || c == '\t') {
      separator = !out.empty();
      continue;
    }
    if (separator) out += ' ';
    separator = false;
    out += c;
  }
  return out;
}

absl::Status CheckPartitaIva(std::string_view vat) {
  if (vat.size() != 11 || !AllDigits(vat)) return Rule("a partita IVA is 11 digits");
  // Check digit: digits in odd positions summed, in even positions doubled (minus 9 if > 9).
  int sum = 0;
  for (int i = 0; i < 10; ++i) {
    int d = vat[i] - '0';
    if (i % 2 == 1) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  const int check = (10 - sum % 10) % 10;
  if (vat[10] - '0' != check) {
    return Rule(absl::StrCat("check digit is ", std::string(1, vat[10]), ", expected ", check));
  }
  return absl::OkStatus();
}

absl::Status CheckAddressSyntax(std::string_view address) {
  static const std::regex kAddress(
      "[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*@"
      "([A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?\\.)+[A-Za-z]{2,63}");
  if (address.size() > 254 || !std::regex_match(std::string(address), kAddress)) {
    return Rule("not an e-mail address like protocollo@comune.it");
  }
  return absl::OkStatus();
}

absl::Status CheckSex(std::string_view sex) {
  if (sex != "M" && sex != "F") return Rule("M or F");
  return absl::OkStatus();
}

absl::Status CheckSigla(std::string_view sigla) {
  if (sigla.size() != 2 || !std::isupper(static_cast<unsigned char>(sigla[0])) ||
      !std::isupper(static_cast<unsigned char>(sigla[1]))) {
    return Rule("a province sigla is 2 capital letters (EE for a foreign state)");
  }
  return absl::OkStatus();
}

absl::Status CheckBirthDate(std::chrono::year_month_day birth_date,
                            std::chrono::year_month_day today) {
  using std::chrono::years;
  if (!birth_date.ok()) return Rule("not a date");
  if (birth_date.year() < std::chrono::year(1900)) return Rule("before 1900");
  std::chrono::year_month_day limit = today - years(16);
  if (!limit.ok()) limit = limit.year() / limit.month() / std::chrono::last;  // 29 Feb
  if (std::chrono::sys_days(birth_date) > std::chrono::sys_days(limit)) {
    return Rule("an operator is at least 16 years old");
  }
  return absl::OkStatus();
}

absl::Status CheckProfiles(const std::vector<std::string>& profiles, CensusKind kind) {
  if (profiles.empty()) return Rule("at least one profile");
  std::set<std::string> seen;
  for (const std::string& code : profiles) {
    const Profile* profile = FindProfile(code);
    if (profile == nullptr || profile->kind != kind) {
      std::vector<std::string> known;
      for (const Profile& p : Profiles()) {
        if (p.kind == kind) known.push_back(p.code);
      }
      return Rule(absl::StrCat("'", code, "' is not a ", CensusKindName(kind), " profile (",
                               absl::StrJoin(known, ", "), ")"));
    }
    if (!seen.insert(code).second) return Rule(absl::StrCat("'", code, "' appears twice"));
  }
  if (seen.contains(kSindacoDelegato) && seen.size() > 1) {
    return Rule("Sindaco/Delegato excludes every other profile");
  }
  return absl::OkStatus();
}

absl::Status CheckComuneWorkstations(int workstations, int declared) {
  if (workstations < 2) {
    return Rule(
        "at least 2: one is the comune's server (progressive 0099), and the mayor's first login "
        "needs a workstation certificate besides it");
  }
  if (workstations > declared + 1) {
    return Rule(absl::StrCat("at most ", declared + 1, ": the ", declared,
                             " declared in the monitoring sheet plus the comune's server"));
  }
  return absl::OkStatus();
}

absl::Status CheckPrefetturaWorkstations(int workstations) {
  if (workstations < 1 || workstations > 5) return Rule("a prefettura has 1 to 5 workstations");
  return absl::OkStatus();
}

absl::Status CheckCardHolders(int card_holders, int declared_employees) {
  if (card_holders < 1) return Rule("at least one user must get a card (Accesso Web)");
  if (card_holders > declared_employees) {
    return Rule(absl::StrCat(card_holders, " users would get a card; at most ", declared_employees,
                             ", the employees declared in the monitoring sheet"));
  }
  return absl::OkStatus();
}

absl::Status CheckOneSindaco(const std::vector<CensusUser>& users) {
  const auto count = std::count_if(users.begin(), users.end(),
                                   [](const CensusUser& u) { return Has(u, kSindacoDelegato); });
  if (count != 1) {
    return Rule(absl::StrCat("exactly one user is Sindaco/Delegato, the census has ", count));
  }
  return absl::OkStatus();
}

absl::Status CheckPrefetturaUsers(const std::vector<CensusUser>& users) {
  if (users.empty() || users.size() > 5) return Rule("a prefettura has 1 to 5 users");
  auto any = [&](const char* profile) {
    return std::any_of(users.begin(), users.end(),
                       [&](const CensusUser& u) { return Has(u, profile); });
  };
  if (!any(kAmministratoreSicurezza)) return Rule("at least one Amministratore Sicurezza");
  if (!any("amministratore_postazioni_prefettura")) {
    return Rule("at least one Amministratore Postazioni");
  }
  return absl::OkStatus();
}

absl::Status CheckCensusWindow(std::chrono::year_month_day today,
                               std::chrono::year_month_day switch_over) {
  using std::chrono::months;
  std::chrono::year_month_day opens = switch_over - months(2);
  if (!opens.ok()) opens = opens.year() / opens.month() / std::chrono::last;  // 31 Dec -> 31 Oct
  if (std::chrono::sys_days(today) < std::chrono::sys_days(opens)) {
    return Rule(absl::StrCat("the census opens two months before the switch-over, on ",
                             static_cast<int>(opens.year()), "-",
                             absl::Dec(static_cast<unsigned>(opens.month()), absl::kZeroPad2), "-",
                             absl::Dec(static_cast<unsigned>(opens.day()), absl::kZeroPad2)));
  }
  return absl::OkStatus();
}

absl::Status ToStatus(const std::vector<Violation>& errors) {
  if (errors.empty()) return absl::OkStatus();
  std::vector<std::string> parts;
  for (const Violation& e : errors) {
    parts.push_back(e.field.empty() ? e.rule : absl::StrCat(e.field, ": ", e.rule));
  }
  return absl::InvalidArgumentError(absl::StrJoin(parts, "; "));
}

absl::Status CensusValidator::ValidateUser(CensusUser& user, const std::string& path,
                                           std::chrono::year_month_day today, Stage stage,
                                           std::vector<Violation>& errors) {
  const bool draft = stage == Stage::kDraft;
  // A draft's empty value is not checked (it may be filled in later); a set one always is.
  auto check = [&](const char* field, bool blank, const absl::Status& status) {
    if (draft && blank) return false;
    if (!status.ok())
      errors.push_back({absl::StrCat(path, ".", field), std::string(status.message())});
    return status.ok();
  };
  // A name is text a codice fiscale can be read from: letters, spaces, apostrophes, dots, dashes.
  auto person_name = [](const std::string& value) {
    TESSERA_RETURN_IF_ERROR(CheckRequiredText(value, 100));
    return identity::FoldName(value).status();
  };
  user.sex = absl::AsciiStrToUpper(user.sex);
  user.birth_province = absl::AsciiStrToUpper(user.birth_province);
  const bool name_ok = check("name", Blank(user.name), person_name(user.name));
  const bool surname_ok = check("surname", Blank(user.surname), person_name(user.surname));
  const bool birth_ok = check("birth_date", user.birth_date == std::chrono::year_month_day{},
                              CheckBirthDate(user.birth_date, today));
  const bool place_ok =
      check("birth_place", Blank(user.birth_place), CheckRequiredText(user.birth_place, 100));
  const bool sigla_ok =
      check("birth_province", Blank(user.birth_province), CheckSigla(user.birth_province));
  const bool sex_ok = check("sex", Blank(user.sex), CheckSex(user.sex));
  if (!(draft && Blank(user.email))) {
    absl::StatusOr<std::string> email = email_rules_.Check(user.email);
    if (check("email", false, email.status())) user.email = *email;
  }

  user.codice_fiscale = identity::NormalizeCodiceFiscale(user.codice_fiscale);
  if (!check("codice_fiscale", user.codice_fiscale.empty(),
             identity::ValidateCodiceFiscale(user.codice_fiscale))) {
    return absl::OkStatus();
  }
  // The consistency checks need the data they compare with to be sound (and, in a draft,
  // present) first.
  if (!name_ok || !surname_ok || !birth_ok || !place_ok || !sigla_ok || !sex_ok) {
    return absl::OkStatus();
  }
  TESSERA_ASSIGN_OR_RETURN(std::vector<std::string> codes,
                           birthplaces_(user.birth_place, user.birth_province));
  if (codes.empty()) {
    errors.push_back({path + ".birth_place",
                      absl::StrCat("'", user.birth_place, "' (", user.birth_province,
                                   ") is no comune or foreign state in the reference list")});
    return absl::OkStatus();
  }
  // A part the code does not match is named on that part's field; the Ministry may have
  // accepted it for this code (the Agenzia delle Entrate issued it so).
  const std::vector<identity::CodeMismatch> mismatches = identity::CodiceFiscaleMismatches(
      user.codice_fiscale, {.surname = user.surname,
                            .name = user.name,
                            .birth_date = user.birth_date,
                            .sex = user.sex == "F" ? identity::Sex::kFemale : identity::Sex::kMale,
                            .birthplace_codes = codes});
  const std::set<std::string>* accepted = nullptr;
  if (accepted_ != nullptr) {
    auto it = accepted_->find(user.codice_fiscale);
    if (it != accepted_->end()) accepted = &it->second;
  }
  for (const identity::CodeMismatch& m : mismatches) {
    if (accepted != nullptr && accepted->contains(m.part)) continue;
    errors.push_back({absl::StrCat(path, ".", m.part == "birthplace" ? "birth_place" : m.part),
                      absl::StrCat("does not match the codice fiscale (", m.rule,
                                   "); if the Agenzia delle Entrate issued the code so, the "
                                   "Ministry can accept the mismatch")});
  }
  return absl::OkStatus();
}

namespace {

void Add(std::vector<Violation>& errors, const std::string& field, const absl::Status& status) {
  if (!status.ok()) errors.push_back({field, std::string(status.message())});
}

// A value's check, unless it is a draft's empty value.
void AddUnlessUnset(std::vector<Violation>& errors, Stage stage, const std::string& field,
                    std::string_view value, const absl::Status& status) {
  if (stage == Stage::kDraft && Blank(value)) return;
  Add(errors, field, status);
}

// The contact data a comune and a prefettura both declare (phone numbers normalized).
void CheckContacts(Contacts& c, Stage stage, std::vector<Violation>& errors) {
  c.phone = NormalizePhone(c.phone);
  c.fax = NormalizePhone(c.fax);
  AddUnlessUnset(errors, stage, "address", c.address, CheckRequiredText(c.address, 200));
  AddUnlessUnset(errors, stage, "cap", c.cap, CheckCap(c.cap));
  AddUnlessUnset(errors, stage, "phone", c.phone, CheckPhone(c.phone));
  AddUnlessUnset(errors, stage, "fax", c.fax, CheckPhone(c.fax));
  AddUnlessUnset(errors, stage, "email", c.email, CheckAddressSyntax(c.email));
  AddUnlessUnset(errors, stage, "pec", c.pec, CheckAddressSyntax(c.pec));
}

}  // namespace

absl::Status CensusValidator::ValidateUsers(std::vector<CensusUser>& users, CensusKind kind,
                                            std::chrono::year_month_day today, Stage stage,
                                            std::vector<Violation>& errors) {
  std::set<std::string> seen;  // person keys: two spellings of one code are one person
  for (size_t i = 0; i < users.size(); ++i) {
    CensusUser& user = users[i];
    const std::string path = absl::StrCat("users[", i, "]");
    TESSERA_RETURN_IF_ERROR(ValidateUser(user, path, today, stage, errors));
    if (!(stage == Stage::kDraft && user.profiles.empty())) {
      Add(errors, path + ".profiles", CheckProfiles(user.profiles, kind));
    }
    if (user.codice_fiscale.empty()) continue;  // a draft's user not identified yet
    const bool well_formed = identity::ValidateCodiceFiscale(user.codice_fiscale).ok();
    if (!seen.insert(well_formed ? identity::PersonKey(user.codice_fiscale) : user.codice_fiscale)
             .second) {
      errors.push_back({path + ".codice_fiscale", "the same person appears twice in this census"});
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<Violation>> CensusValidator::ValidateComune(
    ComuneCensus& c, const Comune& reference, const ComuneDeclaration& declaration,
    std::chrono::year_month_day today, Stage stage) {
  const bool draft = stage == Stage::kDraft;
  std::vector<Violation> errors;
  if (c.istat != reference.istat) {
    Add(errors, "istat", Rule(absl::StrCat("this census is for ", reference.istat)));
  }
  // The name as the reference list writes it, whatever the case or accents of the input.
  if (FoldPlaceName(c.name) == FoldPlaceName(reference.name)) {
    c.name = reference.name;
  } else if (!(draft && Blank(c.name))) {
    Add(errors, "name",
        Rule(absl::StrCat("the comune ", reference.istat, " is '", reference.name, "'")));
  }
  CheckContacts(c.contacts, stage, errors);
  AddUnlessUnset(errors, stage, "mayor_surname", c.mayor_surname,
                 CheckRequiredText(c.mayor_surname, 100));
  AddUnlessUnset(errors, stage, "mayor_name", c.mayor_name, CheckRequiredText(c.mayor_name, 100));
  AddUnlessUnset(errors, stage, "it_supplier", c.it_supplier,
                 CheckRequiredText(c.it_supplier, 200));
  AddUnlessUnset(errors, stage, "registry_software", c.registry_software,
                 CheckRequiredText(c.registry_software, 200));
  AddUnlessUnset(errors, stage, "vat_number", c.vat_number, CheckPartitaIva(c.vat_number));
  if (!(draft && c.workstations == 0)) {
    Add(errors, "workstations",
        CheckComuneWorkstations(c.workstations, declaration.declared_workstations));
  }
  if (!draft) Add(errors, "switch_over", CheckCensusWindow(today, declaration.switch_over));
  TESSERA_RETURN_IF_ERROR(ValidateUsers(c.users, CensusKind::kComune, today, stage, errors));
  const int card_holders =
      static_cast<int>(std::count_if(c.users.begin(), c.users.end(), [](const CensusUser& u) {
        return GetsCard(u, CensusKind::kComune);
      }));
  const auto sindaci = std::count_if(c.users.begin(), c.users.end(),
                                     [](const CensusUser& u) { return Has(u, kSindacoDelegato); });
  if (!draft) {
    Add(errors, "users", c.users.empty() ? Rule("at least one user") : CheckOneSindaco(c.users));
    Add(errors, "users", CheckCardHolders(card_holders, declaration.declared_employees));
  } else {  // what no later addition can mend
    if (sindaci > 1) Add(errors, "users", CheckOneSindaco(c.users));
    if (card_holders > declaration.declared_employees) {
      Add(errors, "users", CheckCardHolders(card_holders, declaration.declared_employees));
    }
  }
  return errors;
}

absl::StatusOr<std::vector<Violation>> CensusValidator::ValidatePrefettura(
    PrefetturaCensus& c, const std::string& province_name, std::chrono::year_month_day today,
    Stage stage) {
  const bool draft = stage == Stage::kDraft;
  std::vector<Violation> errors;
  c.province_sigla = absl::AsciiStrToUpper(c.province_sigla);
  Add(errors, "province_sigla", CheckSigla(c.province_sigla));
  if (FoldPlaceName(c.province) == FoldPlaceName(province_name)) {
    c.province = province_name;
  } else if (!(draft && Blank(c.province))) {
    Add(errors, "province",
        Rule(absl::StrCat("the province ", c.province_sigla, " is '", province_name, "'")));
  }
  CheckContacts(c.contacts, stage, errors);
  AddUnlessUnset(errors, stage, "prefect_surname", c.prefect_surname,
                 CheckRequiredText(c.prefect_surname, 100));
  AddUnlessUnset(errors, stage, "prefect_name", c.prefect_name,
                 CheckRequiredText(c.prefect_name, 100));
  if (!(draft && c.workstations == 0)) {
    Add(errors, "workstations", CheckPrefetturaWorkstations(c.workstations));
  }
  TESSERA_RETURN_IF_ERROR(ValidateUsers(c.users, CensusKind::kPrefettura, today, stage, errors));
  if (!draft || c.users.size() > 5) Add(errors, "users", CheckPrefetturaUsers(c.users));
  return errors;
}

absl::StatusOr<std::vector<Violation>> CensusValidator::ValidatePerson(
    CensusUser& user, const std::string& path, std::chrono::year_month_day today) {
  std::vector<Violation> errors;
  TESSERA_RETURN_IF_ERROR(ValidateUser(user, path, today, Stage::kSubmission, errors));
  return errors;
}

std::vector<Violation> DisagreementsWithRecord(const CensusUser& user, const PersonIdentity& record,
                                               const std::string& path) {
  auto folded = [](const std::string& text) {
    absl::StatusOr<std::string> f = identity::FoldName(text);
    return f.ok() ? *f : text;
  };
  std::vector<Violation> errors;
  auto compare = [&](const char* field, bool same) {
    if (same) return;
    errors.push_back({absl::StrCat(path, ".", field),
                      "differs from the person already on record for this codice fiscale "
                      "(declared by another office, whose data is not shown): check it against "
                      "the person's documents, or ask the Ministry to correct the record"});
  };
  compare("surname", folded(user.surname) == folded(record.surname));
  compare("name", folded(user.name) == folded(record.name));
  compare("birth_date", user.birth_date == record.birth_date);
  compare("sex", user.sex == record.sex);
  compare("birth_place", FoldPlaceName(user.birth_place) == FoldPlaceName(record.birth_place) &&
                             user.birth_province == record.birth_province);
  return errors;
}

}  // namespace tessera::registry
