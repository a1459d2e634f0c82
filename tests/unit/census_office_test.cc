// CensusOffice on in-memory stores: what the office decides itself (validation before any
// write, the census window in Italian time, access codes and their throttle, the Ministry
// answers it keeps, claim bounds), apart from what PostgreSQL does (tests/pg).
#include "registry/census_office.h"

#include <gtest/gtest.h>

#include <set>

#include "absl/strings/match.h"
#include "platform/clock.h"
#include "tests/support/sample_census.h"
#include "tests/unit/fake_registry_stores.h"

namespace tessera::registry {
namespace {

using std::chrono::year;

// 2026-11-23 11:00 in Rome.
const Clock::TimePoint kNow = std::chrono::sys_days(year(2026) / 11 / 23) + std::chrono::hours(10);
const Actor kMinistry{.kind = "service", .name = "tessera-cli"};

// A call of the Ministry's with this idempotency key.
Request Asked(std::string request_id) { return {.actor = kMinistry, .request_id = request_id}; }

// Mario Rossi, mayor (his code normalized, as a census holds it after validation).
CensusUser Mayor() {
  CensusUser mayor = ::tessera::testing::SampleMayor();
  mayor.codice_fiscale = "RSSMRA85T10H501O";
  return mayor;
}

// A comune asking for its server and one workstation.
ComuneCensus Census(const std::string& istat, const std::string& name) {
  ComuneCensus census = ::tessera::testing::SampleComuneCensus(istat, name);
  census.workstations = 2;
  return census;
}

class CensusOfficeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto rules = mail::PersonalEmailRules::Parse("pec-domain pec.it\noffice protocollo\n");
    ASSERT_TRUE(rules.ok());
    rules_ = *std::move(rules);
    office_ = std::make_unique<CensusOffice>(stores_.View(), rules_, clock_,
                                             AccessCodeLimits{.failures_per_comune = 3});
    auto loaded = office_->LoadReference(
        "istat,name,province_code,province_sigla,province_name,region,belfiore\n"
        "058091,Roma,058,RM,Roma,Lazio,H501\n015146,Milano,015,MI,Milano,Lombardia,F205\n",
        "code,sigla,name,current\nH501,RM,ROMA,1\nF205,MI,MILANO,1\n", Asked("load"));
    ASSERT_TRUE(loaded.ok()) << loaded.status();
    for (const char* istat : {"058091", "015146"}) {
      ASSERT_TRUE(
          office_->SetDeclaration(istat, {2, 5, year(2027) / 1 / 15}, Asked("declare")).ok());
    }
  }

  testing::FakeRegistryStores stores_;
  FakeClock clock_{kNow};
  mail::PersonalEmailRules rules_;
  std::unique_ptr<CensusOffice> office_;
};

TEST_F(CensusOfficeTest, ADraftWithAnyViolationIsRefusedWholeAndNothingIsStored) {
  ComuneCensus census = Census("058091", "Roma");
  census.users[0].codice_fiscale = "RSSMRA85T10H501A";  // wrong check character
  census.users[0].email = "mario@pec.it";               // a PEC, not a personal mailbox
  Refusal refusal;
  auto saved = office_->SaveDraft(census, Asked("draft"), refusal);
  EXPECT_EQ(saved.status().code(), absl::StatusCode::kInvalidArgument);
  std::set<std::string> fields;
  for (const Violation& v : refusal.violations) fields.insert(v.field);
  EXPECT_EQ(fields, (std::set<std::string>{"users[0].codice_fiscale", "users[0].email"}));
  EXPECT_EQ(office_->Get(CensusKind::kComune, "058091").status().code(),
            absl::StatusCode::kNotFound);

  // Normalized when saved: the code as typed, the mailbox in capitals.
  census = Census("058091", "Roma");
  census.users[0].codice_fiscale = "rssmra 85t10-h501o";
  census.users[0].email = "Mario.Rossi@Example.it";
  ASSERT_TRUE(office_->SaveDraft(census, Asked("draft"), refusal).ok());
  auto stored = office_->Get(CensusKind::kComune, "058091");
  ASSERT_TRUE(stored.ok());
  const CensusUser& user = std::get<ComuneCensus>(stored->census).users[0];
  EXPECT_EQ(user.codice_fiscale, "RSSMRA85T10H501O");
  EXPECT_EQ(user.email, "mario.rossi@example.it");
}

TEST_F(CensusOfficeTest, AComuneWithoutADeclarationHasNoCensus) {
  stores_.declarations.declarations.erase("015146");
  Refusal refusal;
  EXPECT_EQ(office_->SaveDraft(Census("015146", "Milano"), Asked("draft"), refusal).status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(office_->CheckCensusOpen("015146").code(), absl::StatusCode::kFailedPrecondition);
}

TEST_F(CensusOfficeTest, TheWindowOpensTwoMonthsBeforeTheSwitchOverOnTheItalianDate) {
  // Switch-over 2027-03-01: the census opens on 2027-01-01, Rome's date.
  ASSERT_TRUE(office_->SetDeclaration("058091", {2, 5, year(2027) / 3 / 1}, Asked("declare")).ok());
  // 31 December 23:30 UTC is already 1 January in Rome.
  clock_.Set(std::chrono::sys_days(year(2026) / 12 / 31) + std::chrono::minutes(23 * 60 + 30));
  EXPECT_TRUE(office_->CheckCensusOpen("058091").ok());
  // 22:30 UTC is still 31 December there.
  clock_.Set(std::chrono::sys_days(year(2026) / 12 / 31) + std::chrono::minutes(22 * 60 + 30));
  absl::Status closed = office_->CheckCensusOpen("058091");
  EXPECT_EQ(closed.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(absl::StartsWith(closed.message(), "switch_over: ")) << closed;
  // And no access code before the window: it would be no use.
  EXPECT_EQ(office_->IssueAccessCode("058091", Asked("code")).status().code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST_F(CensusOfficeTest, AnAccessCodeOpensItsOfficeUntilTheCensusIsSubmitted) {
  auto issued = office_->IssueAccessCode("058091", Asked("code"));
  ASSERT_TRUE(issued.ok()) << issued.status();
  auto office = office_->CheckAccessCode(issued->code.view());
  ASSERT_TRUE(office.ok()) << office.status();
  EXPECT_EQ(*office, "058091");
  // A new code revokes the old one at once (nothing known-good is kept across it).
  auto second = office_->IssueAccessCode("058091", Asked("code"));
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(office_->CheckAccessCode(issued->code.view()).status().code(),
            absl::StatusCode::kUnauthenticated);
  ASSERT_TRUE(office_->CheckAccessCode(second->code.view()).ok());

  Refusal refusal;
  ASSERT_TRUE(office_->SubmitComune(Census("058091", "Roma"), Asked("submit"), refusal).ok());
  EXPECT_EQ(office_->CheckAccessCode(second->code.view()).status().code(),
            absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(office_->IssueAccessCode("058091", Asked("code")).status().code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST_F(CensusOfficeTest, WrongCodesAreThrottledBeforeTheyReachTheStore) {
  ASSERT_TRUE(office_->IssueAccessCode("058091", Asked("code")).ok());
  const std::string wrong(NewAccessCode("058091").view());
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(office_->CheckAccessCode(wrong).status().code(), absl::StatusCode::kUnauthenticated);
  }
  const int lookups = stores_.access_codes.lookups;
  EXPECT_EQ(office_->CheckAccessCode(wrong).status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(stores_.access_codes.lookups, lookups);
  // A malformed code never reaches the store either.
  EXPECT_EQ(office_->CheckAccessCode("058091-nonsense").status().code(),
            absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(stores_.access_codes.lookups, lookups);
}

TEST_F(CensusOfficeTest, MinistryAnswersAreKeptFiveSecondsAndForgottenOnAChange) {
  const std::string cf = "BNCNNA90A41H501T";
  EXPECT_FALSE(office_->IsMinistryOperator(cf));
  EXPECT_FALSE(office_->IsMinistryOperator(cf));
  EXPECT_EQ(stores_.ministry.lookups, 1);
  clock_.Advance(CensusOffice::kMinistryAnswerLife);
  EXPECT_FALSE(office_->IsMinistryOperator(cf));
  EXPECT_EQ(stores_.ministry.lookups, 2);

  // Added through this office: true at once, not five seconds later.
  CensusUser anna{.name = "Anna",
                  .surname = "Bianchi",
                  .codice_fiscale = cf,
                  .birth_date = year(1990) / 1 / 1,
                  .birth_place = "ROMA",
                  .birth_province = "RM",
                  .sex = "F",
                  .email = "anna.bianchi@example.it"};
  Refusal refusal;
  auto added = office_->AddMinistryOperator(anna, {"nuova operatrice", "r1"}, kMinistry, refusal);
  ASSERT_TRUE(added.ok()) << added.status();
  EXPECT_TRUE(office_->IsMinistryOperator(cf));
  ASSERT_TRUE(office_->RemoveMinistryOperator(cf, {"trasferita", "r2"}, kMinistry).ok());
  EXPECT_FALSE(office_->IsMinistryOperator(cf));

  // No answer is no right.
  stores_.ministry.operators.insert(identity::PersonKey(cf));
  stores_.ministry.unavailable = true;
  clock_.Advance(CensusOffice::kMinistryAnswerLife);
  EXPECT_FALSE(office_->IsMinistryOperator(cf));
}

TEST_F(CensusOfficeTest, AMinistryOperatorIsCheckedAsACensusUserAndHasNoProfiles) {
  CensusUser person = Mayor();
  Refusal refusal;
  EXPECT_EQ(office_->AddMinistryOperator(person, {"x", "r1"}, kMinistry, refusal).status().code(),
            absl::StatusCode::kInvalidArgument);  // profiles
  person.profiles.clear();
  person.birth_date = year(2015) / 1 / 1;
  EXPECT_EQ(office_->AddMinistryOperator(person, {"x", "r1"}, kMinistry, refusal).status().code(),
            absl::StatusCode::kInvalidArgument);
  ASSERT_FALSE(refusal.violations.empty());
  EXPECT_EQ(refusal.violations[0].field, "operator.birth_date");
  EXPECT_TRUE(stores_.ministry.operators.empty());
}

TEST_F(CensusOfficeTest, ACensusThatDisagreesWithThePersonOnRecordIsRefused) {
  Refusal refusal;
  ASSERT_TRUE(office_->SubmitComune(Census("058091", "Roma"), Asked("submit"), refusal).ok());
  ComuneCensus milano = Census("015146", "Milano");
  milano.users[0].name = "Mauro";  // agrees with the code (MRA), not with Roma's record
  auto refused = office_->SubmitComune(milano, Asked("submit"), refusal);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kInvalidArgument);
  ASSERT_EQ(refusal.violations.size(), 1u);
  EXPECT_EQ(refusal.violations[0].field, "users[0].name");
  EXPECT_EQ(refused.status().message().find("Mario"), std::string::npos);  // not Roma's value

  // The same person, agreeing: one card only, the first comune's.
  refusal = {};
  auto second = office_->SubmitComune(Census("015146", "Milano"), Asked("submit"), refusal);
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_TRUE(second->card_orders.empty());
  EXPECT_EQ(second->holders_with_a_card_already, std::vector<std::string>{"RSSMRA85T10H501O"});
  EXPECT_EQ(second->workstation_orders.size(), 2u);
  EXPECT_EQ(second->workstation_orders[0].CommonId(), "0151460099");
  EXPECT_EQ(second->workstation_orders[1].CommonId(), "0151460001");
}

TEST_F(CensusOfficeTest, AnAcceptedMismatchNoLongerRefusesTheCensus) {
  ComuneCensus census = Census("058091", "Roma");
  census.users[0].surname = "Bianchi";  // the code's RSS says Rossi
  Refusal refusal;
  EXPECT_EQ(office_->SubmitComune(census, Asked("submit"), refusal).status().code(),
            absl::StatusCode::kInvalidArgument);
  ASSERT_EQ(refusal.violations.size(), 1u);
  EXPECT_EQ(refusal.violations[0].field, "users[0].surname");
  auto accepted =
      office_->AcceptCodeMismatch("rssmra85t10h501o", "surname", {"AdE", "r1"}, kMinistry);
  ASSERT_TRUE(accepted.ok()) << accepted.status();
  EXPECT_FALSE(*accepted);
  refusal = {};
  EXPECT_TRUE(office_->SubmitComune(census, Asked("submit"), refusal).ok());
}

TEST_F(CensusOfficeTest, ClaimsAreBoundedAndNamedAfterTheCallerAndItsWorker) {
  auto claim = [&](std::string worker, uint32_t limit, uint32_t lease) {
    return office_
        ->ClaimOrders({.caller = "tessera-perso",
                       .worker = std::move(worker),
                       .limit = limit,
                       .lease_seconds = lease})
        .status();
  };
  EXPECT_TRUE(claim("host-1:4242", 10, 0).ok());
  ASSERT_EQ(stores_.orders.claims.size(), 1u);
  EXPECT_EQ(stores_.orders.claims[0].worker, "tessera-perso/host-1:4242");
  EXPECT_EQ(stores_.orders.claims[0].lease, CensusOffice::kDefaultLease);
  EXPECT_TRUE(claim("h", 1000, 60).ok());
  EXPECT_TRUE(claim("h", 1, 86400).ok());
  for (auto [status, field] : std::vector<std::pair<absl::Status, std::string>>{
           {claim("", 1, 0), "worker"},
           {claim("a/b", 1, 0), "worker"},
           {claim(std::string(65, 'h'), 1, 0), "worker"},
           {claim("h", 0, 0), "limit"},
           {claim("h", 1001, 0), "limit"},
           {claim("h", 1, 59), "lease_seconds"},
           {claim("h", 1, 86401), "lease_seconds"}}) {
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
    EXPECT_TRUE(absl::StartsWith(status.message(), field + ": ")) << status;
  }
  EXPECT_EQ(stores_.orders.claims.size(), 3u);  // the refused ones never reached the queue
}

TEST_F(CensusOfficeTest, TheReferenceIsReadOnceAndAgainAfterANewEdition) {
  Refusal refusal;
  ASSERT_TRUE(office_->SaveDraft(Census("058091", "Roma"), Asked("draft"), refusal).ok());
  ASSERT_TRUE(office_->SaveDraft(Census("015146", "Milano"), Asked("draft"), refusal).ok());
  EXPECT_EQ(stores_.reference.reads, 1);
  // An edition without Milano: Milano is no comune any more.
  ASSERT_TRUE(
      office_
          ->LoadReference("istat,name,province_code,province_sigla,province_name,region,belfiore\n"
                          "058091,Roma,058,RM,Roma,Lazio,H501\n",
                          "code,sigla,name,current\nH501,RM,ROMA,1\n", Asked("load-2"))
          .ok());
  auto refused = office_->SaveDraft(Census("015146", "Milano"), Asked("draft"), refusal);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StartsWith(refused.status().message(), "istat: ")) << refused.status();
  EXPECT_EQ(stores_.reference.reads, 2);
}

TEST_F(CensusOfficeTest, EachReportedOutcomeIsCheckedOnItsOwn) {
  using Kind = OrderOutcome::Kind;
  const std::vector<OrderOutcome> outcomes = {
      {Kind::kCard, "0580910000000001", "7ee37ace69c15ee0", ""},
      {Kind::kCard, "058091000000001", "7ee3", ""},  // 15 digits
      {Kind::kWorkstation, "0580910099", "", "tessera-ca refused"},
      {Kind::kCard, "0580910000000002", "7EE3", ""},               // upper-case hex
      {Kind::kCard, "0580910000000003", "7ee3", "and a failure"},  // both
      {Kind::kCard, "0580910000000004", "", ""},                   // neither
      {Kind::kWorkstation, "", "7ee3", ""}};
  auto results = office_->ReportOutcomes(
      {.caller = "tessera-perso", .worker = "host-1:4242", .outcomes = outcomes});
  ASSERT_TRUE(results.ok()) << results.status();
  ASSERT_EQ(results->size(), outcomes.size());
  const std::vector<std::string> fields = {"",
                                           "card_number",
                                           "",
                                           "certificate_serial",
                                           "certificate_serial or failure",
                                           "certificate_serial or failure",
                                           "card_number or workstation_common_id"};
  for (size_t i = 0; i < outcomes.size(); ++i) {
    if (fields[i].empty()) {
      EXPECT_TRUE((*results)[i].ok()) << i << ": " << (*results)[i].status();
    } else {
      EXPECT_EQ((*results)[i].status().code(), absl::StatusCode::kInvalidArgument) << i;
      EXPECT_TRUE(absl::StartsWith((*results)[i].status().message(), fields[i] + ": "))
          << i << ": " << (*results)[i].status();
    }
  }
  // Only the well-formed ones reach the store, as "<caller>/<worker>".
  using Reported = std::pair<std::string, std::string>;
  EXPECT_EQ(stores_.orders.reported,
            (std::vector<Reported>{{"tessera-perso/host-1:4242", "0580910000000001"},
                                   {"tessera-perso/host-1:4242", "0580910099"}}));

  EXPECT_EQ(
      office_->ReportOutcomes({.caller = "tessera-perso", .worker = "a/b", .outcomes = outcomes})
          .status()
          .code(),
      absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(office_->ReportOutcomes({.caller = "tessera-perso", .worker = "h", .outcomes = {}})
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(CensusOfficeTest, AClaimsScopeIsAProvinceAComuneOrAListAndIsChecked) {
  auto claim = [&](std::string sigla, std::string istat, std::vector<std::string> orders) {
    return office_
        ->ClaimOrders({.caller = "tessera-perso",
                       .worker = "h",
                       .limit = 10,
                       .province_sigla = std::move(sigla),
                       .istat = std::move(istat),
                       .orders = std::move(orders)})
        .status();
  };
  ASSERT_TRUE(claim("MI", "", {}).ok());
  EXPECT_EQ(stores_.orders.claims.back().scope.prefix, "015");
  ASSERT_TRUE(claim("", "058091", {"0580910000000001", "0580910099"}).ok());
  EXPECT_EQ(stores_.orders.claims.back().scope.prefix, "058091");
  EXPECT_EQ(stores_.orders.claims.back().scope.orders.size(), 2u);
  for (auto [status, field] : std::vector<std::pair<absl::Status, std::string>>{
           {claim("MI", "015146", {}), "province_sigla or istat"},
           {claim("XX", "", {}), "province_sigla"},
           {claim("", "099999", {}), "istat"},
           {claim("", "", {"123"}), "orders[0]"}}) {
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
    EXPECT_TRUE(absl::StartsWith(status.message(), field + ": ")) << status;
  }
  EXPECT_EQ(stores_.orders.claims.size(), 2u);
}

}  // namespace
}  // namespace tessera::registry
