#include "services/sessions/registry_sessions.h"

#include <algorithm>

#include "access/office.h"
#include "platform/clock.h"
#include "platform/grpc_status.h"
#include "proto/registry.grpc.pb.h"

namespace tessera::sessions {

absl::StatusOr<access::SessionState> FetchSessionState(std::shared_ptr<grpc::Channel> registry,
                                                       int64_t cursor) {
  auto stub = v1::Registry::NewStub(std::move(registry));
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
  v1::GetSessionStateRequest request;
  request.set_cursor(cursor);
  v1::GetSessionStateResponse response;
  if (grpc::Status status = stub->GetSessionState(&context, request, &response); !status.ok()) {
    return FromGrpcStatus(status);
  }
  access::SessionState state;
  for (const auto& key : response.keys())
    state.keys.push_back({key.key_id(), key.public_key_pem()});
  for (const auto& ended : response.ended()) {
    state.ended.push_back({ended.session_id(), FromUnixSeconds(ended.expires_at_unix())});
  }
  state.next_cursor = response.next_cursor();
  state.ministry_certificate_acts = response.ministry_certificate_acts();
  return state;
}

bool ActsForMinistry(const Principal& caller, const access::SessionGate* gate) {
  if (caller.kind != PrincipalKind::kService || caller.name != access::kMinistryMachine) {
    return false;
  }
  if (caller.session) return caller.session->Holds(access::kMinistryOperatorProfile, "ministero");
  return gate == nullptr || gate->MinistryCertificateActs(std::chrono::system_clock::now());
}

MinistryRight MinistryRightAt(std::shared_ptr<const access::SessionGate> gate) {
  return {{{access::kMinistryOperatorProfile, "ministero"}},
          [gate](const Principal& caller) -> absl::StatusOr<bool> {
            const bool ministry_machine_alone = caller.kind == PrincipalKind::kService &&
                                                caller.name == access::kMinistryMachine &&
                                                !caller.session;
            if (ministry_machine_alone && gate != nullptr &&
                !gate->Health(std::chrono::system_clock::now()).ok()) {
              return absl::UnavailableError(
                  "the Ministry's rights cannot be checked now (no current word from "
                  "tessera-registry on sessions); try again shortly");
            }
            return ActsForMinistry(caller, gate.get());
          }};
}

RegistrySessions UseRegistrySessions(std::shared_ptr<grpc::Channel> registry,
                                     RpcServerOptions& options) {
  RegistrySessions sessions;
  sessions.gate = std::make_shared<access::SessionGate>();
  sessions.upkeep = access::KeepSessionGateCurrent(
      *sessions.gate, [registry](int64_t cursor) { return FetchSessionState(registry, cursor); });
  options.session_check = [gate = sessions.gate](std::string_view token,
                                                 std::string_view certificate) {
    return gate->Check(token, certificate, std::chrono::system_clock::now());
  };
  return sessions;
}

}  // namespace tessera::sessions
