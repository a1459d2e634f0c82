// The three services' policy tables against their gRPC services as the protos declare them:
// every RPC has a rule (an RPC added without one fails here, before any door would refuse it at
// run time), every rule names an RPC that exists, and every rule says why. Then the persons'
// matrix, generated from the tables: every RPC × every profile × every kind of office, with a
// session and without, at a machine of that office; each cell must be what the rule's grants
// say, and a person without a grant gets nothing a bare machine would not.
#include <google/protobuf/descriptor.h>
#include <gtest/gtest.h>

#include <set>

#include "access/office.h"
#include "platform/rpc_policy.h"
#include "proto/ca.grpc.pb.h"
#include "proto/dispatch.grpc.pb.h"
#include "proto/perso.grpc.pb.h"
#include "proto/registry.grpc.pb.h"
#include "registry/census.h"
#include "services/ca/handlers.h"
#include "services/dispatch/handlers.h"
#include "services/perso/handlers.h"
#include "services/registry/handlers.h"
#include "tests/unit/fake_registry_stores.h"

namespace tessera {
namespace {

struct Table {
  std::string service;  // full proto name
  std::vector<RpcRule> rules;
};

class PolicyTablesTest : public ::testing::Test {
 protected:
  PolicyTablesTest()
      : rules_(*mail::PersonalEmailRules::Parse("")),
        office_(stores_.View(), rules_, clock_),
        gate_(std::make_shared<access::SessionGate>()) {}

  std::vector<Table> Tables() {
    return {{"tessera.v1.Registry", registry_service::RegistryPolicy(office_, gate_)},
            {"tessera.v1.CertificateAuthority", ca_service::CaPolicy(gate_)},
            {"tessera.v1.Personalization", perso_service::PersoPolicy(gate_)},
            {"tessera.v1.Dispatch", dispatch_service::DispatchPolicy(gate_)}};
  }

  // Every profile a session may carry.
  static std::vector<std::string> AllProfiles() {
    std::set<std::string> codes = {access::kMinistryOperatorProfile};
    for (const registry::Profile& profile : registry::Profiles()) codes.insert(profile.code);
    return {codes.begin(), codes.end()};
  }

  FakeClock clock_{std::chrono::system_clock::now()};
  registry::testing::FakeRegistryStores stores_;
  mail::PersonalEmailRules rules_;
  registry::CensusOffice office_;
  std::shared_ptr<access::SessionGate> gate_;
};

TEST_F(PolicyTablesTest, EveryRpcHasARuleAndEveryRuleAnRpc) {
  for (const Table& table : Tables()) {
    const google::protobuf::ServiceDescriptor* service =
        google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(table.service);
    ASSERT_NE(service, nullptr) << table.service;
    std::set<std::string> methods;
    for (int i = 0; i < service->method_count(); ++i) {
      methods.insert("/" + table.service + "/" + service->method(i)->name());
    }
    std::set<std::string> ruled;
    for (const RpcRule& rule : table.rules) {
      EXPECT_TRUE(methods.contains(rule.method)) << rule.method << ": no such RPC";
      EXPECT_FALSE(rule.why.empty()) << rule.method << ": a rule says why";
      EXPECT_TRUE(ruled.insert(rule.method).second) << rule.method << ": two rules";
    }
    for (const std::string& method : methods) {
      EXPECT_TRUE(ruled.contains(method)) << method << ": no rule (every RPC needs one)";
    }
  }
}

TEST_F(PolicyTablesTest, APersonGetsExactlyWhatTheGrantsSay) {
  const std::vector<std::pair<std::string, Principal>> machines = {
      {"comune:057001", {PrincipalKind::kWorkstation, "0570010001"}},
      {"prefettura:057", {PrincipalKind::kWorkstation, "0570000001"}},
      {"ministero", {PrincipalKind::kService, access::kMinistryMachine}}};
  int cells = 0;
  for (const Table& table : Tables()) {
    const RpcPolicy policy(table.rules);
    for (const RpcRule& rule : table.rules) {
      for (const auto& [office, machine] : machines) {
        const bool machine_alone = policy.Authorize(rule.method, machine).ok();
        for (const std::string& profile : AllProfiles()) {
          Principal person = machine;
          person.session = PersonSession{
              .id = "s", .person = "RSSMRA85T10H501O", .office = office, .profiles = {profile}};
          bool granted = false;
          for (const PersonGrant& grant : rule.persons) {
            granted = granted || (grant.profile == profile && office.starts_with(grant.office));
          }
          const absl::Status status = policy.Authorize(rule.method, person);
          EXPECT_EQ(status.ok(), granted || machine_alone)
              << rule.method << " for " << profile << " at " << office << ": " << status;
          if (!status.ok()) {
            EXPECT_EQ(status.code(), absl::StatusCode::kPermissionDenied);
            EXPECT_NE(status.message().find("may not call it"), absl::string_view::npos);
          }
          ++cells;
        }
      }
    }
  }
  EXPECT_GT(cells, 1000);
}

// With no current word from the registry (a gate never fetched), the Ministry's certificate
// acts alone nowhere: every Ministry RPC answers it UNAVAILABLE (try again once the registry
// has spoken) and lets an operator's session in.
TEST_F(PolicyTablesTest, WithoutTheRegistrysWordTheMinistrysCertificateAloneIsNobody) {
  const Principal cli{PrincipalKind::kService, access::kMinistryMachine};
  Principal operator_session = cli;
  operator_session.session = PersonSession{.id = "s",
                                           .person = "RSSMRA85T10H501O",
                                           .office = "ministero",
                                           .profiles = {access::kMinistryOperatorProfile}};
  for (const Table& table : Tables()) {
    const RpcPolicy policy(table.rules);
    for (const RpcRule& rule : table.rules) {
      const bool for_ministry = !rule.persons.empty() && rule.persons.front().office == "ministero";
      if (!for_ministry) continue;
      const absl::Status alone = policy.Authorize(rule.method, cli);
      EXPECT_EQ(alone.code(), absl::StatusCode::kUnavailable) << rule.method << ": " << alone;
      EXPECT_NE(alone.message().find("cannot be checked now"), absl::string_view::npos) << alone;
      EXPECT_TRUE(policy.Authorize(rule.method, operator_session).ok()) << rule.method;
    }
  }
}

}  // namespace
}  // namespace tessera
