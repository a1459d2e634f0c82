#include <chrono>
#include <set>

#include "absl/strings/str_cat.h"
#include "ca/certificate_store.h"
#include "platform/clock.h"
#include "platform/status_macros.h"

std::vector<tessera::pg::Migration> CaMigrations();  // generated from ca/migrations/

namespace tessera::ca {
namespace {

using std::chrono::system_clock;

// Every query names its columns in this order; Read() maps them back.
constexpr char kColumns[] =
    "serial, request_id, request_sha256, issuer, profile, subject, subject_data::text, "
    "subject_public_key, subject_key_sha256, extract(epoch from not_before)::bigint, "
    "extract(epoch from not_after)::bigint, state, der, "
    "extract(epoch from revoked_at)::bigint, revocation_reason, requested_by_kind, requested_by, "
    "requested_by_serial, requested_call_id, revoked_by_kind, revoked_by, revoked_by_serial, "
    "revoked_call_id";

// An actor from four columns starting at `column` (NULL serial or call id: none).
Actor ReadActor(const pg::Result& r, int row, int column) {
  Actor a;
  a.kind = r.Text(row, column);
  a.name = r.Text(row, column + 1);
  if (!r.IsNull(row, column + 2)) a.serial = r.Text(row, column + 2);
  if (!r.IsNull(row, column + 3)) a.call_id = r.Text(row, column + 3);
  return a;
}

CertificateRecord Read(const pg::Result& r, int row) {
  CertificateRecord c;
  c.serial = r.Text(row, 0);
  c.request_id = r.Text(row, 1);
  c.request_sha256 = r.Bytes(row, 2);
  c.issuer = r.Text(row, 3);
  c.profile = r.Text(row, 4);
  c.subject = r.Text(row, 5);
  c.subject_data = r.Text(row, 6);
  c.subject_public_key = r.Bytes(row, 7);
  c.subject_key_sha256 = r.Bytes(row, 8);
  c.not_before = FromUnixSeconds(r.Int(row, 9));
  c.not_after = FromUnixSeconds(r.Int(row, 10));
  c.state = r.Text(row, 11) == "ISSUED" ? CertificateState::kIssued : CertificateState::kIntent;
  if (!r.IsNull(row, 12)) c.der = r.Bytes(row, 12);
  if (!r.IsNull(row, 13)) c.revoked_at = FromUnixSeconds(r.Int(row, 13));
  if (!r.IsNull(row, 14)) c.revocation_reason = static_cast<int>(r.Int(row, 14));
  c.requested_by = ReadActor(r, row, 15);
  if (!r.IsNull(row, 19)) c.revoked_by = ReadActor(r, row, 19);
  return c;
}

// A row of ca.certificates from a record: kInsert + "<state>, <der>, <issued_at>)" with
// RowParams' fifteen parameters ($1..$15).
constexpr char kInsert[] =
    "INSERT INTO ca.certificates (serial, request_id, request_sha256, issuer, profile, subject, "
    "subject_data, subject_public_key, subject_key_sha256, not_before, not_after, "
    "requested_by_kind, requested_by, requested_by_serial, requested_call_id, state, der, "
    "issued_at) VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb, $8, $9, to_timestamp($10), "
    "to_timestamp($11), $12, $13, NULLIF($14, ''), NULLIF($15, ''), ";

std::vector<pg::Param> RowParams(const CertificateRecord& c) {
  return {pg::Param(c.serial),
          pg::Param(c.request_id),
          pg::Param::Bytes(c.request_sha256),
          pg::Param(c.issuer),
          pg::Param(c.profile),
          pg::Param(c.subject),
          pg::Param(c.subject_data),
          pg::Param::Bytes(c.subject_public_key),
          pg::Param::Bytes(c.subject_key_sha256),
          pg::Param(UnixSeconds(c.not_before)),
          pg::Param(UnixSeconds(c.not_after)),
          pg::Param(c.requested_by.kind),
          pg::Param(c.requested_by.name),
          pg::Param(c.requested_by.serial),
          pg::Param(c.requested_by.call_id)};
}

std::string Select(const std::string& where) {
  return absl::StrCat("SELECT ", kColumns, " FROM ca.certificates ", where);
}

}  // namespace

std::vector<pg::Migration> PgCertificateStore::Migrations() { return CaMigrations(); }

PgCertificateStore::PgCertificateStore(pg::ConnectionPool& pool)
    : pool_(pool),
      intents_(
          [this](std::span<const CertificateRecord* const> records) {
            return WriteIntents(records);
          },
          kMaxGroupRows, kGroupWriters),
      completions_(
          [this](std::span<const SignedCertificate* const> certificates) {
            return WriteSigned(certificates);
          },
          kMaxGroupRows, kGroupWriters) {}

std::vector<absl::Status> PgCertificateStore::RecordIntents(
    std::span<const CertificateRecord> records) {
  return intents_.Run(records);
}

std::vector<absl::StatusOr<bool>> PgCertificateStore::StoreSigned(
    std::span<const SignedCertificate> certificates) {
  return completions_.Run(certificates);
}

namespace {

// Runs `rows` (one statement each) between BEGIN and COMMIT in one round trip; their results
// in order. On failure nothing is committed and the connection is left with no transaction.
absl::StatusOr<std::vector<pg::Result>> RunInOneTransaction(
    pg::Connection& conn, std::vector<pg::Connection::Statement> rows) {
  std::vector<pg::Connection::Statement> statements;
  statements.reserve(rows.size() + 2);
  statements.push_back({"BEGIN ISOLATION LEVEL READ COMMITTED", {}});
  for (auto& row : rows) statements.push_back(std::move(row));
  statements.push_back({"COMMIT", {}});
  absl::StatusOr<std::vector<pg::Result>> results = conn.ExecPipeline(statements);
  if (!results.ok()) {
    // A failed statement leaves the transaction open and aborted until ROLLBACK.
    if (PQtransactionStatus(conn.raw()) != PQTRANS_IDLE) (void)conn.Exec("ROLLBACK");
    return results.status();
  }
  results->erase(results->begin());  // BEGIN
  results->pop_back();               // COMMIT
  return results;
}

}  // namespace

std::vector<absl::Status> PgCertificateStore::WriteIntents(
    std::span<const CertificateRecord* const> records) {
  static const std::string kInsertIntent =
      absl::StrCat(kInsert, "'INTENT', NULL, NULL) ON CONFLICT DO NOTHING");
  std::vector<absl::Status> statuses(records.size());
  std::vector<size_t> written;  // indexes of the records sent to the database
  std::vector<pg::Connection::Statement> inserts;
  for (size_t i = 0; i < records.size(); ++i) {
    const CertificateRecord& c = *records[i];
    statuses[i] = CheckActor(c.requested_by);
    if (!statuses[i].ok()) continue;
    written.push_back(i);
    // No conflict target: a taken request_id, a key in a live certificate (the partial unique
    // index) or a serial drawn twice skip the row instead of failing the whole group.
    inserts.push_back({kInsertIntent, RowParams(c)});
  }
  if (written.empty()) return statuses;
  auto fail_all = [&](const absl::Status& error) {
    for (size_t i : written) statuses[i] = error;
    return statuses;
  };
  absl::StatusOr<pg::ConnectionPool::Lease> conn = pool_.Acquire();
  if (!conn.ok()) return fail_all(conn.status());
  absl::StatusOr<std::vector<pg::Result>> results = RunInOneTransaction(**conn, std::move(inserts));
  if (!results.ok()) return fail_all(results.status());

  // Rows that were skipped: a taken request_id is a retry to answer, anything else the key.
  std::vector<std::string> skipped;
  for (size_t k = 0; k < written.size(); ++k) {
    if ((*results)[k].AffectedRows() == 0) skipped.push_back(records[written[k]]->request_id);
  }
  if (skipped.empty()) return statuses;
  absl::StatusOr<pg::Result> taken =
      (*conn)->Exec("SELECT request_id FROM ca.certificates WHERE request_id = ANY($1::text[])",
                    {pg::Param::TextArray(skipped)});
  if (!taken.ok()) return fail_all(taken.status());
  std::set<std::string, std::less<>> taken_ids;
  for (int row = 0; row < taken->rows(); ++row) taken_ids.emplace(taken->Text(row, 0));
  for (size_t k = 0; k < written.size(); ++k) {
    if ((*results)[k].AffectedRows() != 0) continue;
    const CertificateRecord& c = *records[written[k]];
    statuses[written[k]] =
        taken_ids.contains(c.request_id)
            ? absl::AlreadyExistsError(absl::StrCat("request_id '", c.request_id, "' exists"))
            : absl::FailedPreconditionError(
                  "csr: this public key is already in a live certificate; revoke that one first");
  }
  return statuses;
}

std::vector<absl::StatusOr<bool>> PgCertificateStore::WriteSigned(
    std::span<const SignedCertificate* const> certificates) {
  std::vector<pg::Connection::Statement> updates;
  for (const SignedCertificate* c : certificates) {
    // Only an INTENT row takes a certificate: if another completion stored one first, that
    // one stands and this one is discarded unseen.
    updates.push_back(
        {"UPDATE ca.certificates SET state = 'ISSUED', der = $2, issued_at = now() "
         "WHERE serial = $1 AND state = 'INTENT'",
         {pg::Param(c->serial), pg::Param::Bytes(c->der)}});
  }
  std::vector<absl::StatusOr<bool>> stored(certificates.size());
  absl::StatusOr<pg::ConnectionPool::Lease> conn = pool_.Acquire();
  absl::StatusOr<std::vector<pg::Result>> results =
      conn.ok() ? RunInOneTransaction(**conn, std::move(updates))
                : absl::StatusOr<std::vector<pg::Result>>(conn.status());
  for (size_t i = 0; i < certificates.size(); ++i) {
    if (results.ok()) {
      stored[i] = (*results)[i].AffectedRows() == 1;
    } else {
      stored[i] = results.status();
    }
  }
  return stored;
}

absl::StatusOr<bool> PgCertificateStore::RecordIssued(const CertificateRecord& c) {
  TESSERA_RETURN_IF_ERROR(CheckActor(c.requested_by));
  TESSERA_ASSIGN_OR_RETURN(auto conn, pool_.Acquire());
  std::vector<pg::Param> params = RowParams(c);
  params.push_back(pg::Param::Bytes(c.der));
  TESSERA_ASSIGN_OR_RETURN(
      pg::Result inserted,
      conn->Exec(absl::StrCat(kInsert, "'ISSUED', $16, now()) ON CONFLICT (serial) DO NOTHING"),
                 params));
  return inserted.AffectedRows() == 1;
}

absl::StatusOr<std::optional<CertificateRecord>> PgCertificateStore::FindByRequestId(
    const std::string& request_id) {
  TESSERA_ASSIGN_OR_RETURN(auto conn, pool_.Acquire());
  TESSERA_ASSIGN_OR_RETURN(pg::Result r,
                           conn->Exec(Select("WHERE request_id = $1"), {pg::Param(request_id)}));
  if (r.rows() == 0) return std::optional<CertificateRecord>();
  return std::optional<CertificateRecord>(Read(r, 0));
}

absl::StatusOr<CertificateRecord> PgCertificateStore::Get(const std::string& serial) {
  TESSERA_ASSIGN_OR_RETURN(auto conn, pool_.Acquire());
  TESSERA_ASSIGN_OR_RETURN(pg::Result r,
                           conn->Exec(Select("WHERE serial = $1"), {pg::Param(serial)}));
  if (r.rows() == 0) {
    return absl::NotFoundError(absl::StrCat("certificate with serial ", serial, " not found"));
  }
  return Read(r, 0);
}

absl::StatusOr<std::vector<CertificateStatus>> CertificateStore::Statuses(
    const std::vector<std::string>& serials) {
  std::vector<CertificateStatus> out;
  for (const std::string& serial : serials) {
    absl::StatusOr<CertificateRecord> record = Get(serial);
    if (absl::IsNotFound(record.status())) continue;
    if (!record.ok()) return record.status();
    out.push_back({record->serial, record->issuer, record->state, record->revoked_at,
                   record->revocation_reason});
  }
  return out;
}

absl::StatusOr<std::vector<CertificateStatus>> PgCertificateStore::Statuses(
    const std::vector<std::string>& serials) {
  std::vector<CertificateStatus> out;
  if (serials.empty()) return out;
  TESSERA_ASSIGN_OR_RETURN(auto conn, pool_.Acquire());
  TESSERA_ASSIGN_OR_RETURN(
      pg::Result r,
      conn->Exec("SELECT serial, issuer, state, extract(epoch from revoked_at)::bigint, "
                 "revocation_reason FROM ca.certificates WHERE serial = ANY($1::text[])",
                 {pg::Param::TextArray(serials)}));
  out.reserve(r.rows());
  for (int row = 0; row < r.rows(); ++row) {
    CertificateStatus status{.serial = std::string(r.Text(row, 0)),
                             .issuer = std::string(r.Text(row, 1))};
    status.state =
        r.Text(row, 2) == "ISSUED" ? CertificateState::kIssued : CertificateState::kIntent;
    if (!r.IsNull(row, 3)) status.revoked_at = FromUnixSeconds(r.Int(row, 3));
    if (!r.IsNull(row, 4)) status.revocation_reason = static_cast<int>(r.Int(row, 4));
    out.push_back(std::move(status));
  }
  return out;
}

absl::StatusOr<CertificateRecord> PgCertificateStore::CompleteIssuance(const std::string& serial,
                                                                       const SignFunction& sign) {
  TESSERA_ASSIGN_OR_RETURN(auto conn, pool_.Acquire());
  // The row lock is held while the token signs, so two callers completing the same intent
  // cannot both sign. BEGIN travels with the SELECT and the UPDATE with COMMIT: two round
  // trips instead of four.
  const std::string lock = Select("WHERE serial = $1 FOR UPDATE");
  TESSERA_ASSIGN_OR_RETURN(auto begun,
                           pg::Transaction::BeginWith(*conn, {lock, {pg::Param(serial)}}));
  auto& [tx, r] = begun;
  if (r.rows() == 0) {
    return absl::NotFoundError(absl::StrCat("certificate with serial ", serial, " not found"));
  }
  CertificateRecord record = Read(r, 0);
  if (record.state == CertificateState::kIssued) return record;  // another caller finished it
  TESSERA_ASSIGN_OR_RETURN(record.der, sign(record));
  TESSERA_RETURN_IF_ERROR(
      tx.CommitWith({"UPDATE ca.certificates SET state = 'ISSUED', der = $2, "
                     "issued_at = now() WHERE serial = $1",
                     {pg::Param(serial), pg::Param::Bytes(record.der)}}));
  record.state = CertificateState::kIssued;
  return record;
}

absl::StatusOr<std::vector<CertificateRecord>> PgCertificateStore::List(
    const CertificateFilter& f) {
  // The reader's scope narrows the query itself: rows outside it are never read.
  std::string scope;
  switch (f.scope.kind) {
    case ReadScope::Kind::kEverything:
      scope = "all";
      break;
    case ReadScope::Kind::kComuneWorkstations:
      scope = "comune";
      break;
    case ReadScope::Kind::kOwnCertificate:
      scope = "own";
      break;
    case ReadScope::Kind::kNothing:
      return std::vector<CertificateRecord>();
  }
  TESSERA_ASSIGN_OR_RETURN(auto conn, pool_.Acquire());
  // Keyset paging on serial; every filter is a parameter, empty means "any".
  TESSERA_ASSIGN_OR_RETURN(
      pg::Result r,
      conn->Exec(Select("WHERE ($1 = '' OR issuer = $1) AND ($2 = '' OR profile = $2) "
                        "AND ($3 = '' OR strpos(subject, $3) > 0) "
                        "AND ($4::boolean IS NULL OR (revoked_at IS NOT NULL) = $4::boolean) "
                        "AND ($7 = 'all' "
                        "OR ($7 = 'comune' AND $8 <> '' AND profile IN ('workstation', "
                        "'comune_server') AND starts_with(subject, 'CN=' || $8)) "
                        "OR ($7 = 'own' AND $9 <> '' AND serial = $9)) "
                        "AND serial > $5 ORDER BY serial LIMIT $6"),
                 {pg::Param(f.issuer), pg::Param(f.profile), pg::Param(f.subject_contains),
                  f.revoked ? pg::Param(*f.revoked) : pg::Param(std::nullopt),
                  pg::Param(f.page_token), pg::Param(f.page_size), pg::Param(scope),
                  pg::Param(f.scope.istat), pg::Param(f.scope.serial)}));
  std::vector<CertificateRecord> out;
  for (int row = 0; row < r.rows(); ++row) out.push_back(Read(r, row));
  return out;
}

absl::StatusOr<CertificateRecord> PgCertificateStore::Revoke(const std::string& request_id,
                                                             const std::string& serial, int reason,
                                                             system_clock::time_point when,
                                                             const Actor& actor) {
  TESSERA_RETURN_IF_ERROR(CheckActor(actor));
  TESSERA_ASSIGN_OR_RETURN(auto conn, pool_.Acquire());
  TESSERA_ASSIGN_OR_RETURN(pg::Transaction tx, pg::Transaction::Begin(*conn));
  TESSERA_ASSIGN_OR_RETURN(
      pg::Result previous,
      conn->Exec("SELECT serial, reason FROM ca.revocation_requests WHERE request_id = $1",
                 {pg::Param(request_id)}));
  if (previous.rows() > 0 && (previous.Text(0, 0) != serial || previous.Int(0, 1) != reason)) {
    return absl::AlreadyExistsError(
        absl::StrCat("request_id: '", request_id, "' was already used for a different revocation"));
  }
  TESSERA_ASSIGN_OR_RETURN(pg::Result r,
                           conn->Exec(Select("WHERE serial = $1 FOR UPDATE"), {pg::Param(serial)}));
  if (r.rows() == 0) {
    return absl::NotFoundError(absl::StrCat("certificate with serial ", serial, " not found"));
  }
  CertificateRecord record = Read(r, 0);
  if (record.state != CertificateState::kIssued) {
    return absl::FailedPreconditionError(
        absl::StrCat("certificate ", serial, " was never signed; there is nothing to revoke"));
  }
  if (record.revoked_at.has_value()) {
    if (record.revocation_reason != reason) {
      return absl::FailedPreconditionError(absl::StrCat(
          "certificate ", serial, " is already revoked with reason ", *record.revocation_reason));
    }
  } else {
    TESSERA_RETURN_IF_ERROR(
        conn->Exec("UPDATE ca.certificates SET revoked_at = to_timestamp($2), "
                   "revocation_reason = $3, revoked_by_kind = $4, revoked_by = $5, "
                   "revoked_by_serial = NULLIF($6, ''), revoked_call_id = NULLIF($7, '') "
                   "WHERE serial = $1",
                   {pg::Param(serial), pg::Param(UnixSeconds(when)), pg::Param(reason),
                    pg::Param(actor.kind), pg::Param(actor.name), pg::Param(actor.serial),
                    pg::Param(actor.call_id)})
            .status());
    TESSERA_RETURN_IF_ERROR(conn->Exec("INSERT INTO ca.crl_state (issuer, revision) VALUES ($1, 1) "
                                       "ON CONFLICT (issuer) DO UPDATE SET revision = "
                                       "ca.crl_state.revision + 1",
                                       {pg::Param(record.issuer)})
                                .status());
    record.revoked_at = FromUnixSeconds(UnixSeconds(when));
    record.revocation_reason = reason;
    record.revoked_by = actor;
  }
  if (previous.rows() == 0) {
    TESSERA_RETURN_IF_ERROR(
        conn->Exec(
                "INSERT INTO ca.revocation_requests (request_id, serial, reason, "
                "requested_by_kind, requested_by, requested_by_serial, call_id) VALUES ($1, "
                "$2, $3, $4, $5, NULLIF($6, ''), NULLIF($7, ''))",
                {pg::Param(request_id), pg::Param(serial), pg::Param(reason), pg::Param(actor.kind),
                 pg::Param(actor.name), pg::Param(actor.serial), pg::Param(actor.call_id)})
            .status());
  }
  TESSERA_RETURN_IF_ERROR(tx.Commit());
  return record;
}

}  // namespace tessera::ca
