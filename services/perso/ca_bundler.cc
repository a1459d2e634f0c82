#include "services/perso/ca_bundler.h"

#include "absl/strings/str_format.h"
#include "platform/grpc_status.h"

namespace tessera::perso_service {

absl::StatusOr<std::string> CaBundler::IssueBundle(
    const personalization::WorkstationId& workstation) {
  v1::IssueWorkstationBundleRequest request;
  request.set_request_id(
      absl::StrFormat("bundle-%s%04u", workstation.owner, workstation.progressive));
  request.set_istat(workstation.owner);
  request.set_progressive(workstation.progressive);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + deadline_);
  v1::WorkstationBundle bundle;
  if (grpc::Status status = stub_->IssueWorkstationBundle(&context, request, &bundle);
      !status.ok()) {
    return FromGrpcStatus(status, "tessera-ca");
  }
  return bundle.certificate().serial();
}

}  // namespace tessera::perso_service
