// The authorization table of a service: every RPC it serves, with who may call it — machines
// and services by the kind and name of their certificate, persons by the profile their session
// gives them and the kind of office they are logged in at — and, for an RPC that acts on one
// comune or office, whether the caller's office reaches it. An RPC that is not in the table is
// refused (PERMISSION_DENIED): the default is deny.
#pragma once

#include <google/protobuf/message.h>

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "platform/principal.h"

namespace tessera {

// A person the rule lets in: one whose session holds `profile` at an office of kind `office`
// ("comune", "prefettura" or "ministero", as PersonSession::office begins).
struct PersonGrant {
  std::string profile;
  std::string office;
};

struct RpcRule {
  std::string method;                // full gRPC path, "/package.Service/Method"
  std::vector<PrincipalKind> kinds;  // kinds of caller allowed by their certificate alone
  std::vector<std::string> names;    // if not empty, only these names (e.g. "tessera-perso")
  std::string why;                   // one line for the reader of the table
  // Callers this says yes to may call too, whatever `kinds` and `names` say. Empty: nobody
  // else. An error (UNAVAILABLE: what it depends on cannot be known now) refuses the call with
  // that error rather than PERMISSION_DENIED, so the caller tries again.
  std::function<absl::StatusOr<bool>(const Principal&)> also = {};
  // Persons let in by their session, whatever machine they sit at.
  std::vector<PersonGrant> persons = {};
  // For an RPC that acts on one office's affairs: OK if `caller` reaches what `request` names,
  // PERMISSION_DENIED naming the field otherwise. Run on every request message as it arrives,
  // before the handler; a refusal leaves the call without a caller (CallerOf answers it), so
  // the handler acts for nobody.
  std::function<absl::Status(const Principal& caller, const google::protobuf::Message& request)>
      scope = {};
};

class RpcPolicy {
 public:
  explicit RpcPolicy(std::vector<RpcRule> rules);

  absl::Status Authorize(const std::string& method, const Principal& caller) const;
  // The rule's scope for `request` (OK for a rule without one, or an unknown method).
  absl::Status CheckScope(const std::string& method, const Principal& caller,
                          const google::protobuf::Message& request) const;
  const std::map<std::string, RpcRule>& rules() const { return rules_; }

  // Health for every tessera certificate; reflection for services and operators only
  // (a workstation has no business enumerating the API).
  static std::vector<RpcRule> StandardRules();

 private:
  std::map<std::string, RpcRule> rules_;
};

}  // namespace tessera
