// Every census rule on its own, then the validator on whole censuses (birthplaces from a
// small in-memory list: the PostgreSQL lookup has its own test).
#include "registry/census_rules.h"

#include <gtest/gtest.h>

#include <map>
#include <set>

#include "tests/support/sample_census.h"

namespace tessera::registry {
namespace {

using std::chrono::year;

std::string Message(const absl::Status& status) {
  EXPECT_TRUE(status.ok() || status.code() == absl::StatusCode::kInvalidArgument) << status;
  return std::string(status.message());
}

TEST(CensusRules, SingleFields) {
  EXPECT_EQ(Message(CheckRequiredText("Via Roma 1", 200)), "");
  EXPECT_EQ(Message(CheckRequiredText("  ", 200)), "is required");
  EXPECT_EQ(Message(CheckRequiredText("abc", 2)), "at most 2 characters");
  EXPECT_EQ(Message(CheckRequiredText("a\nb", 9)),
            "must not contain control characters or line breaks");
  EXPECT_EQ(Message(CheckRequiredText("=cmd|' /C calc'!A0", 99)),
            "must not start with = + - or @ (a spreadsheet formula)");
  EXPECT_EQ(Message(CheckRequiredText("Robert'); DROP TABLE users;--", 99)), "");  // just a name
  EXPECT_EQ(Message(CheckCap("00100")), "");
  EXPECT_EQ(Message(CheckCap("0010")), "a CAP is 5 digits");
  EXPECT_EQ(Message(CheckPhone("+39 06 1234567")), "");
  EXPECT_NE(Message(CheckPhone("06-1234567")), "");  // NormalizePhone first
  EXPECT_NE(Message(CheckPhone("12345")), "");
  EXPECT_EQ(Message(CheckPartitaIva("02438750586")), "");  // a real partita IVA (Comune di Roma)
  EXPECT_EQ(Message(CheckPartitaIva("02438750587")), "check digit is 7, expected 6");
  EXPECT_EQ(Message(CheckPartitaIva("1111111111")), "a partita IVA is 11 digits");
  EXPECT_EQ(Message(CheckAddressSyntax("protocollo@pec.comune.roma.it")), "");
  EXPECT_NE(Message(CheckAddressSyntax("protocollo@")), "");
  EXPECT_EQ(Message(CheckSex("F")), "");
  EXPECT_EQ(Message(CheckSex("f")), "M or F");
  EXPECT_EQ(Message(CheckSigla("EE")), "");
  EXPECT_NE(Message(CheckSigla("Rm")), "");
  const auto today = year(2026) / 11 / 23;
  EXPECT_EQ(Message(CheckBirthDate(year(1985) / 12 / 10, today)), "");
  EXPECT_EQ(Message(CheckBirthDate(year(2010) / 12 / 10, today)),
            "an operator is at least 16 years old");
  EXPECT_EQ(Message(CheckBirthDate(year(1899) / 12 / 31, today)), "before 1900");
  EXPECT_EQ(Message(CheckBirthDate(year(1985) / 2 / 30, today)), "not a date");
  // 29 February: sixteen years before is 28 February (or 29 in a leap year).
  EXPECT_EQ(Message(CheckBirthDate(year(2008) / 2 / 29, year(2024) / 2 / 29)), "");
}

TEST(CensusRules, PhoneNumbersAreStoredOneWay) {
  for (const char* written :
       {"06-1234567", "06/1234567", "06.1234567", "06  1234567", " 06 1234567"}) {
    EXPECT_EQ(NormalizePhone(written), "06 1234567") << written;
  }
  EXPECT_EQ(NormalizePhone("+39 06-123.4567"), "+39 06 123 4567");
  EXPECT_EQ(Message(CheckPhone(NormalizePhone("06/1234567"))), "");
}

TEST(CensusRules, ProfilesByTheLabelsTheSeedsUse) {
  for (const char* label : {"Sindaco", "Sindaco o Delegato", "Sindaco/Delegato",
                            "SINDACO / DELEGATO", "sindaco_delegato", "sindaco  o delegato"}) {
    const Profile* p = ProfileNamed(label, CensusKind::kComune);
    ASSERT_NE(p, nullptr) << label;
    EXPECT_EQ(std::string(p->code), kSindacoDelegato) << label;
  }
  EXPECT_EQ(std::string(ProfileNamed("accesso web", CensusKind::kComune)->code), kAccessoWeb);
  EXPECT_EQ(ProfileNamed("Sindaco", CensusKind::kPrefettura), nullptr);
  EXPECT_EQ(ProfileNamed("Sindaco e Delegato", CensusKind::kComune), nullptr);
}

TEST(CensusRules, AnIdentityThatDisagreesWithTheRecordNamesItsFieldsOnly) {
  const PersonIdentity record{
      "RSSMRA85T10H501O", "Rossi", "Mario", year(1985) / 12 / 10, "ROMA", "RM", "M"};
  CensusUser same{.name = "MARIO",
                  .surname = "rossi",
                  .codice_fiscale = "RSSMRA85T10H501O",
                  .birth_date = year(1985) / 12 / 10,
                  .birth_place = "Roma",
                  .birth_province = "RM",
                  .sex = "M"};
  EXPECT_TRUE(DisagreementsWithRecord(same, record, "users[0]").empty());
  CensusUser other = same;
  other.surname = "Russo";
  other.birth_date = year(1985) / 12 / 11;
  const auto errors = DisagreementsWithRecord(other, record, "users[2]");
  ASSERT_EQ(errors.size(), 2u);
  EXPECT_EQ(errors[0].field, "users[2].surname");
  EXPECT_EQ(errors[1].field, "users[2].birth_date");
  EXPECT_EQ(errors[0].rule.find("Rossi"), std::string::npos) << errors[0].rule;
}

TEST(CensusRules, Profiles) {
  EXPECT_EQ(Message(CheckProfiles({kAccessoWeb, "operatore_consultazione"}, CensusKind::kComune)),
            "");
  EXPECT_EQ(Message(CheckProfiles({kSindacoDelegato}, CensusKind::kComune)), "");
  EXPECT_EQ(Message(CheckProfiles({kSindacoDelegato, kAccessoWeb}, CensusKind::kComune)),
            "Sindaco/Delegato excludes every other profile");
  EXPECT_EQ(Message(CheckProfiles({}, CensusKind::kComune)), "at least one profile");
  EXPECT_EQ(Message(CheckProfiles({kAccessoWeb, kAccessoWeb}, CensusKind::kComune)),
            "'accesso_web' appears twice");
  EXPECT_NE(Message(CheckProfiles({kAmministratoreSicurezza}, CensusKind::kComune))
                .find("'amministratore_sicurezza' is not a comune profile"),
            std::string::npos);
  EXPECT_NE(Message(CheckProfiles({kAccessoWeb}, CensusKind::kPrefettura))
                .find("is not a prefettura profile"),
            std::string::npos);
}

TEST(CensusRules, CountsAndWindow) {
  EXPECT_EQ(Message(CheckComuneWorkstations(6, 5)), "");
  EXPECT_EQ(Message(CheckComuneWorkstations(7, 5)),
            "at most 6: the 5 declared in the monitoring sheet plus the comune's server");
  EXPECT_EQ(Message(CheckComuneWorkstations(0, 5)),
            "at least 2: one is the comune's server (progressive 0099), and the mayor's first "
            "login needs a workstation certificate besides it");
  EXPECT_EQ(Message(CheckComuneWorkstations(1, 5)), Message(CheckComuneWorkstations(0, 5)));
  EXPECT_EQ(Message(CheckComuneWorkstations(2, 5)), "");
  EXPECT_EQ(Message(CheckPrefetturaWorkstations(5)), "");
  EXPECT_EQ(Message(CheckPrefetturaWorkstations(6)), "a prefettura has 1 to 5 workstations");
  EXPECT_EQ(Message(CheckCardHolders(3, 3)), "");
  EXPECT_EQ(Message(CheckCardHolders(4, 3)),
            "4 users would get a card; at most 3, the employees declared in the monitoring sheet");
  EXPECT_EQ(Message(CheckCensusWindow(year(2026) / 11 / 23, year(2027) / 1 / 23)), "");
  EXPECT_EQ(Message(CheckCensusWindow(year(2026) / 11 / 22, year(2027) / 1 / 23)),
            "the census opens two months before the switch-over, on 2026-11-23");
  EXPECT_EQ(Message(CheckCensusWindow(year(2026) / 10 / 30, year(2026) / 12 / 31)),
            "the census opens two months before the switch-over, on 2026-10-31");
  CensusUser admin{.profiles = {kAmministratoreSicurezza}};
  CensusUser stations{.profiles = {"amministratore_postazioni_prefettura"}};
  EXPECT_EQ(Message(CheckPrefetturaUsers({admin, stations})), "");
  EXPECT_EQ(Message(CheckPrefetturaUsers({admin})), "at least one Amministratore Postazioni");
  EXPECT_EQ(Message(CheckPrefetturaUsers({stations})), "at least one Amministratore Sicurezza");
  EXPECT_EQ(Message(CheckPrefetturaUsers({admin, stations, admin, admin, admin, admin})),
            "a prefettura has 1 to 5 users");
  EXPECT_EQ(Message(CheckPrefetturaUsers({})), "a prefettura has 1 to 5 users");
}

class CensusValidatorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto rules = mail::PersonalEmailRules::Parse("pec-domain pec.it\noffice protocollo\n");
    ASSERT_TRUE(rules.ok());
    rules_ = std::move(*rules);
  }
  BirthplaceLookup Lookup() {
    return [](const std::string& place,
              const std::string& sigla) -> absl::StatusOr<std::vector<std::string>> {
      static const std::map<std::pair<std::string, std::string>, std::vector<std::string>> kPlaces =
          {{{"ROMA", "RM"}, {"H501"}}, {{"MILANO", "MI"}, {"F205"}}, {{"FRANCIA", "EE"}, {"Z110"}}};
      auto it = kPlaces.find({place, sigla});
      if (it == kPlaces.end()) return std::vector<std::string>{};
      return it->second;
    };
  }
  static CensusUser Mayor() { return ::tessera::testing::SampleMayor(); }
  static ComuneCensus Census() { return ::tessera::testing::SampleComuneCensus(); }
  const Comune roma_{"058091", "Roma", "058", "RM", "Roma", "Lazio", "H501"};
  const ComuneDeclaration declaration_{
      .declared_workstations = 2, .declared_employees = 2, .switch_over = year(2027) / 1 / 15};
  const std::chrono::year_month_day today_ = year(2026) / 11 / 23;
  mail::PersonalEmailRules rules_;
};

TEST_F(CensusValidatorTest, AGoodCensusPassesAndIsNormalized) {
  CensusValidator validator(rules_, Lookup());
  ComuneCensus census = Census();
  auto errors = validator.ValidateComune(census, roma_, declaration_, today_);
  ASSERT_TRUE(errors.ok()) << errors.status();
  EXPECT_TRUE(errors->empty()) << ToStatus(*errors);
  EXPECT_EQ(census.users[0].codice_fiscale, "RSSMRA85T10H501O");
  EXPECT_EQ(census.users[0].email, "mario.rossi@comune.roma.it");
}

TEST_F(CensusValidatorTest, EveryErrorIsReportedWithItsField) {
  CensusValidator validator(rules_, Lookup());
  ComuneCensus census = Census();
  census.contacts.cap = "186";
  census.workstations = 4;
  CensusUser pec = Mayor();
  pec.profiles = {kAccessoWeb};
  pec.email = "anna.bianchi@pec.it";
  pec.name = "Anna";
  pec.surname = "Bianchi";
  pec.codice_fiscale = "BNCNNA90A41F205X";  // wrong check character
  pec.birth_place = "MILANO";
  pec.birth_province = "MI";
  pec.sex = "F";
  pec.birth_date = year(1990) / 1 / 1;
  CensusUser twin = Mayor();  // the same person again, and a second Sindaco
  CensusUser stranger = Mayor();
  stranger.codice_fiscale = "RSSMRA85T10H501O";
  stranger.birth_place = "ATLANTIDE";
  stranger.birth_province = "EE";
  stranger.profiles = {kAccessoWeb};
  census.users = {Mayor(), pec, twin, stranger};
  auto errors = validator.ValidateComune(census, roma_, declaration_, today_);
  ASSERT_TRUE(errors.ok()) << errors.status();
  const std::string all = std::string(ToStatus(*errors).message());
  for (const char* expected :
       {"cap: a CAP is 5 digits",
        "workstations: at most 3: the 2 declared in the monitoring sheet plus the comune's server",
        "users[1].email: 'anna.bianchi@pec.it' is a PEC (domain pec.it)",
        "users[1].codice_fiscale: check character is 'X', expected",
        "users[2].codice_fiscale: the same person appears twice in this census",
        "users[3].birth_place: 'ATLANTIDE' (EE) is no comune or foreign state in the reference "
        "list",
        "users: exactly one user is Sindaco/Delegato, the census has 2",
        "users: 4 users would get a card; at most 2"}) {
    EXPECT_NE(all.find(expected), std::string::npos) << expected << "\n in: " << all;
  }
}

// A draft may be incomplete; what it holds is checked and normalized as for a submission.
TEST_F(CensusValidatorTest, ADraftIsCheckedForWhatItHolds) {
  CensusValidator validator(rules_, Lookup());
  ComuneCensus sketch{.istat = "058091", .contacts = {.phone = "06-0606"}};
  CensusUser half{.codice_fiscale = "bnc nna 90a41 f205 w", .sex = "f"};  // no name yet
  sketch.users = {half};
  auto errors = validator.ValidateComune(sketch, roma_, declaration_, today_, Stage::kDraft);
  ASSERT_TRUE(errors.ok()) << errors.status();
  EXPECT_TRUE(errors->empty()) << ToStatus(*errors);
  EXPECT_EQ(sketch.contacts.phone, "06 0606");
  EXPECT_EQ(sketch.users[0].codice_fiscale, "BNCNNA90A41F205W");
  EXPECT_EQ(sketch.users[0].sex, "F");
  // The same sketch is no census to submit.
  errors = validator.ValidateComune(sketch, roma_, declaration_, today_);
  ASSERT_TRUE(errors.ok());
  EXPECT_FALSE(errors->empty());

  // What a draft may not hold, even unfinished.
  ComuneCensus wrong = Census();
  wrong.contacts.cap = "186";
  wrong.workstations = 9;
  CensusUser mayor = Mayor();
  mayor.profiles = {kSindacoDelegato, kAccessoWeb};
  mayor.email = "mario.rossi@pec.it";
  CensusUser second_mayor{.codice_fiscale = "BNCNNA90A41F205X", .profiles = {kSindacoDelegato}};
  wrong.users = {mayor, second_mayor};
  errors = validator.ValidateComune(wrong, roma_, declaration_, today_, Stage::kDraft);
  ASSERT_TRUE(errors.ok());
  std::set<std::string> fields;
  for (const Violation& e : *errors) fields.insert(e.field);
  EXPECT_EQ(fields, (std::set<std::string>{"cap", "workstations", "users[0].profiles",
                                           "users[0].email", "users[1].codice_fiscale", "users"}))
      << ToStatus(*errors);
  // The window is the comune's calls' business, not the draft's.
  ComuneDeclaration later = declaration_;
  later.switch_over = year(2027) / 6 / 1;
  ComuneCensus good = Census();
  errors = validator.ValidateComune(good, roma_, later, today_, Stage::kDraft);
  ASSERT_TRUE(errors.ok());
  EXPECT_TRUE(errors->empty()) << ToStatus(*errors);
  errors = validator.ValidateComune(good, roma_, later, today_);
  ASSERT_TRUE(errors.ok());
  ASSERT_EQ(errors->size(), 1u);
  EXPECT_EQ(errors->front().field, "switch_over");
}

// A part the code does not match is named on its own field, every such part at once; the
// Ministry may accept a part for one code (the Agenzia delle Entrate issued it so).
TEST_F(CensusValidatorTest, TheCodiceFiscaleMustDescribeThePerson) {
  CensusValidator validator(rules_, Lookup());
  ComuneCensus census = Census();
  census.users[0].surname = "Bianchi";
  auto errors = validator.ValidateComune(census, roma_, declaration_, today_);
  ASSERT_TRUE(errors.ok());
  const std::string accept =
      "; if the Agenzia delle Entrate issued the code so, the Ministry can accept the mismatch";
  EXPECT_EQ(ToStatus(*errors).message(),
            "users[0].surname: does not match the codice fiscale (the code has 'RSS', 'Bianchi' "
            "gives 'BNC')" +
                accept);
  census = Census();
  census.users[0].surname = "Bianchi";
  census.users[0].birth_place = "MILANO";
  census.users[0].birth_province = "MI";
  errors = validator.ValidateComune(census, roma_, declaration_, today_);
  ASSERT_TRUE(errors.ok());
  ASSERT_EQ(errors->size(), 2u) << ToStatus(*errors);
  EXPECT_EQ((*errors)[1].field, "users[0].birth_place");
  EXPECT_EQ((*errors)[1].rule,
            "does not match the codice fiscale (the code has 'H501', the declared birthplace has "
            "F205)" +
                accept);

  // Accepted for this code: the surname passes, the birthplace is still refused.
  CensusValidator lenient(rules_, Lookup(),
                          std::make_shared<const AcceptedMismatches>(
                              AcceptedMismatches{{"RSSMRA85T10H501O", {"surname"}}}));
  errors = lenient.ValidateComune(census, roma_, declaration_, today_);
  ASSERT_TRUE(errors.ok());
  ASSERT_EQ(errors->size(), 1u) << ToStatus(*errors);
  EXPECT_EQ(errors->front().field, "users[0].birth_place");
}

TEST_F(CensusValidatorTest, APrefetturaNeedsItsAdministrators) {
  CensusValidator validator(rules_, Lookup());
  CensusUser admin = Mayor();
  admin.profiles = {kAmministratoreSicurezza};
  PrefetturaCensus census{.province_sigla = "RM",
                          .province = "Roma",
                          .contacts = {.address = "Via IV Novembre 119/A",
                                       .cap = "00187",
                                       .phone = "06 67291",
                                       .fax = "06 6729 4560",
                                       .email = "prefettura.roma@interno.it",
                                       .pec = "protocollo.prefrm@pec.interno.it"},
                          .prefect_surname = "Bianchi",
                          .prefect_name = "Luca",
                          .workstations = 6,
                          .users = {admin}};
  auto errors = validator.ValidatePrefettura(census, "Roma", today_);
  ASSERT_TRUE(errors.ok());
  EXPECT_EQ(ToStatus(*errors).message(),
            "workstations: a prefettura has 1 to 5 workstations; users: at least one "
            "Amministratore Postazioni");
}

TEST_F(CensusValidatorTest, AFailingLookupIsAnErrorNotAVerdict) {
  CensusValidator validator(
      rules_,
      [](const std::string&, const std::string&) -> absl::StatusOr<std::vector<std::string>> {
        return absl::UnavailableError("postgres: connection lost");
      });
  ComuneCensus census = Census();
  auto errors = validator.ValidateComune(census, roma_, declaration_, today_);
  EXPECT_EQ(errors.status().code(), absl::StatusCode::kUnavailable);
}

}  // namespace
}  // namespace tessera::registry
