#include "services/dispatch/handlers.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "platform/clock.h"
#include "platform/grpc_status.h"
#include "platform/rpc_server.h"
#include "platform/status_macros.h"
#include "services/outbox/outbox_rpcs.h"
#include "services/sessions/registry_sessions.h"

namespace tessera::dispatch_service {
namespace {

constexpr char kService[] = "/tessera.v1.Dispatch/";
// The profiles (census keys) of who hands cards over at a prefettura and registers them at a
// comune: its security administrator; at a comune also the mayor (who registers the
// administrator's card).
constexpr char kSecurityAdministrator[] = "amministratore_sicurezza";
constexpr char kMayor[] = "sindaco_delegato";

void ToProto(const dispatch::LotSummary& lot, v1::DispatchLot* out) {
  out->set_lot_number(lot.lot_number);
  out->set_office(lot.office);
  out->set_office_name(lot.office_name);
  out->set_cards(static_cast<uint32_t>(lot.cards));
  out->set_to_deliver(static_cast<uint32_t>(lot.to_deliver));
  out->set_state(lot.state());
  out->set_taken_over_at(UtcText(lot.taken_over_at));
}

void ToProto(const dispatch::DispatchCard& card, v1::DispatchCard* out) {
  out->set_card_number(card.card_number);
  out->set_codice_fiscale(card.codice_fiscale);
  out->set_surname(card.surname);
  out->set_name(card.name);
  out->set_subject_dn(card.subject_dn);
  out->set_state(card.state);
  out->set_protocol(card.protocol);
}

void ToProto(const dispatch::Person& person, v1::DispatchPerson* out) {
  out->set_codice_fiscale(person.codice_fiscale);
  out->set_surname(person.surname);
  out->set_name(person.name);
}

void ToProto(const dispatch::Delivery& delivery, v1::Delivery* out) {
  out->set_protocol(delivery.protocol);
  out->set_delivered_at(UtcText(delivery.at));
  out->set_prefettura(delivery.prefettura);
  out->set_office(delivery.office);
  out->set_office_name(delivery.office_name);
  ToProto(delivery.collector, out->mutable_collector());
  ToProto(delivery.operator_person, out->mutable_operator_());
  for (const dispatch::DispatchCard& card : delivery.cards) ToProto(card, out->add_cards());
  out->set_repeated(delivery.repeated);
}

}  // namespace

absl::StatusOr<DispatchHandlers::Acting> DispatchHandlers::ActingOf(
    const grpc::ServerContext& context) const {
  TESSERA_ASSIGN_OR_RETURN(Principal caller, CallerOf(context));
  const std::string requested_by =
      absl::StrCat(std::string(PrincipalKindName(caller.kind)), ":", caller.name);
  if (caller.session.has_value()) return Acting{*caller.session, requested_by};
  if (sessions::ActsForMinistry(caller, gate_.get())) {
    return Acting{dispatch::MinistryBootstrapSession(), requested_by};
  }
  return absl::PermissionDeniedError("a person's card session is needed");
}

grpc::Status DispatchHandlers::ListLots(grpc::ServerContext* context,
                                        const v1::ListDispatchLotsRequest* request,
                                        v1::ListDispatchLotsResponse* response) {
  absl::StatusOr<Acting> acting = ActingOf(*context);
  if (!acting.ok()) return ToGrpcStatus(acting.status());
  if (request->page_size() > 500) {
    return ToGrpcStatus(absl::InvalidArgumentError("page_size: at most 500"));
  }
  const int page_size = request->page_size() == 0 ? 50 : static_cast<int>(request->page_size());
  // The page token is the last lot number of the page before.
  absl::StatusOr<std::vector<dispatch::LotSummary>> lots =
      desk_.ListLots(acting->session, request->office(), request->page_token(), page_size + 1);
  if (!lots.ok()) return ToGrpcStatus(lots.status());
  const bool more = lots->size() > static_cast<size_t>(page_size);
  if (more) lots->resize(static_cast<size_t>(page_size));
  for (const dispatch::LotSummary& lot : *lots) ToProto(lot, response->add_lots());
  if (more) response->set_next_page_token(lots->back().lot_number);
  return grpc::Status::OK;
}

grpc::Status DispatchHandlers::ListLotCards(grpc::ServerContext* context,
                                            const v1::ListLotCardsRequest* request,
                                            v1::ListLotCardsResponse* response) {
  absl::StatusOr<Acting> acting = ActingOf(*context);
  if (!acting.ok()) return ToGrpcStatus(acting.status());
  absl::StatusOr<dispatch::LotAndCards> lot =
      desk_.LotCards(acting->session, request->lot_number());
  if (!lot.ok()) return ToGrpcStatus(lot.status());
  ToProto(lot->lot, response->mutable_lot());
  for (const dispatch::DispatchCard& card : lot->cards) ToProto(card, response->add_cards());
  return grpc::Status::OK;
}

grpc::Status DispatchHandlers::StartDelivery(grpc::ServerContext* context,
                                             const v1::StartDeliveryRequest* request,
                                             v1::StartDeliveryResponse* response) {
  absl::StatusOr<Acting> acting = ActingOf(*context);
  if (!acting.ok()) return ToGrpcStatus(acting.status());
  absl::StatusOr<dispatch::CensusEntry> collector =
      desk_.StartDelivery(acting->session, request->office(), request->collector_cf());
  if (!collector.ok()) return ToGrpcStatus(collector.status());
  v1::DispatchPerson* out = response->mutable_collector();
  ToProto(collector->person, out);
  for (const std::string& profile : collector->profiles) out->add_profiles(profile);
  return grpc::Status::OK;
}

grpc::Status DispatchHandlers::Deliver(grpc::ServerContext* context,
                                       const v1::DeliverRequest* request, v1::Delivery* response) {
  absl::StatusOr<Acting> acting = ActingOf(*context);
  if (!acting.ok()) return ToGrpcStatus(acting.status());
  absl::StatusOr<dispatch::Delivery> delivery = desk_.Deliver(
      acting->session, acting->requested_by,
      {.office = request->office(),
       .lot_number = request->lot_number(),
       .card_numbers = {request->card_numbers().begin(), request->card_numbers().end()},
       .collector_cf = request->collector_cf(),
       .request_id = request->request_id()});
  if (!delivery.ok()) return ToGrpcStatus(delivery.status());
  ToProto(*delivery, response);
  return grpc::Status::OK;
}

grpc::Status DispatchHandlers::GetDelivery(grpc::ServerContext* context,
                                           const v1::GetDeliveryRequest* request,
                                           v1::Delivery* response) {
  absl::StatusOr<Acting> acting = ActingOf(*context);
  if (!acting.ok()) return ToGrpcStatus(acting.status());
  absl::StatusOr<dispatch::Delivery> delivery =
      desk_.GetDelivery(acting->session, request->protocol());
  if (!delivery.ok()) return ToGrpcStatus(delivery.status());
  ToProto(*delivery, response);
  return grpc::Status::OK;
}

grpc::Status DispatchHandlers::GetReceipt(grpc::ServerContext* context,
                                          const v1::GetDeliveryRequest* request,
                                          v1::Receipt* response) {
  absl::StatusOr<Acting> acting = ActingOf(*context);
  if (!acting.ok()) return ToGrpcStatus(acting.status());
  absl::StatusOr<std::string> pdf = desk_.Receipt(acting->session, request->protocol());
  if (!pdf.ok()) return ToGrpcStatus(pdf.status());
  response->set_protocol(request->protocol());
  response->set_pdf(*std::move(pdf));
  return grpc::Status::OK;
}

grpc::Status DispatchHandlers::RegisterCard(grpc::ServerContext* context,
                                            const v1::RegisterCardRequest* request,
                                            v1::Registration* response) {
  absl::StatusOr<Acting> acting = ActingOf(*context);
  if (!acting.ok()) return ToGrpcStatus(acting.status());
  absl::StatusOr<dispatch::Registered> registered =
      desk_.RegisterCard(acting->session, acting->requested_by,
                         {.codice_fiscale = request->codice_fiscale(),
                          .card_number = request->card_number(),
                          .request_id = request->request_id()});
  if (!registered.ok()) return ToGrpcStatus(registered.status());
  const dispatch::Registration& r = registered->registration;
  ToProto(r.card, response->mutable_card());
  ToProto(r.holder, response->mutable_holder());
  ToProto(r.registered_by, response->mutable_registered_by());
  response->set_registered_at(UtcText(r.at));
  response->set_holder_form_pdf(registered->holder_form_pdf);
  response->set_repeated(r.repeated);
  return grpc::Status::OK;
}

grpc::Status DispatchHandlers::ResendHalves(grpc::ServerContext* context,
                                            const v1::ResendHalvesRequest* request,
                                            v1::ResendHalvesResponse* response) {
  absl::StatusOr<Acting> acting = ActingOf(*context);
  if (!acting.ok()) return ToGrpcStatus(acting.status());
  absl::StatusOr<std::string> sent_to = desk_.ResendHalves(
      acting->session, acting->requested_by, request->card_number(), request->request_id());
  if (!sent_to.ok()) return ToGrpcStatus(sent_to.status());
  response->set_sent_to(*sent_to);
  return grpc::Status::OK;
}

grpc::Status DispatchHandlers::ListOutbox(grpc::ServerContext*,
                                          const v1::ListOutboxRequest* request,
                                          v1::ListOutboxResponse* response) {
  return outbox_service::ListOutbox(outbox_, *request, response);
}

grpc::Status DispatchHandlers::RetryOutbox(grpc::ServerContext*,
                                           const v1::RetryOutboxRequest* request,
                                           v1::RetryOutboxResponse* response) {
  return outbox_service::RetryOutbox(outbox_, *request, response);
}

std::vector<RpcRule> DispatchPolicy(std::shared_ptr<const access::SessionGate> gate) {
  const std::string s = kService;
  const sessions::MinistryRight ministry = sessions::MinistryRightAt(gate);
  std::vector<PersonGrant> desk = ministry.persons;
  desk.push_back({kSecurityAdministrator, "prefettura"});
  auto at_the_desk = [&](const std::string& method, const std::string& why) {
    return RpcRule{s + method, {}, {}, why, ministry.certificate, desk};
  };
  // What a comune reads of its own lots and deliveries: the desk's people and its own.
  std::vector<PersonGrant> readers = desk;
  readers.push_back({kSecurityAdministrator, "comune"});
  readers.push_back({kMayor, "comune"});
  auto to_read = [&](const std::string& method, const std::string& why) {
    return RpcRule{s + method, {}, {}, why, ministry.certificate, readers};
  };
  return {
      to_read("ListLots",
              "a prefettura's security administrator, for its own and its province's comuni's "
              "lots; the Ministry for every lot; a comune's security administrator or mayor for "
              "its own (office checked by the desk)"),
      to_read("ListLotCards", "as ListLots, for the lot's office"),
      at_the_desk("StartDelivery",
                  "a prefettura's security administrator for its own and its province's comuni's "
                  "cards; the Ministry for every office (checked by the desk)"),
      at_the_desk("Deliver", "as StartDelivery, for the lot's office"),
      to_read("GetDelivery", "as ListLots, for the delivery's office"),
      to_read("GetReceipt", "as ListLots, for the delivery's office (a receipt's reprint)"),
      {s + "ListOutbox",
       {},
       {},
       "the Ministry follows the outbox",
       ministry.certificate,
       ministry.persons},
      {s + "RetryOutbox",
       {},
       {},
       "the Ministry sends mails given up again",
       ministry.certificate,
       ministry.persons},
      {s + "RegisterCard",
       {},
       {},
       "a comune's security administrator or mayor, for its own users' cards",
       {},
       {{kSecurityAdministrator, "comune"}, {kMayor, "comune"}}},
      {s + "ResendHalves",
       {},
       {},
       "a comune's security administrator or mayor, for its own users' cards",
       {},
       {{kSecurityAdministrator, "comune"}, {kMayor, "comune"}}},
  };
}

}  // namespace tessera::dispatch_service
