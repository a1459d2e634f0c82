// tessera-ca as the card maker's certifier (personalization::CardCertifier): IssueCertificate
// with profile "operator", the request signed on the card, the holder's codice fiscale, and
// request_id "card-<card number>", so a retry after any failure gets the same certificate and
// the CA never issues a card two.
#pragma once

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <memory>

#include "personalization/card_maker.h"
#include "proto/ca.grpc.pb.h"

namespace tessera::perso_service {

class CaCertifier final : public personalization::CardCertifier {
 public:
  explicit CaCertifier(std::shared_ptr<grpc::Channel> ca,
                       std::chrono::seconds deadline = std::chrono::seconds(30))
      : stub_(v1::CertificateAuthority::NewStub(std::move(ca))), deadline_(deadline) {}

  // The CA's refusal as its status (e.g. INVALID_ARGUMENT naming the field), UNAVAILABLE or
  // DEADLINE_EXCEEDED while it cannot be reached: the card's step fails and is retried.
  // Profile operator, request_id personalization::CardRequestId (one per card and attempt).
  absl::StatusOr<std::vector<uint8_t>> Certify(const personalization::CardToMake& card,
                                               std::span<const uint8_t> request,
                                               int attempt) override;
  // RevokeCertificate, reason superseded, request_id "withdraw-<certificate serial>".
  absl::Status Withdraw(const personalization::CardToMake& card,
                        std::span<const uint8_t> certificate) override;

 private:
  std::unique_ptr<v1::CertificateAuthority::Stub> stub_;
  std::chrono::seconds deadline_;
};

}  // namespace tessera::perso_service
