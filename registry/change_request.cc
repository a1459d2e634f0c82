#include "registry/change_request.h"

namespace tessera::registry {

absl::Status CheckChangeRequest(const ChangeRequest& change) {
  if (change.reason.empty() || change.reason.size() > 500) {
    return absl::InvalidArgumentError("reason: 1 to 500 characters, recorded with the change");
  }
  if (change.request_id.empty() || change.request_id.size() > 100) {
    return absl::InvalidArgumentError("request_id: 1 to 100 characters");
  }
  return absl::OkStatus();
}

}  // namespace tessera::registry
