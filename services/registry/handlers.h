// gRPC handlers of tessera-registry: protos in, census office calls, protos out. The rules here
// are who may call what (RegistryPolicy) and the scope of a comune's own calls.
#pragma once

#include <string_view>
#include <vector>

#include "platform/rpc_policy.h"
#include "proto/registry.grpc.pb.h"
#include "registry/census_office.h"

namespace tessera::registry_service {

class RegistryHandlers final : public v1::Registry::Service {
 public:
  explicit RegistryHandlers(registry::CensusOffice& office) : office_(office) {}

  grpc::Status LoadReference(grpc::ServerContext* context, const v1::LoadReferenceRequest* request,
                             v1::LoadReferenceResponse* response) override;
  grpc::Status SetDeclaration(grpc::ServerContext* context,
                              const v1::SetDeclarationRequest* request,
                              v1::SetDeclarationResponse* response) override;
  grpc::Status SaveDraft(grpc::ServerContext* context, const v1::SaveDraftRequest* request,
                         v1::Census* response) override;
  grpc::Status GetCensus(grpc::ServerContext* context, const v1::GetCensusRequest* request,
                         v1::Census* response) override;
  grpc::Status ListCensuses(grpc::ServerContext* context, const v1::ListCensusesRequest* request,
                            v1::ListCensusesResponse* response) override;
  grpc::Status SubmitCensus(grpc::ServerContext* context, const v1::SubmitCensusRequest* request,
                            v1::SubmitCensusResponse* response) override;
  grpc::Status ImportCensus(grpc::ServerContext* context, const v1::ImportCensusRequest* request,
                            v1::ImportCensusResponse* response) override;
  grpc::Status IssueAccessCode(grpc::ServerContext* context,
                               const v1::IssueAccessCodeRequest* request,
                               v1::IssueAccessCodeResponse* response) override;
  grpc::Status ClaimOrders(grpc::ServerContext* context, const v1::ClaimOrdersRequest* request,
                           v1::ClaimOrdersResponse* response) override;

 private:
  registry::CensusOffice& office_;
};

// Who may call what on tessera-registry. The Ministry (the tessera-cli service certificate)
// may do everything; a comune, by one of its workstation certificates or its census access
// code, only its own census.
std::vector<RpcRule> RegistryPolicy();

// Checks the "authorization" metadata of a call without a client certificate: an access code
// ("AccessCode <code>") names the comune it was issued for.
absl::StatusOr<Principal> AccessCodeCaller(registry::CensusOffice& office,
                                           std::string_view credential);

}  // namespace tessera::registry_service
