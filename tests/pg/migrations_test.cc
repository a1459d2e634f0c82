// The migration runner against a real PostgreSQL, including many processes' worth of
// connections starting at once.
#include "platform/migrations.h"

#include <gtest/gtest.h>

#include <thread>

#include "tests/support/temp_dir.h"
#include "tests/support/test_pg.h"

namespace tessera::pg {
namespace {

using testing::TempDir;
using testing::WriteFile;

class MigrationsTest : public testing::PgTest {
 protected:
  void WriteMigrations() {
    WriteFile(dir_.File("V001__create_items.sql"),
              "CREATE TABLE items (id bigserial PRIMARY KEY, name text NOT NULL);\n"
              "CREATE INDEX items_name ON items (name);");
    WriteFile(dir_.File("V002__add_price.sql"), "ALTER TABLE items ADD COLUMN price numeric;");
  }
  TempDir dir_;
};

TEST_F(MigrationsTest, AppliesInOrderOnceAndRecordsThem) {
  WriteMigrations();
  auto migrations = LoadMigrations(dir_.path());
  ASSERT_TRUE(migrations.ok()) << migrations.status();
  ASSERT_EQ(migrations->size(), 2u);
  EXPECT_EQ((*migrations)[0].name, "create_items");

  auto first = ApplyMigrations(*conn_, "shop", *migrations);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(first->applied, (std::vector<int>{1, 2}));
  EXPECT_EQ(first->current_version, 2);
  ASSERT_TRUE(conn_
                  ->Exec("INSERT INTO shop.items (name, price) VALUES ($1, $2)",
                         {Param("x"), Param("1.50")})
                  .ok());

  auto second = ApplyMigrations(*conn_, "shop", *migrations);
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_TRUE(second->applied.empty());
  auto recorded = conn_->Exec("SELECT count(*) FROM shop.schema_migrations");
  EXPECT_EQ(recorded->Int(0, 0), 2);
}

TEST_F(MigrationsTest, AFileChangedAfterItWasAppliedStopsStartUp) {
  WriteMigrations();
  ASSERT_TRUE(ApplyMigrations(*conn_, "shop", *LoadMigrations(dir_.path())).ok());
  WriteFile(dir_.File("V001__create_items.sql"), "CREATE TABLE items (id int);");
  auto changed = ApplyMigrations(*conn_, "shop", *LoadMigrations(dir_.path()));
  EXPECT_EQ(changed.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(std::string(changed.status().message()).find("V001__create_items"), std::string::npos);
}

TEST_F(MigrationsTest, ADatabaseNewerThanTheProgramStopsStartUp) {
  WriteMigrations();
  ASSERT_TRUE(ApplyMigrations(*conn_, "shop", *LoadMigrations(dir_.path())).ok());
  std::vector<Migration> older = *LoadMigrations(dir_.path());
  older.pop_back();
  EXPECT_EQ(ApplyMigrations(*conn_, "shop", older).status().code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST_F(MigrationsTest, AFailingMigrationLeavesNothingBehind) {
  WriteMigrations();
  WriteFile(dir_.File("V003__broken.sql"),
            "CREATE TABLE half (id int); INSERT INTO nowhere VALUES (1);");
  auto result = ApplyMigrations(*conn_, "shop", *LoadMigrations(dir_.path()));
  ASSERT_FALSE(result.ok());
  EXPECT_NE(std::string(result.status().message()).find("V003__broken"), std::string::npos);
  auto half = conn_->Exec("SELECT to_regclass('shop.half') IS NULL");
  EXPECT_TRUE(half->Bool(0, 0));
  auto recorded = conn_->Exec("SELECT max(version) FROM shop.schema_migrations");
  EXPECT_EQ(recorded->Int(0, 0), 2);  // 1 and 2 were committed before 3 failed
}

TEST_F(MigrationsTest, BadFileNamesAreRefused) {
  WriteFile(dir_.File("create.sql"), "SELECT 1;");
  EXPECT_EQ(LoadMigrations(dir_.path()).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(MigrationsTest, ManyStartingAtOnceApplyEachFileExactlyOnce) {
  // Each thread has its own connection, i.e. its own server session, exactly as separate
  // processes would; the advisory lock is what makes them take turns.
  WriteMigrations();
  // Not idempotent on purpose: applied twice, this would fail.
  WriteFile(dir_.File("V003__seed.sql"), "INSERT INTO items (name) VALUES ('seed');");
  auto migrations = *LoadMigrations(dir_.path());
  constexpr int kStarters = 6;
  std::vector<absl::Status> results(kStarters);
  std::vector<std::thread> threads;
  for (int i = 0; i < kStarters; ++i) {
    threads.emplace_back([&, i] {
      auto conn = Connect();
      results[i] = ApplyMigrations(*conn, "shop", migrations).status();
    });
  }
  for (auto& t : threads) t.join();
  for (const absl::Status& status : results) EXPECT_TRUE(status.ok()) << status;
  auto seeds = conn_->Exec("SELECT count(*) FROM shop.items WHERE name = 'seed'");
  EXPECT_EQ(seeds->Int(0, 0), 1);
  auto recorded = conn_->Exec("SELECT count(*) FROM shop.schema_migrations");
  EXPECT_EQ(recorded->Int(0, 0), 3);
}

}  // namespace
}  // namespace tessera::pg
