#include "personalization/pg_batches.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "platform/pg.h"
#include "platform/status_macros.h"

namespace tessera::personalization {
namespace {

// Times in microseconds: rates are computed over seconds.
int64_t UnixMicros(Clock::TimePoint t) {
  return std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count();
}
Clock::TimePoint FromMicros(int64_t micros) {
  return Clock::TimePoint(std::chrono::microseconds(micros));
}
pg::Param At(Clock::TimePoint t) { return pg::Param(UnixMicros(t)); }

const char* ActionName(BatchAction action) {
  switch (action) {
    case BatchAction::kRun:
      return "run";
    case BatchAction::kPause:
      return "pause";
    case BatchAction::kCancel:
      return "cancel";
  }
  return "?";
}

// What a create asked for: a retry must ask for the same.
std::string CreateFingerprint(const std::string& name, const BatchReach& reach) {
  return absl::StrCat(name, "\n", reach.province_sigla, "\n", reach.istat, "\n",
                      absl::StrJoin(reach.orders, ","));
}

// The columns every batch query selects, in this order (ReadBatch).
constexpr char kBatchColumns[] =
    "b.id, b.name, b.province_sigla, b.istat, array_to_string(b.orders, ','), b.state, "
    "b.created_by, (extract(epoch FROM b.created_at) * 1e6)::bigint, (extract(epoch FROM "
    "b.updated_at) * 1e6)::bigint, coalesce(b.open_orders, -1), n.cards_produced, "
    "n.cards_failed, n.workstations_produced, n.workstations_failed";
// The batch's outcomes counted in one pass over its results; follows "FROM perso.batches b".
constexpr char kBatchCounts[] =
    " CROSS JOIN LATERAL (SELECT count(*) FILTER (WHERE r.card AND r.failure IS NULL) AS "
    "cards_produced, count(*) FILTER (WHERE r.card AND r.failure IS NOT NULL) AS cards_failed, "
    "count(*) FILTER (WHERE NOT r.card AND r.failure IS NULL) AS workstations_produced, "
    "count(*) FILTER (WHERE NOT r.card AND r.failure IS NOT NULL) AS workstations_failed FROM "
    "perso.batch_results r WHERE r.batch_id = b.id) n";

absl::StatusOr<Batch> ReadBatch(const pg::Result& r, int row) {
  Batch b;
  b.id = r.Int(row, 0);
  b.name = r.Text(row, 1);
  b.reach.province_sigla = r.Text(row, 2);
  b.reach.istat = r.Text(row, 3);
  if (!r.Text(row, 4).empty()) b.reach.orders = absl::StrSplit(std::string(r.Text(row, 4)), ',');
  const std::optional<BatchState> state = BatchStateNamed(r.Text(row, 5));
  if (!state) return absl::DataLossError("perso.batches: unknown state");
  b.state = *state;
  b.created_by = r.Text(row, 6);
  b.created_at = FromMicros(r.Int(row, 7));
  b.updated_at = FromMicros(r.Int(row, 8));
  b.progress.open_orders = static_cast<int>(r.Int(row, 9));
  b.progress.cards_produced = static_cast<int>(r.Int(row, 10));
  b.progress.cards_failed = static_cast<int>(r.Int(row, 11));
  b.progress.workstations_produced = static_cast<int>(r.Int(row, 12));
  b.progress.workstations_failed = static_cast<int>(r.Int(row, 13));
  return b;
}

absl::StatusOr<std::vector<Batch>> ReadBatches(const pg::Result& r) {
  std::vector<Batch> batches;
  for (int row = 0; row < r.rows(); ++row) {
    TESSERA_ASSIGN_OR_RETURN(Batch b, ReadBatch(r, row));
    batches.push_back(std::move(b));
  }
  return batches;
}

// The act recorded under `request_id`, if any: (batch, action, fingerprint).
struct RecordedAct {
  int64_t batch_id;
  std::string action, fingerprint;
};
absl::StatusOr<std::optional<RecordedAct>> FindAct(pg::Connection& conn,
                                                   const std::string& request_id) {
  TESSERA_ASSIGN_OR_RETURN(
      pg::Result r, conn.Exec("SELECT batch_id, action, fingerprint FROM perso.batch_requests "
                              "WHERE request_id = $1",
                              {pg::Param(request_id)}));
  if (r.rows() == 0) return std::optional<RecordedAct>();
  return std::optional<RecordedAct>(
      RecordedAct{r.Int(0, 0), std::string(r.Text(0, 1)), std::string(r.Text(0, 2))});
}

absl::Status RecordAct(pg::Connection& conn, int64_t batch_id, std::string_view action,
                       const std::string& fingerprint, const BatchRequest& request,
                       Clock::TimePoint now) {
  const Actor& a = request.actor;
  return conn
      .Exec(
          "INSERT INTO perso.batch_requests (request_id, batch_id, action, fingerprint, "
          "actor_kind, actor, actor_serial, call_id, at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, "
          "to_timestamp($9::bigint / 1e6))",
          {pg::Param(request.request_id), pg::Param(batch_id), pg::Param(action),
           pg::Param(fingerprint), pg::Param(a.kind), pg::Param(a.name), pg::Param(a.serial),
           pg::Param(a.call_id), At(now)})
      .status();
}

absl::Status UsedForAnotherAct(const std::string& request_id) {
  return absl::AlreadyExistsError(
      absl::StrCat("request_id: '", request_id, "' was used for another act on batches"));
}

}  // namespace

absl::StatusOr<BatchStore::Created> PgBatchStore::Create(const std::string& name,
                                                         const BatchReach& reach,
                                                         const BatchRequest& request,
                                                         Clock::TimePoint now) {
  const std::string fingerprint = CreateFingerprint(name, reach);
  TESSERA_ASSIGN_OR_RETURN(auto conn, pool_.Acquire());
  // Twice at most: a concurrent retry of the same request may commit between our look and our
  // insert; the second look then finds it.
  for (int attempt = 0;; ++attempt) {
    TESSERA_ASSIGN_OR_RETURN(pg::Transaction tx, pg::Transaction::Begin(*conn));
    TESSERA_ASSIGN_OR_RETURN(std::optional<RecordedAct> act, FindAct(*conn, request.request_id));
    if (act) {
      if (act->action != "create" || act->fingerprint != fingerprint) {
        return UsedForAnotherAct(request.request_id);
      }
      TESSERA_RETURN_IF_ERROR(tx.Commit());
      TESSERA_ASSIGN_OR_RETURN(Batch batch, Get(act->batch_id, now, now));
      return Created{std::move(batch), true};
    }
    TESSERA_ASSIGN_OR_RETURN(
        pg::Result r,
        conn->Exec("INSERT INTO perso.batches (name, province_sigla, istat, orders, state, "
                   "created_by, created_at, updated_at) VALUES ($1, $2, $3, $4::text[], "
                   "'created', $5, to_timestamp($6::bigint / 1e6), to_timestamp($6::bigint / "
                   "1e6)) RETURNING id",
                   {pg::Param(name), pg::Param(reach.province_sigla), pg::Param(reach.istat),
                    pg::Param::TextArray(reach.orders), pg::Param(request.actor.name), At(now)}));
    const int64_t id = r.Int(0, 0);
    absl::Status recorded = RecordAct(*conn, id, "create", fingerprint, request, now);
    if (recorded.code() == absl::StatusCode::kAlreadyExists && attempt == 0) continue;
    TESSERA_RETURN_IF_ERROR(recorded);
    TESSERA_RETURN_IF_ERROR(tx.Commit());
    TESSERA_ASSIGN_OR_RETURN(Batch batch, Get(id, now, now));
    return Created{std::move(batch), false};
  }
}

absl::Status PgBatchStore::ChangeState(int64_t id, const std::vector<BatchState>& from,
                                       BatchState to, BatchAction action,
                                       const BatchRequest& request, Clock::TimePoint now) {
  const std::string fingerprint = std::to_string(id);
  TESSERA_ASSIGN_OR_RETURN(auto conn, pool_.Acquire());
  TESSERA_ASSIGN_OR_RETURN(pg::Transaction tx, pg::Transaction::Begin(*conn));
  TESSERA_ASSIGN_OR_RETURN(std::optional<RecordedAct> act, FindAct(*conn, request.request_id));
  if (act) {
    if (act->batch_id != id || act->action != ActionName(action)) {
      return UsedForAnotherAct(request.request_id);
    }
    return absl::OkStatus();  // a retry: done before
  }
  TESSERA_ASSIGN_OR_RETURN(
      pg::Result r,
      conn->Exec("SELECT state FROM perso.batches WHERE id = $1 FOR UPDATE", {pg::Param(id)}));
  if (r.rows() == 0) return absl::NotFoundError(absl::StrCat("id: no batch ", id));
  const std::optional<BatchState> state = BatchStateNamed(r.Text(0, 0));
  if (!state) return absl::DataLossError("perso.batches: unknown state");
  if (std::find(from.begin(), from.end(), *state) == from.end()) {
    std::vector<std::string> allowed;
    for (BatchState s : from) allowed.emplace_back(BatchStateName(s));
    return absl::FailedPreconditionError(absl::StrCat(
        "batch ", id, " is ", std::string(BatchStateName(*state)), ": ", ActionName(action),
        " applies only to a batch that is ", absl::StrJoin(allowed, " or ")));
  }
  TESSERA_RETURN_IF_ERROR(
      conn->Exec("UPDATE perso.batches SET state = $2, updated_at = to_timestamp($3::bigint / "
                 "1e6) WHERE id = $1",
                 {pg::Param(id), pg::Param(BatchStateName(to)), At(now)})
          .status());
  TESSERA_RETURN_IF_ERROR(RecordAct(*conn, id, ActionName(action), fingerprint, request, now));
  return tx.Commit();
}

absl::StatusOr<Batch> PgBatchStore::Get(int64_t id, Clock::TimePoint live_since,
                                        Clock::TimePoint now) {
  TESSERA_ASSIGN_OR_RETURN(auto conn, pool_.Acquire());
  TESSERA_ASSIGN_OR_RETURN(
      pg::Result r, conn->Exec(absl::StrCat("SELECT ", kBatchColumns, " FROM perso.batches b",
                                            kBatchCounts, " WHERE b.id = $1"),
                               {pg::Param(id)}));
  if (r.rows() == 0) return absl::NotFoundError(absl::StrCat("id: no batch ", id));
  TESSERA_ASSIGN_OR_RETURN(Batch batch, ReadBatch(r, 0));

  // The rate over the last minute, or since the batch's first card if that is more recent.
  TESSERA_ASSIGN_OR_RETURN(
      pg::Result rate,
      conn->Exec("SELECT count(*) FILTER (WHERE at > to_timestamp($2::bigint / 1e6) - interval "
                 "'60 seconds'), coalesce((extract(epoch FROM min(at)) * 1e6)::bigint, 0) FROM "
                 "perso.batch_results WHERE batch_id = $1 AND card AND failure IS NULL",
                 {pg::Param(id), At(now)}));
  const int64_t recent = rate.Int(0, 0);
  if (recent > 0) {
    const double since_first =
        std::chrono::duration<double>(now - FromMicros(rate.Int(0, 1))).count();
    batch.progress.cards_per_second =
        static_cast<double>(recent) / std::clamp(since_first, 1.0, 60.0);
  }

  TESSERA_ASSIGN_OR_RETURN(
      pg::Result failures,
      conn->Exec("SELECT order_id, failure FROM perso.batch_results WHERE batch_id = $1 AND "
                 "failure IS NOT NULL ORDER BY at DESC LIMIT 10",
                 {pg::Param(id)}));
  for (int row = 0; row < failures.rows(); ++row) {
    batch.progress.recent_failures.push_back(
        absl::StrCat(std::string(failures.Text(row, 0)), ": ", std::string(failures.Text(row, 1))));
  }

  TESSERA_ASSIGN_OR_RETURN(
      pg::Result readers,
      conn->Exec("SELECT station, reader, card_number, step, waiting_for, coalesce((extract(epoch "
                 "FROM card_since) * 1e6)::bigint, 0), (extract(epoch FROM beat_at) * "
                 "1e6)::bigint FROM perso.readers WHERE batch_id = $1 AND beat_at >= "
                 "to_timestamp($2::bigint / 1e6) ORDER BY station, reader",
                 {pg::Param(id), At(live_since)}));
  for (int row = 0; row < readers.rows(); ++row) {
    batch.readers.push_back({.station = std::string(readers.Text(row, 0)),
                             .reader = static_cast<int>(readers.Int(row, 1)),
                             .batch_id = id,
                             .card_number = std::string(readers.Text(row, 2)),
                             .step = std::string(readers.Text(row, 3)),
                             .waiting_for = std::string(readers.Text(row, 4)),
                             .card_since = FromMicros(readers.Int(row, 5)),
                             .beat_at = FromMicros(readers.Int(row, 6))});
  }
  return batch;
}

absl::StatusOr<std::vector<Batch>> PgBatchStore::List(bool include_ended) {
  TESSERA_ASSIGN_OR_RETURN(auto conn, pool_.Acquire());
  TESSERA_ASSIGN_OR_RETURN(
      pg::Result r,
      conn->Exec(absl::StrCat("SELECT ", kBatchColumns, " FROM perso.batches b", kBatchCounts,
                              " WHERE b.state IN ('created', 'running', "
                              "'paused') OR b.id IN (SELECT id FROM perso.batches WHERE $1 AND "
                              "state IN ('cancelled', 'finished') ORDER BY id DESC LIMIT 100) "
                              "ORDER BY b.id DESC"),
                 {pg::Param(include_ended)}));
  return ReadBatches(r);
}

absl::StatusOr<std::vector<Batch>> PgBatchStore::Running() {
  TESSERA_ASSIGN_OR_RETURN(auto conn, pool_.Acquire());
  // Without the progress counts: readers ask this before every card.
  TESSERA_ASSIGN_OR_RETURN(
      pg::Result r,
      conn->Exec("SELECT id, name, province_sigla, istat, array_to_string(orders, ',') FROM "
                 "perso.batches WHERE state = 'running' ORDER BY id"));
  std::vector<Batch> batches;
  for (int row = 0; row < r.rows(); ++row) {
    Batch b{
        .id = r.Int(row, 0), .name = std::string(r.Text(row, 1)), .state = BatchState::kRunning};
    b.reach.province_sigla = r.Text(row, 2);
    b.reach.istat = r.Text(row, 3);
    if (!r.Text(row, 4).empty()) b.reach.orders = absl::StrSplit(std::string(r.Text(row, 4)), ',');
    batches.push_back(std::move(b));
  }
  return batches;
}

absl::Status PgBatchStore::RecordResult(const OrderResult& result, Clock::TimePoint now) {
  TESSERA_ASSIGN_OR_RETURN(auto conn, pool_.Acquire());
  auto nullable = [](const std::string& s) {
    return s.empty() ? pg::Param(std::nullopt) : pg::Param(s);
  };
  return conn
      ->Exec(
          "INSERT INTO perso.batch_results (order_id, batch_id, card, certificate_serial, "
          "failure, at, codice_fiscale, surname, name, office, office_name, province_sigla) "
          "VALUES ($1, $2, $3, $4, $5, to_timestamp($6::bigint / 1e6), $7, $8, $9, $10, $11, "
          "$12) ON CONFLICT (order_id) DO NOTHING",
          {pg::Param(result.order), pg::Param(result.batch_id), pg::Param(result.card),
           nullable(result.certificate_serial), nullable(result.failure), At(now),
           pg::Param(result.codice_fiscale), pg::Param(result.surname), pg::Param(result.name),
           pg::Param(result.office), pg::Param(result.office_name),
           pg::Param(result.province_sigla)})
      .status();
}

absl::Status PgBatchStore::RecordOpenOrders(int64_t id, int open, Clock::TimePoint now) {
  TESSERA_ASSIGN_OR_RETURN(auto conn, pool_.Acquire());
  return conn
      ->Exec(
          "UPDATE perso.batches SET open_orders = $2, open_at = to_timestamp($3::bigint / "
          "1e6), state = CASE WHEN $2 = 0 AND state = 'running' THEN 'finished' ELSE state "
          "END, updated_at = CASE WHEN $2 = 0 AND state = 'running' THEN to_timestamp("
          "$3::bigint / 1e6) ELSE updated_at END WHERE id = $1",
          {pg::Param(id), pg::Param(open), At(now)})
      .status();
}

absl::Status PgBatchStore::Beat(const ReaderStatus& reader) {
  TESSERA_ASSIGN_OR_RETURN(auto conn, pool_.Acquire());
  return conn
      ->Exec(
          "INSERT INTO perso.readers (station, reader, batch_id, card_number, step, "
          "waiting_for, card_since, beat_at) VALUES ($1, $2, NULLIF($3::bigint, 0), $4, $5, $6, "
          "CASE WHEN $7::bigint = 0 THEN NULL ELSE to_timestamp($7::bigint / 1e6) END, "
          "to_timestamp($8::bigint / 1e6)) ON CONFLICT (station, reader) DO UPDATE SET "
          "batch_id = EXCLUDED.batch_id, card_number = EXCLUDED.card_number, step = "
          "EXCLUDED.step, waiting_for = EXCLUDED.waiting_for, card_since = "
          "EXCLUDED.card_since, beat_at = EXCLUDED.beat_at",
          {pg::Param(reader.station), pg::Param(reader.reader), pg::Param(reader.batch_id),
           pg::Param(reader.card_number), pg::Param(reader.step), pg::Param(reader.waiting_for),
           pg::Param(reader.card_number.empty() ? int64_t{0} : UnixMicros(reader.card_since)),
           At(reader.beat_at)})
      .status();
}

}  // namespace tessera::personalization
