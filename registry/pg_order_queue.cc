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
                                                                     system_clock::time_point now,
                                                                     const ClaimScope& scope) {
  TESSERA_ASSIGN_OR_RETURN(auto conn, pool_.Acquire());
  TESSERA_ASSIGN_OR_RETURN(
      pg::Result r,
      conn->Exec(
          "WITH claimed AS (UPDATE registry.card_orders SET claimed_by = $1, claimed_at = "
          "to_timestamp($3) WHERE card_number IN (SELECT card_number FROM registry.card_orders "
          "WHERE state = 'LAVORAZIONE' AND ended_at IS NULL AND (claimed_by IS NULL OR claimed_by "
          "= $1 OR claimed_at <= to_timestamp($4)) AND card_number LIKE $6 AND (cardinality("
          "$7::text[]) = 0 OR card_number = ANY ($7::text[])) ORDER BY claimed_by IS NOT DISTINCT "
          "FROM $1 "
          "DESC, created_at, card_number LIMIT $2 FOR UPDATE SKIP LOCKED) RETURNING card_number, "
          "codice_fiscale, census_id) SELECT c.card_number, c.codice_fiscale, "
          "coalesce(c.census_id, 0), p.surname, p.name, coalesce(k.owner, $5), CASE WHEN k.owner "
          "IS NULL THEN 'MINISTERO DELL''INTERNO' WHEN cm.istat IS NOT NULL THEN upper(cm.name) "
          "|| ' (' || pr.sigla || ')' ELSE 'PREFETTURA DI ' || upper(pr.name) END, "
          "coalesce(pr.sigla, '') FROM claimed c "
          "JOIN registry.persons p USING (codice_fiscale) LEFT JOIN registry.censuses k ON k.id "
          "= c.census_id LEFT JOIN registry.comuni cm ON cm.istat = k.owner LEFT JOIN "
          "registry.province pr ON pr.code = left(k.owner, 3) ORDER BY c.card_number",
          {pg::Param(worker), pg::Param(limit), pg::Param(UnixSeconds(now)),
           pg::Param(UnixSeconds(now - lease)), pg::Param(kMinistryOrderer),
           pg::Param(scope.prefix + "%"), pg::Param::TextArray(scope.orders)}));
  std::vector<CardOrder> orders;
  for (int row = 0; row < r.rows(); ++row) {
    orders.push_back({std::string(r.Text(row, 0)), std::string(r.Text(row, 1)), r.Int(row, 2),
                      std::string(r.Text(row, 3)), std::string(r.Text(row, 4)),
                      std::string(r.Text(row, 5)), std::string(r.Text(row, 6)),
                      std::string(r.Text(row, 7))});
  }
  return orders;
}

absl::StatusOr<std::vector<WorkstationOrder>> PgOrderQueue::ClaimWorkstationOrders(
    const std::string& worker, int limit, std::chrono::seconds lease, system_clock::time_point now,
    const ClaimScope& scope) {
  TESSERA_ASSIGN_OR_RETURN(auto conn, pool_.Acquire());
  TESSERA_ASSIGN_OR_RETURN(
      pg::Result r,
      conn->Exec(
          "WITH claimed AS (UPDATE registry.workstation_orders SET claimed_by = $1, claimed_at = "
          "to_timestamp($3) WHERE (workstation_owner, progressive) IN (SELECT "
          "workstation_owner, progressive FROM registry.workstation_orders WHERE state = "
          "'LAVORAZIONE' AND (claimed_by IS NULL OR claimed_by = $1 OR claimed_at <= "
          "to_timestamp($4)) AND workstation_owner || lpad(progressive::text, 4, '0') LIKE $5 "
          "AND (cardinality($6::text[]) = 0 OR workstation_owner || lpad(progressive::text, 4, "
          "'0') = ANY ($6::text[])) ORDER BY claimed_by IS NOT DISTINCT FROM $1 DESC, "
          "created_at, workstation_owner, progressive LIMIT $2 FOR UPDATE SKIP LOCKED) RETURNING "
          "workstation_owner, progressive, census_id) SELECT c.workstation_owner, "
          "c.progressive, c.census_id, k.owner FROM claimed c JOIN registry.censuses k ON k.id "
          "= c.census_id ORDER BY c.workstation_owner, c.progressive",
          {pg::Param(worker), pg::Param(limit), pg::Param(UnixSeconds(now)),
           pg::Param(UnixSeconds(now - lease)), pg::Param(scope.prefix + "%"),
           pg::Param::TextArray(scope.orders)}));
  std::vector<WorkstationOrder> orders;
  for (int row = 0; row < r.rows(); ++row) {
    orders.push_back({std::string(r.Text(row, 0)), static_cast<int>(r.Int(row, 1)), r.Int(row, 2),
                      std::string(r.Text(row, 3))});
  }
  return orders;
}

absl::StatusOr<int64_t> PgOrderQueue::CountOpenOrders(const ClaimScope& scope) {
  TESSERA_ASSIGN_OR_RETURN(auto conn, pool_.Acquire());
  TESSERA_ASSIGN_OR_RETURN(
      pg::Result r,
      conn->Exec("SELECT (SELECT count(*) FROM registry.card_orders WHERE state = 'LAVORAZIONE' "
                 "AND ended_at IS NULL AND card_number LIKE $1 AND (cardinality($2::text[]) = 0 "
                 "OR card_number = ANY ($2::text[]))) + (SELECT count(*) FROM "
                 "registry.workstation_orders WHERE state = 'LAVORAZIONE' AND workstation_owner "
                 "|| lpad(progressive::text, 4, '0') LIKE $1 AND (cardinality($2::text[]) = 0 OR "
                 "workstation_owner || lpad(progressive::text, 4, '0') = ANY ($2::text[])))",
                 {pg::Param(scope.prefix + "%"), pg::Param::TextArray(scope.orders)}));
  return r.Int(0, 0);
}

namespace {

// One outcome in one statement: the order moves out of LAVORAZIONE only for the worker holding
// its claim; otherwise the row as it was says whether this is a retry (the same outcome on
// record) or a refusal.
absl::StatusOr<bool> ReportOne(pg::Connection& conn, const std::string& worker,
                               const OrderOutcome& o, const pg::Param& when) {
  const bool card = o.kind == OrderOutcome::Kind::kCard;
  const std::string table = card ? "registry.card_orders" : "registry.workstation_orders";
  // By primary key: a workstation's common id is its owner and 4-digit progressive.
  const std::string key = card ? "card_number = $1"
                               : "workstation_owner = left($1, 6) AND progressive = "
                                 "right($1, 4)::int";
  // A card's failure ends its order (the person may get a new card); a card order ended
  // meanwhile (replaced, revoked) takes no outcome. A workstation order has no end.
  const std::string ends = card ? ", ended_at = CASE WHEN $3 = '' THEN to_timestamp($5) ELSE "
                                  "ended_at END, end_reason = CASE WHEN $3 = '' THEN 'failed' "
                                  "ELSE end_reason END"
                                : "";
  const std::string live = card ? " AND ended_at IS NULL" : "";
  const std::string ended = card ? "ended_at IS NOT NULL" : "false";
  absl::StatusOr<pg::Result> r = conn.Exec(
      absl::StrCat("WITH reported AS (UPDATE ", table,
                   " SET state = CASE WHEN $3 <> '' THEN 'PRODOTTA' ELSE 'FALLITA' END, "
                   "certificate_serial = NULLIF($3, ''), failure = NULLIF($4, ''), outcome_at = "
                   "to_timestamp($5), outcome_by = $2",
                   ends, " WHERE ", key, " AND state = 'LAVORAZIONE' AND claimed_by = $2", live,
                   " RETURNING 1) SELECT (SELECT count(*) FROM reported), state, "
                   "coalesce(certificate_serial, ''), coalesce(failure, ''), coalesce(claimed_by, "
                   "''), ",
                   ended, " FROM ", table, " WHERE ", key),
      {pg::Param(o.order), pg::Param(worker), pg::Param(o.certificate_serial), pg::Param(o.failure),
       when});
  if (!r.ok()) {
    if (r.status().code() == absl::StatusCode::kAlreadyExists) {
      return absl::AlreadyExistsError(absl::StrCat("certificate_serial: ", o.certificate_serial,
                                                   " is recorded on another order"));
    }
    return r.status();
  }
  if (r->rows() == 0)
    return absl::NotFoundError(absl::StrCat("order ", o.order, ": no such order"));
  if (r->Int(0, 0) == 1) return false;
  const std::string_view state = r->Text(0, 1);
  if (state != "LAVORAZIONE") {
    if (r->Text(0, 2) == o.certificate_serial && r->Text(0, 3) == o.failure) return true;
    return absl::FailedPreconditionError(
        absl::StrCat("order ", o.order, ": already ", std::string(state), " with another outcome"));
  }
  if (r->Bool(0, 5)) {
    return absl::FailedPreconditionError(
        absl::StrCat("order ", o.order, ": ended while in production (replaced or revoked)"));
  }
  return absl::FailedPreconditionError(absl::StrCat("order ", o.order, ": not held by ", worker,
                                                    r->Text(0, 4).empty()
                                                        ? " (never claimed)"
                                                        : " (another worker holds it: a worker "
                                                          "whose lease ran out loses its orders)"));
}

}  // namespace

std::vector<absl::StatusOr<bool>> PgOrderQueue::Report(const std::string& worker,
                                                       std::span<const OrderOutcome> outcomes,
                                                       system_clock::time_point now) {
  std::vector<absl::StatusOr<bool>> results;
  absl::StatusOr<pg::ConnectionPool::Lease> conn = pool_.Acquire();
  const pg::Param when(UnixSeconds(now));
  for (const OrderOutcome& outcome : outcomes) {
    results.push_back(conn.ok() ? ReportOne(**conn, worker, outcome, when) : conn.status());
  }
  return results;
}

}  // namespace tessera::registry
