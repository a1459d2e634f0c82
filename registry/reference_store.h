// The reference data in PostgreSQL (schema "registry"): loading a new edition of the lists,
// and the lookups the census needs (a comune by ISTAT code, the cadastral codes of a
// birthplace).
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "platform/migrations.h"
#include "platform/pg_pool.h"
#include "registry/reference_data.h"

namespace tessera::registry {

// What a load changed. Loading the same edition twice changes nothing.
struct ReferenceLoadReport {
  int provinces_added = 0, provinces_changed = 0, provinces_ceased = 0;
  int comuni_added = 0, comuni_changed = 0, comuni_ceased = 0;
  int cadastral_codes = 0;  // rows in the birthplace list after the load
};

class PgReferenceStore {
 public:
  static constexpr char kSchema[] = "registry";
  static std::vector<pg::Migration> Migrations();

  explicit PgReferenceStore(pg::ConnectionPool& pool) : pool_(pool) {}

  // One transaction: provinces and comuni upserted (a comune no longer listed is marked ceased,
  // never deleted; one listed again is live again), the birthplace list replaced.
  absl::StatusOr<ReferenceLoadReport> Load(const ReferenceData& data,
                                           std::chrono::system_clock::time_point now);

  // Live comuni and every cadastral code, for a ReferenceIndex.
  absl::StatusOr<ReferenceData> ReadAll();

  // A live comune by ISTAT code; nullopt if there is none.
  absl::StatusOr<std::optional<Comune>> FindComune(const std::string& istat);

  // Every cadastral code the place `name` in province `sigla` ("EE" and the state's name for a
  // foreign state) has had, matched on letters only ("Sant'Angelo" = "SANT ANGELO").
  absl::StatusOr<std::vector<std::string>> BirthplaceCodes(const std::string& name,
                                                           const std::string& sigla);

 private:
  pg::ConnectionPool& pool_;
};

}  // namespace tessera::registry
