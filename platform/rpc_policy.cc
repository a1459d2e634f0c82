#include "platform/rpc_policy.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace tessera {

RpcPolicy::RpcPolicy(std::vector<RpcRule> rules) {
  for (RpcRule& rule : rules) {
    std::string method = rule.method;
    rules_.insert_or_assign(std::move(method), std::move(rule));
  }
}

absl::Status RpcPolicy::Authorize(const std::string& method, const Principal& caller) const {
  auto it = rules_.find(method);
  if (it == rules_.end()) {
    return absl::PermissionDeniedError(
        absl::StrCat(method, ": not in this service's policy table; refused by default"));
  }
  const RpcRule& rule = it->second;
  if (caller.session) {
    for (const PersonGrant& grant : rule.persons) {
      if (caller.session->Holds(grant.profile, grant.office)) return absl::OkStatus();
    }
  }
  const bool kind_ok =
      std::find(rule.kinds.begin(), rule.kinds.end(), caller.kind) != rule.kinds.end();
  const bool name_ok = rule.names.empty() || std::find(rule.names.begin(), rule.names.end(),
                                                       caller.name) != rule.names.end();
  if (kind_ok && name_ok) return absl::OkStatus();
  if (rule.also) {
    absl::StatusOr<bool> also = rule.also(caller);
    if (!also.ok()) return also.status();
    if (*also) return absl::OkStatus();
  }
  if (caller.session) {
    return absl::PermissionDeniedError(absl::StrCat(
        method, ": ", caller.session->person, " at ", caller.session->office, " (profiles ",
        caller.session->profiles.empty() ? "none" : absl::StrJoin(caller.session->profiles, ", "),
        ") may not call it (", rule.why, ")"));
  }
  return absl::PermissionDeniedError(absl::StrCat(method, ": a ",
                                                  std::string(PrincipalKindName(caller.kind)),
                                                  " certificate may not call it (", rule.why, ")"));
}

absl::Status RpcPolicy::CheckScope(const std::string& method, const Principal& caller,
                                   const google::protobuf::Message& request) const {
  auto it = rules_.find(method);
  if (it == rules_.end() || !it->second.scope) return absl::OkStatus();
  return it->second.scope(caller, request);
}

std::vector<RpcRule> RpcPolicy::StandardRules() {
  const std::vector<PrincipalKind> everyone = {PrincipalKind::kService, PrincipalKind::kWorkstation,
                                               PrincipalKind::kOperator};
  const std::vector<PrincipalKind> staff = {PrincipalKind::kService, PrincipalKind::kOperator};
  return {
      {"/grpc.health.v1.Health/Check", everyone, {}, "liveness for any tessera certificate"},
      {"/grpc.health.v1.Health/Watch", everyone, {}, "liveness for any tessera certificate"},
      {"/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
       staff,
       {},
       "API discovery for services and Ministry tools, not for workstations"},
  };
}

}  // namespace tessera
