// Sessions checked at a service's own door from what tessera-registry publishes: its session
// keys and the sessions ended early, pulled with GetSessionState every 2 s over mTLS as the
// service itself. For every service but the registry (which feeds its gate from its records).
#pragma once

#include <grpcpp/grpcpp.h>

#include <functional>
#include <memory>
#include <vector>

#include "absl/status/statusor.h"
#include "access/session_gate.h"
#include "platform/periodic.h"
#include "platform/rpc_policy.h"
#include "platform/rpc_server.h"

namespace tessera::sessions {

// The gate, kept current from `registry` (a channel as this service), and the upkeep doing it;
// `options.session_check` is set to check tokens against it. Keep both for the server's life.
struct RegistrySessions {
  std::shared_ptr<access::SessionGate> gate;
  std::unique_ptr<PeriodicTask> upkeep;
};
RegistrySessions UseRegistrySessions(std::shared_ptr<grpc::Channel> registry,
                                     RpcServerOptions& options);

// Who acts for the Ministry at a service's door: a Ministry operator's session (profile
// operatore_ministero, logged in at the Ministry's machine); and the Ministry machine's
// certificate (tessera-cli) by itself only while `gate` says the bootstrap lasts, that is until
// the first Ministry operator logs in. Without a gate (a service configured without sessions)
// the certificate keeps acting alone.
struct MinistryRight {
  std::vector<PersonGrant> persons;  // RpcRule::persons
  // RpcRule::also: UNAVAILABLE for the certificate alone while the gate has no current word
  // from the registry (a service just started, the registry unreachable): try again.
  std::function<absl::StatusOr<bool>(const Principal&)> certificate;
};
MinistryRight MinistryRightAt(std::shared_ptr<const access::SessionGate> gate);
// The same for a handler's own check: true for a Ministry operator's session, or the Ministry
// machine's certificate while it acts alone.
bool ActsForMinistry(const Principal& caller, const access::SessionGate* gate);

// GetSessionState(cursor) over `registry`, as the gate takes it.
absl::StatusOr<access::SessionState> FetchSessionState(std::shared_ptr<grpc::Channel> registry,
                                                       int64_t cursor);

}  // namespace tessera::sessions
