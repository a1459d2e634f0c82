// tessera-registry as the daemon's order source (personalization::OrderSource): ClaimOrders and
// ReportOrders over mTLS as tessera-perso, under this daemon's worker name (the same across
// its restarts, so it gets its own claims back first).
#pragma once

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "personalization/batches.h"
#include "personalization/producer.h"
#include "proto/registry.grpc.pb.h"

namespace tessera::perso_service {

class RegistryOrders final : public personalization::OrderSource {
 public:
  // `lease_seconds` 0: the registry's default (900 s). An empty reach: any order.
  RegistryOrders(std::shared_ptr<grpc::Channel> registry, std::string worker,
                 personalization::BatchReach reach = {}, uint32_t lease_seconds = 0,
                 std::chrono::seconds deadline = std::chrono::seconds(30))
      : stub_(v1::Registry::NewStub(std::move(registry))),
        worker_(std::move(worker)),
        reach_(std::move(reach)),
        lease_seconds_(lease_seconds),
        deadline_(deadline) {}

  absl::StatusOr<personalization::ClaimedWork> Claim(int limit) override;
  absl::StatusOr<std::vector<absl::Status>> Report(
      std::span<const personalization::Outcome> outcomes) override;

 private:
  std::unique_ptr<v1::Registry::Stub> stub_;
  std::string worker_;
  personalization::BatchReach reach_;
  uint32_t lease_seconds_;
  std::chrono::seconds deadline_;
};

}  // namespace tessera::perso_service
