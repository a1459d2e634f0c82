// The authorization table of a service: every RPC it serves, with who may call it. An RPC
// that is not in the table is refused (PERMISSION_DENIED): the default is deny.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "platform/principal.h"

namespace tessera {

struct RpcRule {
  std::string method;                // full gRPC path, "/package.Service/Method"
  std::vector<PrincipalKind> kinds;  // kinds of caller allowed
  std::vector<std::string> names;    // if not empty, only these names (e.g. "tessera-perso")
  std::string why;                   // one line for the reader of the table
  // Callers this says yes to may call too, whatever `kinds` and `names` say (e.g. the
  // Ministry's operators, whose records the registry keeps). Empty: nobody else.
  std::function<bool(const Principal&)> also = {};
};

class RpcPolicy {
 public:
  explicit RpcPolicy(std::vector<RpcRule> rules);

  absl::Status Authorize(const std::string& method, const Principal& caller) const;
  const std::map<std::string, RpcRule>& rules() const { return rules_; }

  // Health for every tessera certificate; reflection for services and operators only
  // (a workstation has no business enumerating the API).
  static std::vector<RpcRule> StandardRules();

 private:
  std::map<std::string, RpcRule> rules_;
};

}  // namespace tessera
