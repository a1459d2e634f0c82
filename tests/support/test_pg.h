// PostgreSQL for tests: the throwaway cluster of this test run (tests/scripts/pg-cluster.sh,
// started by a CTest fixture that exports TESSERA_TEST_PG_ENV), or, when a test binary runs on
// its own, a cluster it starts itself and stops at exit. Each fixture gets a fresh database
// copied from a template.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "platform/pg.h"

namespace tessera::testing {

class TestPg {
 public:
  static TestPg& Get();
  // "host=... port=... user=... dbname=<database>"
  std::string ConnInfo(const std::string& database) const;
  // A new empty database; returns its name.
  std::string CreateDatabase();
  void DropDatabase(const std::string& name);
  const std::string& host() const { return host_; }
  const std::string& port() const { return port_; }

 private:
  TestPg();
  ~TestPg();
  std::string env_file_;
  bool owns_cluster_ = false;
  std::string host_, port_, user_, template_;
};

// A test fixture with a fresh database per test.
class PgTest : public ::testing::Test {
 protected:
  void SetUp() override;
  void TearDown() override;
  std::unique_ptr<pg::Connection> Connect() const;
  // From now on every `operation` ("INSERT" or "UPDATE") on `table` fails, as if the process
  // died just before that statement; LiftFailure(table) ends it. One table at a time.
  void InjectFailure(const std::string& table, const std::string& operation);
  void LiftFailure(const std::string& table);

  std::string database_;
  std::string conninfo_;
  std::unique_ptr<pg::Connection> conn_;
};

}  // namespace tessera::testing
