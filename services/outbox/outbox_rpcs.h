// ListOutbox and RetryOutbox (proto/outbox.proto) as tessera-registry and tessera-dispatch both
// serve them, each over its own outbox: the mails without their bodies, and mails given up made
// due again. Who may call them is each service's policy table (the Ministry).
#pragma once

#include <grpcpp/grpcpp.h>

#include "mail/outbox.h"
#include "proto/outbox.pb.h"

namespace tessera::outbox_service {

grpc::Status ListOutbox(mail::PgOutboxStore& outbox, const v1::ListOutboxRequest& request,
                        v1::ListOutboxResponse* response);
grpc::Status RetryOutbox(mail::PgOutboxStore& outbox, const v1::RetryOutboxRequest& request,
                         v1::RetryOutboxResponse* response);

}  // namespace tessera::outbox_service
