#include "dispatch/desk.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "dispatch/holder_form.h"
#include "platform/status_macros.h"

namespace tessera::dispatch {
namespace {

bool IsDigits(const std::string& text, size_t size) {
  return text.size() == size && std::all_of(text.begin(), text.end(), ::isdigit);
}

// The mail that carries a card's second halves to its holder (Italian, as the holders read it).
std::string HalvesMail(const Person& holder, const std::string& card_number, const Halves& halves) {
  const auto text = [](const Secret& secret) { return std::string(secret.view()); };
  std::string pin = text(halves.pin), puk = text(halves.puk), password = text(halves.password);
  std::string body = absl::StrCat(
      "Gentile ", holder.name, " ", holder.surname, ",\n\nla sua carta operatore ANPR n. ",
      card_number,
      " è ora attiva a suo nome. Qui trova la seconda metà di ciascun codice; la prima metà è "
      "nella busta sigillata consegnata con la carta. Il codice completo è la prima metà "
      "seguita dalla seconda.\n\nPIN, seconda metà:      ",
      pin, "\nPUK, seconda metà:      ", puk, "\nPassword, seconda metà: ", password,
      "\n\nNon inoltri questo messaggio e non conservi i codici insieme alla carta.\n");
  for (std::string* secret : {&pin, &puk, &password}) {
    std::fill(secret->begin(), secret->end(), '\0');
  }
  return body;
}

}  // namespace

PersonSession MinistryBootstrapSession() { return PersonSession{.office = "ministero"}; }

absl::StatusOr<std::optional<OfficeContact>> PlaceOnRecord(CensusDirectory& directory,
                                                           const std::string& office) {
  absl::StatusOr<OfficeContact> place = directory.Place(office);
  if (place.status().code() == absl::StatusCode::kNotFound) return std::nullopt;
  if (!place.ok()) return place.status();
  return *std::move(place);
}

std::string CensusOfficeOf(const std::string& lot_office) {
  if (IsDigits(lot_office, 6)) return "comune:" + lot_office;
  if (IsDigits(lot_office, 3)) return "prefettura:" + lot_office;
  return lot_office;  // "ministero"
}

absl::Status DeliveryDesk::CheckReach(const PersonSession& session,
                                      const std::string& office) const {
  if (session.office == "ministero") return absl::OkStatus();
  const std::string prefix = "prefettura:";
  if (session.office.starts_with(prefix)) {
    const std::string province = session.office.substr(prefix.size());
    if (office == province || (IsDigits(office, 6) && office.starts_with(province))) {
      return absl::OkStatus();
    }
  }
  return absl::PermissionDeniedError(
      absl::StrCat("office: ", CensusOfficeOf(office), " is not in the reach of ", session.office,
                   " (a prefettura delivers its own and its province's comuni's "
                   "cards)"));
}

absl::Status DeliveryDesk::CheckReadReach(const PersonSession& session,
                                          const std::string& office) const {
  if (session.office == "comune:" + office) return absl::OkStatus();  // a comune sees its own
  if (session.office.starts_with("comune:")) {
    return absl::PermissionDeniedError(absl::StrCat("office: ", CensusOfficeOf(office),
                                                    " is not in the reach of ", session.office,
                                                    " (a comune sees its own lots only)"));
  }
  return CheckReach(session, office);
}

absl::StatusOr<CensusEntry> DeliveryDesk::StartDelivery(const PersonSession& session,
                                                        const std::string& office,
                                                        const std::string& collector_cf) {
  TESSERA_RETURN_IF_ERROR(CheckReach(session, office));
  absl::StatusOr<CensusEntry> collector = directory_.User(CensusOfficeOf(office), collector_cf);
  if (collector.status().code() == absl::StatusCode::kNotFound) {
    return absl::FailedPreconditionError(absl::StrCat(
        "collector_cf: ", collector_cf, " is not a user censused for ", CensusOfficeOf(office),
        " (the cards go to the mayor or a delegate who is a censused operator)"));
  }
  return collector;
}

absl::StatusOr<std::vector<LotSummary>> DeliveryDesk::ListLots(const PersonSession& session,
                                                               const std::string& office,
                                                               const std::string& after,
                                                               int limit) {
  TESSERA_RETURN_IF_ERROR(CheckReadReach(session, office));
  return store_.ListLots(office, after, std::clamp(limit, 1, 500));
}

absl::StatusOr<LotAndCards> DeliveryDesk::LotCards(const PersonSession& session,
                                                   const std::string& lot_number) {
  TESSERA_ASSIGN_OR_RETURN(LotSummary lot, store_.GetLot(lot_number));
  TESSERA_RETURN_IF_ERROR(CheckReadReach(session, lot.office));
  TESSERA_ASSIGN_OR_RETURN(std::vector<DispatchCard> cards, store_.LotCards(lot_number));
  return LotAndCards{std::move(lot), std::move(cards)};
}

absl::StatusOr<Delivery> DeliveryDesk::Deliver(const PersonSession& session,
                                               const std::string& requested_by,
                                               const DeliverOrder& order) {
  TESSERA_RETURN_IF_ERROR(CheckRequestId(order.request_id));
  TESSERA_ASSIGN_OR_RETURN(CensusEntry collector,
                           StartDelivery(session, order.office, order.collector_cf));
  TESSERA_ASSIGN_OR_RETURN(CensusEntry operator_entry, SessionPerson(session));
  TESSERA_ASSIGN_OR_RETURN(LotSummary lot, store_.GetLot(order.lot_number));
  if (lot.office != order.office) {
    return absl::NotFoundError(
        absl::StrCat("lot_number: ", order.lot_number, " is no lot of office ", order.office));
  }
  TESSERA_ASSIGN_OR_RETURN(std::vector<DispatchCard> cards, store_.LotCards(order.lot_number));
  DeliveryRequest request{.office = order.office,
                          .lot_number = order.lot_number,
                          .card_numbers = order.card_numbers,
                          .collector = collector.person,
                          .operator_person = operator_entry.person,
                          .requested_by = requested_by,
                          .request_id = order.request_id,
                          .at = clock_.Now()};
  // The collector's own card among those delivered is theirs now: its halves go with it.
  for (const DispatchCard& card : cards) {
    const bool chosen = order.card_numbers.empty()
                            ? card.state == kSpedita
                            : std::find(order.card_numbers.begin(), order.card_numbers.end(),
                                        card.card_number) != order.card_numbers.end();
    if (!chosen || card.state != kSpedita ||
        card.codice_fiscale != collector.person.codice_fiscale) {
      continue;
    }
    TESSERA_ASSIGN_OR_RETURN(QueuedMail mail,
                             HalvesMailTo(collector, card.card_number, order.request_id));
    request.activate.push_back(card.card_number);
    request.mails.push_back(std::move(mail));
  }
  return store_.Deliver(request);
}

absl::Status DeliveryDesk::CheckRequestId(const std::string& request_id) {
  if (request_id.empty() || request_id.size() > 128) {
    return absl::InvalidArgumentError("request_id: 1 to 128 characters");
  }
  return absl::OkStatus();
}

absl::StatusOr<CensusEntry> DeliveryDesk::SessionPerson(const PersonSession& session) {
  if (session.person.empty()) {  // the Ministry's machine during the bootstrap
    return CensusEntry{
        .person = {.surname = kMinistryBootstrapOperator, .name = "Amministrazione centrale"}};
  }
  absl::StatusOr<CensusEntry> person = directory_.User(session.office, session.person);
  if (person.status().code() == absl::StatusCode::kNotFound) {
    return absl::FailedPreconditionError(absl::StrCat(
        "the session's person ", session.person, " is no user of ", session.office, " on record"));
  }
  return person;
}

absl::StatusOr<QueuedMail> DeliveryDesk::HalvesMailTo(const CensusEntry& holder,
                                                      const std::string& card_number,
                                                      const std::string& request_id) {
  TESSERA_ASSIGN_OR_RETURN(
      Halves halves, halves_.Release(card_number, absl::StrCat(request_id, ":", card_number)));
  std::string body = HalvesMail(holder.person, card_number, halves);
  absl::StatusOr<std::vector<uint8_t>> sealed = seal_(Secret(body));
  std::fill(body.begin(), body.end(), '\0');
  if (!sealed.ok()) return sealed.status();
  return QueuedMail{
      .kind = "second_halves",
      .to = holder.email,
      .subject = absl::StrCat("ANPR: i codici della sua carta operatore ", card_number),
      .sealed_body = *std::move(sealed)};
}

absl::StatusOr<std::string> DeliveryDesk::OwnComune(const PersonSession& session) const {
  const std::string prefix = "comune:";
  if (!session.office.starts_with(prefix)) {
    return absl::PermissionDeniedError(
        absl::StrCat("a comune registers its own cards: the session is at ", session.office));
  }
  return session.office.substr(prefix.size());
}

absl::StatusOr<DispatchCard> DeliveryDesk::HoldersCard(const std::string& comune,
                                                       const CensusEntry& holder,
                                                       const std::string& card_number) {
  absl::StatusOr<DispatchCard> card = store_.GetCard(card_number);
  if (card.ok() && card->office != comune) card = absl::NotFoundError("another comune's");
  if (card.status().code() == absl::StatusCode::kNotFound) {
    return absl::NotFoundError(
        absl::StrCat("card_number: ", card_number, " is no card of comune ", comune));
  }
  if (!card.ok()) return card.status();
  if (card->codice_fiscale != holder.person.codice_fiscale) {
    return absl::FailedPreconditionError(absl::StrCat(
        "card_number: ", card_number, " is not the card of ", holder.person.codice_fiscale,
        " (a card is registered to the person it was made for)"));
  }
  return card;
}

absl::StatusOr<Registered> DeliveryDesk::RegisterCard(const PersonSession& session,
                                                      const std::string& requested_by,
                                                      const RegisterOrder& order) {
  TESSERA_RETURN_IF_ERROR(CheckRequestId(order.request_id));
  TESSERA_ASSIGN_OR_RETURN(std::string comune, OwnComune(session));
  absl::StatusOr<CensusEntry> holder = directory_.User(session.office, order.codice_fiscale);
  if (holder.status().code() == absl::StatusCode::kNotFound) {
    return absl::FailedPreconditionError(absl::StrCat(
        "codice_fiscale: ", order.codice_fiscale, " is not a user censused for ", session.office));
  }
  if (!holder.ok()) return holder.status();
  TESSERA_ASSIGN_OR_RETURN(CensusEntry registrar, SessionPerson(session));
  TESSERA_ASSIGN_OR_RETURN(DispatchCard card, HoldersCard(comune, *holder, order.card_number));
  RegistrationRequest request{.office = comune,
                              .card_number = card.card_number,
                              .holder = holder->person,
                              .registered_by = registrar.person,
                              .requested_by = requested_by,
                              .request_id = order.request_id,
                              .at = clock_.Now()};
  // A card already ATTIVA is refused by the store (or answered, for a retry), before any mail.
  if (card.state == kConsegnata) {
    TESSERA_ASSIGN_OR_RETURN(QueuedMail mail,
                             HalvesMailTo(*holder, card.card_number, order.request_id));
    request.mails.push_back(std::move(mail));
  }
  TESSERA_ASSIGN_OR_RETURN(Registration registration, store_.Register(request));
  TESSERA_ASSIGN_OR_RETURN(std::string form, HolderFormPdf(registration));
  return Registered{std::move(registration), std::move(form)};
}

absl::StatusOr<std::string> DeliveryDesk::ResendHalves(const PersonSession& session,
                                                       const std::string& requested_by,
                                                       const std::string& card_number,
                                                       const std::string& request_id) {
  TESSERA_RETURN_IF_ERROR(CheckRequestId(request_id));
  TESSERA_ASSIGN_OR_RETURN(std::string comune, OwnComune(session));
  TESSERA_ASSIGN_OR_RETURN(DispatchCard card, store_.GetCard(card_number));
  absl::StatusOr<CensusEntry> holder = directory_.User(session.office, card.codice_fiscale);
  if (card.office != comune || holder.status().code() == absl::StatusCode::kNotFound) {
    return absl::NotFoundError(
        absl::StrCat("card_number: ", card_number, " is no card of a user of ", session.office));
  }
  if (!holder.ok()) return holder.status();
  if (card.state != kAttiva) {
    return absl::FailedPreconditionError(absl::StrCat("card_number: ", card_number, " is ",
                                                      card.state,
                                                      ": its halves go out when it is registered"));
  }
  // To the mailbox the census has now (a corrected one).
  TESSERA_ASSIGN_OR_RETURN(QueuedMail mail, HalvesMailTo(*holder, card_number, request_id));
  TESSERA_RETURN_IF_ERROR(store_
                              .Resend({.office = comune,
                                       .card_number = card_number,
                                       .requested_by = requested_by,
                                       .request_id = request_id,
                                       .at = clock_.Now(),
                                       .mail = mail})
                              .status());
  return mail.to;
}

absl::StatusOr<Delivery> DeliveryDesk::GetDelivery(const PersonSession& session,
                                                   const std::string& protocol) {
  TESSERA_ASSIGN_OR_RETURN(Delivery delivery, store_.GetDelivery(protocol));
  TESSERA_RETURN_IF_ERROR(CheckReadReach(session, delivery.office));
  return delivery;
}

absl::StatusOr<std::string> DeliveryDesk::Receipt(const PersonSession& session,
                                                  const std::string& protocol) {
  TESSERA_ASSIGN_OR_RETURN(Delivery delivery, GetDelivery(session, protocol));
  // A prefettura's deliveries (its comuni's and its own) are made at the prefettura.
  OfficeContact place{.name = kMinistryName, .address = kMinistryAddress};
  if (!delivery.prefettura.empty()) {
    TESSERA_ASSIGN_OR_RETURN(
        std::optional<OfficeContact> prefettura,
        PlaceOnRecord(directory_, "prefettura:" + delivery.office.substr(0, 3)));
    // A prefettura whose census is not on record yet: named by its province, no address.
    place = prefettura.value_or(OfficeContact{.name = "Prefettura - " + delivery.prefettura});
  }
  return ReceiptPdf(delivery, place);
}

}  // namespace tessera::dispatch
