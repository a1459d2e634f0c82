// gRPC handlers of tessera-dispatch: protos in, delivery desk calls, protos out. The only rules
// here are who may call what (DispatchPolicy) and which session a caller acts in.
#pragma once

#include <memory>
#include <vector>

#include "access/session_gate.h"
#include "dispatch/desk.h"
#include "mail/outbox.h"
#include "platform/rpc_policy.h"
#include "proto/dispatch.grpc.pb.h"

namespace tessera::dispatch_service {

class DispatchHandlers final : public v1::Dispatch::Service {
 public:
  // `gate` says whether the Ministry's machine still acts alone (the bootstrap).
  DispatchHandlers(dispatch::DeliveryDesk& desk, mail::PgOutboxStore& outbox,
                   std::shared_ptr<const access::SessionGate> gate)
      : desk_(desk), outbox_(outbox), gate_(std::move(gate)) {}

  grpc::Status ListLots(grpc::ServerContext* context, const v1::ListDispatchLotsRequest* request,
                        v1::ListDispatchLotsResponse* response) override;
  grpc::Status ListLotCards(grpc::ServerContext* context, const v1::ListLotCardsRequest* request,
                            v1::ListLotCardsResponse* response) override;
  grpc::Status StartDelivery(grpc::ServerContext* context, const v1::StartDeliveryRequest* request,
                             v1::StartDeliveryResponse* response) override;
  grpc::Status Deliver(grpc::ServerContext* context, const v1::DeliverRequest* request,
                       v1::Delivery* response) override;
  grpc::Status GetDelivery(grpc::ServerContext* context, const v1::GetDeliveryRequest* request,
                           v1::Delivery* response) override;
  grpc::Status GetReceipt(grpc::ServerContext* context, const v1::GetDeliveryRequest* request,
                          v1::Receipt* response) override;
  grpc::Status RegisterCard(grpc::ServerContext* context, const v1::RegisterCardRequest* request,
                            v1::Registration* response) override;
  grpc::Status ResendHalves(grpc::ServerContext* context, const v1::ResendHalvesRequest* request,
                            v1::ResendHalvesResponse* response) override;
  grpc::Status ListOutbox(grpc::ServerContext* context, const v1::ListOutboxRequest* request,
                          v1::ListOutboxResponse* response) override;
  grpc::Status RetryOutbox(grpc::ServerContext* context, const v1::RetryOutboxRequest* request,
                           v1::RetryOutboxResponse* response) override;

 private:
  // The session the caller acts in (their person's, or the Ministry's during the bootstrap)
  // and the caller as the request journals name it ("<kind>:<name>").
  struct Acting {
    PersonSession session;
    std::string requested_by;
  };
  absl::StatusOr<Acting> ActingOf(const grpc::ServerContext& context) const;

  dispatch::DeliveryDesk& desk_;
  mail::PgOutboxStore& outbox_;
  std::shared_ptr<const access::SessionGate> gate_;
};

// Who may call what on tessera-dispatch: a prefettura's security administrator (card session
// at one of its workstations) for its own and its province's comuni's lots (the desk checks the
// office of each request); the Ministry's operators for every lot; the Ministry's machine alone
// only during the bootstrap.
std::vector<RpcRule> DispatchPolicy(std::shared_ptr<const access::SessionGate> gate);

}  // namespace tessera::dispatch_service
