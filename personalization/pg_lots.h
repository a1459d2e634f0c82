// Lots in PostgreSQL (schema "perso", migrations/V003__lots.sql).
#pragma once

#include <map>
#include <string>
#include <vector>

#include "personalization/lots.h"
#include "platform/pg_pool.h"

namespace tessera::personalization {

class PgLotStore final : public LotStore {
 public:
  explicit PgLotStore(pg::ConnectionPool& pool) : pool_(pool) {}

  absl::StatusOr<int> SealEndedBatches(Clock::TimePoint now) override;
  absl::StatusOr<std::vector<Lot>> LotsToPrint() override;
  absl::Status FilesWritten(const std::string& lot, const std::string& cards_file,
                            const std::string& envelopes_file, Clock::TimePoint now) override;
  absl::StatusOr<std::vector<Lot>> Unprinted(int64_t batch_id) override;
  absl::Status Printed(const std::string& lot, const BatchRequest& request,
                       Clock::TimePoint now) override;
  absl::StatusOr<std::vector<Lot>> List(bool include_handed_over) override;
  absl::StatusOr<Lot> Get(const std::string& lot) override;
  absl::Status HandOver(const std::string& lot, const std::string& to,
                        Clock::TimePoint now) override;
  absl::StatusOr<SealedHalves> MailHalvesFor(const std::string& card_number,
                                             const BatchRequest& request,
                                             Clock::TimePoint now) override;

  absl::StatusOr<std::map<std::string, std::string>> SealedLotsOf(
      const std::vector<std::string>& card_numbers) override;

 private:
  pg::ConnectionPool& pool_;
};

}  // namespace tessera::personalization
