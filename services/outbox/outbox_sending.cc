#include "services/outbox/outbox_sending.h"

#include <unistd.h>

#include "absl/strings/str_cat.h"
#include "mail/message.h"
#include "platform/log.h"
#include "platform/process.h"
#include "platform/status_macros.h"

namespace tessera::outbox_service {

absl::StatusOr<std::optional<Secret>> TakeSmtpPassword() {
  absl::StatusOr<Secret> password = TakeSecretFromEnv("TESSERA_SMTP_PASSWORD");
  if (password.status().code() == absl::StatusCode::kNotFound) return std::nullopt;
  if (!password.ok()) return password.status();
  return *std::move(password);
}

absl::StatusOr<std::unique_ptr<OutboxSending>> OutboxSending::Start(
    const Config& config, const std::string& service, pg::ConnectionPool& pool,
    const std::string& schema, mail::OutboxSender::Unseal unseal,
    mail::OutboxSender::PersonalMailbox personal_mailbox, const Clock& clock,
    std::optional<Secret> password) {
  TESSERA_ASSIGN_OR_RETURN(std::string relay, config.StringOr("mail.relay", ""));
  if (relay.empty()) {
    LogEvent(spdlog::level::warn, "outbox_not_sending",
             {{"reason", "no mail.relay configured: mail stays in the outbox"}});
    return nullptr;
  }
  if (!relay.starts_with("smtp://") && !relay.starts_with("smtps://")) {
    return absl::InvalidArgumentError("mail.relay: smtp://host:port or smtps://host:port");
  }
  mail::SmtpSettings smtp{.relay = relay};
  TESSERA_ASSIGN_OR_RETURN(std::string tls, config.StringOr("mail.tls", "when-offered"));
  if (tls == "when-offered") {
    smtp.tls = mail::SmtpSettings::Tls::kWhenOffered;
  } else if (tls == "required") {
    smtp.tls = mail::SmtpSettings::Tls::kRequired;
  } else if (tls == "off") {
    smtp.tls = mail::SmtpSettings::Tls::kOff;
  } else {
    return absl::InvalidArgumentError("mail.tls: when-offered, required or off");
  }
  TESSERA_ASSIGN_OR_RETURN(smtp.ca_file, config.StringOr("mail.ca_file", ""));
  TESSERA_ASSIGN_OR_RETURN(smtp.username, config.StringOr("mail.username", ""));
  if (!smtp.username.empty()) {
    if (!password.has_value()) {
      return absl::InvalidArgumentError(
          "mail.username: its password comes from TESSERA_SMTP_PASSWORD or "
          "TESSERA_SMTP_PASSWORD_FILE, and neither is set");
    }
    smtp.password = *std::move(password);
  }
  mail::SenderSettings settings;
  TESSERA_ASSIGN_OR_RETURN(settings.from, config.String("mail.from"));
  if (!mail::IsSingleMailbox(settings.from)) {
    return absl::InvalidArgumentError("mail.from: one mailbox, local@domain");
  }
  TESSERA_ASSIGN_OR_RETURN(settings.from_name,
                           config.StringOr("mail.from_name", "ANPR - Ministero dell'Interno"));
  TESSERA_ASSIGN_OR_RETURN(int64_t poll, config.IntOr("mail.poll_seconds", 5));
  if (poll < 1 || poll > 300) return absl::InvalidArgumentError("mail.poll_seconds: 1 to 300");
  settings.worker = absl::StrCat(service, "@", HostName("-"), "/", getpid());

  std::unique_ptr<OutboxSending> sending(new OutboxSending());
  sending->store_ = std::make_unique<mail::PgOutboxStore>(pool, schema);
  sending->transport_ = std::make_unique<mail::SmtpTransport>(std::move(smtp));
  sending->sender_ = std::make_unique<mail::OutboxSender>(
      *sending->store_, *sending->transport_, std::move(unseal), std::move(personal_mailbox), clock,
      settings);
  mail::OutboxSender* sender = sending->sender_.get();
  sending->task_ = std::make_unique<PeriodicTask>(
      "outbox", std::chrono::seconds(poll), [sender]() { return sender->RunOnce().status(); });
  sending->task_->Start();
  LogEvent(spdlog::level::info, "outbox_sending",
           {{"relay", relay}, {"from", settings.from}, {"tls", tls}});
  return sending;
}

}  // namespace tessera::outbox_service
