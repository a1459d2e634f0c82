// gRPC handlers of tessera-ca: protos in, domain calls, protos out. The only rules here are who
// may call what: the policy table (CaPolicy) and the profiles each caller may request.
#pragma once

#include <memory>
#include <string>

#include "access/session_gate.h"
#include "ca/authority.h"
#include "ca/crl_store.h"
#include "ca/workstation_bundle.h"
#include "platform/rpc_policy.h"
#include "proto/ca.grpc.pb.h"

namespace tessera::ca_service {

class CertificateAuthorityHandlers final : public v1::CertificateAuthority::Service {
 public:
  CertificateAuthorityHandlers(ca::CertificateAuthority& ca, ca::WorkstationBundles& bundles,
                               ca::CrlStore& crls, std::string root_der)
      : ca_(ca), bundles_(bundles), crls_(crls), root_der_(std::move(root_der)) {}

  grpc::Status IssueCertificate(grpc::ServerContext* context,
                                const v1::IssueCertificateRequest* request,
                                v1::Certificate* response) override;
  grpc::Status IssueCertificates(grpc::ServerContext* context,
                                 const v1::IssueCertificatesRequest* request,
                                 v1::IssueCertificatesResponse* response) override;
  grpc::Status GetCertificate(grpc::ServerContext* context,
                              const v1::GetCertificateRequest* request,
                              v1::Certificate* response) override;
  grpc::Status ListCertificates(grpc::ServerContext* context,
                                const v1::ListCertificatesRequest* request,
                                v1::ListCertificatesResponse* response) override;
  grpc::Status RevokeCertificate(grpc::ServerContext* context,
                                 const v1::RevokeCertificateRequest* request,
                                 v1::Certificate* response) override;
  grpc::Status GetCaChain(grpc::ServerContext* context, const v1::GetCaChainRequest* request,
                          v1::GetCaChainResponse* response) override;
  grpc::Status GetCrl(grpc::ServerContext* context, const v1::GetCrlRequest* request,
                      v1::Crl* response) override;
  grpc::Status IssueWorkstationBundle(grpc::ServerContext* context,
                                      const v1::IssueWorkstationBundleRequest* request,
                                      v1::WorkstationBundle* response) override;
  grpc::Status GetWorkstationBundle(grpc::ServerContext* context,
                                    const v1::GetWorkstationBundleRequest* request,
                                    v1::WorkstationBundle* response) override;
  grpc::Status RenewServiceCertificate(grpc::ServerContext* context,
                                       const v1::RenewServiceCertificateRequest* request,
                                       v1::Certificate* response) override;

 private:
  ca::CertificateAuthority& ca_;
  ca::WorkstationBundles& bundles_;
  ca::CrlStore& crls_;
  std::string root_der_;
};

// Who may call what on tessera-ca.
std::vector<RpcRule> CaPolicy(std::shared_ptr<const access::SessionGate> gate);

}  // namespace tessera::ca_service
