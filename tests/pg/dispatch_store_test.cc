// The dispatch store in PostgreSQL: lots taken over once, deliveries all or nothing with their
// protocol numbers (per prefettura and year, no gaps), a card never delivered twice (also when
// eight deliveries race for it), retries under a request id answered alike, mails queued in the
// delivery's transaction, every change in the schema's audit chain.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "dispatch/pg_lots.h"
#include "platform/clock.h"
#include "platform/migrations.h"
#include "tests/support/test_pg.h"

namespace tessera::dispatch {
namespace {

class DispatchStoreTest : public testing::PgTest {
 protected:
  void SetUp() override {
    PgTest::SetUp();
    ASSERT_TRUE(pg::ApplyMigrations(*conn_, kPgSchema, PgMigrations()).ok());
    pool_ = std::make_unique<pg::ConnectionPool>(conninfo_, 8);
    store_ = std::make_unique<PgDispatchStore>(*pool_);
  }
  void TearDown() override {
    store_.reset();
    pool_.reset();
    PgTest::TearDown();
  }

  static LotIntake Accumoli() {
    LotIntake lot{.lot_number = "2026000001",
                  .batch_id = 1,
                  .office = "057001",
                  .office_name = "ACCUMOLI (RI)",
                  .prefettura = "RI",
                  .sealed_at = FromUnixSeconds(1796000000)};
    const char* holders[][3] = {{"RCCGLI72M42G157D", "RICCI", "GIULIA"},
                                {"CSTPLA80A01H501U", "COSTA", "PAOLO"},
                                {"BNCMRA75C41H501Z", "BIANCHI", "MARIA"}};
    for (int i = 0; i < 3; ++i) {
      lot.cards.push_back(
          {.card_number = "057001000000000" + std::to_string(i + 1),
           .codice_fiscale = holders[i][0],
           .surname = holders[i][1],
           .name = holders[i][2],
           .subject_dn = std::string("CN=") + holders[i][0] +
                         ",OU=Operatori,OU=Anagrafe Nazionale Popolazione Residente,O=Ministero "
                         "dell'Interno,C=IT",
           .certificate_serial = "0a0b0c0" + std::to_string(i)});
    }
    return lot;
  }
  DeliveryRequest Request(std::vector<std::string> cards, const std::string& request_id) {
    return {.office = "057001",
            .lot_number = "2026000001",
            .card_numbers = std::move(cards),
            .collector = {"RCCGLI72M42G157D", "RICCI", "GIULIA"},
            .operator_person = {"VRDLGU70A01H282X", "VERDI", "LUIGI"},
            .requested_by = "workstation:0570000001",
            .request_id = request_id,
            .at = clock_.Now()};
  }
  int64_t Count(const std::string& sql) {
    auto r = conn_->Exec(sql);
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? r->Int(0, 0) : -1;
  }

  FakeClock clock_{FromUnixSeconds(1796100000)};  // 2026-11-30, Rome
  std::unique_ptr<pg::ConnectionPool> pool_;
  std::unique_ptr<PgDispatchStore> store_;
};

TEST_F(DispatchStoreTest, ALotIsTakenOverOnceAndDeliveredWithProtocolNumbers) {
  auto taken = store_->TakeOver(Accumoli(), clock_.Now(), {});
  ASSERT_TRUE(taken.ok()) << taken.status();
  EXPECT_TRUE(*taken);
  auto again = store_->TakeOver(Accumoli(), clock_.Now(), {});
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(*again);
  auto lot = store_->GetLot("2026000001");
  ASSERT_TRUE(lot.ok());
  EXPECT_EQ(lot->cards, 3);
  EXPECT_EQ(lot->to_deliver, 3);
  EXPECT_STREQ(lot->state(), kDaCompletare);

  DeliveryRequest first = Request({"0570010000000001", "0570010000000002"}, "d-1");
  first.activate = {"0570010000000001"};  // the collector's own card
  first.mails = {{.kind = "second_halves",
                  .to = "giulia.ricci@comune.accumoli.ri.it",
                  .subject = "Seconde metà",
                  .sealed_body = {1, 2, 3}}};
  auto delivery = store_->Deliver(first);
  ASSERT_TRUE(delivery.ok()) << delivery.status();
  EXPECT_EQ(delivery->protocol, "RI-2026-000001");
  ASSERT_EQ(delivery->cards.size(), 2u);
  EXPECT_EQ(delivery->cards[0].state, kAttiva);
  EXPECT_EQ(delivery->cards[1].state, kConsegnata);
  EXPECT_EQ(delivery->cards[1].subject_dn.substr(0, 20), "CN=CSTPLA80A01H501U,");
  EXPECT_EQ(delivery->collector.surname, "RICCI");
  EXPECT_EQ(delivery->operator_person.codice_fiscale, "VRDLGU70A01H282X");
  EXPECT_EQ(Count("SELECT count(*) FROM dispatch.outbox WHERE kind = 'second_halves'"), 1);

  // A retry answers alike and queues nothing; the id reused for another delivery is refused.
  auto retry = store_->Deliver(first);
  ASSERT_TRUE(retry.ok()) << retry.status();
  EXPECT_TRUE(retry->repeated);
  EXPECT_EQ(retry->protocol, "RI-2026-000001");
  EXPECT_EQ(Count("SELECT count(*) FROM dispatch.outbox"), 1);
  EXPECT_EQ(store_->Deliver(Request({"0570010000000003"}, "d-1")).status().code(),
            absl::StatusCode::kAlreadyExists);

  // A card delivered already, another office's lot, a card not in the lot: refused, nothing
  // changed (no protocol number used up).
  auto twice = store_->Deliver(Request({"0570010000000002"}, "d-2"));
  EXPECT_EQ(twice.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(twice.status().message().find("RI-2026-000001"), absl::string_view::npos)
      << twice.status();
  DeliveryRequest elsewhere = Request({}, "d-3");
  elsewhere.office = "057002";
  EXPECT_EQ(store_->Deliver(elsewhere).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(store_->Deliver(Request({"0570020000000001"}, "d-4")).status().code(),
            absl::StatusCode::kNotFound);

  // The rest: the next number, and the lot complete.
  auto rest = store_->Deliver(Request({}, "d-5"));
  ASSERT_TRUE(rest.ok()) << rest.status();
  EXPECT_EQ(rest->protocol, "RI-2026-000002");
  ASSERT_EQ(rest->cards.size(), 1u);
  EXPECT_EQ(rest->cards[0].card_number, "0570010000000003");
  lot = store_->GetLot("2026000001");
  ASSERT_TRUE(lot.ok());
  EXPECT_EQ(lot->to_deliver, 0);
  EXPECT_STREQ(lot->state(), kCompletato);
  EXPECT_EQ(store_->Deliver(Request({}, "d-6")).status().code(),
            absl::StatusCode::kFailedPrecondition);

  // Reprinted by protocol number.
  auto reprint = store_->GetDelivery("RI-2026-000001");
  ASSERT_TRUE(reprint.ok()) << reprint.status();
  EXPECT_EQ(reprint->cards.size(), 2u);
  EXPECT_EQ(store_->GetDelivery("RI-2026-000099").status().code(), absl::StatusCode::kNotFound);
  auto lots = store_->ListLots("057001", "", 10);
  ASSERT_TRUE(lots.ok());
  ASSERT_EQ(lots->size(), 1u);
  EXPECT_EQ(store_->ListLots("057001", "2026000001", 10)->size(), 0u);

  // Every change has its audit record, written with it (chained by the service soon after).
  EXPECT_GE(Count("SELECT count(*) FROM dispatch.audit_pending WHERE action = 'cards.update'"), 3);
}

TEST_F(DispatchStoreTest, EightDeliveriesRacingForACardDeliverItOnce) {
  ASSERT_TRUE(store_->TakeOver(Accumoli(), clock_.Now(), {}).ok());
  std::atomic<int> delivered{0}, refused{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&, i] {
      auto d = store_->Deliver(Request({"0570010000000002"}, "race-" + std::to_string(i)));
      if (d.ok()) {
        ++delivered;
      } else if (d.status().code() == absl::StatusCode::kFailedPrecondition) {
        ++refused;
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(delivered.load(), 1);
  EXPECT_EQ(refused.load(), 7);
  EXPECT_EQ(Count("SELECT last FROM dispatch.protocol_counters"), 1);
}

}  // namespace
}  // namespace tessera::dispatch
