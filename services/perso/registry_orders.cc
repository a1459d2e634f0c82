#include "services/perso/registry_orders.h"

#include "platform/grpc_status.h"

namespace tessera::perso_service {

absl::StatusOr<personalization::ClaimedWork> RegistryOrders::Claim(int limit) {
  v1::ClaimOrdersRequest request;
  request.set_worker(worker_);
  request.set_limit(static_cast<uint32_t>(limit));
  request.set_lease_seconds(lease_seconds_);
  request.set_province_sigla(reach_.province_sigla);
  request.set_istat(reach_.istat);
  for (const std::string& order : reach_.orders) request.add_orders(order);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + deadline_);
  v1::ClaimOrdersResponse response;
  if (grpc::Status status = stub_->ClaimOrders(&context, request, &response); !status.ok()) {
    return FromGrpcStatus(status, "tessera-registry");
  }
  personalization::ClaimedWork work;
  for (const v1::CardOrder& o : response.cards()) {
    work.cards.push_back({o.card_number(), o.codice_fiscale(), o.surname(), o.name(),
                          o.ordered_by(), o.office_name(), o.province_sigla()});
  }
  for (const v1::WorkstationOrder& o : response.workstations()) {
    work.workstations.push_back(o.common_id());
  }
  work.open_orders = static_cast<int>(response.open_orders());
  return work;
}

absl::StatusOr<std::vector<absl::Status>> RegistryOrders::Report(
    std::span<const personalization::Outcome> outcomes) {
  v1::ReportOrdersRequest request;
  request.set_worker(worker_);
  for (const personalization::Outcome& o : outcomes) {
    v1::OrderOutcome* out = request.add_outcomes();
    if (o.card) {
      out->set_card_number(o.order);
    } else {
      out->set_workstation_common_id(o.order);
    }
    if (o.failure.empty()) {
      out->set_certificate_serial(o.certificate_serial);
    } else {
      out->set_failure(o.failure);
    }
  }
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + deadline_);
  v1::ReportOrdersResponse response;
  if (grpc::Status status = stub_->ReportOrders(&context, request, &response); !status.ok()) {
    return FromGrpcStatus(status, "tessera-registry");
  }
  std::vector<absl::Status> results;
  for (const v1::ReportOrdersResponse::Result& r : response.results()) {
    results.emplace_back(static_cast<absl::StatusCode>(r.code()), r.message());
  }
  return results;
}

}  // namespace tessera::perso_service
