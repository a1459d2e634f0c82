// The outbox sender against a real SMTP server (python3-aiosmtpd on loopback) and the
// registry's outbox in PostgreSQL, sealed bodies opened with a key on SoftHSM: each mail
// delivered once with the Message-ID it was queued with; a relay down, a 451 and a connection
// cut mid-message retried with backoff until delivered; a 550 given up; a sealed mail to a PEC
// never sent; a sender killed between the relay's answer and its commit sending that mail
// again, with the same Message-ID, once its lease runs out.
#include <gtest/gtest.h>

#include "hsm/secret_sealer.h"
#include "mail/outbox.h"
#include "mail/personal_email.h"
#include "platform/migrations.h"
#include "registry/pg_stores.h"
#include "tests/support/smtp_sink.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_ceremony.h"
#include "tests/support/test_hsm.h"
#include "tests/support/test_pg.h"

namespace tessera {
namespace {

using std::chrono::seconds;

constexpr char kPurpose[] = "tessera outbox mail";

// A store that dies after the relay's answer: MarkSent fails as a killed process would.
class DyingStore final : public mail::OutboxStore {
 public:
  explicit DyingStore(mail::OutboxStore& real) : real_(real) {}
  absl::StatusOr<std::vector<mail::OutboxItem>> Claim(const std::string& worker, int limit,
                                                      TimePoint now, seconds lease) override {
    return real_.Claim(worker, limit, now, lease);
  }
  absl::StatusOr<bool> MarkSent(int64_t, const std::string&, TimePoint) override {
    return absl::UnavailableError("killed before the commit");
  }
  absl::Status MarkFailed(int64_t id, const std::string& worker, const std::string& error,
                          std::optional<TimePoint> retry_at, TimePoint at) override {
    return real_.MarkFailed(id, worker, error, retry_at, at);
  }

 private:
  mail::OutboxStore& real_;
};

class MailOutboxTest : public testing::PgTest {
 protected:
  void SetUp() override {
    PgTest::SetUp();
    ASSERT_TRUE(pg::ApplyMigrations(*conn_, registry::kPgSchema, registry::PgMigrations()).ok());
    pool_ = std::make_unique<pg::ConnectionPool>(conninfo_, 2);
    store_ = std::make_unique<mail::PgOutboxStore>(*pool_, registry::kPgSchema);
    auto token =
        testing::TestSoftHsm::Get().CreateToken(testing::TestSoftHsm::UniqueLabel("outbox"));
    auto sealer = hsm::SecretSealer::Open(token, "outbox-mail", true);
    ASSERT_TRUE(sealer.ok()) << sealer.status();
    sealer_ = std::make_unique<hsm::SecretSealer>(*std::move(sealer));
    auto rules = mail::PersonalEmailRules::ReadFile(std::string(TESSERA_SOURCE_DIR) +
                                                    "/deploy/reference/personal_email.txt");
    ASSERT_TRUE(rules.ok()) << rules.status();
    rules_ = std::make_unique<mail::PersonalEmailRules>(*std::move(rules));
    port_ = testing::FreeLoopbackPort();
    transport_ = std::make_unique<mail::SmtpTransport>(mail::SmtpSettings{
        .relay = "smtp://127.0.0.1:" + std::to_string(port_), .timeout = seconds(10)});
  }
  void TearDown() override {
    sink_.reset();
    pool_.reset();
    PgTest::TearDown();
  }

  void StartSink() { sink_ = std::make_unique<testing::SmtpSink>(dir_.File("mail"), port_); }

  std::unique_ptr<mail::OutboxSender> Sender(mail::OutboxStore& store, const std::string& worker) {
    return std::make_unique<mail::OutboxSender>(
        store, *transport_,
        [this](std::span<const uint8_t> sealed) { return sealer_->Unseal(sealed, kPurpose); },
        [this](const std::string& address) { return rules_->Check(address).status(); }, clock_,
        mail::SenderSettings{.from = "anpr-carte@interno.example",
                             .from_name = "ANPR – Ministero dell'Interno",
                             .worker = worker});
  }
  mail::OutboxSender::Round Run(mail::OutboxSender& sender) {
    auto round = sender.RunOnce();
    EXPECT_TRUE(round.ok()) << round.status();
    return round.ok() ? *round : mail::OutboxSender::Round{};
  }

  // Queues a mail as the services do, in a transaction of its own; its id.
  int64_t Queue(const std::string& to, const std::string& body, bool sealed) {
    std::optional<pg::Param> plain;
    std::vector<uint8_t> blob;
    if (sealed) {
      auto sealed_body = sealer_->Seal(Secret(body), kPurpose);
      EXPECT_TRUE(sealed_body.ok());
      blob = *sealed_body;
    }
    auto row = conn_->Exec(
        "INSERT INTO registry.outbox (kind, to_address, subject, body, sealed_body, created_at) "
        "VALUES ($1, $2, 'Password giornaliera ANPR', $3, $4, to_timestamp($5)) RETURNING id",
        {pg::Param(sealed ? "daily_password" : "notice"), pg::Param(to),
         sealed ? pg::Param(std::nullopt) : pg::Param(body),
         sealed ? pg::Param::Bytes(blob) : pg::Param(std::nullopt),
         pg::Param(UnixSeconds(clock_.Now()))});
    EXPECT_TRUE(row.ok()) << row.status();
    return row.ok() ? row->Int(0, 0) : 0;
  }
  struct Row {
    std::string message_id;
    int attempts = 0;
    bool sent = false, failed = false;
    std::string last_error;
  };
  Row RowOf(int64_t id) {
    auto row = conn_->Exec(
        "SELECT message_id, attempts, sent_at IS NOT NULL, failed_at IS NOT NULL, "
        "coalesce(last_error, '') FROM registry.outbox WHERE id = $1",
        {pg::Param(id)});
    EXPECT_TRUE(row.ok() && row->rows() == 1);
    if (!row.ok() || row->rows() != 1) return {};
    return {std::string(row->Text(0, 0)), static_cast<int>(row->Int(0, 1)), row->Bool(0, 2),
            row->Bool(0, 3), std::string(row->Text(0, 4))};
  }

  testing::TempDir dir_{"tessera-mail"};
  FakeClock clock_{std::chrono::floor<seconds>(std::chrono::system_clock::now())};
  std::unique_ptr<pg::ConnectionPool> pool_;
  std::unique_ptr<mail::PgOutboxStore> store_;
  std::unique_ptr<hsm::SecretSealer> sealer_;
  std::unique_ptr<mail::PersonalEmailRules> rules_;
  std::unique_ptr<mail::SmtpTransport> transport_;
  std::unique_ptr<testing::SmtpSink> sink_;
  int port_ = 0;
};

TEST_F(MailOutboxTest, EachMailIsDeliveredOnceWithTheMessageIdItWasQueuedWith) {
  StartSink();
  const int64_t notice = Queue("ufficio.anagrafe@comune.accumoli.ri.it",
                               "Le carte del Comune sono in Prefettura.\n.\nA presto\n", false);
  const std::string password = "K7pQ-2mXw-9tRz";
  const int64_t secret =
      Queue("paolo.costa.1@comune.it",
            "Gentile operatore,\n\n" + password + "\n\nvale fino a mezzanotte.\n", true);
  auto sender = Sender(*store_, "registry@test");
  const auto round = Run(*sender);
  EXPECT_EQ(round.sent, 2);
  const std::vector<std::string> messages = sink_->Messages();
  ASSERT_EQ(messages.size(), 2u);
  EXPECT_EQ(testing::MailHeader(messages[0], "Message-ID"), RowOf(notice).message_id);
  EXPECT_EQ(testing::MailHeader(messages[1], "Message-ID"), RowOf(secret).message_id);
  EXPECT_EQ(testing::MailHeader(messages[1], "To"), "<paolo.costa.1@comune.it>");
  EXPECT_EQ(testing::MailHeader(messages[1], "Subject"), "Password giornaliera ANPR");
  EXPECT_NE(testing::MailHeader(messages[1], "From").find("<anpr-carte@interno.example>"),
            std::string::npos);
  // A lone "." line survives SMTP's end-of-data marker; the sealed body arrives unsealed.
  EXPECT_EQ(testing::MailBody(messages[0]),
            "Le carte del Comune sono in Prefettura.\n.\nA presto\n");
  EXPECT_NE(testing::MailBody(messages[1]).find("\n" + password + "\n"), std::string::npos);
  EXPECT_TRUE(RowOf(secret).sent);
  EXPECT_EQ(RowOf(secret).attempts, 1);
  // Nothing twice.
  clock_.Advance(seconds(3600));
  EXPECT_EQ(Run(*sender).sent, 0);
  EXPECT_EQ(sink_->Messages().size(), 2u);
  // The database holds the password sealed only.
  auto dump = conn_->Exec("SELECT count(*) FROM registry.outbox WHERE body LIKE $1",
                          {pg::Param("%" + password + "%")});
  ASSERT_TRUE(dump.ok());
  EXPECT_EQ(dump->Int(0, 0), 0);
}

TEST_F(MailOutboxTest, ARelayDownOrSayingLaterIsRetriedWithBackoffUntilDelivered) {
  const int64_t id = Queue("mario.rossi@example.it", "Avviso\n", false);
  const int64_t later = Queue("later-anna@example.it", "Avviso\n", false);
  const int64_t cut = Queue("cut-luca@example.it", "Avviso\n", false);
  auto sender = Sender(*store_, "registry@test");
  // No relay listening: every mail waits 30 s.
  auto round = Run(*sender);
  EXPECT_EQ(round.retried, 3);
  EXPECT_EQ(RowOf(id).attempts, 1);
  EXPECT_NE(RowOf(id).last_error.find("smtp://127.0.0.1"), std::string::npos)
      << RowOf(id).last_error;
  StartSink();
  EXPECT_EQ(Run(*sender).sent + Run(*sender).retried, 0) << "not due yet";
  clock_.Advance(seconds(31));
  round = Run(*sender);
  EXPECT_EQ(round.sent, 1);     // the relay is back
  EXPECT_EQ(round.retried, 2);  // 451, and a connection cut after the data
  EXPECT_NE(RowOf(later).last_error.find("451"), std::string::npos) << RowOf(later).last_error;
  EXPECT_EQ(RowOf(cut).attempts, 2);
  // The second failure waits twice as long: 60 s.
  clock_.Advance(seconds(45));
  EXPECT_EQ(Run(*sender).retried, 0);
  clock_.Advance(seconds(16));
  EXPECT_EQ(Run(*sender).retried, 2);
  EXPECT_EQ(sink_->Messages().size(), 1u);
}

TEST_F(MailOutboxTest, ARefusalIsFinalAndASealedMailGoesToNoPec) {
  StartSink();
  const int64_t refused = Queue("refuse-mario@example.it", "Avviso\n", false);
  const int64_t pec = Queue("mario.rossi@pec.it", "Gentile operatore,\n\nsegreto\n", true);
  auto sender = Sender(*store_, "registry@test");
  const auto round = Run(*sender);
  EXPECT_EQ(round.given_up, 2);
  EXPECT_TRUE(RowOf(refused).failed);
  EXPECT_NE(RowOf(refused).last_error.find("550"), std::string::npos) << RowOf(refused).last_error;
  EXPECT_TRUE(RowOf(pec).failed);
  EXPECT_NE(RowOf(pec).last_error.find("personal mailbox"), std::string::npos)
      << RowOf(pec).last_error;
  clock_.Advance(seconds(7200));
  EXPECT_EQ(Run(*sender).sent + Run(*sender).given_up, 0);
  EXPECT_TRUE(sink_->Messages().empty());

  // An operator sees them given up, with why (never a body), and sends one again: the PEC is
  // refused again by the sender, whatever the retry.
  auto failed = store_->List("failed", 0, 10);
  ASSERT_TRUE(failed.ok()) << failed.status();
  ASSERT_EQ(failed->size(), 2u);
  EXPECT_STREQ((*failed)[0].state(), "failed");
  EXPECT_EQ(store_->List("bogus", 0, 10).status().code(), absl::StatusCode::kInvalidArgument);
  auto retried = store_->Retry({pec}, clock_.Now());
  ASSERT_TRUE(retried.ok()) << retried.status();
  EXPECT_EQ(*retried, 1);
  auto waiting = store_->List("waiting", 0, 10);
  ASSERT_TRUE(waiting.ok());
  ASSERT_EQ(waiting->size(), 1u);
  EXPECT_EQ((*waiting)[0].id, pec);
  EXPECT_EQ((*waiting)[0].attempts, 0);
  EXPECT_EQ(Run(*sender).given_up, 1);
  EXPECT_TRUE(sink_->Messages().empty());
}

// A mail sent is never made due again, whatever an operator asks.
TEST_F(MailOutboxTest, ARetryNeverSendsASentMailAgain) {
  StartSink();
  const int64_t id = Queue("mario.rossi@example.it", "Avviso\n", false);
  auto sender = Sender(*store_, "registry@test");
  ASSERT_EQ(Run(*sender).sent, 1);
  auto retried = store_->Retry({id}, clock_.Now());
  ASSERT_TRUE(retried.ok()) << retried.status();
  EXPECT_EQ(*retried, 0);
  auto all = store_->Retry({}, clock_.Now());
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(*all, 0);
  EXPECT_EQ(Run(*sender).sent, 0);
  EXPECT_EQ(sink_->Messages().size(), 1u);
  auto sent = store_->List("sent", 0, 10);
  ASSERT_TRUE(sent.ok());
  ASSERT_EQ(sent->size(), 1u);
  EXPECT_TRUE((*sent)[0].sent_at.has_value());
}

TEST_F(MailOutboxTest, ASenderKilledAfterTheRelaysAnswerSendsThatMailAgainWithTheSameMessageId) {
  StartSink();
  const int64_t id = Queue("mario.rossi@example.it", "Avviso\n", false);
  DyingStore dying(*store_);
  auto killed = Sender(dying, "registry@host-a");
  EXPECT_FALSE(killed->RunOnce().ok());  // accepted by the relay, then the process died
  ASSERT_EQ(sink_->Messages().size(), 1u);
  EXPECT_FALSE(RowOf(id).sent);
  // Another sender leaves it alone while the dead one's lease runs, then sends it again.
  auto other = Sender(*store_, "registry@host-b");
  EXPECT_EQ(Run(*other).sent, 0);
  clock_.Advance(seconds(301));
  EXPECT_EQ(Run(*other).sent, 1);
  const std::vector<std::string> messages = sink_->Messages();
  ASSERT_EQ(messages.size(), 2u);
  EXPECT_EQ(testing::MailHeader(messages[0], "Message-ID"),
            testing::MailHeader(messages[1], "Message-ID"));
  EXPECT_EQ(testing::MailHeader(messages[1], "Message-ID"), RowOf(id).message_id);
  EXPECT_TRUE(RowOf(id).sent);
  clock_.Advance(seconds(3600));
  EXPECT_EQ(Run(*other).sent, 0);
  EXPECT_EQ(sink_->Messages().size(), 2u);
}

}  // namespace
}  // namespace tessera
