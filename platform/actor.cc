#include "platform/actor.h"

namespace tessera {
namespace {

std::string_view OrDash(const std::string& value) {
  return value.empty() ? std::string_view("-") : std::string_view(value);
}

}  // namespace

Actor ActorOf(const Principal& caller, std::string call_id) {
  return {.kind = std::string(PrincipalKindName(caller.kind)),
          .name = caller.name,
          .serial = caller.serial,
          .call_id = std::move(call_id)};
}

Actor SystemActor(std::string name) { return {.kind = kSystemActorKind, .name = std::move(name)}; }

absl::Status CheckActor(const Actor& actor) {
  if (actor.kind.empty() || actor.name.empty()) {
    return absl::InvalidArgumentError("actor: an act must name who did it (kind and name)");
  }
  return absl::OkStatus();
}

std::array<LogField, 4> ActorLogFields(const Actor& actor) {
  return {LogField{"caller_kind", OrDash(actor.kind)}, LogField{"caller", OrDash(actor.name)},
          LogField{"caller_serial", OrDash(actor.serial)},
          LogField{"call_id", OrDash(actor.call_id)}};
}

}  // namespace tessera
