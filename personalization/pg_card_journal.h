// The card journal in PostgreSQL (schema "perso", migrations in personalization/migrations/).
#pragma once

#include <string>
#include <vector>

#include "personalization/card_maker.h"
#include "platform/clock.h"
#include "platform/migrations.h"
#include "platform/pg_pool.h"

namespace tessera::personalization {

inline constexpr char kPgSchema[] = "perso";
std::vector<pg::Migration> PgMigrations();

class PgCardJournal final : public CardJournal {
 public:
  PgCardJournal(pg::ConnectionPool& pool, const Clock& clock) : pool_(pool), clock_(clock) {}

  absl::StatusOr<std::optional<CardRecord>> Load(const std::string& card_number) override;
  // One statement: the record as a whole, or nothing (a crash mid-save leaves the previous
  // step's record).
  absl::Status Save(const CardRecord& record) override;

 private:
  pg::ConnectionPool& pool_;
  const Clock& clock_;
};

}  // namespace tessera::personalization
