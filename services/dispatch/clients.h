// What tessera-dispatch asks of the other services, over mTLS as itself: tessera-registry for
// the persons of an office (dispatch::CensusDirectory), tessera-perso for its sealed lots
// (dispatch::LotSource) and for a card's second halves (dispatch::HalvesSource).
#pragma once

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "dispatch/desk.h"
#include "dispatch/intake.h"
#include "proto/perso.grpc.pb.h"
#include "proto/registry.grpc.pb.h"

namespace tessera::dispatch_service {

inline constexpr std::chrono::seconds kCallDeadline{30};

class RegistryDirectory final : public dispatch::CensusDirectory {
 public:
  explicit RegistryDirectory(std::shared_ptr<grpc::Channel> registry)
      : stub_(v1::Registry::NewStub(std::move(registry))) {}

  absl::StatusOr<dispatch::CensusEntry> User(const std::string& office,
                                             const std::string& codice_fiscale) override;
  absl::StatusOr<dispatch::OfficeContact> Place(const std::string& office) override;

 private:
  std::unique_ptr<v1::Registry::Stub> stub_;
};

class PersoLots final : public dispatch::LotSource, public dispatch::HalvesSource {
 public:
  explicit PersoLots(std::shared_ptr<grpc::Channel> perso)
      : stub_(v1::Personalization::NewStub(std::move(perso))) {}

  absl::StatusOr<std::vector<std::string>> Sealed() override;
  absl::StatusOr<dispatch::LotIntake> HandOver(const std::string& lot_number) override;
  absl::StatusOr<dispatch::Halves> Release(const std::string& card_number,
                                           const std::string& request_id) override;

 private:
  std::unique_ptr<v1::Personalization::Stub> stub_;
};

// A lot as tessera-perso hands it over, with each card's subject and serial read from its
// certificate. INVALID_ARGUMENT naming the card whose certificate cannot be read.
absl::StatusOr<dispatch::LotIntake> IntakeOf(const v1::Lot& lot);

}  // namespace tessera::dispatch_service
