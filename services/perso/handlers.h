// gRPC handlers of tessera-perso: protos in, batch calls, protos out. The only rule here is
// who may call what (PersoPolicy).
#pragma once

#include <functional>
#include <memory>
#include <vector>

#include "access/session_gate.h"
#include "personalization/batches.h"
#include "personalization/lots.h"
#include "platform/rpc_policy.h"
#include "proto/perso.grpc.pb.h"

namespace tessera::perso_service {

class PersoHandlers final : public v1::Personalization::Service {
 public:
  // `own_readers` gives this daemon's readers as they are now (Station::Readers), for a watcher
  // while the database cannot be read.
  PersoHandlers(personalization::Batches& batches, personalization::LotDesk& lot_desk,
                personalization::LotStore& lots,
                std::function<std::vector<personalization::ReaderStatus>()> own_readers = {})
      : batches_(batches), lot_desk_(lot_desk), lots_(lots), own_readers_(std::move(own_readers)) {}

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
  grpc::Status ConfirmPrinted(grpc::ServerContext* context, const v1::BatchChange* request,
                              v1::ConfirmPrintedResponse* response) override;
  grpc::Status ListLots(grpc::ServerContext* context, const v1::ListLotsRequest* request,
                        v1::ListLotsResponse* response) override;
  grpc::Status GetLot(grpc::ServerContext* context, const v1::GetLotRequest* request,
                      v1::Lot* response) override;
  grpc::Status HandOverLot(grpc::ServerContext* context, const v1::HandOverLotRequest* request,
                           v1::Lot* response) override;
  grpc::Status ReleaseMailHalves(grpc::ServerContext* context,
                                 const v1::ReleaseMailHalvesRequest* request,
                                 v1::MailHalves* response) override;

 private:
  grpc::Status Change(grpc::ServerContext* context, const v1::BatchChange& request,
                      personalization::BatchAction action, v1::Batch* response);

  personalization::Batches& batches_;
  personalization::LotDesk& lot_desk_;
  personalization::LotStore& lots_;
  std::function<std::vector<personalization::ReaderStatus>()> own_readers_;
};

// Who may call what on tessera-perso: batches and print confirmations are the Ministry's (the
// CLI's service certificate, until card sessions come); lots are listed for the Ministry and
// the dispatch service, and handed over only to the dispatch service.
std::vector<RpcRule> PersoPolicy(std::shared_ptr<const access::SessionGate> gate);

}  // namespace tessera::perso_service
