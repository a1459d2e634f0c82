// The one mapping from absl::Status (what every library returns) to grpc::Status (what
// handlers return). The codes share their numbering; the message passes through unchanged.
#pragma once

#include <grpcpp/support/status.h>

#include "absl/status/status.h"

namespace tessera {

grpc::Status ToGrpcStatus(const absl::Status& status);

}  // namespace tessera
