#include "platform/rpc_policy.h"

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

}  // namespace
}  // namespace tessera
