// The audit chain as the registry's schema keeps it (audit/chain.sql): every change is a record
// in its own transaction's commit, naming whom the connection acted for; anchors are signed on
// a SoftHSM token; `tessera audit verify` (the CLI, a separate process) passes on the chain as
// written and names the first broken link after an edit, a deletion, a reordering, a rewritten
// tail or a truncated end, each made by someone who can switch the append-only guard off.
#include <botan/x509_key.h>
#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "audit/pg_chain.h"
#include "hsm/token_key.h"
#include "platform/acting_for.h"
#include "platform/clock.h"
#include "platform/files.h"
#include "platform/migrations.h"
#include "platform/pg_pool.h"
#include "registry/pg_stores.h"
#include "tests/support/run.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_hsm.h"
#include "tests/support/test_pg.h"

namespace tessera {
namespace {

using testing::RunCommand;
using testing::ShellQuote;

class AuditTrailTest : public testing::PgTest {
 protected:
  void SetUp() override {
    PgTest::SetUp();
    ASSERT_TRUE(pg::ApplyMigrations(*conn_, registry::kPgSchema, registry::PgMigrations()).ok());
    pool_ = std::make_unique<pg::ConnectionPool>(conninfo_, 2);
    token_ = testing::TestSoftHsm::Get().CreateToken(testing::TestSoftHsm::UniqueLabel("audit"));
    auto key = hsm::LoadOrMakeOwnKey(token_, "audit-anchor");
    ASSERT_TRUE(key.ok()) << key.status();
    ASSERT_TRUE(key->made);
    key_ = std::move(key->key);
    key_file_ = dir_.File("anchor.pem");
    ASSERT_TRUE(WriteFile(key_file_, Botan::X509::PEM_encode(*key_)).ok());
  }
  void TearDown() override {
    ClearActingFor();
    pool_.reset();
    PgTest::TearDown();
  }

  // One statement in its own transaction, on a pool connection acting for this thread's caller.
  void Change(const std::string& sql) {
    auto conn = pool_->Acquire();
    ASSERT_TRUE(conn.ok()) << conn.status();
    auto done = (*conn)->Exec(sql);
    ASSERT_TRUE(done.ok()) << sql << ": " << done.status();
  }
  void Anchor() {
    auto anchored = audit::AnchorHead(*pool_, registry::kPgSchema, *key_, clock_);
    ASSERT_TRUE(anchored.ok()) << anchored.status();
  }
  // A chain of 9 records with anchors at 4 and 8.
  void WriteChain() {
    SetActingFor({.actor = "service:tessera-cli"});
    Change(
        "INSERT INTO registry.province VALUES ('058', 'RM', 'Roma', 'Lazio', NULL), "
        "('057', 'RI', 'Rieti', 'Lazio', NULL)");
    Change("INSERT INTO registry.comuni VALUES ('058091', 'ROMA', '058', 'H501', NULL)");
    SetActingFor({.actor = "person:RSSMRA85T10H501O",
                  .workstation = "workstation:0580910001 0a1b2c",
                  .request_id = "call:7"});
    Change("INSERT INTO registry.comune_declarations VALUES ('058091', 3, 40, '2027-03-01')");
    Change("UPDATE registry.comune_declarations SET declared_workstations = 4");
    Anchor();
    ClearActingFor();
    for (int i = 0; i < 4; ++i) {
      Change(absl::StrCat("UPDATE registry.comune_declarations SET declared_employees = ", 41 + i));
    }
    Anchor();
    Change("UPDATE registry.comune_declarations SET declared_employees = 50");
  }
  // `tessera audit verify` on the registry's chain: its exit code and output.
  testing::CommandResult Verify() {
    return RunCommand(std::string(TESSERA_BIN_DIR) + "/tessera audit verify --database " +
                      ShellQuote(conninfo_) + " --chain registry --anchor-key " + key_file_ +
                      " 2>&1");
  }
  // What an attacker with the database owner's rights does first.
  void Tamper(const std::string& sql) {
    ASSERT_TRUE(conn_
                    ->ExecScript("ALTER TABLE registry.audit_records DISABLE TRIGGER USER; " + sql +
                                 "; ALTER TABLE registry.audit_records ENABLE TRIGGER USER")
                    .ok())
        << sql;
  }
  // Chains what committed, as the service does a few times a second.
  void Chain() {
    auto chained = audit::ChainPending(*conn_, registry::kPgSchema);
    ASSERT_TRUE(chained.ok()) << chained.status();
  }
  std::vector<audit::AuditRecord> Records() {
    Chain();
    auto records = audit::ReadRecords(*conn_, registry::kPgSchema);
    EXPECT_TRUE(records.ok()) << records.status();
    return records.ok() ? *records : std::vector<audit::AuditRecord>{};
  }

  testing::TempDir dir_{"tessera-audit"};
  SystemClock clock_;
  std::unique_ptr<pg::ConnectionPool> pool_;
  std::shared_ptr<hsm::Token> token_;
  std::unique_ptr<Botan::Private_Key> key_;
  std::string key_file_;
};

TEST_F(AuditTrailTest, EveryChangeIsARecordNamingWhomItWasDoneFor) {
  WriteChain();
  // A rolled-back change leaves nothing.
  {
    auto conn = pool_->Acquire();
    ASSERT_TRUE(conn.ok());
    ASSERT_TRUE((*conn)
                    ->ExecScript("BEGIN; UPDATE registry.comune_declarations SET "
                                 "declared_employees = 99; ROLLBACK")
                    .ok());
  }
  // A change made by hand, with no tessera caller: the database role and application name.
  ASSERT_TRUE(conn_->Exec("SET application_name = 'psql'").ok());
  ASSERT_TRUE(
      conn_->Exec("UPDATE registry.comune_declarations SET switch_over = '2027-04-01'").ok());

  const std::vector<audit::AuditRecord> records = Records();
  ASSERT_EQ(records.size(), 10u);
  EXPECT_EQ(records[0].action, "province.insert");
  EXPECT_EQ(records[0].after, "2 rows");
  EXPECT_EQ(records[0].actor, "service:tessera-cli");
  EXPECT_EQ(records[2].action, "comune_declarations.insert");
  EXPECT_EQ(records[2].actor, "person:RSSMRA85T10H501O");
  EXPECT_EQ(records[2].workstation, "workstation:0580910001 0a1b2c");
  EXPECT_EQ(records[2].request_id, "call:7");
  EXPECT_EQ(records[2].before, "");
  EXPECT_EQ(records[2].after,
            "istat=058091 declared_workstations=3 declared_employees=40 switch_over=2027-03-01");
  EXPECT_EQ(records[3].action, "comune_declarations.update");
  EXPECT_EQ(records[3].before, records[2].after);
  // A thread that serves no caller: the service's own connection (here, the test's program).
  EXPECT_EQ(records[4].actor.rfind("database:", 0), 0u) << records[4].actor;
  EXPECT_EQ(records[4].workstation, "");
  EXPECT_EQ(records[9].actor.substr(records[9].actor.size() - 5), "/psql") << records[9].actor;
  // Hashes made by the database's triggers are the ones audit::RecordHash computes.
  for (size_t i = 0; i < records.size(); ++i) {
    EXPECT_EQ(records[i].sequence, static_cast<int64_t>(i + 1));
    EXPECT_EQ(audit::RecordHash(records[i]), records[i].hash) << "record " << i + 1;
    EXPECT_EQ(records[i].previous_hash, i == 0 ? audit::kGenesis : records[i - 1].hash);
  }
  // Records and anchors refuse changes.
  EXPECT_FALSE(conn_->Exec("UPDATE registry.audit_records SET actor = 'x'").ok());
  EXPECT_FALSE(conn_->Exec("DELETE FROM registry.audit_anchors").ok());
  EXPECT_FALSE(conn_->Exec("TRUNCATE registry.audit_records").ok());
  // A change not chained yet: its record waits, and refuses edits too.
  ASSERT_TRUE(conn_->Exec("UPDATE registry.comune_declarations SET declared_employees = 7").ok());
  EXPECT_FALSE(conn_->Exec("UPDATE registry.audit_pending SET actor = 'x'").ok());

  const testing::CommandResult verified = Verify();
  EXPECT_EQ(verified.exit_code, 0) << verified.output;
  EXPECT_NE(verified.output.find("holds (10 records, 2 anchors checked; 1 changes waiting"),
            std::string::npos)
      << verified.output;
  // An anchor chains what waits first; then there is nothing new to anchor.
  auto again = audit::AnchorHead(*pool_, registry::kPgSchema, *key_, clock_);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, 11);
  auto none = audit::AnchorHead(*pool_, registry::kPgSchema, *key_, clock_);
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(*none, 0);
  auto pending = conn_->Exec("SELECT count(*) FROM registry.audit_pending");
  ASSERT_TRUE(pending.ok());
  EXPECT_EQ(pending->Int(0, 0), 0);
}

TEST_F(AuditTrailTest, AnEditedRecordIsNamed) {
  WriteChain();
  Tamper("UPDATE registry.audit_records SET actor = 'person:BNCGPP70A01H501X' WHERE sequence = 3");
  const testing::CommandResult verified = Verify();
  EXPECT_EQ(verified.exit_code, 1) << verified.output;
  EXPECT_NE(verified.output.find("BROKEN at record 3"), std::string::npos) << verified.output;
}

TEST_F(AuditTrailTest, ADeletedRecordIsNamed) {
  WriteChain();
  Tamper("DELETE FROM registry.audit_records WHERE sequence = 6");
  const testing::CommandResult verified = Verify();
  EXPECT_EQ(verified.exit_code, 1) << verified.output;
  EXPECT_NE(verified.output.find("record 6 is missing"), std::string::npos) << verified.output;
}

TEST_F(AuditTrailTest, ReorderedRecordsAreNamed) {
  WriteChain();
  // Records 5 and 6 swap places, each keeping its own hashes.
  Tamper(
      "UPDATE registry.audit_records SET sequence = sequence + 100 WHERE sequence IN (5, 6); "
      "UPDATE registry.audit_records SET sequence = 111 - sequence WHERE sequence > 100");
  const std::vector<audit::AuditRecord> records = Records();
  ASSERT_EQ(records[4].sequence, 5);
  const testing::CommandResult verified = Verify();
  EXPECT_EQ(verified.exit_code, 1) << verified.output;
  EXPECT_NE(verified.output.find("BROKEN at record 5"), std::string::npos) << verified.output;
}

TEST_F(AuditTrailTest, ARewrittenTailWithFreshHashesIsCaughtByTheAnchor) {
  WriteChain();
  // The attacker edits record 2 and chains every record after it again, hashes and all: the
  // links hold, but the anchors' signatures were over the old hashes.
  std::vector<audit::AuditRecord> records = Records();
  records[1].after = "2 rows";  // two comuni, not one
  for (size_t i = 1; i < records.size(); ++i)
    records[i] = audit::Chain(records[i], &records[i - 1]);
  std::string sql;
  for (size_t i = 1; i < records.size(); ++i) {
    absl::StrAppend(&sql, "UPDATE registry.audit_records SET ids_after = '", records[i].after,
                    "', previous_hash = '", records[i].previous_hash, "', hash = '",
                    records[i].hash, "' WHERE sequence = ", records[i].sequence, "; ");
  }
  Tamper(sql);
  const testing::CommandResult verified = Verify();
  EXPECT_EQ(verified.exit_code, 1) << verified.output;
  EXPECT_NE(verified.output.find("anchor at record 4"), std::string::npos) << verified.output;
}

TEST_F(AuditTrailTest, ATruncatedEndIsCaughtByTheAnchor) {
  WriteChain();
  Tamper("DELETE FROM registry.audit_records WHERE sequence >= 8");
  const testing::CommandResult verified = Verify();
  EXPECT_EQ(verified.exit_code, 1) << verified.output;
  EXPECT_NE(verified.output.find("anchor at record 8"), std::string::npos) << verified.output;
}

TEST_F(AuditTrailTest, AnAnchorFromAnotherKeyIsRefused) {
  WriteChain();
  auto other = hsm::LoadOrMakeOwnKey(token_, "another-key");
  ASSERT_TRUE(other.ok());
  ASSERT_TRUE(WriteFile(key_file_, Botan::X509::PEM_encode(*other->key)).ok());
  const testing::CommandResult verified = Verify();
  EXPECT_EQ(verified.exit_code, 1) << verified.output;
  EXPECT_NE(verified.output.find("does not verify"), std::string::npos) << verified.output;
}

}  // namespace
}  // namespace tessera
