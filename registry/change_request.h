// What every recorded change the Ministry makes carries besides its content (a Ministry
// operator added or removed, a codice fiscale mismatch accepted): why, and the caller's
// idempotency key, so a retry with the same request_id answers as the first call did.
#pragma once

#include <string>

#include "absl/status/status.h"

namespace tessera::registry {

struct ChangeRequest {
  std::string reason;      // 1..500 characters, recorded with the change
  std::string request_id;  // 1..100 characters
};

// INVALID_ARGUMENT naming the field whose length is out of range.
absl::Status CheckChangeRequest(const ChangeRequest& change);

}  // namespace tessera::registry
