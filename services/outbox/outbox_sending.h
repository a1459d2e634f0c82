// A service's outbox sent from the service itself, every few seconds, as its [mail] table
// says. Config keys:
//   mail.relay          the SMTP relay, "smtp://host:port" ("smtps://" for TLS from the start);
//                       without it the outbox keeps its mail, and start-up says so in the log
//   mail.from           the sender's address (required with a relay)
//   mail.from_name      its display name (default "ANPR - Ministero dell'Interno")
//   mail.tls            "when-offered" (default: STARTTLS if the relay offers it), "required",
//                       "off"
//   mail.ca_file        the CA bundle the relay's certificate is checked with (default: the
//                       system's)
//   mail.username       for relays that want credentials; the password comes from
//                       TESSERA_SMTP_PASSWORD (or a 0600 file named by TESSERA_SMTP_PASSWORD_FILE),
//                       which the service takes with its other secrets before any thread starts
//                       (TakeSmtpPassword)
//   mail.poll_seconds   how often the outbox is looked at, 1 to 300 (default 5)
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "mail/outbox.h"
#include "platform/clock.h"
#include "platform/config.h"
#include "platform/periodic.h"
#include "platform/pg_pool.h"

namespace tessera::outbox_service {

// The relay's password out of the environment, if any: call it first thing in Serve, beside the
// service's other secrets (unsetenv is not safe once threads run).
absl::StatusOr<std::optional<Secret>> TakeSmtpPassword();

class OutboxSending {
 public:
  // nullptr (and a log line) when the config names no relay.
  static absl::StatusOr<std::unique_ptr<OutboxSending>> Start(
      const Config& config, const std::string& service, pg::ConnectionPool& pool,
      const std::string& schema, mail::OutboxSender::Unseal unseal,
      mail::OutboxSender::PersonalMailbox personal_mailbox, const Clock& clock,
      std::optional<Secret> password);
  void Stop() { task_->Stop(); }

 private:
  OutboxSending() = default;
  std::unique_ptr<mail::PgOutboxStore> store_;
  std::unique_ptr<mail::SmtpTransport> transport_;
  std::unique_ptr<mail::OutboxSender> sender_;
  std::unique_ptr<PeriodicTask> task_;  // last: it uses the members above
};

}  // namespace tessera::outbox_service
