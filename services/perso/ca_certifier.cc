#include "services/perso/ca_certifier.h"

#include "platform/grpc_status.h"

namespace tessera::perso_service {

absl::StatusOr<std::vector<uint8_t>> CaCertifier::Certify(const personalization::CardToMake& card,
                                                          std::span<const uint8_t> request) {
  v1::IssueCertificateRequest issue;
  issue.set_request_id("card-" + card.card_number);
  issue.set_profile("operator");
  issue.set_csr_der(std::string(request.begin(), request.end()));
  issue.mutable_subject()->set_codice_fiscale(card.codice_fiscale);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + deadline_);
  v1::Certificate certificate;
  if (grpc::Status status = stub_->IssueCertificate(&context, issue, &certificate); !status.ok()) {
    return FromGrpcStatus(status);
  }
  return std::vector<uint8_t>(certificate.der().begin(), certificate.der().end());
}

}  // namespace tessera::perso_service
