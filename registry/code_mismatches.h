// Codici fiscali whose mismatch with their holder's data the Ministry has accepted
// (registry.accepted_code_mismatches): the Agenzia delle Entrate issued them so (an old error,
// a name changed since), and a census naming the person must not be refused for it forever.
// One part of one code at a time, with a reason, recorded with who accepted it.
#pragma once

#include <chrono>
#include <string>

#include "absl/status/statusor.h"
#include "platform/actor.h"
#include "registry/census_rules.h"
#include "registry/change_request.h"

namespace tessera::registry {

class CodeMismatchStore {
 public:
  virtual ~CodeMismatchStore() = default;

  // Records the acceptance (INVALID_ARGUMENT for a malformed code, an unknown part, a reason
  // outside 1..500 characters or a request_id outside 1..100). Accepting what is accepted
  // already changes nothing; so does a retry with the same request_id (returns true); a
  // request_id used for another acceptance is ALREADY_EXISTS.
  virtual absl::StatusOr<bool> Accept(const std::string& codice_fiscale, const std::string& part,
                                      const ChangeRequest& change,
                                      std::chrono::system_clock::time_point now,
                                      const Actor& actor) = 0;
  // Every acceptance (a few, nationally): read whole for each validation.
  virtual absl::StatusOr<AcceptedMismatches> All() = 0;
};

}  // namespace tessera::registry
