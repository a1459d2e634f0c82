#include "services/outbox/outbox_rpcs.h"

#include "platform/clock.h"
#include "platform/grpc_status.h"

namespace tessera::outbox_service {

grpc::Status ListOutbox(mail::PgOutboxStore& outbox, const v1::ListOutboxRequest& request,
                        v1::ListOutboxResponse* response) {
  absl::StatusOr<std::vector<mail::OutboxEntry>> mails =
      outbox.List(request.state(), request.after_id(),
                  request.page_size() == 0 ? 100 : static_cast<int>(request.page_size()));
  if (!mails.ok()) return ToGrpcStatus(mails.status());
  for (const mail::OutboxEntry& m : *mails) {
    v1::OutboxMail* out = response->add_mails();
    out->set_id(m.id);
    out->set_kind(m.kind);
    out->set_to(m.to);
    out->set_subject(m.subject);
    out->set_message_id(m.message_id);
    out->set_state(m.state());
    out->set_attempts(static_cast<uint32_t>(m.attempts));
    out->set_created_at(UtcText(m.created_at));
    if (m.sent_at) out->set_sent_at(UtcText(*m.sent_at));
    out->set_last_error(m.last_error);
  }
  return grpc::Status::OK;
}

grpc::Status RetryOutbox(mail::PgOutboxStore& outbox, const v1::RetryOutboxRequest& request,
                         v1::RetryOutboxResponse* response) {
  absl::StatusOr<int> retried =
      outbox.Retry({request.ids().begin(), request.ids().end()}, SystemClock().Now());
  if (!retried.ok()) return ToGrpcStatus(retried.status());
  response->set_retried(static_cast<uint32_t>(*retried));
  return grpc::Status::OK;
}

}  // namespace tessera::outbox_service
