// The dispatch store in PostgreSQL (schema "dispatch", migrations/).
#pragma once

#include <vector>

#include "dispatch/lots.h"
#include "platform/migrations.h"
#include "platform/pg_pool.h"

namespace tessera::dispatch {

inline constexpr char kPgSchema[] = "dispatch";
std::vector<pg::Migration> PgMigrations();

class PgDispatchStore final : public DispatchStore {
 public:
  explicit PgDispatchStore(pg::ConnectionPool& pool) : pool_(pool) {}

  absl::StatusOr<bool> TakeOver(const LotIntake& lot, TimePoint at,
                                const std::vector<QueuedMail>& notices) override;
  absl::StatusOr<std::vector<LotSummary>> ListLots(const std::string& office,
                                                   const std::string& after, int limit) override;
  absl::StatusOr<LotSummary> GetLot(const std::string& lot_number) override;
  absl::StatusOr<std::vector<DispatchCard>> LotCards(const std::string& lot_number) override;
  absl::StatusOr<Delivery> Deliver(const DeliveryRequest& request) override;
  absl::StatusOr<Delivery> GetDelivery(const std::string& protocol) override;
  absl::StatusOr<DispatchCard> GetCard(const std::string& card_number) override;
  absl::StatusOr<Registration> Register(const RegistrationRequest& request) override;
  absl::StatusOr<bool> Resend(const ResendRequest& request) override;

 private:
  pg::ConnectionPool& pool_;
};

}  // namespace tessera::dispatch
