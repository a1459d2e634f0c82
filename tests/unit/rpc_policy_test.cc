#include "platform/rpc_policy.h"

#include <google/protobuf/empty.pb.h>
#include <gtest/gtest.h>

namespace tessera {
namespace {

RpcPolicy Policy() {
  std::vector<RpcRule> rules = RpcPolicy::StandardRules();
  rules.push_back({"/tessera.v1.Ca/IssueCertificate",
                   {PrincipalKind::kService},
                   {"tessera-perso"},
                   "only personalization issues card certificates"});
  return RpcPolicy(std::move(rules));
}

TEST(RpcPolicy, AnRpcMissingFromTheTableIsDenied) {
  absl::Status status =
      Policy().Authorize("/tessera.v1.Ca/Unlisted", {PrincipalKind::kService, "tessera-perso"});
  EXPECT_EQ(status.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_NE(std::string(status.message()).find("not in this service's policy table"),
            std::string::npos);
}

TEST(RpcPolicy, KindAndNameMustBothMatch) {
  RpcPolicy policy = Policy();
  EXPECT_TRUE(
      policy
          .Authorize("/tessera.v1.Ca/IssueCertificate", {PrincipalKind::kService, "tessera-perso"})
          .ok());
  EXPECT_EQ(policy
                .Authorize("/tessera.v1.Ca/IssueCertificate",
                           {PrincipalKind::kService, "tessera-dispatch"})
                .code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(policy
                .Authorize("/tessera.v1.Ca/IssueCertificate",
                           {PrincipalKind::kWorkstation, "tessera-perso"})
                .code(),
            absl::StatusCode::kPermissionDenied);
}

TEST(RpcPolicy, CallersOfAnotherKindMayBeAddedByAPredicate) {
  RpcPolicy policy({{"/tessera.v1.Registry/ListCensuses",
                     {PrincipalKind::kService},
                     {"tessera-cli"},
                     "the Ministry",
                     [](const Principal& caller) {
                       return caller.kind == PrincipalKind::kOperator &&
                              caller.name == "RSSMRA85T10H501O";
                     }}});
  const std::string method = "/tessera.v1.Registry/ListCensuses";
  EXPECT_TRUE(policy.Authorize(method, {PrincipalKind::kService, "tessera-cli"}).ok());
  EXPECT_TRUE(policy.Authorize(method, {PrincipalKind::kOperator, "RSSMRA85T10H501O"}).ok());
  // Another operator, or the same name under another kind: refused.
  EXPECT_EQ(policy.Authorize(method, {PrincipalKind::kOperator, "BNCNNA90A41H501W"}).code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(policy.Authorize(method, {PrincipalKind::kWorkstation, "RSSMRA85T10H501O"}).code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(policy.Authorize(method, {PrincipalKind::kOperator, "tessera-cli"}).code(),
            absl::StatusCode::kPermissionDenied);
}

TEST(RpcPolicy, HealthForEveryoneReflectionNotForWorkstations) {
  RpcPolicy policy = Policy();
  Principal workstation{PrincipalKind::kWorkstation, "0580010001"};
  EXPECT_TRUE(policy.Authorize("/grpc.health.v1.Health/Check", workstation).ok());
  EXPECT_EQ(
      policy
          .Authorize("/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo", workstation)
          .code(),
      absl::StatusCode::kPermissionDenied);
  EXPECT_TRUE(policy
                  .Authorize("/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
                             {PrincipalKind::kService, "tessera-ca"})
                  .ok());
}

// A person is let in by a profile their session holds at an office of the rule's kind; the
// machine they sit at keeps what its certificate alone may do.
TEST(RpcPolicy, APersonIsLetInByAProfileAtAnOfficeOfTheRightKind) {
  const std::string method = "/tessera.v1.Dispatch/Deliver";
  RpcPolicy policy({{method,
                     {},
                     {},
                     "the prefettura's Amministratore Sicurezza delivers",
                     {},
                     {{"amministratore_sicurezza", "prefettura"}}}});
  auto at = [](const std::string& machine, const std::string& office,
               std::vector<std::string> profiles) {
    Principal caller{PrincipalKind::kWorkstation, machine};
    caller.session = PersonSession{
        .id = "s", .person = "RSSMRA85T10H501O", .office = office, .profiles = std::move(profiles)};
    return caller;
  };
  EXPECT_TRUE(
      policy.Authorize(method, at("0570000001", "prefettura:057", {"amministratore_sicurezza"}))
          .ok());
  // The same profile at a comune, another profile at the prefettura, the machine alone.
  absl::Status comune =
      policy.Authorize(method, at("0570010001", "comune:057001", {"amministratore_sicurezza"}));
  EXPECT_EQ(comune.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_NE(comune.message().find("RSSMRA85T10H501O at comune:057001 (profiles "
                                  "amministratore_sicurezza) may not call it"),
            absl::string_view::npos)
      << comune;
  EXPECT_EQ(
      policy.Authorize(method, at("0570000001", "prefettura:057", {"amministratore_postazioni"}))
          .code(),
      absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(policy.Authorize(method, {PrincipalKind::kWorkstation, "0570000001"}).code(),
            absl::StatusCode::kPermissionDenied);
  // A prefix is not an office kind: "prefetturaX:..." is none.
  EXPECT_FALSE(
      policy.Authorize(method, at("0570000001", "prefetturax:057", {"amministratore_sicurezza"}))
          .ok());
}

TEST(RpcPolicy, TheScopeOfARuleJudgesTheRequest) {
  const std::string method = "/tessera.v1.Registry/GetCensus";
  RpcPolicy policy({{method,
                     {PrincipalKind::kWorkstation},
                     {},
                     "a comune reads its own census",
                     {},
                     {},
                     [](const Principal& caller, const google::protobuf::Message& request) {
                       return request.GetTypeName() == "tessera.v1.GetCensusRequest" &&
                                      caller.name.starts_with("057001")
                                  ? absl::OkStatus()
                                  : absl::PermissionDeniedError("istat: not yours");
                     }}});
  const google::protobuf::Empty request;
  EXPECT_EQ(policy.CheckScope(method, {PrincipalKind::kWorkstation, "0570010001"}, request).code(),
            absl::StatusCode::kPermissionDenied);
  // A method without a scope, or unknown: nothing to judge (Authorize refuses the unknown).
  EXPECT_TRUE(policy.CheckScope("/x.Y/Z", {PrincipalKind::kWorkstation, "1"}, request).ok());
}

}  // namespace
}  // namespace tessera
