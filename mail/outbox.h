// The outbox: every mail tessera sends is a row, written in the same transaction as the change
// it tells of, and delivered from there by OutboxSender over SMTP — retried with backoff,
// never again once the relay accepted it and that is committed. A sender killed between the
// relay's answer and its commit sends that one mail again, with the same Message-ID: the only
// duplicate there can be, and recognisably one.
//
// A body with a secret in it (a daily password, the second halves of a card's PIN) is stored
// sealed with a key on the service's HSM, unsealed only to be sent, and sent only to a
// personal mailbox (never a PEC, never an office's).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "mail/smtp.h"
#include "platform/clock.h"
#include "platform/pg_pool.h"
#include "platform/secret.h"

namespace tessera::mail {

struct OutboxItem {
  int64_t id = 0;
  std::string kind;  // "daily_password", "second_halves", "cards_at_prefettura" …
  std::string to;
  std::string subject;
  std::optional<std::string> body;   // plain, when it holds no secret
  std::vector<uint8_t> sealed_body;  // else sealed
  std::string message_id;            // fixed when queued
  int attempts = 0;                  // before this one
  std::chrono::system_clock::time_point created_at;
};

class OutboxStore {
 public:
  using TimePoint = std::chrono::system_clock::time_point;
  virtual ~OutboxStore() = default;
  // Up to `limit` mails neither sent nor given up, due at `now`, and not held by another
  // sender: held by `worker` until now + lease (then another sender may take them).
  virtual absl::StatusOr<std::vector<OutboxItem>> Claim(const std::string& worker, int limit,
                                                        TimePoint now,
                                                        std::chrono::seconds lease) = 0;
  // The relay accepted it. False if `worker` no longer held it (its lease ran out).
  virtual absl::StatusOr<bool> MarkSent(int64_t id, const std::string& worker, TimePoint at) = 0;
  // An attempt failed: tried again from `retry_at`, or given up for good without one.
  virtual absl::Status MarkFailed(int64_t id, const std::string& worker, const std::string& error,
                                  std::optional<TimePoint> retry_at, TimePoint at) = 0;
};

// A mail as an operator follows it (never its body).
struct OutboxEntry {
  int64_t id = 0;
  std::string kind, to, subject, message_id;
  int attempts = 0;
  std::chrono::system_clock::time_point created_at;
  std::optional<std::chrono::system_clock::time_point> next_attempt_at, sent_at, failed_at;
  std::string last_error;
  // "sent", "failed" (given up), or "waiting" (to be tried)
  const char* state() const { return sent_at ? "sent" : failed_at ? "failed" : "waiting"; }
};

// The outbox table of a service's schema (`<schema>.outbox`).
class PgOutboxStore final : public OutboxStore {
 public:
  PgOutboxStore(pg::ConnectionPool& pool, std::string schema)
      : pool_(pool), schema_(std::move(schema)) {}
  absl::StatusOr<std::vector<OutboxItem>> Claim(const std::string& worker, int limit, TimePoint now,
                                                std::chrono::seconds lease) override;
  absl::StatusOr<bool> MarkSent(int64_t id, const std::string& worker, TimePoint at) override;
  absl::Status MarkFailed(int64_t id, const std::string& worker, const std::string& error,
                          std::optional<TimePoint> retry_at, TimePoint at) override;

  // Mails in id order after `after_id`, at most `limit`; `state` "" for all, else "waiting",
  // "sent" or "failed" (INVALID_ARGUMENT otherwise).
  absl::StatusOr<std::vector<OutboxEntry>> List(const std::string& state, int64_t after_id,
                                                int limit);
  // Mails given up made due again at `now` (their attempts start over): those of `ids`, or every
  // one given up if `ids` is empty. A mail sent is never sent again. How many.
  absl::StatusOr<int> Retry(const std::vector<int64_t>& ids, TimePoint now);

 private:
  pg::ConnectionPool& pool_;
  const std::string schema_;
};

struct SenderSettings {
  std::string from;       // the envelope and header sender
  std::string from_name;  // its display name
  std::string worker;     // this sender's name in claims (host and service)
  int batch = 20;         // mails claimed per round
  std::chrono::seconds lease{300};
  int max_attempts = 20;                 // then given up
  std::chrono::seconds first_retry{30};  // doubled at each failure…
  std::chrono::seconds max_retry{3600};  // …up to this
};

class OutboxSender {
 public:
  // Opens a sealed body; the Secret never leaves the sender but as the message sent.
  using Unseal = std::function<absl::StatusOr<Secret>(std::span<const uint8_t> sealed)>;
  // OK when `address` is a person's own mailbox (not a PEC, not an office's); else why not.
  using PersonalMailbox = std::function<absl::Status(const std::string& address)>;

  OutboxSender(OutboxStore& store, SmtpTransport& transport, Unseal unseal,
               PersonalMailbox personal_mailbox, const Clock& clock, SenderSettings settings);

  struct Round {
    int sent = 0;
    int retried = 0;   // failed, tried again later
    int given_up = 0;  // failed for good
  };
  // Claims the due mails and tries each once.
  absl::StatusOr<Round> RunOnce();

 private:
  // The composed message, or why it can never be sent (FAILED_PRECONDITION).
  absl::StatusOr<std::string> Prepare(const OutboxItem& item);

  OutboxStore& store_;
  SmtpTransport& transport_;
  Unseal unseal_;
  PersonalMailbox personal_mailbox_;
  const Clock& clock_;
  const SenderSettings settings_;
};

}  // namespace tessera::mail
