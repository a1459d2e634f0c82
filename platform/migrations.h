// Schema migrations: numbered SQL files `V001__create_certificates.sql` per schema, applied
// at start-up under a PostgreSQL advisory lock (so two processes starting at once apply each
// file exactly once) and recorded with a checksum in <schema>.schema_migrations. A file
// changed after it was applied, or a database newer than the program, stops start-up.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "platform/pg.h"
#include "platform/pg_pool.h"

namespace tessera::pg {

struct Migration {
  int version = 0;
  std::string name;  // the part after "V001__", without ".sql"
  std::string sql;
};

// Reads V<number>__<name>.sql files from `dir`, sorted by version; other files are errors.
absl::StatusOr<std::vector<Migration>> LoadMigrations(const std::filesystem::path& dir);

struct MigrationReport {
  std::vector<int> applied;  // versions applied by this call
  int current_version = 0;
};

// Applies the migrations not yet recorded, each in its own transaction with search_path set
// to `schema` (created if missing).
absl::StatusOr<MigrationReport> ApplyMigrations(Connection& conn, const std::string& schema,
                                                const std::vector<Migration>& migrations);

// A service's start-up: ApplyMigrations on a connection of `pool`, and a log line with the
// schema's version. A schema the program does not know stops start-up.
absl::Status MigrateAtStart(ConnectionPool& pool, const std::string& schema,
                            const std::vector<Migration>& migrations);

}  // namespace tessera::pg
