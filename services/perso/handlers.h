// gRPC handlers of tessera-perso: protos in, batch calls, protos out. The only rule here is
// who may call what (PersoPolicy).
#pragma once

#include <vector>

#include "personalization/batches.h"
#include "platform/rpc_policy.h"
#include "proto/perso.grpc.pb.h"

namespace tessera::perso_service {

class PersoHandlers final : public v1::Personalization::Service {
 public:
  explicit PersoHandlers(personalization::Batches& batches) : batches_(batches) {}

  grpc::Status CreateBatch(grpc::ServerContext* context, const v1::CreateBatchRequest* request,
                           v1::Batch* response) override;
  grpc::Status RunBatch(grpc::ServerContext* context, const v1::BatchChange* request,
                        v1::Batch* response) override;
  grpc::Status PauseBatch(grpc::ServerContext* context, const v1::BatchChange* request,
                          v1::Batch* response) override;
  grpc::Status CancelBatch(grpc::ServerContext* context, const v1::BatchChange* request,
                           v1::Batch* response) override;
  grpc::Status GetBatch(grpc::ServerContext* context, const v1::GetBatchRequest* request,
                        v1::Batch* response) override;
  grpc::Status ListBatches(grpc::ServerContext* context, const v1::ListBatchesRequest* request,
                           v1::ListBatchesResponse* response) override;
  grpc::Status WatchBatch(grpc::ServerContext* context, const v1::WatchBatchRequest* request,
                          grpc::ServerWriter<v1::Batch>* writer) override;

 private:
  grpc::Status Change(grpc::ServerContext* context, const v1::BatchChange& request,
                      personalization::BatchAction action, v1::Batch* response);

  personalization::Batches& batches_;
};

// Who may call what on tessera-perso: batches are the Ministry's (the CLI's service
// certificate, until card sessions come); nothing else is served.
std::vector<RpcRule> PersoPolicy();

}  // namespace tessera::perso_service
