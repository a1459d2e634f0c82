// registry.requests (V008): the census calls' idempotency keys, written inside the caller's
// transaction so that a key is on record exactly when its change is.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "platform/pg.h"
#include "registry/change_request.h"

namespace tessera::registry::internal {

// Records `request` for `call`. nullopt: a first call, which goes on and ends with
// FinishRequest. A retry of a finished call: the outcome it recorded. ALREADY_EXISTS naming
// the call it was used for if the caller used the key for another request. A concurrent call
// with the same key waits here until the first one's transaction ends.
absl::StatusOr<std::optional<std::string>> BeginRequest(pg::Connection& conn,
                                                        const Request& request,
                                                        std::string_view call,
                                                        const pg::Param& when);
// What the call answered, as its store needs it to answer a retry (JSON).
absl::Status FinishRequest(pg::Connection& conn, const Request& request,
                           const std::string& outcome_json);

}  // namespace tessera::registry::internal
