#include "mail/outbox.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "mail/message.h"
#include "platform/log.h"
#include "platform/pg.h"
#include "platform/status_macros.h"

namespace tessera::mail {
namespace {

using std::chrono::system_clock;

// The domain of an address, for logs (a person's mailbox is personal data).
std::string_view DomainOf(const std::string& address) {
  const size_t at = address.rfind('@');
  return at == std::string::npos ? std::string_view("-") : std::string_view(address).substr(at + 1);
}

}  // namespace

absl::StatusOr<std::vector<OutboxItem>> PgOutboxStore::Claim(const std::string& worker, int limit,
                                                             TimePoint now,
                                                             std::chrono::seconds lease) {
  TESSERA_ASSIGN_OR_RETURN(std::string outbox, pg::QuoteIdentifier(schema_));
  absl::StrAppend(&outbox, ".outbox");
  TESSERA_ASSIGN_OR_RETURN(pg::ConnectionPool::Lease conn, pool_.Acquire());
  TESSERA_ASSIGN_OR_RETURN(
      pg::Result rows,
      conn->Exec(absl::StrCat(
                     "UPDATE ", outbox,
                     " o SET claimed_by = $1, claimed_until = to_timestamp($2) WHERE o.id IN "
                     "(SELECT id FROM ",
                     outbox,
                     " WHERE sent_at IS NULL AND failed_at IS NULL AND coalesce(next_attempt_at, "
                     "created_at) <= to_timestamp($3) AND (claimed_until IS NULL OR claimed_until "
                     "<= to_timestamp($3)) ORDER BY id LIMIT $4 FOR UPDATE SKIP LOCKED) "
                     "RETURNING o.id, o.kind, o.to_address, o.subject, o.body, o.sealed_body, "
                     "o.message_id, o.attempts, extract(epoch FROM o.created_at)::bigint"),
                 {pg::Param(worker), pg::Param(UnixSeconds(now + lease)),
                  pg::Param(UnixSeconds(now)), pg::Param(limit)}));
  std::vector<OutboxItem> items;
  for (int i = 0; i < rows.rows(); ++i) {
    OutboxItem item{.id = rows.Int(i, 0),
                    .kind = std::string(rows.Text(i, 1)),
                    .to = std::string(rows.Text(i, 2)),
                    .subject = std::string(rows.Text(i, 3)),
                    .message_id = std::string(rows.Text(i, 6)),
                    .attempts = static_cast<int>(rows.Int(i, 7)),
                    .created_at = FromUnixSeconds(rows.Int(i, 8))};
    if (!rows.IsNull(i, 4)) item.body = std::string(rows.Text(i, 4));
    if (!rows.IsNull(i, 5)) item.sealed_body = rows.Bytes(i, 5);
    items.push_back(std::move(item));
  }
  std::sort(items.begin(), items.end(),
            [](const OutboxItem& a, const OutboxItem& b) { return a.id < b.id; });
  return items;
}

absl::StatusOr<bool> PgOutboxStore::MarkSent(int64_t id, const std::string& worker, TimePoint at) {
  TESSERA_ASSIGN_OR_RETURN(std::string schema, pg::QuoteIdentifier(schema_));
  TESSERA_ASSIGN_OR_RETURN(pg::ConnectionPool::Lease conn, pool_.Acquire());
  TESSERA_ASSIGN_OR_RETURN(
      pg::Result updated,
      conn->Exec(absl::StrCat("UPDATE ", schema,
                              ".outbox SET sent_at = to_timestamp($3), attempts = attempts + 1, "
                              "last_error = NULL, claimed_by = NULL, claimed_until = NULL WHERE "
                              "id = $1 AND claimed_by = $2 AND sent_at IS NULL"),
                 {pg::Param(id), pg::Param(worker), pg::Param(UnixSeconds(at))}));
  return updated.AffectedRows() == 1;
}

absl::Status PgOutboxStore::MarkFailed(int64_t id, const std::string& worker,
                                       const std::string& error, std::optional<TimePoint> retry_at,
                                       TimePoint at) {
  TESSERA_ASSIGN_OR_RETURN(std::string schema, pg::QuoteIdentifier(schema_));
  TESSERA_ASSIGN_OR_RETURN(pg::ConnectionPool::Lease conn, pool_.Acquire());
  return conn
      ->Exec(absl::StrCat("UPDATE ", schema,
                          ".outbox SET attempts = attempts + 1, last_error = $3, next_attempt_at "
                          "= to_timestamp($4), failed_at = CASE WHEN $4::bigint IS NULL THEN "
                          "to_timestamp($5) END, claimed_by = NULL, claimed_until = NULL WHERE "
                          "id = $1 AND claimed_by = $2 AND sent_at IS NULL"),
             {pg::Param(id), pg::Param(worker), pg::Param(error.substr(0, 500)),
              retry_at.has_value() ? pg::Param(UnixSeconds(*retry_at)) : pg::Param(std::nullopt),
              pg::Param(UnixSeconds(at))})
      .status();
}

absl::StatusOr<std::vector<OutboxEntry>> PgOutboxStore::List(const std::string& state,
                                                             int64_t after_id, int limit) {
  if (!state.empty() && state != "waiting" && state != "sent" && state != "failed") {
    return absl::InvalidArgumentError("state: waiting, sent or failed (or none: every mail)");
  }
  TESSERA_ASSIGN_OR_RETURN(std::string schema, pg::QuoteIdentifier(schema_));
  TESSERA_ASSIGN_OR_RETURN(pg::ConnectionPool::Lease conn, pool_.Acquire());
  TESSERA_ASSIGN_OR_RETURN(
      pg::Result r,
      conn->Exec(
          absl::StrCat(
              "SELECT id, kind, to_address, subject, message_id, attempts, extract(epoch FROM "
              "created_at)::bigint, extract(epoch FROM next_attempt_at)::bigint, extract(epoch "
              "FROM sent_at)::bigint, extract(epoch FROM failed_at)::bigint, coalesce(last_error, "
              "'') FROM ",
              schema,
              ".outbox WHERE id > $1 AND CASE $2 WHEN 'sent' THEN sent_at IS NOT NULL WHEN "
              "'failed' THEN failed_at IS NOT NULL WHEN 'waiting' THEN sent_at IS NULL AND "
              "failed_at IS NULL ELSE true END ORDER BY id LIMIT $3"),
          {pg::Param(after_id), pg::Param(state), pg::Param(std::clamp(limit, 1, 1000))}));
  const auto when = [&r](int row, int column) -> std::optional<TimePoint> {
    if (r.IsNull(row, column)) return std::nullopt;
    return FromUnixSeconds(r.Int(row, column));
  };
  std::vector<OutboxEntry> entries;
  for (int i = 0; i < r.rows(); ++i) {
    entries.push_back({.id = r.Int(i, 0),
                       .kind = std::string(r.Text(i, 1)),
                       .to = std::string(r.Text(i, 2)),
                       .subject = std::string(r.Text(i, 3)),
                       .message_id = std::string(r.Text(i, 4)),
                       .attempts = static_cast<int>(r.Int(i, 5)),
                       .created_at = FromUnixSeconds(r.Int(i, 6)),
                       .next_attempt_at = when(i, 7),
                       .sent_at = when(i, 8),
                       .failed_at = when(i, 9),
                       .last_error = std::string(r.Text(i, 10))});
  }
  return entries;
}

absl::StatusOr<int> PgOutboxStore::Retry(const std::vector<int64_t>& ids, TimePoint now) {
  TESSERA_ASSIGN_OR_RETURN(std::string schema, pg::QuoteIdentifier(schema_));
  std::vector<std::string> texts;
  for (int64_t id : ids) texts.push_back(std::to_string(id));
  TESSERA_ASSIGN_OR_RETURN(pg::ConnectionPool::Lease conn, pool_.Acquire());
  TESSERA_ASSIGN_OR_RETURN(
      pg::Result r,
      conn->Exec(absl::StrCat("UPDATE ", schema,
                              ".outbox SET failed_at = NULL, attempts = 0, next_attempt_at = "
                              "to_timestamp($2) WHERE failed_at IS NOT NULL AND sent_at IS NULL "
                              "AND (cardinality($1::bigint[]) = 0 OR id = ANY($1::bigint[]))"),
                 {pg::Param::TextArray(texts), pg::Param(UnixSeconds(now))}));
  return static_cast<int>(r.AffectedRows());
}

OutboxSender::OutboxSender(OutboxStore& store, SmtpTransport& transport, Unseal unseal,
                           PersonalMailbox personal_mailbox, const Clock& clock,
                           SenderSettings settings)
    : store_(store),
      transport_(transport),
      unseal_(std::move(unseal)),
      personal_mailbox_(std::move(personal_mailbox)),
      clock_(clock),
      settings_(std::move(settings)) {}

absl::StatusOr<std::string> OutboxSender::Prepare(const OutboxItem& item) {
  if (!IsSingleMailbox(item.to)) {
    return absl::FailedPreconditionError("to_address: not a single mailbox");
  }
  Message message{.from = settings_.from,
                  .from_name = settings_.from_name,
                  .to = item.to,
                  .subject = item.subject,
                  .message_id = item.message_id,
                  .date = item.created_at};
  if (item.body.has_value()) {
    message.body = *item.body;
    return Compose(message);
  }
  // A secret goes to a person's own mailbox only: a PEC or an office's is refused here too,
  // whatever wrote the row.
  if (absl::Status personal = personal_mailbox_(item.to); !personal.ok()) {
    return absl::FailedPreconditionError(
        absl::StrCat("a sealed mail goes to a personal mailbox only: ", personal.message()));
  }
  absl::StatusOr<Secret> body = unseal_(item.sealed_body);
  if (!body.ok()) {
    // The key is on the HSM: a token that does not answer now may later.
    return absl::UnavailableError(
        absl::StrCat("the body could not be unsealed: ", body.status().message()));
  }
  message.body = std::string(body->view());
  std::string composed = Compose(message);
  std::fill(message.body.begin(), message.body.end(), '\0');
  return composed;
}

absl::StatusOr<OutboxSender::Round> OutboxSender::RunOnce() {
  TESSERA_ASSIGN_OR_RETURN(
      std::vector<OutboxItem> items,
      store_.Claim(settings_.worker, settings_.batch, clock_.Now(), settings_.lease));
  Round round;
  for (const OutboxItem& item : items) {
    absl::StatusOr<std::string> composed = Prepare(item);
    absl::Status sent = composed.status();
    if (composed.ok()) {
      sent = transport_.Send(settings_.from, item.to, *composed);
      std::fill(composed->begin(), composed->end(), '\0');
    }
    const auto now = clock_.Now();
    // The log's fields point into these.
    const std::string id = std::to_string(item.id);
    const std::string attempt = std::to_string(item.attempts + 1);
    std::vector<LogField> line = {{"outbox_id", id},
                                  {"kind", item.kind},
                                  {"message_id", item.message_id},
                                  {"to_domain", DomainOf(item.to)},
                                  {"attempt", attempt}};
    if (sent.ok()) {
      TESSERA_ASSIGN_OR_RETURN(bool marked, store_.MarkSent(item.id, settings_.worker, now));
      if (!marked) line.push_back({"note", "lease lost: another sender may send it again"});
      spdlog::info("{}", FormatEvent("mail_sent", line));
      ++round.sent;
      continue;
    }
    const bool final_failure = sent.code() != absl::StatusCode::kUnavailable ||
                               item.attempts + 1 >= settings_.max_attempts;
    std::optional<system_clock::time_point> retry_at;
    if (!final_failure) {
      const auto wait = settings_.first_retry * (int64_t{1} << std::min(item.attempts, 16));
      retry_at = now + std::min<std::chrono::seconds>(wait, settings_.max_retry);
    }
    const std::string error(sent.message());
    TESSERA_RETURN_IF_ERROR(store_.MarkFailed(item.id, settings_.worker, error, retry_at, now));
    line.push_back({"error", error});
    const std::string retry_text = retry_at.has_value() ? UtcText(*retry_at) : "";
    if (retry_at.has_value()) {
      line.push_back({"retry_at", retry_text});
      spdlog::warn("{}", FormatEvent("mail_retry", line));
      ++round.retried;
    } else {
      spdlog::error("{}", FormatEvent("mail_given_up", line));
      ++round.given_up;
    }
  }
  return round;
}

}  // namespace tessera::mail
