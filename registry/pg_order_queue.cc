#include "absl/strings/str_cat.h"
#include "platform/clock.h"
#include "platform/status_macros.h"
#include "registry/pg_stores.h"

namespace tessera::registry {

using std::chrono::system_clock;

// A claim takes orders nobody holds, those whose lease ran out (claimed at or before
// $4 = now - lease), and the worker's own; its own come first.
absl::StatusOr<std::vector<CardOrder>> PgOrderQueue::ClaimCardOrders(const std::string& worker,
                                                                     int limit,
                                                                     std::chrono::seconds lease,
                                                                     system_clock::time_point now) {
  TESSERA_ASSIGN_OR_RETURN(auto conn, pool_.Acquire());
  TESSERA_ASSIGN_OR_RETURN(
      pg::Result r,
      conn->Exec(
          "WITH claimed AS (UPDATE registry.card_orders SET claimed_by = $1, claimed_at = "
          "to_timestamp($3) WHERE card_number IN (SELECT card_number FROM registry.card_orders "
          "WHERE state = 'LAVORAZIONE' AND ended_at IS NULL AND (claimed_by IS NULL OR claimed_by "
          "= $1 OR claimed_at <= to_timestamp($4)) ORDER BY claimed_by IS NOT DISTINCT FROM $1 "
          "DESC, created_at, card_number LIMIT $2 FOR UPDATE SKIP LOCKED) RETURNING card_number, "
          "codice_fiscale, census_id) SELECT c.card_number, c.codice_fiscale, "
          "coalesce(c.census_id, 0), p.surname, p.name, coalesce(k.owner, $5) FROM claimed c "
          "JOIN registry.persons p USING (codice_fiscale) LEFT JOIN registry.censuses k ON k.id "
          "= c.census_id ORDER BY c.card_number",
          {pg::Param(worker), pg::Param(limit), pg::Param(UnixSeconds(now)),
           pg::Param(UnixSeconds(now - lease)), pg::Param(kMinistryOrderer)}));
  std::vector<CardOrder> orders;
  for (int row = 0; row < r.rows(); ++row) {
    orders.push_back({std::string(r.Text(row, 0)), std::string(r.Text(row, 1)), r.Int(row, 2),
                      std::string(r.Text(row, 3)), std::string(r.Text(row, 4)),
                      std::string(r.Text(row, 5))});
  }
  return orders;
}

absl::StatusOr<std::vector<WorkstationOrder>> PgOrderQueue::ClaimWorkstationOrders(
    const std::string& worker, int limit, std::chrono::seconds lease,
    system_clock::time_point now) {
  TESSERA_ASSIGN_OR_RETURN(auto conn, pool_.Acquire());
  TESSERA_ASSIGN_OR_RETURN(
      pg::Result r,
      conn->Exec(
          "WITH claimed AS (UPDATE registry.workstation_orders SET claimed_by = $1, claimed_at = "
          "to_timestamp($3) WHERE (workstation_owner, progressive) IN (SELECT "
          "workstation_owner, progressive FROM registry.workstation_orders WHERE state = "
          "'LAVORAZIONE' AND (claimed_by IS NULL OR claimed_by = $1 OR claimed_at <= "
          "to_timestamp($4)) ORDER BY claimed_by IS NOT DISTINCT FROM $1 DESC, created_at, "
          "workstation_owner, progressive LIMIT $2 FOR UPDATE SKIP LOCKED) RETURNING "
          "workstation_owner, progressive, census_id) SELECT c.workstation_owner, "
          "c.progressive, c.census_id, k.owner FROM claimed c JOIN registry.censuses k ON k.id "
          "= c.census_id ORDER BY c.workstation_owner, c.progressive",
          {pg::Param(worker), pg::Param(limit), pg::Param(UnixSeconds(now)),
           pg::Param(UnixSeconds(now - lease))}));
  std::vector<WorkstationOrder> orders;
  for (int row = 0; row < r.rows(); ++row) {
    orders.push_back({std::string(r.Text(row, 0)), static_cast<int>(r.Int(row, 1)), r.Int(row, 2),
                      std::string(r.Text(row, 3))});
  }
  return orders;
}

}  // namespace tessera::registry
