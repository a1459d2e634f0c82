#include "services/perso/ca_certifier.h"

#include <botan/x509cert.h>

#include "absl/strings/str_cat.h"
#include "platform/grpc_status.h"
#include "platform/principal.h"

namespace tessera::perso_service {

absl::StatusOr<std::vector<uint8_t>> CaCertifier::Certify(const personalization::CardToMake& card,
                                                          std::span<const uint8_t> request,
                                                          int attempt) {
  v1::IssueCertificateRequest issue;
  issue.set_request_id(personalization::CardRequestId(card.card_number, attempt));
  issue.set_profile("operator");
  issue.set_csr_der(std::string(request.begin(), request.end()));
  issue.mutable_subject()->set_codice_fiscale(card.codice_fiscale);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + deadline_);
  v1::Certificate certificate;
  if (grpc::Status status = stub_->IssueCertificate(&context, issue, &certificate); !status.ok()) {
    return FromGrpcStatus(status, "tessera-ca");
  }
  return std::vector<uint8_t>(certificate.der().begin(), certificate.der().end());
}

absl::Status CaCertifier::Withdraw(const personalization::CardToMake&,
                                   std::span<const uint8_t> certificate) {
  v1::RevokeCertificateRequest revoke;
  try {
    revoke.set_serial(
        SerialHex(Botan::X509_Certificate(certificate.data(), certificate.size()).serial_number()));
  } catch (const std::exception& e) {
    return absl::InvalidArgumentError(absl::StrCat("certificate to withdraw: ", e.what()));
  }
  // One request per certificate: a card withdraws one certificate per attempt at most.
  revoke.set_request_id("withdraw-" + revoke.serial());
  revoke.set_reason(4);  // superseded
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + deadline_);
  v1::Certificate revoked;
  return FromGrpcStatus(stub_->RevokeCertificate(&context, revoke, &revoked), "tessera-ca");
}

}  // namespace tessera::perso_service
