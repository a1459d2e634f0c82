#include "audit/pg_chain.h"

#include <botan/hex.h>

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "platform/status_macros.h"

namespace tessera::audit {
namespace {

using std::chrono::system_clock;

system_clock::time_point FromMicros(int64_t micros) {
  return system_clock::time_point(std::chrono::microseconds(micros));
}

int64_t Micros(system_clock::time_point at) {
  return std::chrono::duration_cast<std::chrono::microseconds>(at.time_since_epoch()).count();
}

// audit_records' columns as ReadRecord takes them (`r.` the table's alias).
constexpr char kRecordColumns[] =
    "r.sequence, r.actor, r.workstation, r.action, r.ids_before, r.ids_after, r.request_id, "
    "(extract(epoch FROM r.recorded_at) * 1000000)::bigint, r.previous_hash, r.hash";

AuditRecord ReadRecord(const pg::Result& rows, int i) {
  return {.sequence = rows.Int(i, 0),
          .actor = std::string(rows.Text(i, 1)),
          .workstation = std::string(rows.Text(i, 2)),
          .action = std::string(rows.Text(i, 3)),
          .before = std::string(rows.Text(i, 4)),
          .after = std::string(rows.Text(i, 5)),
          .request_id = std::string(rows.Text(i, 6)),
          .at = FromMicros(rows.Int(i, 7)),
          .previous_hash = std::string(rows.Text(i, 8)),
          .hash = std::string(rows.Text(i, 9))};
}

}  // namespace

absl::StatusOr<std::vector<AuditRecord>> ReadRecords(pg::Connection& conn,
                                                     const std::string& schema) {
  TESSERA_ASSIGN_OR_RETURN(std::string quoted, pg::QuoteIdentifier(schema));
  TESSERA_ASSIGN_OR_RETURN(pg::Result rows,
                           conn.Exec(absl::StrCat("SELECT ", kRecordColumns, " FROM ", quoted,
                                                  ".audit_records r ORDER BY r.sequence")));
  std::vector<AuditRecord> records;
  records.reserve(rows.rows());
  for (int i = 0; i < rows.rows(); ++i) records.push_back(ReadRecord(rows, i));
  return records;
}

absl::StatusOr<std::vector<Anchor>> ReadAnchors(pg::Connection& conn, const std::string& schema) {
  TESSERA_ASSIGN_OR_RETURN(std::string quoted, pg::QuoteIdentifier(schema));
  TESSERA_ASSIGN_OR_RETURN(
      pg::Result rows,
      conn.Exec(absl::StrCat("SELECT sequence, hash, (extract(epoch FROM signed_at) * 1000000)"
                             "::bigint, signature FROM ",
                             quoted, ".audit_anchors ORDER BY sequence")));
  std::vector<Anchor> anchors;
  for (int i = 0; i < rows.rows(); ++i) {
    anchors.push_back({.chain = schema,
                       .sequence = rows.Int(i, 0),
                       .hash = std::string(rows.Text(i, 1)),
                       .at = FromMicros(rows.Int(i, 2)),
                       .signature = rows.Bytes(i, 3)});
  }
  return anchors;
}

absl::StatusOr<int> ChainPending(pg::Connection& conn, const std::string& schema, int max_records) {
  TESSERA_ASSIGN_OR_RETURN(std::string quoted, pg::QuoteIdentifier(schema));
  const std::string sql = absl::StrCat("SELECT ", quoted, ".audit_chain_pending($1)");
  // In rounds of at most 1,000 (each its own transaction): the head's lock is never held long.
  int total = 0;
  while (total < max_records) {
    const int round = std::min(1000, max_records - total);
    TESSERA_ASSIGN_OR_RETURN(pg::Result chained, conn.Exec(sql, {round}));
    const int n = static_cast<int>(chained.Int(0, 0));
    total += n;
    if (n < round) break;
  }
  return total;
}

absl::StatusOr<StoredChainReport> VerifyStoredChain(pg::Connection& conn, const std::string& schema,
                                                    const Botan::Public_Key& anchor_key) {
  TESSERA_ASSIGN_OR_RETURN(std::string quoted, pg::QuoteIdentifier(schema));
  // One snapshot: records and anchors written meanwhile are not half seen.
  TESSERA_ASSIGN_OR_RETURN(pg::Transaction snapshot,
                           pg::Transaction::Begin(conn, pg::Isolation::kRepeatableRead));
  TESSERA_ASSIGN_OR_RETURN(std::vector<AuditRecord> records, ReadRecords(conn, schema));
  TESSERA_ASSIGN_OR_RETURN(std::vector<Anchor> anchors, ReadAnchors(conn, schema));
  TESSERA_ASSIGN_OR_RETURN(pg::Result pending, conn.Exec(absl::StrCat("SELECT count(*) FROM ",
                                                                      quoted, ".audit_pending")));
  return StoredChainReport{.chain = VerifyChain(schema, records, anchors, anchor_key),
                           .pending = pending.Int(0, 0)};
}

absl::StatusOr<int64_t> AnchorHead(pg::ConnectionPool& pool, const std::string& schema,
                                   const Botan::Private_Key& key, const Clock& clock) {
  TESSERA_ASSIGN_OR_RETURN(std::string quoted, pg::QuoteIdentifier(schema));
  TESSERA_ASSIGN_OR_RETURN(pg::ConnectionPool::Lease conn, pool.Acquire());
  TESSERA_RETURN_IF_ERROR(ChainPending(*conn, schema).status());
  TESSERA_ASSIGN_OR_RETURN(
      pg::Result head,
      conn->Exec(absl::StrCat("SELECT ", kRecordColumns, " FROM ", quoted,
                              ".audit_records r WHERE r.sequence = (SELECT max(sequence) FROM ",
                              quoted, ".audit_records) AND NOT EXISTS (SELECT 1 FROM ", quoted,
                              ".audit_anchors a WHERE a.sequence >= r.sequence)")));
  if (head.rows() == 0) return 0;
  const AuditRecord record = ReadRecord(head, 0);
  // The head is signed as it hashes: a record whose hash does not match its content is not
  // vouched for (the anchor would seal a tampered record).
  if (RecordHash(record) != record.hash) {
    return absl::DataLossError(absl::StrCat("audit chain ", schema, ": record ", record.sequence,
                                            " does not match its hash; not anchored"));
  }
  // Whole microseconds, as the database keeps them.
  const auto at = FromMicros(Micros(clock.Now()));
  TESSERA_ASSIGN_OR_RETURN(Anchor anchor, SignAnchor(schema, record, at, key));
  TESSERA_RETURN_IF_ERROR(
      conn->Exec(
              absl::StrCat("INSERT INTO ", quoted,
                           ".audit_anchors (sequence, hash, signed_at, signature) VALUES ($1, "
                           "$2, timestamptz 'epoch' + $3::bigint * interval '1 microsecond', "
                           "$4) ON CONFLICT (sequence) DO NOTHING"),
              {anchor.sequence, anchor.hash, Micros(anchor.at), pg::Param::Bytes(anchor.signature)})
          .status());
  return anchor.sequence;
}

ChainAnchoring::ChainAnchoring(pg::ConnectionPool& pool, std::string schema,
                               const Botan::Private_Key& key, const Clock& clock,
                               std::chrono::milliseconds anchor_period,
                               std::chrono::milliseconds chain_period)
    : pool_(pool),
      schema_(std::move(schema)),
      key_(key),
      clock_(clock),
      chain_task_("audit_chain", chain_period,
                  [this]() -> absl::Status {
                    TESSERA_ASSIGN_OR_RETURN(pg::ConnectionPool::Lease conn, pool_.Acquire());
                    return ChainPending(*conn, schema_).status();
                  }),
      anchor_task_("audit_anchor", anchor_period, [this]() -> absl::Status {
        return AnchorHead(pool_, schema_, key_, clock_).status();
      }) {}

}  // namespace tessera::audit
