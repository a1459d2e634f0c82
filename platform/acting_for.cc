#include "platform/acting_for.h"

#include <optional>

#include "absl/strings/str_cat.h"

namespace tessera {
namespace {

thread_local std::optional<ActingFor> current;

}  // namespace

ActingFor ActingForCaller(const Principal& caller, const std::string& call_id) {
  std::string machine = absl::StrCat(std::string(PrincipalKindName(caller.kind)), ":", caller.name);
  if (!caller.serial.empty()) absl::StrAppend(&machine, " ", caller.serial);
  ActingFor acting{.request_id = absl::StrCat("call:", call_id)};
  if (caller.session.has_value()) {
    acting.actor = absl::StrCat("person:", caller.session->person);
    acting.workstation = std::move(machine);
  } else {
    acting.actor = std::move(machine);
  }
  return acting;
}

const ActingFor* CurrentActingFor() { return current.has_value() ? &*current : nullptr; }

void SetActingFor(ActingFor acting_for) { current = std::move(acting_for); }

void ClearActingFor() { current.reset(); }

ActingForNobody::ActingForNobody() : saved_(current) { current.reset(); }

ActingForNobody::~ActingForNobody() { current = std::move(saved_); }

}  // namespace tessera
