// tessera delivery … and tessera deliver: the lots at the prefettura on tessera-dispatch, the
// collector's check, the delivery itself and a recorded delivery by its protocol number.

#include <CLI/CLI.hpp>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "cli/common.h"
#include "platform/files.h"
#include "platform/status_macros.h"
#include "proto/dispatch.grpc.pb.h"
#include "proto/registry.grpc.pb.h"

namespace tessera::cli {
namespace {

nlohmann::json ToJson(const v1::DispatchLot& lot) {
  return {{"lot_number", lot.lot_number()},      {"office", lot.office()},
          {"office_name", lot.office_name()},    {"cards", lot.cards()},
          {"to_deliver", lot.to_deliver()},      {"state", lot.state()},
          {"taken_over_at", lot.taken_over_at()}};
}

nlohmann::json ToJson(const v1::DispatchCard& card) {
  return {{"card_number", card.card_number()}, {"codice_fiscale", card.codice_fiscale()},
          {"surname", card.surname()},         {"name", card.name()},
          {"subject_dn", card.subject_dn()},   {"state", card.state()},
          {"protocol", card.protocol()}};
}

nlohmann::json ToJson(const v1::DispatchPerson& person) {
  return {
      {"codice_fiscale", person.codice_fiscale()},
      {"surname", person.surname()},
      {"name", person.name()},
      {"profiles", std::vector<std::string>(person.profiles().begin(), person.profiles().end())}};
}

std::string CardLines(const google::protobuf::RepeatedPtrField<v1::DispatchCard>& cards) {
  std::string text;
  for (const v1::DispatchCard& c : cards) {
    absl::StrAppend(&text, absl::StrFormat("\n  %s  %-16s  %-24s  %-10s  %s", c.card_number(),
                                           c.codice_fiscale(), c.surname() + " " + c.name(),
                                           c.state(), c.protocol().empty() ? "-" : c.protocol()));
  }
  return text;
}

absl::Status PrintDelivery(const Args& args, const v1::Delivery& d) {
  nlohmann::json cards = nlohmann::json::array();
  for (const v1::DispatchCard& c : d.cards()) cards.push_back(ToJson(c));
  const std::string who = [](const v1::DispatchPerson& p) {
    return absl::StrCat(p.surname(), " ", p.name(),
                        p.codice_fiscale().empty() ? "" : " (" + p.codice_fiscale() + ")");
  }(d.operator_());
  Print(args,
        {{"protocol", d.protocol()},
         {"delivered_at", d.delivered_at()},
         {"prefettura", d.prefettura()},
         {"office", d.office()},
         {"office_name", d.office_name()},
         {"collector", ToJson(d.collector())},
         {"operator", ToJson(d.operator_())},
         {"cards", cards},
         {"repeated", d.repeated()}},
        absl::StrFormat(
            "Prot. N° %s of %s%s: %d card(s) of %s handed to %s %s (%s) by %s%s", d.protocol(),
            d.delivered_at(),
            d.prefettura().empty() ? " at the Ministry" : " at the prefettura of " + d.prefettura(),
            d.cards_size(), d.office_name(), d.collector().surname(), d.collector().name(),
            d.collector().codice_fiscale(), who,
            d.repeated() ? " (recorded before: this is the same delivery)" : "") +
            CardLines(d.cards()));
  return absl::OkStatus();
}

// The delivery's receipt (two copies, one PDF) written to `path`.
absl::Status WriteReceipt(v1::Dispatch::Stub& dispatch, const std::string& protocol,
                          const std::string& path) {
  v1::GetDeliveryRequest request;
  request.set_protocol(protocol);
  grpc::ClientContext context;
  v1::Receipt receipt;
  TESSERA_RETURN_IF_ERROR(FromGrpc(dispatch.GetReceipt(&context, request, &receipt)));
  return WriteFile(path, receipt.pdf());
}

absl::Status Receipt(const Args& args) {
  TESSERA_ASSIGN_OR_RETURN(auto dispatch, StubAt<v1::Dispatch>(args));
  TESSERA_RETURN_IF_ERROR(WriteReceipt(*dispatch, args.Get("PROTOCOL"), args.Get("out")));
  Print(args, {{"protocol", args.Get("PROTOCOL")}, {"receipt", args.Get("out")}},
        absl::StrCat("receipt of ", args.Get("PROTOCOL"),
                     " (two copies: for the prefettura, to "
                     "sign and keep; for the comune): ",
                     args.Get("out")));
  return absl::OkStatus();
}

absl::Status DeliveryLots(const Args& args) {
  TESSERA_ASSIGN_OR_RETURN(auto dispatch, StubAt<v1::Dispatch>(args));
  nlohmann::json list = nlohmann::json::array();
  std::string text = absl::StrFormat("%-12s %-28s %-12s %-13s %s", "NUMERO LOTTO", "office",
                                     "NUMERO CARTE", "DA CONSEGNARE", "STATO LOTTO");
  v1::ListDispatchLotsRequest request;
  request.set_office(args.Get("office"));
  request.set_page_size(500);
  do {  // every page
    grpc::ClientContext context;
    v1::ListDispatchLotsResponse page;
    TESSERA_RETURN_IF_ERROR(FromGrpc(dispatch->ListLots(&context, request, &page)));
    for (const v1::DispatchLot& lot : page.lots()) {
      list.push_back(ToJson(lot));
      absl::StrAppend(&text, absl::StrFormat("\n%-12s %-28s %-12d %-13d %s", lot.lot_number(),
                                             lot.office_name().substr(0, 28), lot.cards(),
                                             lot.to_deliver(), lot.state()));
    }
    request.set_page_token(page.next_page_token());
  } while (!request.page_token().empty());
  Print(args, {{"lots", list}}, text);
  return absl::OkStatus();
}

absl::Status DeliveryCards(const Args& args) {
  TESSERA_ASSIGN_OR_RETURN(auto dispatch, StubAt<v1::Dispatch>(args));
  v1::ListLotCardsRequest request;
  request.set_lot_number(args.Get("LOT"));
  grpc::ClientContext context;
  v1::ListLotCardsResponse response;
  TESSERA_RETURN_IF_ERROR(FromGrpc(dispatch->ListLotCards(&context, request, &response)));
  nlohmann::json cards = nlohmann::json::array();
  for (const v1::DispatchCard& c : response.cards()) cards.push_back(ToJson(c));
  const v1::DispatchLot& lot = response.lot();
  Print(args, {{"lot", ToJson(lot)}, {"cards", cards}},
        absl::StrFormat("lot %s of %s: %d card(s), %d to deliver, %s", lot.lot_number(),
                        lot.office_name(), lot.cards(), lot.to_deliver(), lot.state()) +
            CardLines(response.cards()));
  return absl::OkStatus();
}

absl::Status DeliveryStart(const Args& args) {
  TESSERA_ASSIGN_OR_RETURN(auto dispatch, StubAt<v1::Dispatch>(args));
  v1::StartDeliveryRequest request;
  request.set_office(args.Get("office"));
  request.set_collector_cf(args.Get("collector"));
  grpc::ClientContext context;
  v1::StartDeliveryResponse response;
  TESSERA_RETURN_IF_ERROR(FromGrpc(dispatch->StartDelivery(&context, request, &response)));
  const v1::DispatchPerson& c = response.collector();
  Print(args, ToJson(c),
        absl::StrFormat("%s %s (%s) may collect the cards of %s: %s", c.surname(), c.name(),
                        c.codice_fiscale(), args.Get("office"), absl::StrJoin(c.profiles(), ", ")));
  return absl::OkStatus();
}

absl::Status Deliver(const Args& args) {
  TESSERA_ASSIGN_OR_RETURN(auto dispatch, StubAt<v1::Dispatch>(args));
  v1::DeliverRequest request;
  request.set_office(args.Get("office"));
  request.set_lot_number(args.Get("lot"));
  request.set_collector_cf(args.Get("collector"));
  for (const std::string& card : args.All("card")) request.add_card_numbers(card);
  // The same command run again is a retry of the same delivery.
  request.set_request_id(RequestIdOf(
      args, "deliver",
      absl::StrCat(request.office(), "|", request.lot_number(), "|", request.collector_cf(), "|",
                   absl::StrJoin(request.card_numbers(), ","))));
  grpc::ClientContext context;
  v1::Delivery delivery;
  TESSERA_RETURN_IF_ERROR(FromGrpc(dispatch->Deliver(&context, request, &delivery)));
  if (const std::string receipt = args.Get("receipt"); !receipt.empty()) {
    TESSERA_RETURN_IF_ERROR(WriteReceipt(*dispatch, delivery.protocol(), receipt));
  }
  return PrintDelivery(args, delivery);
}

absl::Status DeliveryShow(const Args& args) {
  TESSERA_ASSIGN_OR_RETURN(auto dispatch, StubAt<v1::Dispatch>(args));
  v1::GetDeliveryRequest request;
  request.set_protocol(args.Get("PROTOCOL"));
  grpc::ClientContext context;
  v1::Delivery delivery;
  TESSERA_RETURN_IF_ERROR(FromGrpc(dispatch->GetDelivery(&context, request, &delivery)));
  return PrintDelivery(args, delivery);
}

absl::Status Register(const Args& args) {
  TESSERA_ASSIGN_OR_RETURN(auto dispatch, StubAt<v1::Dispatch>(args));
  v1::RegisterCardRequest request;
  request.set_codice_fiscale(args.Get("codice-fiscale"));
  request.set_card_number(args.Get("card"));
  request.set_request_id(RequestIdOf(
      args, "register", absl::StrCat(request.codice_fiscale(), "|", request.card_number())));
  grpc::ClientContext context;
  v1::Registration r;
  TESSERA_RETURN_IF_ERROR(FromGrpc(dispatch->RegisterCard(&context, request, &r)));
  const std::string form = args.Get("form");
  if (!form.empty()) TESSERA_RETURN_IF_ERROR(WriteFile(form, r.holder_form_pdf()));
  Print(args,
        {{"card", ToJson(r.card())},
         {"holder", ToJson(r.holder())},
         {"registered_by", ToJson(r.registered_by())},
         {"registered_at", r.registered_at()},
         {"holder_form", form},
         {"repeated", r.repeated()}},
        absl::StrFormat("card %s registered to %s %s (%s): %s%s; their second halves are on their "
                        "way to their mailbox%s",
                        r.card().card_number(), r.holder().surname(), r.holder().name(),
                        r.holder().codice_fiscale(), r.card().state(),
                        r.repeated() ? " (recorded before: the same registration)" : "",
                        form.empty() ? "" : "; the form to sign: " + form));
  return absl::OkStatus();
}

absl::Status ResendHalves(const Args& args) {
  TESSERA_ASSIGN_OR_RETURN(auto dispatch, StubAt<v1::Dispatch>(args));
  v1::ResendHalvesRequest request;
  request.set_card_number(args.Get("card"));
  request.set_request_id(NewRequestIdOf(args, "resend-halves"));
  grpc::ClientContext context;
  v1::ResendHalvesResponse response;
  TESSERA_RETURN_IF_ERROR(FromGrpc(dispatch->ResendHalves(&context, request, &response)));
  Print(args, {{"card_number", request.card_number()}, {"sent_to", response.sent_to()}},
        absl::StrCat("second halves of card ", request.card_number(), " sent again to ",
                     response.sent_to()));
  return absl::OkStatus();
}

// ListOutbox or RetryOutbox at the service --of names: tessera-dispatch's outbox (second
// halves, notices) or tessera-registry's (daily passwords).
template <typename Request, typename Response>
absl::Status OutboxCall(const Args& args,
                        grpc::Status (v1::Dispatch::Stub::*at_dispatch)(grpc::ClientContext*,
                                                                        const Request&, Response*),
                        grpc::Status (v1::Registry::Stub::*at_registry)(grpc::ClientContext*,
                                                                        const Request&, Response*),
                        const Request& request, Response* response) {
  TESSERA_ASSIGN_OR_RETURN(std::shared_ptr<grpc::Channel> channel, ServiceChannel(args));
  grpc::ClientContext context;
  if (args.Get("of") == "registry") {
    return FromGrpc((*v1::Registry::NewStub(channel).*at_registry)(&context, request, response));
  }
  return FromGrpc((*v1::Dispatch::NewStub(channel).*at_dispatch)(&context, request, response));
}

absl::Status OutboxList(const Args& args) {
  v1::ListOutboxRequest request;
  request.set_state(args.Get("state"));
  request.set_page_size(1000);
  nlohmann::json list = nlohmann::json::array();
  std::string text = absl::StrFormat("%-6s %-20s %-8s %-3s %-36s %s", "id", "kind", "state", "try",
                                     "to", "last error");
  while (true) {  // every page
    v1::ListOutboxResponse page;
    TESSERA_RETURN_IF_ERROR(OutboxCall(args, &v1::Dispatch::Stub::ListOutbox,
                                       &v1::Registry::Stub::ListOutbox, request, &page));
    for (const v1::OutboxMail& m : page.mails()) {
      list.push_back({{"id", m.id()},
                      {"kind", m.kind()},
                      {"to", m.to()},
                      {"subject", m.subject()},
                      {"message_id", m.message_id()},
                      {"state", m.state()},
                      {"attempts", m.attempts()},
                      {"created_at", m.created_at()},
                      {"sent_at", m.sent_at()},
                      {"last_error", m.last_error()}});
      absl::StrAppend(
          &text, absl::StrFormat("\n%-6d %-20s %-8s %-3d %-36s %s", m.id(), m.kind(), m.state(),
                                 m.attempts(), m.to().substr(0, 36), m.last_error().substr(0, 60)));
    }
    if (page.mails_size() < 1000) break;
    request.set_after_id(page.mails(page.mails_size() - 1).id());
  }
  Print(args, {{"mails", list}}, text);
  return absl::OkStatus();
}

absl::Status OutboxRetry(const Args& args) {
  v1::RetryOutboxRequest request;
  for (const std::string& id : args.All("id")) {
    TESSERA_ASSIGN_OR_RETURN(int number, ParseDigits(id, 9, "--id: a mail's number"));
    request.add_ids(number);
  }
  v1::RetryOutboxResponse response;
  TESSERA_RETURN_IF_ERROR(OutboxCall(args, &v1::Dispatch::Stub::RetryOutbox,
                                     &v1::Registry::Stub::RetryOutbox, request, &response));
  Print(args, {{"retried", response.retried()}},
        absl::StrCat(response.retried(), " mail(s) given up are due again"));
  return absl::OkStatus();
}

void AddOffice(CLI::App& command) {
  command
      .add_option("--office",
                  "the lots' office: a comune's ISTAT code, a prefettura's province code "
                  "(057), or ministero")
      ->type_name("OFFICE")
      ->required();
}

}  // namespace

void AddDispatchCommands(CLI::App& app) {
  const std::string footer =
      ConnectsTo("tessera-dispatch") +
      " A prefettura's security administrator works with their card session (tessera login) "
      "for the prefettura's own and its province's comuni's lots.";
  CLI::App* delivery =
      AddGroup(app, "delivery", "lots at the prefettura and their deliveries", footer);
  AddOffice(*AddCommand(*delivery, "lots", "an office's lots: cards, left to deliver, state",
                        DeliveryLots));
  AddCommand(*delivery, "cards", "a lot's cards: holder, state, delivery", DeliveryCards)
      ->add_option("LOT", "the lot's number")
      ->required();
  CLI::App* start =
      AddCommand(*delivery, "start", "check who collects an office's cards", DeliveryStart,
                 "The collector must be the mayor or an operator censused for "
                 "the office; asked before any card is shown.");
  AddOffice(*start);
  start->add_option("--collector", "the collector's codice fiscale")->type_name("CF")->required();
  AddCommand(*delivery, "show", "a recorded delivery, by its protocol number", DeliveryShow)
      ->add_option("PROTOCOL", "e.g. RI-2026-000001")
      ->required();

  CLI::App* deliver = AddCommand(
      app, "deliver", "hand a lot's cards (all left, or --card …) to the collector", Deliver,
      "All or nothing, under a protocol number. The collector's own card is theirs at once and "
      "its second halves go to their personal mailbox; the others wait for registration. Run "
      "again, the same command answers the same delivery." +
          std::string(" ") + footer);
  AddOffice(*deliver);
  deliver->add_option("--lot", "the lot's number")->type_name("LOT")->required();
  deliver->add_option("--collector", "the collector's codice fiscale")->type_name("CF")->required();
  deliver->add_option("--card", "only this card (repeatable)")->type_name("CARD")->take_all();
  deliver->add_option("--receipt", "write the receipt's PDF here too")->type_name("FILE.pdf");
  AddRequestId(*deliver);

  CLI::App* receipt =
      AddCommand(app, "receipt", "a delivery's receipt, as a PDF (a reprint)", Receipt,
                 "Two copies in one file: for the prefettura (to sign "
                 "and keep) and for the comune. " +
                     footer);
  receipt->add_option("PROTOCOL", "e.g. RI-2026-000001")->required();
  receipt->add_option("--out", "the PDF file")->type_name("FILE.pdf")->required();

  const std::string at_the_comune =
      ConnectsTo("tessera-dispatch") +
      " The comune's security administrator (or its mayor) with their card session at one of "
      "the comune's workstations.";
  CLI::App* reg = AddCommand(
      app, "register", "register a delivered card to its holder (their halves are mailed)",
      Register,
      "The holder must be a user censused for the comune and the card theirs. The card becomes "
      "ATTIVA and the holder's second halves go to their personal mailbox. Run again, the same "
      "command answers the same registration. " +
          at_the_comune);
  reg->add_option("--codice-fiscale", "the holder")->type_name("CF")->required();
  reg->add_option("--card", "the card's number")->type_name("CARD")->required();
  reg->add_option("--form", "write the form the holder signs (PDF) here")->type_name("FILE.pdf");
  AddRequestId(*reg);
  CLI::App* resend = AddCommand(
      app, "resend-halves", "send an active card's second halves again (Invio PIN/PUK)",
      ResendHalves,
      "To the holder's personal mailbox as the census has it now (correct it there first). "
      "Each resend is recorded. " +
          at_the_comune);
  resend->add_option("--card", "the card's number")->type_name("CARD")->required();
  AddRequestId(*resend);

  CLI::App* outbox = AddGroup(
      app, "outbox", "a service's mail: what was sent, what waits",
      "Connects to tessera-dispatch (second halves, notices to the comuni's PEC; the default) or, "
      "with --of registry, to tessera-registry (daily passwords), at --target. The Ministry "
      "only.");
  const auto add_of = [](CLI::App& command) {
    command.add_option("--of", "whose outbox: the service --target names")
        ->type_name("SERVICE")
        ->check(CLI::IsMember({"dispatch", "registry"}))
        ->default_str("dispatch");
  };
  CLI::App* list = AddCommand(
      *outbox, "list", "the mails (never their bodies): state, attempts, last error", OutboxList);
  list->add_option("--state", "only these")
      ->type_name("STATE")
      ->check(CLI::IsMember({"waiting", "sent", "failed"}));
  add_of(*list);
  CLI::App* retry =
      AddCommand(*outbox, "retry", "send mails given up again (a sent mail never is)", OutboxRetry);
  retry->add_option("--id", "only this mail (repeatable); none: every one given up")
      ->type_name("N")
      ->take_all();
  add_of(*retry);
}

}  // namespace tessera::cli
