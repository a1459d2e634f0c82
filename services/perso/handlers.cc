#include "services/perso/handlers.h"

#include <chrono>
#include <optional>
#include <thread>

#include "absl/strings/str_cat.h"
#include "platform/clock.h"
#include "platform/grpc_status.h"
#include "platform/rpc_server.h"
#include "services/sessions/registry_sessions.h"

namespace tessera::perso_service {
namespace {

constexpr char kService[] = "/tessera.v1.Personalization/";
constexpr char kDispatch[] = "tessera-dispatch";

v1::BatchState StateToProto(personalization::BatchState state) {
  switch (state) {
    case personalization::BatchState::kCreated:
      return v1::BATCH_CREATED;
    case personalization::BatchState::kRunning:
      return v1::BATCH_RUNNING;
    case personalization::BatchState::kPaused:
      return v1::BATCH_PAUSED;
    case personalization::BatchState::kCancelled:
      return v1::BATCH_CANCELLED;
    case personalization::BatchState::kFinished:
      return v1::BATCH_FINISHED;
  }
  return v1::BATCH_STATE_UNSPECIFIED;
}

void ToProto(const personalization::Batch& b, Clock::TimePoint now, v1::Batch* out) {
  out->set_id(b.id);
  out->set_name(b.name);
  out->mutable_reach()->set_province_sigla(b.reach.province_sigla);
  out->mutable_reach()->set_istat(b.reach.istat);
  for (const std::string& o : b.reach.orders) out->mutable_reach()->add_orders(o);
  out->set_state(StateToProto(b.state));
  out->set_created_by(b.created_by);
  out->set_created_at(UtcText(b.created_at));
  out->set_updated_at(UtcText(b.updated_at));
  const personalization::BatchProgress& p = b.progress;
  out->set_cards_produced(static_cast<uint32_t>(p.cards_produced));
  out->set_cards_failed(static_cast<uint32_t>(p.cards_failed));
  out->set_workstations_produced(static_cast<uint32_t>(p.workstations_produced));
  out->set_workstations_failed(static_cast<uint32_t>(p.workstations_failed));
  out->set_open_orders(static_cast<uint32_t>(std::max(p.open_orders, 0)));
  out->set_cards_per_second(p.cards_per_second);
  out->set_eta_seconds(p.open_orders < 0 || p.cards_per_second <= 0
                           ? (p.open_orders == 0 ? 0 : -1)
                           : static_cast<int64_t>(p.open_orders / p.cards_per_second + 0.5));
  for (const personalization::ReaderStatus& r : b.readers) {
    v1::ReaderStatus* reader = out->add_readers();
    reader->set_station(r.station);
    reader->set_reader(static_cast<uint32_t>(r.reader));
    reader->set_card_number(r.card_number);
    reader->set_step(r.step);
    reader->set_waiting_for(r.waiting_for);
    if (!r.card_number.empty()) {
      reader->set_seconds_on_card(
          std::chrono::duration_cast<std::chrono::seconds>(now - r.card_since).count());
    }
  }
  for (const std::string& f : p.recent_failures) out->add_recent_failures(f);
}

personalization::BatchReach ReachFromProto(const v1::BatchReach& reach) {
  return {reach.province_sigla(), reach.istat(), {reach.orders().begin(), reach.orders().end()}};
}

void ToProto(const personalization::Lot& lot, v1::Lot* out) {
  out->set_lot_number(lot.number);
  out->set_batch_id(lot.batch_id);
  out->set_office(lot.office);
  out->set_office_name(lot.office_name);
  out->set_prefettura(lot.prefettura);
  out->set_sealed_at(UtcText(lot.sealed_at));
  out->set_cards_file(lot.cards_file);
  out->set_envelopes_file(lot.printed ? "" : lot.envelopes_file);
  out->set_printed(lot.printed);
  out->set_handed_over(lot.handed_over);
  for (const personalization::LotCard& card : lot.cards) {
    v1::LotCard* c = out->add_cards();
    c->set_card_number(card.card_number);
    c->set_codice_fiscale(card.codice_fiscale);
    c->set_surname(card.surname);
    c->set_name(card.name);
    c->set_certificate(std::string(card.certificate.begin(), card.certificate.end()));
  }
}

bool Ended(personalization::BatchState state) {
  return state == personalization::BatchState::kCancelled ||
         state == personalization::BatchState::kFinished;
}

}  // namespace

grpc::Status PersoHandlers::CreateBatch(grpc::ServerContext* context,
                                        const v1::CreateBatchRequest* request,
                                        v1::Batch* response) {
  absl::StatusOr<Actor> actor = ActorOf(*context);
  if (!actor.ok()) return ToGrpcStatus(actor.status());
  absl::StatusOr<personalization::BatchStore::Created> created = batches_.Create(
      request->name(), ReachFromProto(request->reach()), {*actor, request->request_id()});
  if (!created.ok()) return ToGrpcStatus(created.status());
  ToProto(created->batch, SystemClock().Now(), response);
  return grpc::Status::OK;
}

grpc::Status PersoHandlers::Change(grpc::ServerContext* context, const v1::BatchChange& request,
                                   personalization::BatchAction action, v1::Batch* response) {
  absl::StatusOr<Actor> actor = ActorOf(*context);
  if (!actor.ok()) return ToGrpcStatus(actor.status());
  absl::StatusOr<personalization::Batch> batch =
      batches_.Change(request.id(), action, {*actor, request.request_id()});
  if (!batch.ok()) return ToGrpcStatus(batch.status());
  ToProto(*batch, SystemClock().Now(), response);
  return grpc::Status::OK;
}

grpc::Status PersoHandlers::RunBatch(grpc::ServerContext* context, const v1::BatchChange* request,
                                     v1::Batch* response) {
  return Change(context, *request, personalization::BatchAction::kRun, response);
}

grpc::Status PersoHandlers::PauseBatch(grpc::ServerContext* context, const v1::BatchChange* request,
                                       v1::Batch* response) {
  return Change(context, *request, personalization::BatchAction::kPause, response);
}

grpc::Status PersoHandlers::CancelBatch(grpc::ServerContext* context,
                                        const v1::BatchChange* request, v1::Batch* response) {
  return Change(context, *request, personalization::BatchAction::kCancel, response);
}

grpc::Status PersoHandlers::GetBatch(grpc::ServerContext*, const v1::GetBatchRequest* request,
                                     v1::Batch* response) {
  absl::StatusOr<personalization::Batch> batch = batches_.Get(request->id());
  if (!batch.ok()) return ToGrpcStatus(batch.status());
  ToProto(*batch, SystemClock().Now(), response);
  return grpc::Status::OK;
}

grpc::Status PersoHandlers::ListBatches(grpc::ServerContext*, const v1::ListBatchesRequest* request,
                                        v1::ListBatchesResponse* response) {
  absl::StatusOr<std::vector<personalization::Batch>> batches =
      batches_.List(request->include_ended());
  if (!batches.ok()) return ToGrpcStatus(batches.status());
  const Clock::TimePoint now = SystemClock().Now();
  for (const personalization::Batch& b : *batches) ToProto(b, now, response->add_batches());
  return grpc::Status::OK;
}

grpc::Status PersoHandlers::WatchBatch(grpc::ServerContext* context,
                                       const v1::WatchBatchRequest* request,
                                       grpc::ServerWriter<v1::Batch>* writer) {
  const uint32_t interval_ms = request->interval_ms() == 0 ? 1000 : request->interval_ms();
  if (interval_ms < 200 || interval_ms > 10000) {
    return ToGrpcStatus(absl::InvalidArgumentError("interval_ms: 200 to 10000 (default 1000)"));
  }
  std::optional<personalization::Batch> last;
  for (;;) {
    absl::StatusOr<personalization::Batch> batch = batches_.Get(request->id());
    if (!batch.ok() && (!last || batch.status().code() != absl::StatusCode::kUnavailable)) {
      return ToGrpcStatus(batch.status());
    }
    if (batch.ok()) {
      last = *batch;
    } else if (own_readers_) {
      // The database is away: the watcher keeps the last counts it saw and this daemon's
      // readers as they are, each saying what it waits for.
      last->readers = own_readers_();
      for (personalization::ReaderStatus& r : last->readers) {
        if (r.waiting_for.empty())
          r.waiting_for = absl::StrCat("database: ", batch.status().message());
      }
    }
    v1::Batch update;
    ToProto(*last, SystemClock().Now(), &update);
    if (!writer->Write(update) || Ended(last->state)) return grpc::Status::OK;
    // In short naps, so a caller that went away frees the thread soon.
    const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(interval_ms);
    while (std::chrono::steady_clock::now() < until) {
      if (context->IsCancelled()) return grpc::Status::CANCELLED;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }
}

grpc::Status PersoHandlers::ConfirmPrinted(grpc::ServerContext* context,
                                           const v1::BatchChange* request,
                                           v1::ConfirmPrintedResponse* response) {
  absl::StatusOr<Actor> actor = ActorOf(*context);
  if (!actor.ok()) return ToGrpcStatus(actor.status());
  // The batch must exist; its lots are confirmed once whatever the retries.
  if (absl::StatusOr<personalization::Batch> batch = batches_.Get(request->id()); !batch.ok()) {
    return ToGrpcStatus(batch.status());
  }
  absl::StatusOr<std::vector<std::string>> confirmed =
      lot_desk_.ConfirmPrinted(request->id(), {*actor, request->request_id()});
  if (!confirmed.ok()) return ToGrpcStatus(confirmed.status());
  for (const std::string& lot : *confirmed) response->add_lots(lot);
  return grpc::Status::OK;
}

grpc::Status PersoHandlers::ListLots(grpc::ServerContext*, const v1::ListLotsRequest* request,
                                     v1::ListLotsResponse* response) {
  absl::StatusOr<std::vector<personalization::Lot>> lots =
      lots_.List(request->include_handed_over());
  if (!lots.ok()) return ToGrpcStatus(lots.status());
  for (const personalization::Lot& lot : *lots) ToProto(lot, response->add_lots());
  return grpc::Status::OK;
}

grpc::Status PersoHandlers::GetLot(grpc::ServerContext*, const v1::GetLotRequest* request,
                                   v1::Lot* response) {
  absl::StatusOr<personalization::Lot> lot = lots_.Get(request->lot_number());
  if (!lot.ok()) return ToGrpcStatus(lot.status());
  ToProto(*lot, response);
  return grpc::Status::OK;
}

grpc::Status PersoHandlers::HandOverLot(grpc::ServerContext* context,
                                        const v1::HandOverLotRequest* request, v1::Lot* response) {
  absl::StatusOr<Actor> actor = ActorOf(*context);
  if (!actor.ok()) return ToGrpcStatus(actor.status());
  if (absl::Status s = lots_.HandOver(request->lot_number(), actor->name, SystemClock().Now());
      !s.ok()) {
    return ToGrpcStatus(s);
  }
  v1::GetLotRequest taken;
  taken.set_lot_number(request->lot_number());
  return GetLot(context, &taken, response);
}

grpc::Status PersoHandlers::ReleaseMailHalves(grpc::ServerContext* context,
                                              const v1::ReleaseMailHalvesRequest* request,
                                              v1::MailHalves* response) {
  absl::StatusOr<Actor> actor = ActorOf(*context);
  if (!actor.ok()) return ToGrpcStatus(actor.status());
  absl::StatusOr<personalization::MailHalves> halves =
      lot_desk_.ReleaseMailHalves(request->card_number(), {*actor, request->request_id()});
  if (!halves.ok()) return ToGrpcStatus(halves.status());
  response->set_pin_half(std::string(halves->pin.view()));
  response->set_puk_half(std::string(halves->puk.view()));
  response->set_password_half(std::string(halves->password.view()));
  return grpc::Status::OK;
}

std::vector<RpcRule> PersoPolicy(std::shared_ptr<const access::SessionGate> gate) {
  const std::string s = kService;
  const std::vector<PrincipalKind> service = {PrincipalKind::kService};
  // The Ministry: an operator's session at its machine (its CLI's certificate alone only during
  // the bootstrap, sessions::MinistryRightAt).
  const sessions::MinistryRight ministry = sessions::MinistryRightAt(gate);
  auto for_ministry = [&](const std::string& method, const std::string& why) {
    return RpcRule{s + method, {}, {}, why, ministry.certificate, ministry.persons};
  };
  return {
      for_ministry("CreateBatch", "the Ministry runs issuance batches"),
      for_ministry("RunBatch", "the Ministry runs issuance batches"),
      for_ministry("PauseBatch", "the Ministry runs issuance batches"),
      for_ministry("CancelBatch", "the Ministry runs issuance batches"),
      for_ministry("GetBatch", "the Ministry follows its batches"),
      for_ministry("ListBatches", "the Ministry follows its batches"),
      for_ministry("WatchBatch", "the Ministry follows its batches"),
      for_ministry("ConfirmPrinted", "the Ministry's print room confirms envelopes"),
      {s + "ListLots",
       service,
       {kDispatch},
       "lots go from personalization to dispatch; the Ministry follows them",
       ministry.certificate,
       ministry.persons},
      {s + "GetLot",
       service,
       {kDispatch},
       "lots go from personalization to dispatch; the Ministry follows them",
       ministry.certificate,
       ministry.persons},
      {s + "HandOverLot", service, {kDispatch}, "only the dispatch service takes lots over"},
      {s + "ReleaseMailHalves",
       service,
       {kDispatch},
       "only the dispatch service mails holders their second halves"},
  };
}

}  // namespace tessera::perso_service
