#include "services/registry/ca_bundles.h"

#include <chrono>

#include "platform/grpc_status.h"
#include "proto/ca.grpc.pb.h"

namespace tessera::registry_service {

registry::BundleFetch BundlesFromCa(std::shared_ptr<grpc::Channel> ca) {
  if (!ca) {
    return [](const std::string&) -> absl::StatusOr<registry::WorkstationBundle> {
      return absl::FailedPreconditionError(
          "this tessera-registry has no ca.target: workstation bundles cannot be fetched");
    };
  }
  std::shared_ptr<v1::CertificateAuthority::Stub> stub = v1::CertificateAuthority::NewStub(ca);
  return [stub](const std::string& serial) -> absl::StatusOr<registry::WorkstationBundle> {
    v1::GetWorkstationBundleRequest request;
    request.set_serial(serial);
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    v1::WorkstationBundle bundle;
    if (grpc::Status status = stub->GetWorkstationBundle(&context, request, &bundle);
        !status.ok()) {
      return FromGrpcStatus(status, "tessera-ca");
    }
    return registry::WorkstationBundle{.pkcs12 = {bundle.pkcs12().begin(), bundle.pkcs12().end()},
                                       .password = Secret(bundle.password())};
  };
}

}  // namespace tessera::registry_service
