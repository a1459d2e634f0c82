#include "platform/migrations.h"

#include <botan/hash.h>
#include <botan/hex.h>

#include <fstream>
#include <map>
#include <regex>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "platform/log.h"
#include "platform/status_macros.h"

namespace tessera::pg {
namespace {

// "V001__create_items", as the file is named.
std::string FileName(const Migration& migration) {
  return absl::StrFormat("V%03d__%s", migration.version, migration.name);
}

std::string Checksum(const std::string& sql) {
  auto sha256 = Botan::HashFunction::create_or_throw("SHA-256");
  sha256->update(sql);
  return Botan::hex_encode(sha256->final(), false);
}

// Holds the per-schema advisory lock; releases it on every return path.
class AdvisoryLock {
 public:
  static absl::StatusOr<AdvisoryLock> Acquire(Connection& conn, const std::string& key) {
    TESSERA_RETURN_IF_ERROR(
        conn.Exec("SELECT pg_advisory_lock(hashtext($1)::bigint)", {Param(key)}).status());
    return AdvisoryLock(&conn, key);
  }
  AdvisoryLock(AdvisoryLock&& other) noexcept : conn_(other.conn_), key_(std::move(other.key_)) {
    other.conn_ = nullptr;
  }
  ~AdvisoryLock() {
    if (conn_ != nullptr) {
      (void)conn_->Exec("SELECT pg_advisory_unlock(hashtext($1)::bigint)", {Param(key_)});
    }
  }

 private:
  AdvisoryLock(Connection* conn, std::string key) : conn_(conn), key_(std::move(key)) {}
  Connection* conn_;
  std::string key_;
};

}  // namespace

absl::StatusOr<std::vector<Migration>> LoadMigrations(const std::filesystem::path& dir) {
  static const std::regex kFileName(R"(V([0-9]{3,})__([a-z0-9_]+)\.sql)");
  std::error_code ec;
  std::filesystem::directory_iterator it(dir, ec);
  if (ec) {
    return absl::NotFoundError(
        absl::StrCat("migrations: cannot read ", dir.string(), ": ", ec.message()));
  }
  std::map<int, Migration> by_version;
  for (const auto& entry : it) {
    const std::string file = entry.path().filename().string();
    std::smatch match;
    if (!std::regex_match(file, match, kFileName)) {
      return absl::InvalidArgumentError(
          absl::StrCat("migrations: ", file, " is not named V<number>__<lower_case_name>.sql"));
    }
    const int version = std::stoi(match[1].str());
    std::ifstream in(entry.path());
    std::stringstream sql;
    sql << in.rdbuf();
    Migration migration{version, match[2].str(), sql.str()};
    if (!by_version.emplace(version, std::move(migration)).second) {
      return absl::InvalidArgumentError(
          absl::StrCat("migrations: two files have version ", version));
    }
  }
  std::vector<Migration> migrations;
  for (auto& [version, migration] : by_version) migrations.push_back(std::move(migration));
  return migrations;
}

absl::StatusOr<MigrationReport> ApplyMigrations(Connection& conn, const std::string& schema,
                                                const std::vector<Migration>& migrations) {
  TESSERA_ASSIGN_OR_RETURN(std::string quoted, QuoteIdentifier(schema));
  TESSERA_ASSIGN_OR_RETURN(AdvisoryLock lock,
                           AdvisoryLock::Acquire(conn, "tessera.migrations." + schema));

  // Identifiers cannot be parameters; `quoted` passed QuoteIdentifier's check.
  TESSERA_RETURN_IF_ERROR(conn.ExecScript(absl::StrCat(
      "CREATE SCHEMA IF NOT EXISTS ", quoted, ";", "CREATE TABLE IF NOT EXISTS ", quoted,
      ".schema_migrations (version integer PRIMARY KEY, name text NOT NULL, "
      "checksum text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now());")));

  TESSERA_ASSIGN_OR_RETURN(Result applied_rows,
                           conn.Exec(absl::StrCat("SELECT version, checksum FROM ", quoted,
                                                  ".schema_migrations ORDER BY version")));
  std::map<int, std::string> applied;
  for (int row = 0; row < applied_rows.rows(); ++row) {
    applied[static_cast<int>(applied_rows.Int(row, 0))] = std::string(applied_rows.Text(row, 1));
  }

  std::map<int, const Migration*> known;
  for (const Migration& migration : migrations) known[migration.version] = &migration;
  for (const auto& [version, checksum] : applied) {
    auto it = known.find(version);
    if (it == known.end()) {
      return absl::FailedPreconditionError(absl::StrCat(
          "migrations: schema ", schema, " has version ", version,
          " which this program does not know: the database is newer than the program"));
    }
    if (Checksum(it->second->sql) != checksum) {
      return absl::FailedPreconditionError(absl::StrCat("migrations: ", FileName(*it->second),
                                                        " in schema ", schema,
                                                        " was changed after it was applied"));
    }
  }

  MigrationReport report;
  for (const Migration& migration : migrations) {
    if (applied.contains(migration.version)) continue;
    TESSERA_ASSIGN_OR_RETURN(Transaction tx, Transaction::Begin(conn));
    TESSERA_RETURN_IF_ERROR(conn.ExecScript(absl::StrCat("SET LOCAL search_path TO ", quoted)));
    absl::Status status = conn.ExecScript(migration.sql);
    if (!status.ok()) {
      return absl::Status(
          status.code(), absl::StrCat("migrations: ", FileName(migration), ": ", status.message()));
    }
    TESSERA_RETURN_IF_ERROR(
        conn.Exec(absl::StrCat("INSERT INTO ", quoted,
                               ".schema_migrations (version, name, checksum) VALUES ($1, $2, $3)"),
                  {Param(migration.version), Param(migration.name), Param(Checksum(migration.sql))})
            .status());
    TESSERA_RETURN_IF_ERROR(tx.Commit());
    report.applied.push_back(migration.version);
  }
  report.current_version = migrations.empty() ? 0 : migrations.back().version;
  if (!applied.empty())
    report.current_version = std::max(report.current_version, applied.rbegin()->first);
  return report;
}

absl::Status MigrateAtStart(ConnectionPool& pool, const std::string& schema,
                            const std::vector<Migration>& migrations) {
  TESSERA_ASSIGN_OR_RETURN(auto conn, pool.Acquire());
  TESSERA_ASSIGN_OR_RETURN(MigrationReport report, ApplyMigrations(*conn, schema, migrations));
  LogEvent(spdlog::level::info, "migrations",
           {{"schema", schema}, {"version", std::to_string(report.current_version)}});
  return absl::OkStatus();
}

}  // namespace tessera::pg
