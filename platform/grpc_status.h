// The one mapping between absl::Status (what every library returns) and grpc::Status (what
// handlers return and stubs receive). The codes share their numbering; the message passes
// through unchanged.
#pragma once

#include <grpcpp/support/status.h>

#include <string>

#include "absl/status/status.h"

namespace tessera {

grpc::Status ToGrpcStatus(const absl::Status& status);
// With a serialized detail message (a BadRequest listing every violation).
grpc::Status ToGrpcStatus(const absl::Status& status, const std::string& details);
absl::Status FromGrpcStatus(const grpc::Status& status);
// The same, its message naming the service that answered ("tessera-ca: …"), so that a status
// passed on (a reader's waiting_for, a card's failure) says who refused or could not be reached.
absl::Status FromGrpcStatus(const grpc::Status& status, const std::string& service);
// The code's name, as the access log writes it ("PERMISSION_DENIED").
std::string StatusCodeName(grpc::StatusCode code);

}  // namespace tessera
