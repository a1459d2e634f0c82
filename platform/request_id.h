// Idempotency keys: every call that changes something carries a request_id chosen by the
// caller, so a retry after a lost answer does the work once. One form for every service.
#pragma once

#include <string>

#include "absl/status/status.h"

namespace tessera {

// INVALID_ARGUMENT "request_id: ..." unless 1..128 of [A-Za-z0-9._:-].
absl::Status CheckRequestId(const std::string& id);

}  // namespace tessera
