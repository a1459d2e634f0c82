// tessera-ca as the issuer of workstation bundles (personalization::BundleIssuer):
// IssueWorkstationBundle over mTLS as tessera-perso, request_id "bundle-<common id>", so a
// retry gets the same bundle. Only the certificate's serial is kept; the PKCS#12 and its
// password are dropped at once (the CA keeps the bundle sealed for the ALP's download).
#pragma once

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <memory>

#include "personalization/workstation_bundles.h"
#include "proto/ca.grpc.pb.h"

namespace tessera::perso_service {

class CaBundler final : public personalization::BundleIssuer {
 public:
  explicit CaBundler(std::shared_ptr<grpc::Channel> ca,
                     std::chrono::seconds deadline = std::chrono::seconds(30))
      : stub_(v1::CertificateAuthority::NewStub(std::move(ca))), deadline_(deadline) {}

  absl::StatusOr<std::string> IssueBundle(
      const personalization::WorkstationId& workstation) override;

 private:
  std::unique_ptr<v1::CertificateAuthority::Stub> stub_;
  std::chrono::seconds deadline_;
};

}  // namespace tessera::perso_service
