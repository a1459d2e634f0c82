// Who did an act, as the audit records in the database and the act's JSON log line name it:
// the caller of an RPC (read from its verified certificate or its access code, principal.h)
// with the id of the call it acted through, or tessera itself doing background work (kind
// "system"). The domain libraries take it as a plain struct, so they need neither gRPC nor
// the server to say who asked.
#pragma once

#include <array>
#include <string>

#include "absl/status/status.h"
#include "platform/log.h"
#include "platform/principal.h"

namespace tessera {

// The kind of an act tessera does on its own (OCSP responder renewal, the ceremony's import).
inline constexpr char kSystemActorKind[] = "system";

struct Actor {
  std::string kind;    // service, workstation, operator, access_code (as PrincipalKindName), system
  std::string name;    // service name, workstation id, codice fiscale, ISTAT code, "tessera-ca"
  std::string serial;  // the caller's certificate serial, lower-case hex; empty without one
  std::string call_id;  // the call's id in the access log (event "rpc"); empty for background acts
};

Actor ActorOf(const Principal& caller, std::string call_id);
Actor SystemActor(std::string name);

// INVALID_ARGUMENT unless kind and name are set: no act is recorded as nobody's.
absl::Status CheckActor(const Actor& actor);

// The actor as a log line names a caller (the access log's names: caller_kind, caller,
// caller_serial, call_id; "-" where empty). The views point into `actor`.
std::array<LogField, 4> ActorLogFields(const Actor& actor);

}  // namespace tessera
