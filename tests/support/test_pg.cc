#include "tests/support/test_pg.h"

#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <fstream>
#include <map>
#include <stdexcept>

#include "tests/support/run.h"

namespace tessera::testing {
namespace {

std::map<std::string, std::string> ReadEnvFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot read PostgreSQL env file " + path);
  std::map<std::string, std::string> vars;
  std::string line;
  while (std::getline(in, line)) {
    size_t eq = line.find('=');
    if (eq != std::string::npos) vars[line.substr(0, eq)] = line.substr(eq + 1);
  }
  return vars;
}

std::string Script() { return std::string(TESSERA_SOURCE_DIR) + "/tests/scripts/pg-cluster.sh"; }

}  // namespace

TestPg& TestPg::Get() {
  static TestPg instance;  // a cluster it started is stopped when the process exits
  return instance;
}

TestPg::TestPg() {
  if (const char* env = std::getenv("TESSERA_TEST_PG_ENV"); env != nullptr && *env != '\0') {
    env_file_ = env;
  } else {
    env_file_ = "/tmp/tessera-test-pg." + std::to_string(getpid()) + ".env";
    CommandResult started = RunCommand(ShellQuote(Script()) + " start " + ShellQuote(env_file_));
    if (started.exit_code != 0)
      throw std::runtime_error("cannot start PostgreSQL: " + started.output);
    owns_cluster_ = true;
  }
  auto vars = ReadEnvFile(env_file_);
  host_ = vars["PGHOST"];
  port_ = vars["PGPORT"];
  user_ = vars["PGUSER"];
  template_ = vars["TESSERA_PG_TEMPLATE"];
}

TestPg::~TestPg() {
  if (owns_cluster_) {
    RunCommand(ShellQuote(Script()) + " stop " + ShellQuote(env_file_));
  }
}

std::string TestPg::ConnInfo(const std::string& database) const {
  return "host=" + host_ + " port=" + port_ + " user=" + user_ + " dbname=" + database;
}

std::string TestPg::CreateDatabase() {
  static std::atomic<int> counter{0};
  std::string name = "t_" + std::to_string(getpid()) + "_" + std::to_string(counter++);
  auto admin = pg::Connection::Open(ConnInfo("postgres"));
  if (!admin.ok()) throw std::runtime_error(std::string(admin.status().message()));
  // Names are ours (digits and underscores): identifiers cannot be parameters.
  auto created = (*admin)->Exec("CREATE DATABASE " + name + " TEMPLATE " + template_);
  if (!created.ok()) throw std::runtime_error(std::string(created.status().message()));
  return name;
}

void TestPg::DropDatabase(const std::string& name) {
  auto admin = pg::Connection::Open(ConnInfo("postgres"));
  if (admin.ok()) (void)(*admin)->Exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)");
}

void PgTest::SetUp() {
  database_ = TestPg::Get().CreateDatabase();
  conninfo_ = TestPg::Get().ConnInfo(database_);
  conn_ = Connect();
}

void PgTest::TearDown() {
  conn_.reset();
  TestPg::Get().DropDatabase(database_);
}

void PgTest::InjectFailure(const std::string& table, const std::string& operation) {
  // Test code only: `table` and `operation` are literals of the test, not input.
  absl::Status status = conn_->ExecScript(
      "CREATE OR REPLACE FUNCTION public.tessera_injected_failure() RETURNS trigger LANGUAGE "
      "plpgsql AS $$ BEGIN RAISE EXCEPTION 'injected failure'; END $$; "
      "CREATE TRIGGER tessera_injected_failure BEFORE " +
      operation + " ON " + table +
      " FOR EACH ROW EXECUTE FUNCTION public.tessera_injected_failure();");
  if (!status.ok()) throw std::runtime_error(std::string(status.message()));
}

void PgTest::LiftFailure(const std::string& table) {
  absl::Status status = conn_->ExecScript("DROP TRIGGER tessera_injected_failure ON " + table);
  if (!status.ok()) throw std::runtime_error(std::string(status.message()));
}

std::unique_ptr<pg::Connection> PgTest::Connect() const {
  auto conn = pg::Connection::Open(conninfo_);
  if (!conn.ok()) throw std::runtime_error(std::string(conn.status().message()));
  return std::move(*conn);
}

}  // namespace tessera::testing
