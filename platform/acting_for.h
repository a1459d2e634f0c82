// Whom the current thread acts for, as the audit chain records it (audit/chain.sql): the
// caller of the RPC a handler thread is serving. CallerOf sets it when a handler asks for its
// caller; every connection the pool hands out on that thread then carries it to PostgreSQL
// (tessera.actor, tessera.workstation, tessera.request_id), where the audit triggers read
// it. A thread that never served a call (background tasks) acts for nobody, and its changes
// are recorded as the service's own.
#pragma once

#include <optional>
#include <string>

#include "platform/principal.h"

namespace tessera {

struct ActingFor {
  std::string actor;        // "person:<codice fiscale>", or the caller "<kind>:<name>"
  std::string workstation;  // the machine a person works at, "<kind>:<name> <serial>"; or ""
  std::string request_id;   // "call:<id>": the call's id in the access log
  bool operator==(const ActingFor&) const = default;
};

// The caller of call `call_id` as the audit chain names it.
ActingFor ActingForCaller(const Principal& caller, const std::string& call_id);

// This thread's; nullptr when it acts for nobody.
const ActingFor* CurrentActingFor();
void SetActingFor(ActingFor acting_for);
void ClearActingFor();

// Within its scope the thread acts for nobody, then as before: a write that carries several
// callers' changes at once (group commit) is recorded as the service's own, and the rows it
// writes name each requester themselves.
class ActingForNobody {
 public:
  ActingForNobody();
  ~ActingForNobody();
  ActingForNobody(const ActingForNobody&) = delete;
  ActingForNobody& operator=(const ActingForNobody&) = delete;

 private:
  std::optional<ActingFor> saved_;
};

}  // namespace tessera
