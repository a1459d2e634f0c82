// Census drafts, submission and the order queues against real PostgreSQL.
#include <gtest/gtest.h>

#include <set>
#include <thread>

#include "identity/codice_fiscale.h"
#include "platform/clock.h"
#include "platform/migrations.h"
#include "registry/census_json.h"
#include "registry/pg_stores.h"
#include "tests/support/test_pg.h"

namespace tessera::registry {
namespace {

using std::chrono::year;
const auto kNow = std::chrono::system_clock::time_point(std::chrono::seconds(1'795'000'000));

// Who the store tests act as: the Ministry's CLI, as a handler names its caller.
Actor Ministry() {
  return {.kind = "service", .name = "tessera-cli", .serial = "c11", .call_id = "call-1"};
}

// A first call of `actor`'s: a key never used before. The store checks no fingerprint of its
// own (the office computes it), so each test request gets its own.
Request Fresh(Actor actor = Ministry()) {
  static int next = 0;
  Request request{.actor = std::move(actor), .request_id = "test-" + std::to_string(++next)};
  request.fingerprint[0] = static_cast<uint8_t>(next);
  return request;
}

CensusUser User(const std::string& cf, std::vector<std::string> profiles) {
  return {.name = "Mario",
          .surname = "Rossi",
          .codice_fiscale = cf,
          .birth_date = year(1985) / 12 / 10,
          .birth_place = "ROMA",
          .birth_province = "RM",
          .sex = "M",
          .email = "mario.rossi@comune.roma.it",
          .profiles = std::move(profiles)};
}

ComuneCensus Census(const std::string& istat, int workstations, std::vector<CensusUser> users) {
  return {.istat = istat,
          .name = "X",
          .contacts = {.address = "Piazza 1",
                       .cap = "00100",
                       .phone = "06 0606",
                       .fax = "06 0607",
                       .email = "info@comune.it",
                       .pec = "protocollo@pec.comune.it"},
          .mayor_surname = "Rossi",
          .mayor_name = "Mario",
          .it_supplier = "Software Spa",
          .registry_software = "Anagrafe",
          .vat_number = "02438750586",
          .workstations = workstations,
          .users = std::move(users)};
}

class CensusStoreTest : public testing::PgTest {
 protected:
  void SetUp() override {
    PgTest::SetUp();
    ASSERT_TRUE(pg::ApplyMigrations(*conn_, kPgSchema, PgMigrations()).ok());
    pool_ = std::make_unique<pg::ConnectionPool>(conninfo_, 4);
    PgReferenceStore reference(*pool_);
    auto data = ParseReferenceData(
        "istat,name,province_code,province_sigla,province_name,region,belfiore\n"
        "058091,Roma,058,RM,Roma,Lazio,H501\n015146,Milano,015,MI,Milano,Lombardia,F205\n",
        "code,sigla,name,current\nH501,RM,ROMA,1\n");
    ASSERT_TRUE(data.ok()) << data.status();
    ASSERT_TRUE(reference.Load(*data, kNow, Fresh()).ok());
    stores_ = std::make_unique<PgRegistryStores>(*pool_);
    store_ = &stores_->censuses;
  }
  int64_t Count(const std::string& sql) { return conn_->Exec(sql)->Int(0, 0); }
  absl::StatusOr<SubmitResult> SubmitComune(const ComuneCensus& census,
                                            std::chrono::system_clock::time_point now,
                                            const Actor& actor,
                                            std::vector<Violation>* disagreements = nullptr) {
    return store_->Submit(SubmissionOf(census), now, Fresh(actor), disagreements);
  }
  absl::StatusOr<SubmitResult> SubmitPrefettura(const std::string& province_code,
                                                const PrefetturaCensus& census,
                                                std::chrono::system_clock::time_point now,
                                                const Actor& actor) {
    return store_->Submit(SubmissionOf(province_code, census), now, Fresh(actor));
  }

  std::unique_ptr<pg::ConnectionPool> pool_;
  std::unique_ptr<PgRegistryStores> stores_;
  PgCensusStore* store_ = nullptr;
};

TEST_F(CensusStoreTest, DraftsAreSavedAnyNumberOfTimes) {
  ASSERT_TRUE(
      stores_->declarations.Set("058091", {5, 10, year(2027) / 1 / 15}, kNow, Fresh()).ok());
  auto declaration = stores_->declarations.Get("058091");
  ASSERT_TRUE(declaration.ok() && declaration->has_value());
  EXPECT_EQ((*declaration)->declared_employees, 10);
  EXPECT_EQ((*declaration)->switch_over, year(2027) / 1 / 15);
  auto many = stores_->declarations.GetMany({"058091", "015146"});
  ASSERT_TRUE(many.ok()) << many.status();
  EXPECT_EQ(many->size(), 1u);  // Milano has none
  EXPECT_EQ(many->at("058091").declared_workstations, 5);

  EXPECT_EQ(store_->Get(CensusKind::kComune, "058091").status().code(),
            absl::StatusCode::kNotFound);
  ComuneCensus draft{.istat = "058091"};
  draft.contacts.cap = "001";
  auto first = store_->SaveDraft("058091", draft, kNow, Fresh());
  ASSERT_TRUE(first.ok()) << first.status();
  draft.contacts.cap = "00186";
  auto second = store_->SaveDraft("058091", draft, kNow, Fresh());
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_EQ(second->revision, 2);
  EXPECT_FALSE(second->submitted);
  auto got = store_->Get(CensusKind::kComune, "058091");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(std::get<ComuneCensus>(got->census).contacts.cap, "00186");
}

TEST_F(CensusStoreTest, SubmitCreatesPeopleCardsAndWorkstationsOnce) {
  ComuneCensus roma = Census("058091", 3,
                             {User("RSSMRA85T10H501O", {kSindacoDelegato}),
                              User("BNCNNA90A41H501W", {kAccessoWeb, "operatore_consultazione"}),
                              User("VRDLGU70A01H501X", {"operatore_consultazione"})});
  ASSERT_TRUE(store_->SaveDraft("058091", ComuneCensus{.istat = "058091"}, kNow, Fresh()).ok());
  auto submitted = SubmitComune(roma, kNow, Ministry());
  ASSERT_TRUE(submitted.ok()) << submitted.status();
  EXPECT_TRUE(submitted->census.submitted);
  ASSERT_EQ(submitted->card_orders.size(), 2u);  // the Sindaco and the Accesso Web user
  EXPECT_EQ(submitted->card_orders[0].card_number, "0580910000000001");
  EXPECT_EQ(submitted->card_orders[1].card_number, "0580910000000002");
  ASSERT_EQ(submitted->workstation_orders.size(), 3u);
  EXPECT_EQ(submitted->workstation_orders[0].progressive, 99);  // the comune's server
  EXPECT_EQ(submitted->workstation_orders[1].progressive, 1);
  EXPECT_EQ(submitted->workstation_orders[2].progressive, 2);
  EXPECT_EQ(Count("SELECT count(*) FROM registry.persons"), 3);
  EXPECT_EQ(Count("SELECT count(*) FROM registry.card_orders WHERE state = 'LAVORAZIONE'"), 2);

  // A retry of the same submission answers the same and creates nothing.
  auto again = SubmitComune(roma, kNow, Ministry());
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->card_orders.size(), 2u);
  EXPECT_EQ(again->workstation_orders.size(), 3u);
  EXPECT_EQ(Count("SELECT count(*) FROM registry.card_orders"), 2);
  // Final: no more drafts, no different submission.
  EXPECT_EQ(
      store_->SaveDraft("058091", ComuneCensus{.istat = "058091"}, kNow, Fresh()).status().code(),
      absl::StatusCode::kFailedPrecondition);
  roma.workstations = 2;
  EXPECT_EQ(SubmitComune(roma, kNow, Ministry()).status().code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST_F(CensusStoreTest, APersonInTwoComuniGetsOneCard) {
  auto roma = SubmitComune(Census("058091", 1, {User("RSSMRA85T10H501O", {kSindacoDelegato})}),
                           kNow, Ministry());
  ASSERT_TRUE(roma.ok()) << roma.status();
  auto milano = SubmitComune(Census("015146", 1,
                                    {User("RSSMRA85T10H501O", {kAccessoWeb, "supervisore"}),
                                     User("BNCNNA90A41H501W", {kSindacoDelegato})}),
                             kNow, Ministry());
  ASSERT_TRUE(milano.ok()) << milano.status();
  EXPECT_EQ(milano->holders_with_a_card_already, std::vector<std::string>{"RSSMRA85T10H501O"});
  ASSERT_EQ(milano->card_orders.size(), 1u);
  EXPECT_EQ(milano->card_orders[0].card_number, "0151460000000001");
  // The same submission again (a retry) answers the same, holders included.
  auto again = SubmitComune(Census("015146", 1,
                                   {User("RSSMRA85T10H501O", {kAccessoWeb, "supervisore"}),
                                    User("BNCNNA90A41H501W", {kSindacoDelegato})}),
                            kNow, Ministry());
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_TRUE(again->repeated);
  EXPECT_EQ(again->holders_with_a_card_already, std::vector<std::string>{"RSSMRA85T10H501O"});
  EXPECT_EQ(Count("SELECT count(*) FROM registry.card_orders WHERE codice_fiscale = "
                  "'RSSMRA85T10H501O'"),
            1);
  // Profiles are per comune.
  EXPECT_EQ(Count("SELECT count(*) FROM registry.census_users WHERE codice_fiscale = "
                  "'RSSMRA85T10H501O'"),
            2);
}

// Each comune keeps the mailbox and profiles it declared for a person they share.
TEST_F(CensusStoreTest, TwoComuniKeepTheirOwnMailboxAndProfilesForOnePerson) {
  CensusUser in_roma = User("RSSMRA85T10H501O", {kSindacoDelegato});
  CensusUser in_milano = User("RSSMRA85T10H501O", {kAccessoWeb});
  in_milano.email = "m.rossi@comune.milano.it";
  ASSERT_TRUE(SubmitComune(Census("058091", 2, {in_roma}), kNow, Ministry()).ok());
  ASSERT_TRUE(SubmitComune(Census("015146", 2, {in_milano}), kNow, Ministry()).ok());
  EXPECT_EQ(Count("SELECT count(*) FROM registry.persons"), 1);
  EXPECT_EQ(Count("SELECT count(*) FROM registry.census_users u JOIN registry.censuses c ON "
                  "c.id = u.census_id WHERE c.owner = '058091' AND u.email = "
                  "'mario.rossi@comune.roma.it' AND u.profiles = '{sindaco_delegato}'"),
            1);
  EXPECT_EQ(Count("SELECT count(*) FROM registry.census_users u JOIN registry.censuses c ON "
                  "c.id = u.census_id WHERE c.owner = '015146' AND u.email = "
                  "'m.rossi@comune.milano.it' AND u.profiles = '{accesso_web}'"),
            1);
}

// The identity is the person's: a second census that disagrees is refused, naming the fields
// but not what the first comune declared, and keeps nothing.
TEST_F(CensusStoreTest, ACensusThatDisagreesWithThePersonOnRecordIsRefusedWithoutItsValues) {
  ASSERT_TRUE(SubmitComune(Census("058091", 2, {User("RSSMRA85T10H501O", {kSindacoDelegato})}),
                           kNow, Ministry())
                  .ok());
  CensusUser other = User("RSSMRA85T10H501O", {kAccessoWeb});
  other.surname = "Russo";     // the same letters in the code: only the record tells them apart
  other.name = "Maria";        // MRA too; the code's day says male, so the sex stays
  other.birth_place = "Roma";  // another spelling of the same place is the same place
  std::vector<Violation> disagreements;
  auto refused =
      SubmitComune(Census("015146", 2, {User("BNCNNA90A41H501W", {kSindacoDelegato}), other}), kNow,
                   Ministry(), &disagreements);
  ASSERT_EQ(refused.status().code(), absl::StatusCode::kInvalidArgument) << refused.status();
  std::set<std::string> fields;
  for (const Violation& e : disagreements) fields.insert(e.field);
  EXPECT_EQ(fields, (std::set<std::string>{"users[1].surname", "users[1].name"}));
  const std::string message(refused.status().message());
  EXPECT_EQ(message.find("Rossi"), std::string::npos) << message;
  EXPECT_EQ(message.find("Mario"), std::string::npos) << message;
  EXPECT_EQ(Count("SELECT count(*) FROM registry.censuses WHERE owner = '015146'"), 0);
  EXPECT_EQ(Count("SELECT count(*) FROM registry.persons"), 1);  // Bianchi was not kept
}

// Omocodia spellings of one code name one person: the second spelling gets no second card.
TEST_F(CensusStoreTest, TwoSpellingsOfOneCodeAreOnePersonWithOneCard) {
  ASSERT_TRUE(SubmitComune(Census("058091", 2, {User("RSSMRA85T10H501O", {kSindacoDelegato})}),
                           kNow, Ministry())
                  .ok());
  std::string variant = "RSSMRA85T10H50M";  // the last digit 1 written as its letter M
  variant += identity::CodiceFiscaleCheckCharacter(variant);
  ASSERT_TRUE(identity::ValidateCodiceFiscale(variant).ok()) << variant;
  auto milano =
      SubmitComune(Census("015146", 2, {User(variant, {kSindacoDelegato})}), kNow, Ministry());
  ASSERT_TRUE(milano.ok()) << milano.status();
  EXPECT_TRUE(milano->card_orders.empty());
  EXPECT_EQ(milano->holders_with_a_card_already, std::vector<std::string>{"RSSMRA85T10H501O"});
  EXPECT_EQ(Count("SELECT count(*) FROM registry.persons"), 1);
  EXPECT_EQ(Count("SELECT count(*) FROM registry.card_orders"), 1);
}

// One live card per person; an ended card stays as history and a new one may be ordered.
TEST_F(CensusStoreTest, APersonHasOneLiveCardAndKeepsTheEndedOnes) {
  auto roma = SubmitComune(Census("058091", 2, {User("RSSMRA85T10H501O", {kSindacoDelegato})}),
                           kNow, Ministry());
  ASSERT_TRUE(roma.ok()) << roma.status();
  ASSERT_TRUE(conn_
                  ->Exec("UPDATE registry.card_orders SET ended_at = now(), end_reason = "
                         "'revoked' WHERE card_number = '0580910000000001'")
                  .ok());
  auto milano = SubmitComune(Census("015146", 2, {User("RSSMRA85T10H501O", {kSindacoDelegato})}),
                             kNow, Ministry());
  ASSERT_TRUE(milano.ok()) << milano.status();
  ASSERT_EQ(milano->card_orders.size(), 1u);  // the lost card's successor
  EXPECT_EQ(milano->card_orders[0].card_number, "0151460000000001");
  EXPECT_EQ(Count("SELECT count(*) FROM registry.card_orders WHERE codice_fiscale = "
                  "'RSSMRA85T10H501O'"),
            2);
  // Ended cards are not claimed for personalization.
  auto claimed = stores_->orders.ClaimCardOrders("perso", 10, std::chrono::seconds(900), kNow, {});
  ASSERT_TRUE(claimed.ok()) << claimed.status();
  ASSERT_EQ(claimed->size(), 1u);
  EXPECT_EQ(claimed->front().card_number, "0151460000000001");
  // Two live cards for one person: the database refuses.
  EXPECT_FALSE(conn_
                   ->Exec("UPDATE registry.card_orders SET ended_at = NULL, end_reason = NULL "
                          "WHERE card_number = '0580910000000001'")
                   .ok());
}

// The Ministry's operators: their own cards, never a census's, and every change on record.
TEST_F(CensusStoreTest, MinistryOperatorsHaveMinistryCardsAndARecordOfChanges) {
  PgMinistryOperatorStore ministry(*pool_);
  CensusUser mario = User("RSSMRA85T10H501O", {});
  auto added = ministry.Add(mario, {"nuovo operatore", "req-1"}, kNow, Ministry(), nullptr);
  ASSERT_TRUE(added.ok()) << added.status();
  EXPECT_EQ(added->card_number, "0000000000000001");
  EXPECT_TRUE(added->new_card);
  EXPECT_TRUE(ministry.IsOperator("RSSMRA85T10H501O").value());
  // A comune naming him gives him profiles there, and no second card.
  auto roma = SubmitComune(Census("058091", 2, {User("RSSMRA85T10H501O", {kSindacoDelegato})}),
                           kNow, Ministry());
  ASSERT_TRUE(roma.ok()) << roma.status();
  EXPECT_EQ(roma->holders_with_a_card_already, std::vector<std::string>{"RSSMRA85T10H501O"});
  auto claimed = stores_->orders.ClaimCardOrders("perso", 10, std::chrono::seconds(900), kNow, {});
  ASSERT_TRUE(claimed.ok()) << claimed.status();
  ASSERT_EQ(claimed->size(), 1u);
  EXPECT_EQ(claimed->front().ordered_by, kMinistryOrderer);

  // Removed and added again: the record changes, his Ministry card stays his one card.
  EXPECT_FALSE(
      ministry.Remove("RSSMRA85T10H501O", {"trasferito", "req-2"}, kNow, Ministry()).value());
  EXPECT_TRUE(ministry.Remove("RSSMRA85T10H501O", {"trasferito", "req-2"}, kNow, Ministry())
                  .value());  // a retry
  EXPECT_FALSE(ministry.IsOperator("RSSMRA85T10H501O").value());
  auto back = ministry.Add(mario, {"rientrato", "req-3"}, kNow, Ministry(), nullptr);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_FALSE(back->new_card);
  EXPECT_EQ(back->card_number, "0000000000000001");
  EXPECT_EQ(ministry.Add(mario, {"ancora", "req-4"}, kNow, Ministry(), nullptr).status().code(),
            absl::StatusCode::kFailedPrecondition);  // already one
  // A request_id names one change: reused for another person, refused.
  EXPECT_EQ(ministry.Add(User("BNCNNA90A41H501W", {}), {"x", "req-3"}, kNow, Ministry(), nullptr)
                .status()
                .code(),
            absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(Count("SELECT count(*) FROM registry.ministry_operator_changes"), 3);

  // Someone whose live card a census ordered cannot become a Ministry operator with it.
  auto refused =
      ministry.Add(User("BNCNNA90A41H501W", {}), {"x", "req-5"}, kNow, Ministry(), nullptr);
  EXPECT_TRUE(refused.ok()) << refused.status();  // no card yet: a Ministry card is ordered
  ASSERT_TRUE(SubmitComune(Census("015146", 2, {User("VRDLGU70A01H501X", {kSindacoDelegato})}),
                           kNow, Ministry())
                  .ok());
  auto holds_census_card =
      ministry.Add(User("VRDLGU70A01H501X", {}), {"x", "req-6"}, kNow, Ministry(), nullptr);
  EXPECT_EQ(holds_census_card.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(holds_census_card.status().message().find("ordered by a census"), std::string::npos)
      << holds_census_card.status();
  EXPECT_FALSE(ministry.IsOperator("VRDLGU70A01H501X").value());
}

TEST_F(CensusStoreTest, AFailureHalfwayKeepsNothing) {
  // Fail the last step of the transaction: the workstation orders.
  InjectFailure("registry.workstation_orders", "INSERT");
  auto failed = SubmitComune(Census("058091", 2, {User("RSSMRA85T10H501O", {kSindacoDelegato})}),
                             kNow, Ministry());
  EXPECT_FALSE(failed.ok());
  EXPECT_EQ(Count("SELECT count(*) FROM registry.censuses WHERE state = 'SUBMITTED'"), 0);
  EXPECT_EQ(Count("SELECT count(*) FROM registry.persons"), 0);
  EXPECT_EQ(Count("SELECT count(*) FROM registry.card_orders"), 0);
  EXPECT_EQ(Count("SELECT count(*) FROM registry.card_number_counters"), 0);
  LiftFailure("registry.workstation_orders");
  auto retried = SubmitComune(Census("058091", 2, {User("RSSMRA85T10H501O", {kSindacoDelegato})}),
                              kNow, Ministry());
  ASSERT_TRUE(retried.ok()) << retried.status();
  EXPECT_EQ(retried->card_orders[0].card_number, "0580910000000001");  // no number lost
}

TEST_F(CensusStoreTest, WorkersClaimDisjointOrders) {
  std::vector<CensusUser> users = {User("RSSMRA85T10H501O", {kSindacoDelegato})};
  for (const char* cf : {"BNCNNA90A41H501W", "VRDLGU70A01H501X", "NRELCU80A01H501A"}) {
    users.push_back(User(cf, {kAccessoWeb}));
  }
  ASSERT_TRUE(SubmitComune(Census("058091", 3, users), kNow, Ministry()).ok());
  const std::chrono::seconds lease(900);
  std::vector<CardOrder> a, b;
  std::thread first(
      [&] { a = stores_->orders.ClaimCardOrders("perso-a", 3, lease, kNow, {}).value(); });
  std::thread second(
      [&] { b = stores_->orders.ClaimCardOrders("perso-b", 3, lease, kNow, {}).value(); });
  first.join();
  second.join();
  std::set<std::string> claimed;
  for (const auto& o : a) claimed.insert(o.card_number);
  for (const auto& o : b) claimed.insert(o.card_number);
  EXPECT_EQ(a.size() + b.size(), 4u);
  EXPECT_EQ(claimed.size(), 4u);  // nobody got an order twice
  EXPECT_TRUE(stores_->orders.ClaimCardOrders("perso-c", 10, lease, kNow, {})->empty());
  // What the card needs travels with the order.
  const CardOrder& any = a.empty() ? b.front() : a.front();
  EXPECT_EQ(any.surname, "Rossi");
  EXPECT_EQ(any.ordered_by, "058091");
  auto stations = stores_->orders.ClaimWorkstationOrders("perso-a", 10, lease, kNow, {});
  ASSERT_TRUE(stations.ok()) << stations.status();
  ASSERT_EQ(stations->size(), 3u);
  EXPECT_EQ(stations->front().CommonId(), "0580910001");
  EXPECT_EQ(stations->back().CommonId(), "0580910099");
}

TEST_F(CensusStoreTest, AClaimOutlivesNoDaemon) {
  std::vector<CensusUser> users = {User("RSSMRA85T10H501O", {kSindacoDelegato}),
                                   User("BNCNNA90A41H501W", {kAccessoWeb})};
  ASSERT_TRUE(SubmitComune(Census("058091", 1, users), kNow, Ministry()).ok());
  const std::chrono::seconds lease(900);
  auto held = stores_->orders.ClaimCardOrders("perso-a", 1, lease, kNow, {});
  ASSERT_TRUE(held.ok() && held->size() == 1u);
  // perso-a restarts under the same name: it gets its order back first, not a second one.
  auto resumed =
      stores_->orders.ClaimCardOrders("perso-a", 1, lease, kNow + std::chrono::seconds(10), {});
  ASSERT_TRUE(resumed.ok() && resumed->size() == 1u);
  EXPECT_EQ(resumed->front().card_number, held->front().card_number);
  // While the lease runs, nobody else takes it; the other order is free.
  auto other =
      stores_->orders.ClaimCardOrders("perso-b", 5, lease, kNow + std::chrono::seconds(20), {});
  ASSERT_TRUE(other.ok() && other->size() == 1u);
  EXPECT_NE(other->front().card_number, held->front().card_number);
  // perso-a died: when its lease (renewed at +10 s) runs out, perso-c takes its order.
  EXPECT_TRUE(
      stores_->orders.ClaimCardOrders("perso-c", 5, lease, kNow + std::chrono::seconds(909), {})
          ->empty());
  auto taken_over =
      stores_->orders.ClaimCardOrders("perso-c", 5, lease, kNow + std::chrono::seconds(910), {});
  ASSERT_TRUE(taken_over.ok() && taken_over->size() == 1u);
  EXPECT_EQ(taken_over->front().card_number, held->front().card_number);
  EXPECT_EQ(Count("SELECT count(*) FROM registry.card_orders WHERE claimed_by = 'perso-c'"), 1);
}

// What the daemons made of the orders: each outcome from the worker holding the order, once.
TEST_F(CensusStoreTest, OutcomesComeFromTheHolderOnceAndAFailedCardEnds) {
  std::vector<CensusUser> users = {User("RSSMRA85T10H501O", {kSindacoDelegato}),
                                   User("BNCNNA90A41H501W", {kAccessoWeb}),
                                   User("VRDLGU70A01H501X", {kAccessoWeb})};
  ASSERT_TRUE(SubmitComune(Census("058091", 2, users), kNow, Ministry()).ok());
  const std::chrono::seconds lease(900);
  auto cards = stores_->orders.ClaimCardOrders("perso-a", 10, lease, kNow, {});
  auto stations = stores_->orders.ClaimWorkstationOrders("perso-a", 10, lease, kNow, {});
  ASSERT_TRUE(cards.ok() && cards->size() == 3u && stations.ok() && stations->size() == 2u);
  using Kind = OrderOutcome::Kind;
  const OrderOutcome first{Kind::kCard, (*cards)[0].card_number, "aa01", ""};
  const OrderOutcome second_failed{Kind::kCard, (*cards)[1].card_number, "", "card removed"};
  const OrderOutcome server{Kind::kWorkstation, (*stations)[0].CommonId(), "bb01", ""};
  auto report = [&](std::string worker, std::vector<OrderOutcome> outcomes) {
    return stores_->orders.Report(worker, outcomes, kNow + std::chrono::seconds(60));
  };

  auto recorded = report("perso-a", {first, second_failed, server});
  ASSERT_EQ(recorded.size(), 3u);
  for (const auto& r : recorded) EXPECT_TRUE(r.ok() && !*r) << r.status();
  // A retry is answered as recorded; another outcome for the same order is refused.
  auto again = report("perso-a", {first, second_failed});
  EXPECT_TRUE(again[0].ok() && *again[0]);
  EXPECT_TRUE(again[1].ok() && *again[1]);
  EXPECT_EQ(report("perso-a", {{Kind::kCard, first.order, "aa02", ""}})[0].status().code(),
            absl::StatusCode::kFailedPrecondition);
  // Only the holder reports; a serial is on one order; an unknown order is NOT_FOUND.
  const std::string third = (*cards)[2].card_number;
  EXPECT_EQ(report("perso-b", {{Kind::kCard, third, "cc01", ""}})[0].status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(report("perso-a", {{Kind::kCard, third, "aa01", ""}})[0].status().code(),
            absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(report("perso-a", {{Kind::kCard, "0580919999999999", "dd01", ""}})[0].status().code(),
            absl::StatusCode::kNotFound);

  EXPECT_EQ(Count("SELECT count(*) FROM registry.card_orders WHERE state = 'PRODOTTA' AND "
                  "certificate_serial = 'aa01' AND outcome_by = 'perso-a'"),
            1);
  // The failed card ended: its person has no live card, and the history keeps why.
  EXPECT_EQ(Count("SELECT count(*) FROM registry.card_orders WHERE state = 'FALLITA' AND "
                  "end_reason = 'failed' AND ended_at IS NOT NULL AND failure = 'card removed'"),
            1);
  EXPECT_EQ(Count("SELECT count(*) FROM registry.workstation_orders WHERE state = 'PRODOTTA'"), 1);
  // Claims hand out only what is left: the third card and the other workstation.
  auto left_cards =
      stores_->orders.ClaimCardOrders("perso-c", 10, lease, kNow + std::chrono::seconds(2000), {});
  auto left_stations = stores_->orders.ClaimWorkstationOrders(
      "perso-c", 10, lease, kNow + std::chrono::seconds(2000), {});
  ASSERT_TRUE(left_cards.ok() && left_stations.ok());
  ASSERT_EQ(left_cards->size(), 1u);
  EXPECT_EQ(left_cards->front().card_number, third);
  EXPECT_EQ(left_stations->size(), 1u);

  // A card order ended meanwhile (the security console replaced it) takes no outcome.
  ASSERT_TRUE(conn_
                  ->Exec("UPDATE registry.card_orders SET ended_at = now(), end_reason = "
                         "'replaced' WHERE card_number = $1",
                         {pg::Param(third)})
                  .ok());
  auto ended = report("perso-c", {{Kind::kCard, third, "ee01", ""}});
  EXPECT_EQ(ended[0].status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(ended[0].status().message().find("ended while in production"), std::string::npos)
      << ended[0].status();
  EXPECT_EQ(Count("SELECT count(*) FROM registry.card_orders WHERE state = 'LAVORAZIONE' AND "
                  "end_reason = 'replaced'"),
            1);
}

// A batch's reach: a claim takes only a province's, a comune's or the listed orders.
TEST_F(CensusStoreTest, AClaimTakesOnlyWhatItsScopeReaches) {
  ASSERT_TRUE(SubmitComune(Census("058091", 2, {User("RSSMRA85T10H501O", {kSindacoDelegato})}),
                           kNow, Ministry())
                  .ok());
  ASSERT_TRUE(SubmitComune(Census("015146", 2, {User("BNCNNA90A41H501W", {kSindacoDelegato})}),
                           kNow, Ministry())
                  .ok());
  const std::chrono::seconds lease(900);
  auto milano = stores_->orders.ClaimCardOrders("perso-a", 10, lease, kNow, {.prefix = "015"});
  ASSERT_TRUE(milano.ok()) << milano.status();
  ASSERT_EQ(milano->size(), 1u);
  EXPECT_EQ(milano->front().card_number.substr(0, 6), "015146");
  auto stations =
      stores_->orders.ClaimWorkstationOrders("perso-a", 10, lease, kNow, {.prefix = "015146"});
  ASSERT_TRUE(stations.ok());
  EXPECT_EQ(stations->size(), 2u);
  for (const WorkstationOrder& w : *stations) EXPECT_EQ(w.owner, "015146");
  // Only the listed ones: Roma's server, not its workstation 0001.
  auto listed = stores_->orders.ClaimWorkstationOrders("perso-b", 10, lease, kNow,
                                                       {.orders = {"0580910099"}});
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ(listed->front().CommonId(), "0580910099");
  EXPECT_TRUE(
      stores_->orders.ClaimCardOrders("perso-b", 10, lease, kNow, {.prefix = "099"})->empty());
  // Everything else is still there for an unscoped claim.
  auto rest = stores_->orders.ClaimCardOrders("perso-c", 10, lease, kNow, {});
  ASSERT_TRUE(rest.ok());
  ASSERT_EQ(rest->size(), 1u);
  EXPECT_EQ(rest->front().card_number.substr(0, 6), "058091");
}

TEST_F(CensusStoreTest, APrefetturaNumbersItsCardsUnderItsProvince) {
  ASSERT_TRUE(SubmitComune(Census("058091", 1, {User("RSSMRA85T10H501O", {kSindacoDelegato})}),
                           kNow, Ministry())
                  .ok());
  PrefetturaCensus prefettura{
      .province_sigla = "RM",
      .province = "Roma",
      .workstations = 2,
      .users = {User("BNCNNA90A41H501W", {kAmministratoreSicurezza}),
                User("VRDLGU70A01H501X", {"amministratore_postazioni_prefettura"}),
                User("RSSMRA85T10H501O", {"operatore_monitoraggio_operazioni"})}};
  auto submitted = SubmitPrefettura("058", prefettura, kNow, Ministry());
  ASSERT_TRUE(submitted.ok()) << submitted.status();
  ASSERT_EQ(submitted->card_orders.size(), 2u);  // the third already has the comune's card
  EXPECT_EQ(submitted->card_orders[0].card_number, "0580000000000001");
  EXPECT_EQ(submitted->card_orders[1].card_number, "0580000000000002");
  EXPECT_EQ(submitted->holders_with_a_card_already, std::vector<std::string>{"RSSMRA85T10H501O"});
  ASSERT_EQ(submitted->workstation_orders.size(), 2u);
  EXPECT_EQ(submitted->workstation_orders[0].owner, "058000");
  EXPECT_EQ(submitted->workstation_orders[1].progressive, 2);
  auto record = store_->Get(CensusKind::kPrefettura, "058");
  ASSERT_TRUE(record.ok());
  EXPECT_TRUE(record->submitted);
  EXPECT_EQ(std::get<PrefetturaCensus>(record->census).users.size(), 3u);
}

TEST_F(CensusStoreTest, AnImportIsSavedWholeOrNotAtAll) {
  const std::vector<ComuneCensus> file = {
      Census("058091", 1, {User("RSSMRA85T10H501O", {kSindacoDelegato})}),
      Census("015146", 1, {User("BNCNNA90A41H501W", {kSindacoDelegato})})};
  ASSERT_TRUE(store_->SaveDrafts(file, kNow, Fresh()).ok());
  EXPECT_EQ(Count("SELECT count(*) FROM registry.censuses WHERE state = 'DRAFT'"), 2);
  ASSERT_TRUE(SubmitComune(file[1], kNow, Ministry()).ok());
  // Milano is final now: a file holding it keeps nothing, Roma's draft included.
  std::vector<ComuneCensus> again = file;
  again[0].contacts.cap = "00199";
  auto refused = store_->SaveDrafts(again, kNow, Fresh());
  EXPECT_EQ(refused.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(refused.message(),
            "census of 015146 is already submitted; changes go through the security console");
  auto roma = store_->Get(CensusKind::kComune, "058091");
  ASSERT_TRUE(roma.ok());
  EXPECT_EQ(std::get<ComuneCensus>(roma->census).contacts.cap, "00100");
}

TEST_F(CensusStoreTest, AnImportRacingASubmissionNeverOverwritesTheSubmittedCensus) {
  const std::vector<ComuneCensus> file = {
      Census("058091", 1, {User("RSSMRA85T10H501O", {kSindacoDelegato})}),
      Census("015146", 1, {User("BNCNNA90A41H501W", {kSindacoDelegato})})};
  ASSERT_TRUE(store_->SaveDrafts(file, kNow, Fresh()).ok());
  // A submission of Milano under way: its transaction holds the row, not yet committed, so
  // the import's check still sees a draft.
  auto submitter = pg::Connection::Open(conninfo_);
  ASSERT_TRUE(submitter.ok());
  ASSERT_TRUE((*submitter)->Exec("BEGIN").ok());
  ASSERT_TRUE((*submitter)
                  ->Exec("UPDATE registry.censuses SET state = 'SUBMITTED', submitted_at = now(), "
                         "submitted_by_kind = 'service', submitted_by = 'tessera-cli' WHERE kind "
                         "= 'comune' AND owner = '015146'")
                  .ok());
  std::vector<ComuneCensus> again = file;
  again[0].contacts.cap = "00199";
  again[1].contacts.cap = "20199";
  absl::Status imported;
  std::thread import([&] { imported = store_->SaveDrafts(again, kNow, Fresh()); });
  // The import waits on Milano's row; wait until PostgreSQL shows it waiting on a lock.
  for (int i = 0; i < 500 && Count("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type "
                                   "= 'Lock' AND datname = current_database()") == 0;
       ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_TRUE((*submitter)->Exec("COMMIT").ok());
  import.join();
  EXPECT_EQ(imported.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(imported.message(),
            "census of 015146 is already submitted; changes go through the security console");
  // Milano's submitted census is the one submitted, and Roma's draft is untouched too.
  EXPECT_EQ(std::get<ComuneCensus>(store_->Get(CensusKind::kComune, "015146")->census).contacts.cap,
            "00100");
  EXPECT_EQ(std::get<ComuneCensus>(store_->Get(CensusKind::kComune, "058091")->census).contacts.cap,
            "00100");
}

TEST_F(CensusStoreTest, AnAccessCodeOpensItsComuneUntilReplacedExpiredOrSubmitted) {
  auto code = ParseAccessCode(NewAccessCode("058091").view());
  ASSERT_TRUE(code.ok());
  const auto expires = kNow + kAccessCodeValidity;
  ASSERT_TRUE(
      stores_->access_codes.Put("058091", code->digest, kNow, expires, Fresh(Ministry())).ok());
  EXPECT_EQ(Count("SELECT count(*) FROM registry.census_access_codes"), 1);
  EXPECT_TRUE(*stores_->access_codes.IsValid(*code, kNow));
  EXPECT_FALSE(*stores_->access_codes.IsValid(*code, expires));  // expired
  // Only the digest is stored, never the code.
  EXPECT_EQ(Count("SELECT length(code_sha256) FROM registry.census_access_codes"), 32);

  // A new code revokes the old one.
  auto second = ParseAccessCode(NewAccessCode("058091").view());
  ASSERT_TRUE(
      stores_->access_codes.Put("058091", second->digest, kNow, expires, Fresh(Ministry())).ok());
  EXPECT_FALSE(*stores_->access_codes.IsValid(*code, kNow));
  EXPECT_TRUE(*stores_->access_codes.IsValid(*second, kNow));
  // A code is for its own comune only: the same digest claimed for Milano opens nothing.
  AccessCode claimed_elsewhere{"015146", second->digest};
  EXPECT_FALSE(*stores_->access_codes.IsValid(claimed_elsewhere, kNow));

  // Unknown comune: NOT_FOUND, nothing stored.
  EXPECT_EQ(
      stores_->access_codes.Put("099999", code->digest, kNow, expires, Fresh(Ministry())).code(),
      absl::StatusCode::kNotFound);

  // Submission closes the census and revokes the code in the same transaction; no new code.
  auto submitted = SubmitComune(Census("058091", 1, {User("RSSMRA85T10H501O", {kSindacoDelegato})}),
                                kNow, Ministry());
  ASSERT_TRUE(submitted.ok()) << submitted.status();
  EXPECT_FALSE(*stores_->access_codes.IsValid(*second, kNow));
  EXPECT_EQ(Count("SELECT count(*) FROM registry.census_access_codes"), 0);
  EXPECT_EQ(
      stores_->access_codes.Put("058091", code->digest, kNow, expires, Fresh(Ministry())).code(),
      absl::StatusCode::kFailedPrecondition);
}

// Who did what: each access code issued is a row of its own naming who issued it (never the
// code); a submitted census names who submitted it; refused acts record nobody; the
// issuance rows cannot be changed.
TEST_F(CensusStoreTest, AccessCodesAndSubmissionsNameTheirActor) {
  const Actor operator_card{
      .kind = "operator", .name = "RSSMRA85T10A562S", .serial = "0c4d", .call_id = "call-code-1"};
  const auto expires = kNow + kAccessCodeValidity;
  auto first = ParseAccessCode(NewAccessCode("058091").view());
  auto second = ParseAccessCode(NewAccessCode("058091").view());
  ASSERT_TRUE(first.ok() && second.ok());
  ASSERT_TRUE(
      stores_->access_codes.Put("058091", first->digest, kNow, expires, Fresh(operator_card)).ok());
  ASSERT_TRUE(
      stores_->access_codes.Put("058091", second->digest, kNow, expires, Fresh(Ministry())).ok());
  auto issued = conn_->Exec(
      "SELECT office, issued_by_kind, issued_by, issued_by_serial, call_id, expires_at = "
      "to_timestamp($1) FROM registry.access_code_issuances ORDER BY id",
      {pg::Param(UnixSeconds(expires))});
  ASSERT_EQ(issued->rows(), 2) << "a replaced code keeps its row";
  EXPECT_EQ(issued->Text(0, 0), "058091");
  EXPECT_EQ(issued->Text(0, 1), "operator");
  EXPECT_EQ(issued->Text(0, 2), "RSSMRA85T10A562S");
  EXPECT_EQ(issued->Text(0, 3), "0c4d");
  EXPECT_EQ(issued->Text(0, 4), "call-code-1");
  EXPECT_TRUE(issued->Bool(0, 5));
  EXPECT_EQ(issued->Text(1, 2), "tessera-cli");
  // Refused: an unknown comune, an act by nobody.
  EXPECT_FALSE(
      stores_->access_codes.Put("099999", first->digest, kNow, expires, Fresh(Ministry())).ok());
  EXPECT_FALSE(
      stores_->access_codes.Put("058091", first->digest, kNow, expires, Fresh(Actor{})).ok());
  EXPECT_EQ(Count("SELECT count(*) FROM registry.access_code_issuances"), 2);

  // A submission that fails halfway records no submitter; the one that succeeds does, with
  // the access code's comune as actor (no certificate serial); a repeat keeps it.
  const ComuneCensus census = Census("058091", 1, {User("RSSMRA85T10H501O", {kSindacoDelegato})});
  const Actor comune{.kind = "access_code", .name = "058091", .call_id = "call-submit-1"};
  InjectFailure("registry.workstation_orders", "INSERT");
  EXPECT_FALSE(SubmitComune(census, kNow, comune).ok());
  EXPECT_EQ(Count("SELECT count(*) FROM registry.censuses WHERE submitted_by IS NOT NULL"), 0);
  LiftFailure("registry.workstation_orders");
  EXPECT_FALSE(SubmitComune(census, kNow, Actor{}).ok());
  ASSERT_TRUE(SubmitComune(census, kNow, comune).ok());
  auto repeated = SubmitComune(census, kNow, Ministry());
  ASSERT_TRUE(repeated.ok()) << repeated.status();
  EXPECT_TRUE(repeated->repeated);
  auto submitted = conn_->Exec(
      "SELECT submitted_by_kind, submitted_by, submitted_by_serial IS NULL, submitted_call_id "
      "FROM registry.censuses WHERE kind = 'comune' AND owner = '058091'");
  ASSERT_EQ(submitted->rows(), 1);
  EXPECT_EQ(submitted->Text(0, 0), "access_code");
  EXPECT_EQ(submitted->Text(0, 1), "058091");
  EXPECT_TRUE(submitted->Bool(0, 2));
  EXPECT_EQ(submitted->Text(0, 3), "call-submit-1");

  // A prefettura's submission too.
  PrefetturaCensus prefettura{.province_sigla = "RM",
                              .province = "Roma",
                              .workstations = 1,
                              .users = {User("BNCNNA90A41H501W", {kAmministratoreSicurezza})}};
  ASSERT_TRUE(SubmitPrefettura("058", prefettura, kNow, operator_card).ok());
  EXPECT_EQ(Count("SELECT count(*) FROM registry.censuses WHERE kind = 'prefettura' AND "
                  "submitted_by = 'RSSMRA85T10A562S' AND submitted_call_id = 'call-code-1'"),
            1);

  for (const char* change :
       {"UPDATE registry.access_code_issuances SET issued_by = 'x'",
        "DELETE FROM registry.access_code_issuances", "TRUNCATE registry.access_code_issuances"}) {
    auto refused = conn_->Exec(change);
    EXPECT_FALSE(refused.ok()) << change;
    EXPECT_NE(refused.status().message().find("append-only"), std::string::npos)
        << refused.status();
  }
}

// A registry that ran before persons were keyed by PersonKey: V005 fills the key from the code
// as written (omocodia undone), moves each person's mailbox to the census that declared it,
// and keeps the card orders, now live; V007 renames access codes' istat to office.
TEST(RegistryUpgrade, V005AndV007CarryExistingRowsOver) {
  testing::TestPg& pg = testing::TestPg::Get();
  const std::string conninfo = pg.ConnInfo(pg.CreateDatabase());
  auto conn = pg::Connection::Open(conninfo);
  ASSERT_TRUE(conn.ok()) << conn.status();
  std::vector<pg::Migration> all = PgMigrations();
  std::vector<pg::Migration> before_v005;
  for (const pg::Migration& m : all) {
    if (m.version < 5) before_v005.push_back(m);
  }
  ASSERT_EQ(before_v005.size(), 4u);
  ASSERT_TRUE(pg::ApplyMigrations(**conn, kPgSchema, before_v005).ok());
  // An omocodic spelling (the year's 5 written as R) and its census, card and access code.
  ASSERT_TRUE(
      (*conn)
          ->ExecScript("INSERT INTO registry.province (code, sigla, name, region) VALUES "
                       "('058', 'RM', 'Roma', 'Lazio'); "
                       "INSERT INTO registry.comuni (istat, name, province_code, belfiore) VALUES "
                       "('058091', 'Roma', '058', 'H501'); "
                       "INSERT INTO registry.censuses (kind, owner, state, document, saved_at, "
                       "submitted_at, submitted_by_kind, submitted_by) VALUES ('comune', "
                       "'058091', 'SUBMITTED', '{}', now(), now(), 'service', 'tessera-cli'); "
                       "INSERT INTO registry.persons (codice_fiscale, surname, name, birth_date, "
                       "birth_place, birth_province, sex, email, created_at) VALUES "
                       "('RSSMRA8RT10H501X', 'Rossi', 'Mario', '1985-12-10', 'Roma', 'RM', 'M', "
                       "'mario.rossi@comune.roma.it', now()); "
                       "INSERT INTO registry.census_users (census_id, codice_fiscale, profiles) "
                       "SELECT id, 'RSSMRA8RT10H501X', '{sindaco_delegato}' FROM "
                       "registry.censuses; "
                       "INSERT INTO registry.card_orders (card_number, codice_fiscale, census_id, "
                       "state, created_at) SELECT '0580910000000001', 'RSSMRA8RT10H501X', id, "
                       "'LAVORAZIONE', now() FROM registry.censuses; "
                       "INSERT INTO registry.access_code_issuances (istat, issued_at, expires_at, "
                       "issued_by_kind, issued_by) VALUES ('058091', now(), now() + interval "
                       "'1 day', 'service', 'tessera-cli');")
          .ok());
  auto upgraded = pg::ApplyMigrations(**conn, kPgSchema, all);
  ASSERT_TRUE(upgraded.ok()) << upgraded.status();
  EXPECT_EQ(upgraded->current_version, all.back().version);
  auto person = (*conn)->Exec("SELECT person_key FROM registry.persons");
  ASSERT_TRUE(person.ok()) << person.status();
  EXPECT_EQ(person->Text(0, 0), "RSSMRA85T10H501");
  auto mailbox = (*conn)->Exec("SELECT email FROM registry.census_users");
  ASSERT_TRUE(mailbox.ok()) << mailbox.status();
  EXPECT_EQ(mailbox->Text(0, 0), "mario.rossi@comune.roma.it");
  auto live = (*conn)->Exec(
      "SELECT count(*) FROM registry.card_orders WHERE ended_at IS NULL AND census_id IS NOT "
      "NULL");
  ASSERT_TRUE(live.ok()) << live.status();
  EXPECT_EQ(live->Int(0, 0), 1);
  auto office = (*conn)->Exec("SELECT office FROM registry.access_code_issuances");
  ASSERT_TRUE(office.ok()) << office.status();
  EXPECT_EQ(office->Text(0, 0), "058091");
}

TEST(CensusJson, RoundTripsAndNamesWhatIsMissing) {
  ComuneCensus census = Census("058091", 2, {User("RSSMRA85T10H501O", {kSindacoDelegato})});
  auto back = ComuneCensusFromJson(ComuneCensusToJson(census));
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(ComuneCensusToJson(*back), ComuneCensusToJson(census));
  EXPECT_EQ(back->users[0].birth_date, year(1985) / 12 / 10);
  EXPECT_EQ(ComuneCensusFromJson(R"({"istat": "058091"})").status().message(), "name: missing");
  EXPECT_EQ(ComuneCensusFromJson("[1]").status().message(), "census: not a JSON object");
  EXPECT_EQ(ParseIsoDate("1985-02-30").status().message(), "'1985-02-30' does not exist");
}

// registry.requests: a retry (same caller, key and content) is answered from the record of the
// first call and changes nothing; the key used for anything else is refused.
TEST_F(CensusStoreTest, ARetryWithTheSameKeyChangesNothingAndAnotherUseOfTheKeyIsRefused) {
  ComuneCensus draft{.istat = "058091"};
  draft.contacts.cap = "00186";
  const Request save = Fresh();
  auto first = store_->SaveDraft("058091", draft, kNow, save);
  ASSERT_TRUE(first.ok()) << first.status();
  auto retry = store_->SaveDraft("058091", draft, kNow + std::chrono::seconds(5), save);
  ASSERT_TRUE(retry.ok()) << retry.status();
  EXPECT_EQ(retry->revision, first->revision);
  EXPECT_EQ(retry->saved_at, first->saved_at);
  EXPECT_EQ(Count("SELECT revision FROM registry.censuses"), 1);

  // The same key for other content, or for another call, is ALREADY_EXISTS and writes nothing.
  Request other = save;
  other.fingerprint[31] ^= 1;
  auto reused = store_->SaveDraft("058091", draft, kNow, other);
  EXPECT_EQ(reused.status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(store_->SaveDrafts({draft}, kNow, save).code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(Count("SELECT revision FROM registry.censuses"), 1);
  // Keys are the caller's own: another caller's "test-N" is another request.
  Request elsewhere = save;
  elsewhere.actor = {.kind = "access_code", .name = "058091"};
  ASSERT_TRUE(store_->SaveDraft("058091", draft, kNow, elsewhere).ok());
  EXPECT_EQ(Count("SELECT revision FROM registry.censuses"), 2);

  // A retried import saves nothing again.
  const Request import = Fresh();
  ASSERT_TRUE(store_->SaveDrafts({draft}, kNow, import).ok());
  ASSERT_TRUE(store_->SaveDrafts({draft}, kNow, import).ok());
  EXPECT_EQ(Count("SELECT revision FROM registry.censuses"), 3);

  // A retried submission answers as the first did; the key for another census is refused.
  const Request submit = Fresh();
  ComuneCensus roma = Census("058091", 2, {User("RSSMRA85T10H501O", {kSindacoDelegato})});
  auto submitted = store_->Submit(SubmissionOf(roma), kNow, submit);
  ASSERT_TRUE(submitted.ok()) << submitted.status();
  auto again = store_->Submit(SubmissionOf(roma), kNow, submit);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_TRUE(again->repeated);
  EXPECT_EQ(again->card_orders.size(), 1u);
  Request milano = submit;
  milano.fingerprint[31] ^= 1;
  EXPECT_EQ(store_->Submit(SubmissionOf(Census("015146", 2, {})), kNow, milano).status().code(),
            absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(Count("SELECT count(*) FROM registry.censuses WHERE owner = '015146'"), 0);
}

TEST_F(CensusStoreTest, AnAccessCodeIsShownOnceSoARetryIssuesNothing) {
  auto code = ParseAccessCode(NewAccessCode("058091").view());
  auto other = ParseAccessCode(NewAccessCode("058091").view());
  ASSERT_TRUE(code.ok() && other.ok());
  const auto expires = kNow + kAccessCodeValidity;
  const Request issue = Fresh();
  ASSERT_TRUE(stores_->access_codes.Put("058091", code->digest, kNow, expires, issue).ok());
  absl::Status retry = stores_->access_codes.Put("058091", other->digest, kNow, expires, issue);
  EXPECT_EQ(retry.code(), absl::StatusCode::kAlreadyExists);
  EXPECT_NE(retry.message().find("shown once"), std::string::npos) << retry;
  EXPECT_TRUE(*stores_->access_codes.IsValid(*code, kNow));  // the first code stands
  EXPECT_FALSE(*stores_->access_codes.IsValid(*other, kNow));
  EXPECT_EQ(Count("SELECT count(*) FROM registry.access_code_issuances"), 1);
}

TEST_F(CensusStoreTest, TwoCallsWithOneKeyAtOnceSaveOnce) {
  ComuneCensus draft{.istat = "058091"};
  const Request save = Fresh();
  std::vector<absl::StatusOr<CensusRecord>> results(4, absl::UnknownError("not run"));
  std::vector<std::thread> callers;
  for (auto& result : results) {
    callers.emplace_back([&] { result = store_->SaveDraft("058091", draft, kNow, save); });
  }
  for (std::thread& t : callers) t.join();
  for (const auto& result : results) {
    ASSERT_TRUE(result.ok()) << result.status();
    EXPECT_EQ(result->revision, 1);
  }
  EXPECT_EQ(Count("SELECT revision FROM registry.censuses"), 1);
}

}  // namespace
}  // namespace tessera::registry
