// The card journal in PostgreSQL: a record round-trips whole, and a card whose journal write
// failed after the token's step (as if the process died) resumes from the database.
#include <gtest/gtest.h>

#include "personalization/pg_card_journal.h"
#include "platform/migrations.h"
#include "tests/support/card_fakes.h"
#include "tests/support/test_hsm.h"
#include "tests/support/test_pg.h"

namespace tessera::personalization {
namespace {

using testing::TestSoftHsm;

const Clock::TimePoint kNow = std::chrono::sys_days(std::chrono::year(2026) / 12 / 2);

class CardJournalTest : public testing::PgTest {
 protected:
  void SetUp() override {
    PgTest::SetUp();
    ASSERT_TRUE(pg::ApplyMigrations(*conn_, kPgSchema, PgMigrations()).ok());
    pool_ = std::make_unique<pg::ConnectionPool>(conninfo_, 2);
    journal_ = std::make_unique<PgCardJournal>(*pool_, clock_);
  }
  int64_t Count(const std::string& sql) { return conn_->Exec(sql)->Int(0, 0); }

  FakeClock clock_{kNow};
  std::unique_ptr<pg::ConnectionPool> pool_;
  std::unique_ptr<PgCardJournal> journal_;
};

TEST_F(CardJournalTest, ARecordIsKeptWhole) {
  EXPECT_FALSE(journal_->Load("0570010000000001")->has_value());
  CardRecord record{.card_number = "0570010000000001", .done = CardStep::kRequest};
  record.envelope = {{1}, {2}, {3}};
  record.mail = {{4}, {5}, {6}};
  record.request = {7, 8};
  ASSERT_TRUE(journal_->Save(record).ok());
  record.done = CardStep::kCertificate;
  record.certificate = {9};
  ASSERT_TRUE(journal_->Save(record).ok());
  auto loaded = journal_->Load("0570010000000001");
  ASSERT_TRUE(loaded.ok() && loaded->has_value()) << loaded.status();
  const CardRecord& back = **loaded;
  EXPECT_EQ(back.done, CardStep::kCertificate);
  EXPECT_EQ(back.envelope.password, std::vector<uint8_t>{3});
  EXPECT_EQ(back.mail.pin, std::vector<uint8_t>{4});
  EXPECT_EQ(back.request, (std::vector<uint8_t>{7, 8}));
  EXPECT_EQ(back.certificate, std::vector<uint8_t>{9});
  EXPECT_EQ(Count("SELECT count(*) FROM perso.cards"), 1);
  // The database refuses what is not a card number.
  EXPECT_FALSE(journal_->Save({.card_number = "12", .done = CardStep::kNone}).ok());
}

TEST_F(CardJournalTest, ACardResumesFromTheDatabaseAfterAFailedWrite) {
  auto vault = TestSoftHsm::Get().CreateToken(TestSoftHsm::UniqueLabel("vault"));
  auto sealer = hsm::SecretSealer::Open(vault, "card-halves", /*create_if_missing=*/true);
  ASSERT_TRUE(sealer.ok()) << sealer.status();
  testing::SoftwareCardCa ca;
  const std::string number = "057001" + std::to_string(1000000000 + getpid() % 100000000);
  ASSERT_EQ(number.size(), 16u);
  const CardToMake card{number, "RSSMRA85T10H501O", "Rossi", "Mario"};

  // The credentials are recorded (an INSERT); the token's record (an UPDATE) is not.
  InjectFailure("perso.cards", "UPDATE");
  {
    CardMaker maker(TestSoftHsm::Get().module(), *sealer, *journal_, ca);
    EXPECT_FALSE(maker.Make(card).ok());
  }
  LiftFailure("perso.cards");
  EXPECT_EQ(Count("SELECT count(*) FROM perso.cards WHERE done = 'credentials'"), 1);
  // Only sealed halves in the table: no row holds the PIN's digits as text.
  EXPECT_EQ(Count("SELECT count(*) FROM perso.cards WHERE mail_pin IS NULL OR length(mail_pin) "
                  "< 29"),
            0);

  // A new process: a new maker on the same journal and token store.
  CardMaker maker(TestSoftHsm::Get().module(), *sealer, *journal_, ca);
  auto made = maker.Make(card);
  ASSERT_TRUE(made.ok()) << made.status();
  EXPECT_EQ(Count("SELECT count(*) FROM perso.cards WHERE done = 'proved' AND certificate IS "
                  "NOT NULL"),
            1);
  EXPECT_EQ(ca.issued(), 1u);
}

}  // namespace
}  // namespace tessera::personalization
