// gRPC handlers of tessera-registry: protos in, census office calls, protos out. The rules here
// are who may call what (RegistryPolicy) and the scope of a comune's or prefettura's own calls.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "access/session_gate.h"
#include "mail/outbox.h"
#include "platform/rpc_policy.h"
#include "proto/registry.grpc.pb.h"
#include "registry/card_login.h"
#include "registry/census_office.h"
#include "registry/daily_access.h"
#include "registry/workstation_certificates.h"

namespace tessera::registry_service {

// Who the Ministry is on tessera-registry: a Ministry operator's session at the Ministry's
// machine; the Ministry machine's certificate (tessera-cli) alone only until the first Ministry
// operator logs in (sessions::ActsForMinistry); and the card certificates of the Ministry's own
// operators, as the registry records them (CensusOffice::IsMinistryOperator; never from a
// census).
bool IsMinistry(registry::CensusOffice& office, const access::SessionGate* gate,
                const Principal& caller);

class RegistryHandlers final : public v1::Registry::Service {
 public:
  // `max_import_bytes`: the largest census file ImportCensus takes, all its parts together.
  RegistryHandlers(registry::CensusOffice& office, registry::CardLogin& login,
                   registry::DailyAccess& daily, registry::WorkstationCertificates& workstations,
                   mail::PgOutboxStore& outbox, size_t max_import_bytes)
      : office_(office),
        login_(login),
        daily_(daily),
        workstations_(workstations),
        outbox_(outbox),
        max_import_bytes_(max_import_bytes) {}

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
  grpc::Status ImportCensus(grpc::ServerContext* context,
                            grpc::ServerReader<v1::ImportCensusChunk>* parts,
                            v1::ImportCensusResponse* response) override;
  grpc::Status IssueAccessCode(grpc::ServerContext* context,
                               const v1::IssueAccessCodeRequest* request,
                               v1::IssueAccessCodeResponse* response) override;
  grpc::Status ClaimOrders(grpc::ServerContext* context, const v1::ClaimOrdersRequest* request,
                           v1::ClaimOrdersResponse* response) override;
  grpc::Status ReportOrders(grpc::ServerContext* context, const v1::ReportOrdersRequest* request,
                            v1::ReportOrdersResponse* response) override;
  grpc::Status AddMinistryOperator(grpc::ServerContext* context,
                                   const v1::AddMinistryOperatorRequest* request,
                                   v1::AddMinistryOperatorResponse* response) override;
  grpc::Status RemoveMinistryOperator(grpc::ServerContext* context,
                                      const v1::RemoveMinistryOperatorRequest* request,
                                      v1::RemoveMinistryOperatorResponse* response) override;
  grpc::Status ListMinistryOperators(grpc::ServerContext* context,
                                     const v1::ListMinistryOperatorsRequest* request,
                                     v1::ListMinistryOperatorsResponse* response) override;
  grpc::Status AcceptCodeMismatch(grpc::ServerContext* context,
                                  const v1::AcceptCodeMismatchRequest* request,
                                  v1::AcceptCodeMismatchResponse* response) override;
  grpc::Status BeginLogin(grpc::ServerContext* context, const v1::BeginLoginRequest* request,
                          v1::BeginLoginResponse* response) override;
  grpc::Status CompleteLogin(grpc::ServerContext* context, const v1::CompleteLoginRequest* request,
                             v1::SessionResponse* response) override;
  grpc::Status RenewSession(grpc::ServerContext* context, const v1::RenewSessionRequest* request,
                            v1::SessionResponse* response) override;
  grpc::Status Logout(grpc::ServerContext* context, const v1::LogoutRequest* request,
                      v1::LogoutResponse* response) override;
  grpc::Status GetOfficeContact(grpc::ServerContext* context,
                                const v1::GetOfficeContactRequest* request,
                                v1::OfficeContact* response) override;
  grpc::Status GetOfficeUser(grpc::ServerContext* context, const v1::GetOfficeUserRequest* request,
                             v1::OfficeUser* response) override;
  grpc::Status AuthorizeDailyPassword(grpc::ServerContext* context,
                                      const v1::AuthorizeDailyPasswordRequest* request,
                                      v1::AuthorizeDailyPasswordResponse* response) override;
  grpc::Status PasswordLogin(grpc::ServerContext* context, const v1::PasswordLoginRequest* request,
                             v1::SessionResponse* response) override;
  grpc::Status GetSessionState(grpc::ServerContext* context,
                               const v1::GetSessionStateRequest* request,
                               v1::GetSessionStateResponse* response) override;
  grpc::Status ListWorkstations(grpc::ServerContext* context,
                                const v1::ListWorkstationsRequest* request,
                                v1::ListWorkstationsResponse* response) override;
  grpc::Status DownloadWorkstations(grpc::ServerContext* context,
                                    const v1::DownloadWorkstationsRequest* request,
                                    v1::DownloadWorkstationsResponse* response) override;
  grpc::Status ListOutbox(grpc::ServerContext* context, const v1::ListOutboxRequest* request,
                          v1::ListOutboxResponse* response) override;
  grpc::Status RetryOutbox(grpc::ServerContext* context, const v1::RetryOutboxRequest* request,
                           v1::RetryOutboxResponse* response) override;

 private:
  // The census a SaveDraft or SubmitCensus request carries (its scope checked by the policy).
  template <typename Request>
  absl::StatusOr<std::variant<registry::ComuneCensus, registry::PrefetturaCensus>> CensusToActOn(
      const Request& request);

  registry::CensusOffice& office_;
  registry::CardLogin& login_;
  registry::DailyAccess& daily_;
  registry::WorkstationCertificates& workstations_;
  mail::PgOutboxStore& outbox_;
  const size_t max_import_bytes_;
};

// Who may call what on tessera-registry. The Ministry may do everything but claim orders
// (tessera-perso's); a comune, by one of its workstation certificates or its census access
// code, and a prefettura, by one of its workstation certificates, only their own census.
std::vector<RpcRule> RegistryPolicy(registry::CensusOffice& office,
                                    std::shared_ptr<const access::SessionGate> gate);

// Checks the "authorization" metadata of a call without a client certificate: an access code
// ("AccessCode <code>") names the comune it was issued for.
absl::StatusOr<Principal> AccessCodeCaller(registry::CensusOffice& office,
                                           std::string_view credential);

}  // namespace tessera::registry_service
