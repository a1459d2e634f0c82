// The libpq layer against a real PostgreSQL 15.
#include "platform/pg.h"

#include <gtest/gtest.h>

#include "platform/pg_pool.h"
#include "tests/support/test_pg.h"

namespace tessera::pg {
namespace {

class PgConnectionTest : public testing::PgTest {};

TEST_F(PgConnectionTest, ParametersCarryValuesVerbatim) {
  ASSERT_TRUE(conn_->ExecScript("CREATE TABLE people (name text, blob bytea, n bigint)").ok());
  // SQL metacharacters in a value stay a value.
  const std::string nasty = "Robert'); DROP TABLE people;--";
  const std::vector<uint8_t> bytes = {0, 1, 2, 255, '\''};
  auto inserted = conn_->Exec("INSERT INTO people VALUES ($1, $2, $3)",
                              {Param(nasty), Param::Bytes(bytes), Param(int64_t{1} << 40)});
  ASSERT_TRUE(inserted.ok()) << inserted.status();
  EXPECT_EQ(inserted->AffectedRows(), 1);
  auto rows = conn_->Exec("SELECT name, blob, n FROM people WHERE name = $1", {Param(nasty)});
  ASSERT_TRUE(rows.ok()) << rows.status();
  ASSERT_EQ(rows->rows(), 1);
  EXPECT_EQ(rows->Text(0, 0), nasty);
  EXPECT_EQ(rows->Bytes(0, 1), bytes);
  EXPECT_EQ(rows->Int(0, 2), int64_t{1} << 40);
  auto null = conn_->Exec("SELECT $1::text", {Param(std::nullopt)});
  ASSERT_TRUE(null.ok());
  EXPECT_TRUE(null->IsNull(0, 0));
}

// Statements with parameters are prepared once per connection: the same text runs again with
// other values, a bad statement still reports its error, and more distinct texts than the
// cache holds still run (unprepared).
TEST_F(PgConnectionTest, PreparedStatementsAreReusedAndBounded) {
  ASSERT_TRUE(conn_->ExecScript("CREATE TABLE numbers (n bigint)").ok());
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(conn_->Exec("INSERT INTO numbers VALUES ($1)", {Param(i)}).ok());
  }
  auto sum = conn_->Exec("SELECT sum(n) FROM numbers WHERE n < $1", {Param(3)});
  ASSERT_TRUE(sum.ok()) << sum.status();
  EXPECT_EQ(sum->Int(0, 0), 0 + 1 + 2);
  sum = conn_->Exec("SELECT sum(n) FROM numbers WHERE n < $1", {Param(5)});
  ASSERT_TRUE(sum.ok()) << sum.status();
  EXPECT_EQ(sum->Int(0, 0), 10);

  auto broken = conn_->Exec("SELECT nope FROM numbers WHERE n = $1", {Param(1)});
  EXPECT_FALSE(broken.ok());
  EXPECT_NE(broken.status().message().find("SQLSTATE 42703"), absl::string_view::npos)
      << broken.status();

  for (int i = 0; i < 300; ++i) {
    auto row = conn_->Exec("SELECT $1::int + " + std::to_string(i), {Param(1)});
    ASSERT_TRUE(row.ok()) << i << ": " << row.status();
    EXPECT_EQ(row->Int(0, 0), 1 + i);
  }
}

TEST_F(PgConnectionTest, ErrorsCarrySqlStateAsStatusCode) {
  ASSERT_TRUE(conn_->ExecScript("CREATE TABLE serials (serial text PRIMARY KEY)").ok());
  ASSERT_TRUE(conn_->Exec("INSERT INTO serials VALUES ($1)", {Param("01")}).ok());
  auto duplicate = conn_->Exec("INSERT INTO serials VALUES ($1)", {Param("01")});
  EXPECT_EQ(duplicate.status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_NE(std::string(duplicate.status().message()).find("SQLSTATE 23505"), std::string::npos);
  auto bad = conn_->Exec("SELECT $1::int", {Param("not a number")});
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  auto broken = conn_->Exec("SELEKT 1");
  EXPECT_EQ(broken.status().code(), absl::StatusCode::kInternal);
}

// What reaches a caller (and through it an RPC client) names neither the server nor the role:
// a refused login or a lost connection is "database unavailable" (libpq's words go to the
// log), a statement's error only its SQLSTATE and primary message.
TEST_F(PgConnectionTest, ErrorsNameNeitherServerNorRole) {
  const testing::TestPg& pg = testing::TestPg::Get();
  auto leaks = [&](absl::string_view message) {
    for (const std::string& leak : {pg.host(), ", port " + pg.port(), std::string("tessera_no_")}) {
      if (message.find(leak) != absl::string_view::npos) return leak;
    }
    return std::string();
  };
  auto refused = Connection::Open("host=" + pg.host() + " port=" + pg.port() +
                                  " user=tessera_no_such_role dbname=" + database_);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(refused.status().message(), "database unavailable");

  std::unique_ptr<Connection> victim = Connect();
  auto pid = victim->Exec("SELECT pg_backend_pid()");
  ASSERT_TRUE(pid.ok()) << pid.status();
  ASSERT_TRUE(conn_->Exec("SELECT pg_terminate_backend($1::int)", {Param(pid->Int(0, 0))}).ok());
  auto lost = victim->Exec("SELECT 1");
  EXPECT_EQ(lost.status().code(), absl::StatusCode::kUnavailable) << lost.status();
  EXPECT_EQ(leaks(lost.status().message()), "") << lost.status();
  auto lost_pipeline = victim->ExecPipeline({{"SELECT 1", {}}});
  EXPECT_EQ(lost_pipeline.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(lost_pipeline.status().message(), "database unavailable");

  auto missing = conn_->Exec("SELECT * FROM tessera_no_table WHERE a = $1", {Param(1)});
  EXPECT_EQ(missing.status().message(),
            "postgres: query: SQLSTATE 42P01: relation \"tessera_no_table\" does not exist");
}

TEST_F(PgConnectionTest, TransactionRollsBackUnlessCommitted) {
  ASSERT_TRUE(conn_->ExecScript("CREATE TABLE t (v int)").ok());
  {
    auto tx = Transaction::Begin(*conn_);
    ASSERT_TRUE(tx.ok());
    ASSERT_TRUE(conn_->Exec("INSERT INTO t VALUES (1)").ok());
  }  // dropped without Commit
  {
    auto tx = Transaction::Begin(*conn_, Isolation::kSerializable);
    ASSERT_TRUE(tx.ok());
    ASSERT_TRUE(conn_->Exec("INSERT INTO t VALUES (2)").ok());
    ASSERT_TRUE(tx->Commit().ok());
  }
  auto rows = conn_->Exec("SELECT array_agg(v) FROM t");
  ASSERT_TRUE(rows.ok());
  EXPECT_EQ(rows->Text(0, 0), "{2}");
}

// A pipeline returns its results in order; after a failure the later statements do not run,
// the first error is reported, and the connection is usable again afterwards.
TEST_F(PgConnectionTest, PipelineRunsInOrderAndStopsAtTheFirstFailure) {
  ASSERT_TRUE(conn_->ExecScript("CREATE TABLE p (v int PRIMARY KEY)").ok());
  auto results = conn_->ExecPipeline({{"INSERT INTO p VALUES ($1)", {Param(1)}},
                                      {"SELECT count(*) FROM p WHERE v = $1", {Param(1)}},
                                      {"SELECT 42", {}}});
  ASSERT_TRUE(results.ok()) << results.status();
  ASSERT_EQ(results->size(), 3u);
  EXPECT_EQ((*results)[0].AffectedRows(), 1);
  EXPECT_EQ((*results)[1].Int(0, 0), 1);
  EXPECT_EQ((*results)[2].Int(0, 0), 42);

  auto failed = conn_->ExecPipeline({{"INSERT INTO p VALUES ($1)", {Param(1)}},  // duplicate
                                     {"INSERT INTO p VALUES ($1)", {Param(2)}}});
  EXPECT_EQ(failed.status().code(), absl::StatusCode::kAlreadyExists) << failed.status();
  auto rows = conn_->Exec("SELECT array_agg(v ORDER BY v) FROM p");
  ASSERT_TRUE(rows.ok()) << rows.status();
  EXPECT_EQ(rows->Text(0, 0), "{1}");  // 2 was never inserted
  EXPECT_EQ(PQtransactionStatus(conn_->raw()), PQTRANS_IDLE);
}

// BeginWith/CommitWith: the lock and the final write each share a round trip with BEGIN and
// COMMIT; a failing final write commits nothing, and a failing first statement leaves no
// transaction open.
TEST_F(PgConnectionTest, TransactionBeginWithAndCommitWith) {
  ASSERT_TRUE(conn_->ExecScript("CREATE TABLE q (k int PRIMARY KEY, v int CHECK (v < 10))").ok());
  ASSERT_TRUE(conn_->Exec("INSERT INTO q VALUES ($1, $2)", {Param(1), Param(1)}).ok());
  {
    auto begun =
        Transaction::BeginWith(*conn_, {"SELECT v FROM q WHERE k = $1 FOR UPDATE", {Param(1)}});
    ASSERT_TRUE(begun.ok()) << begun.status();
    EXPECT_EQ(begun->second.Int(0, 0), 1);
    EXPECT_EQ(PQtransactionStatus(conn_->raw()), PQTRANS_INTRANS);
    ASSERT_TRUE(
        begun->first.CommitWith({"UPDATE q SET v = $2 WHERE k = $1", {Param(1), Param(5)}}).ok());
  }
  {
    auto begun =
        Transaction::BeginWith(*conn_, {"SELECT v FROM q WHERE k = $1 FOR UPDATE", {Param(1)}});
    ASSERT_TRUE(begun.ok()) << begun.status();
    absl::Status refused =
        begun->first.CommitWith({"UPDATE q SET v = $2 WHERE k = $1", {Param(1), Param(50)}});
    EXPECT_FALSE(refused.ok());
  }  // the aborted transaction is rolled back here
  EXPECT_EQ(PQtransactionStatus(conn_->raw()), PQTRANS_IDLE);
  auto broken = Transaction::BeginWith(*conn_, {"SELECT nope FROM q WHERE k = $1", {Param(1)}});
  EXPECT_FALSE(broken.ok());
  EXPECT_EQ(PQtransactionStatus(conn_->raw()), PQTRANS_IDLE);
  auto rows = conn_->Exec("SELECT v FROM q WHERE k = $1", {Param(1)});
  ASSERT_TRUE(rows.ok()) << rows.status();
  EXPECT_EQ(rows->Int(0, 0), 5);
}
TEST_F(PgConnectionTest, PoolAcquireGivesUpAfterItsWait) {
  pg::ConnectionPool pool(conninfo_, 1, std::chrono::milliseconds(100));
  auto held = pool.Acquire();
  ASSERT_TRUE(held.ok()) << held.status();
  const auto start = std::chrono::steady_clock::now();
  auto refused = pool.Acquire();
  const auto waited = std::chrono::steady_clock::now() - start;
  EXPECT_TRUE(absl::IsUnavailable(refused.status())) << refused.status();
  EXPECT_GE(waited, std::chrono::milliseconds(100));
  EXPECT_LT(waited, std::chrono::seconds(2));
  EXPECT_TRUE(absl::IsUnavailable(pool.Acquire(std::chrono::milliseconds(0)).status()));
  { auto released = std::move(*held); }
  EXPECT_TRUE(pool.Acquire(std::chrono::milliseconds(0)).ok()) << "free again once returned";
}

TEST(PgConnection, UnreachableServerIsUnavailable) {
  auto conn = Connection::Open("host=127.0.0.1 port=1 connect_timeout=2 dbname=x");
  EXPECT_EQ(conn.status().code(), absl::StatusCode::kUnavailable);
}

TEST(PgIdentifier, OnlyPlainLowerCaseNamesAreQuoted) {
  EXPECT_EQ(*QuoteIdentifier("ca"), "\"ca\"");
  EXPECT_FALSE(QuoteIdentifier("Ca").ok());
  EXPECT_FALSE(QuoteIdentifier("ca\"; DROP").ok());
  EXPECT_FALSE(QuoteIdentifier("").ok());
  EXPECT_FALSE(QuoteIdentifier("1ca").ok());
}

}  // namespace
}  // namespace tessera::pg
