#include "dispatch/pg_lots.h"

#include <botan/hash.h>
#include <botan/hex.h>

#include <algorithm>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "platform/clock.h"
#include "platform/pg.h"
#include "platform/status_macros.h"

std::vector<tessera::pg::Migration> DispatchMigrations();  // generated from dispatch/migrations/

namespace tessera::dispatch {
namespace {

constexpr char kLotSummary[] =
    "SELECT l.lot_number, l.office, l.office_name, l.prefettura, count(c.card_number), "
    "count(c.card_number) FILTER (WHERE c.state = 'SPEDITA'), "
    "extract(epoch FROM l.taken_over_at)::bigint FROM dispatch.lots l JOIN dispatch.cards c "
    "USING (lot_number) ";

LotSummary ReadLot(const pg::Result& r, int i) {
  return {.lot_number = std::string(r.Text(i, 0)),
          .office = std::string(r.Text(i, 1)),
          .office_name = std::string(r.Text(i, 2)),
          .prefettura = std::string(r.Text(i, 3)),
          .cards = static_cast<int>(r.Int(i, 4)),
          .to_deliver = static_cast<int>(r.Int(i, 5)),
          .taken_over_at = FromUnixSeconds(r.Int(i, 6))};
}

// A card's columns as ReadCards reads them (c: dispatch.cards, d: its delivery, left-joined),
// and the plain way to select them.
constexpr char kCardFields[] =
    "c.card_number, c.lot_number, c.codice_fiscale, c.surname, c.name, c.subject_dn, "
    "c.certificate_serial, c.state, coalesce(d.protocol, '')";
constexpr char kCardsFrom[] =
    " FROM dispatch.cards c LEFT JOIN dispatch.deliveries d ON d.id = c.delivery_id ";

std::vector<DispatchCard> ReadCards(const pg::Result& r) {
  std::vector<DispatchCard> cards;
  for (int i = 0; i < r.rows(); ++i) {
    cards.push_back({.card_number = std::string(r.Text(i, 0)),
                     .lot_number = std::string(r.Text(i, 1)),
                     .codice_fiscale = std::string(r.Text(i, 2)),
                     .surname = std::string(r.Text(i, 3)),
                     .name = std::string(r.Text(i, 4)),
                     .subject_dn = std::string(r.Text(i, 5)),
                     .certificate_serial = std::string(r.Text(i, 6)),
                     .state = std::string(r.Text(i, 7)),
                     .protocol = std::string(r.Text(i, 8))});
  }
  return cards;
}

// What a delivery asked for, so a retry under its request id can be told from another request.
std::string Fingerprint(const DeliveryRequest& request) {
  std::vector<std::string> cards = request.card_numbers;
  std::sort(cards.begin(), cards.end());
  const std::string content =
      absl::StrCat(request.office, "\n", request.lot_number, "\n", absl::StrJoin(cards, ","), "\n",
                   request.collector.codice_fiscale);
  return Botan::hex_encode(Botan::HashFunction::create_or_throw("SHA-256")->process(content),
                           false);
}

absl::StatusOr<Delivery> ReadDelivery(pg::Connection& conn, const std::string& where,
                                      const pg::Param& key) {
  TESSERA_ASSIGN_OR_RETURN(
      pg::Result d,
      conn.Exec(absl::StrCat("SELECT id, protocol, prefettura, office, office_name, collector_cf, "
                             "collector_surname, collector_name, operator_cf, operator_surname, "
                             "operator_name, extract(epoch FROM operated_at)::bigint FROM "
                             "dispatch.deliveries WHERE ",
                             where),
                {key}));
  if (d.rows() == 0) return absl::NotFoundError("no such delivery");
  Delivery delivery{.id = d.Int(0, 0),
                    .protocol = std::string(d.Text(0, 1)),
                    .prefettura = std::string(d.Text(0, 2)),
                    .office = std::string(d.Text(0, 3)),
                    .office_name = std::string(d.Text(0, 4)),
                    .collector = {std::string(d.Text(0, 5)), std::string(d.Text(0, 6)),
                                  std::string(d.Text(0, 7))},
                    .operator_person = {std::string(d.Text(0, 8)), std::string(d.Text(0, 9)),
                                        std::string(d.Text(0, 10))},
                    .at = FromUnixSeconds(d.Int(0, 11))};
  TESSERA_ASSIGN_OR_RETURN(pg::Result cards,
                           conn.Exec(absl::StrCat("SELECT ", kCardFields, kCardsFrom,
                                                  "WHERE c.delivery_id = $1 ORDER BY c.lot_number, "
                                                  "c.position"),
                                     {pg::Param(delivery.id)}));
  delivery.cards = ReadCards(cards);
  return delivery;
}

// A mail into the outbox, in the caller's transaction.
absl::Status Queue(pg::Connection& conn, const QueuedMail& mail, TimePoint at) {
  return conn
      .Exec(
          "INSERT INTO dispatch.outbox (kind, to_address, subject, body, sealed_body, "
          "created_at) VALUES ($1, $2, $3, $4, $5, to_timestamp($6))",
          {pg::Param(mail.kind), pg::Param(mail.to), pg::Param(mail.subject),
           mail.body.has_value() ? pg::Param(*mail.body) : pg::Param(std::nullopt),
           mail.body.has_value() ? pg::Param(std::nullopt) : pg::Param::Bytes(mail.sealed_body),
           pg::Param(UnixSeconds(at))})
      .status();
}

// The state of `card_number`, locked for the caller's transaction, if it is in a lot of
// `office`; NOT_FOUND otherwise.
absl::StatusOr<std::string> LockCardOf(pg::Connection& conn, const std::string& card_number,
                                       const std::string& office) {
  TESSERA_ASSIGN_OR_RETURN(
      pg::Result card,
      conn.Exec("SELECT c.state FROM dispatch.cards c JOIN dispatch.lots l USING (lot_number) "
                "WHERE c.card_number = $1 AND l.office = $2 FOR UPDATE OF c",
                {pg::Param(card_number), pg::Param(office)}));
  if (card.rows() == 0) {
    return absl::NotFoundError(
        absl::StrCat("card_number: ", card_number, " is no card of comune ", office));
  }
  return std::string(card.Text(0, 0));
}

absl::StatusOr<Registration> ReadRegistration(pg::Connection& conn, const std::string& number) {
  TESSERA_ASSIGN_OR_RETURN(
      pg::Result r,
      conn.Exec(absl::StrCat("SELECT ", kCardFields,
                             ", l.office_name, r.registered_by_cf, r.registered_by_surname, "
                             "r.registered_by_name, extract(epoch FROM r.registered_at)::bigint "
                             "FROM dispatch.registrations r JOIN dispatch.cards c USING "
                             "(card_number) JOIN dispatch.lots l ON l.lot_number = c.lot_number "
                             "LEFT JOIN dispatch.deliveries d ON d.id = c.delivery_id WHERE "
                             "r.card_number = $1"),
                {pg::Param(number)}));
  if (r.rows() == 0) return absl::NotFoundError(absl::StrCat("card ", number, ": not registered"));
  const DispatchCard card = ReadCards(r)[0];
  return Registration{.card = card,
                      .office_name = std::string(r.Text(0, 9)),
                      .holder = {card.codice_fiscale, card.surname, card.name},
                      .registered_by = {std::string(r.Text(0, 10)), std::string(r.Text(0, 11)),
                                        std::string(r.Text(0, 12))},
                      .at = FromUnixSeconds(r.Int(0, 13))};
}

}  // namespace

std::vector<pg::Migration> PgMigrations() { return DispatchMigrations(); }

absl::StatusOr<bool> PgDispatchStore::TakeOver(const LotIntake& lot, TimePoint at,
                                               const std::vector<QueuedMail>& notices) {
  if (lot.cards.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("lot ", lot.lot_number, ": no cards"));
  }
  TESSERA_ASSIGN_OR_RETURN(pg::ConnectionPool::Lease conn, pool_.Acquire());
  TESSERA_ASSIGN_OR_RETURN(pg::Transaction tx, pg::Transaction::Begin(*conn));
  TESSERA_ASSIGN_OR_RETURN(
      pg::Result inserted,
      conn->Exec("INSERT INTO dispatch.lots (lot_number, batch_id, office, office_name, "
                 "prefettura, sealed_at, taken_over_at) VALUES ($1, $2, $3, $4, $5, "
                 "to_timestamp($6), to_timestamp($7)) ON CONFLICT (lot_number) DO NOTHING",
                 {pg::Param(lot.lot_number), pg::Param(lot.batch_id), pg::Param(lot.office),
                  pg::Param(lot.office_name), pg::Param(lot.prefettura),
                  pg::Param(UnixSeconds(lot.sealed_at)), pg::Param(UnixSeconds(at))}));
  if (inserted.AffectedRows() == 0) return false;
  std::vector<std::string> numbers, cfs, surnames, names, dns, serials;
  for (const IntakeCard& card : lot.cards) {
    numbers.push_back(card.card_number);
    cfs.push_back(card.codice_fiscale);
    surnames.push_back(card.surname);
    names.push_back(card.name);
    dns.push_back(card.subject_dn);
    serials.push_back(card.certificate_serial);
  }
  TESSERA_RETURN_IF_ERROR(
      conn->Exec(
              "INSERT INTO dispatch.cards (card_number, lot_number, position, codice_fiscale, "
              "surname, name, subject_dn, certificate_serial, state) SELECT n, $1, p::int, cf, "
              "s, nm, dn, sr, 'SPEDITA' FROM unnest($2::text[], $3::text[], $4::text[], "
              "$5::text[], $6::text[], $7::text[]) WITH ORDINALITY AS t (n, cf, s, nm, dn, sr, "
              "p)",
              {pg::Param(lot.lot_number), pg::Param::TextArray(numbers), pg::Param::TextArray(cfs),
               pg::Param::TextArray(surnames), pg::Param::TextArray(names),
               pg::Param::TextArray(dns), pg::Param::TextArray(serials)})
          .status());
  for (const QueuedMail& notice : notices) {
    TESSERA_RETURN_IF_ERROR(Queue(*conn, notice, at));
  }
  TESSERA_RETURN_IF_ERROR(tx.Commit());
  return true;
}

absl::StatusOr<std::vector<LotSummary>> PgDispatchStore::ListLots(const std::string& office,
                                                                  const std::string& after,
                                                                  int limit) {
  TESSERA_ASSIGN_OR_RETURN(pg::ConnectionPool::Lease conn, pool_.Acquire());
  TESSERA_ASSIGN_OR_RETURN(
      pg::Result r, conn->Exec(absl::StrCat(kLotSummary,
                                            "WHERE l.office = $1 AND l.lot_number > $2 GROUP BY "
                                            "l.lot_number ORDER BY l.lot_number LIMIT $3"),
                               {pg::Param(office), pg::Param(after), pg::Param(limit)}));
  std::vector<LotSummary> lots;
  for (int i = 0; i < r.rows(); ++i) lots.push_back(ReadLot(r, i));
  return lots;
}

absl::StatusOr<LotSummary> PgDispatchStore::GetLot(const std::string& lot_number) {
  TESSERA_ASSIGN_OR_RETURN(pg::ConnectionPool::Lease conn, pool_.Acquire());
  TESSERA_ASSIGN_OR_RETURN(pg::Result r, conn->Exec(absl::StrCat(kLotSummary,
                                                                 "WHERE l.lot_number = $1 GROUP BY "
                                                                 "l.lot_number"),
                                                    {pg::Param(lot_number)}));
  if (r.rows() == 0) return absl::NotFoundError(absl::StrCat("lot ", lot_number, ": no such lot"));
  return ReadLot(r, 0);
}

absl::StatusOr<std::vector<DispatchCard>> PgDispatchStore::LotCards(const std::string& lot_number) {
  TESSERA_ASSIGN_OR_RETURN(pg::ConnectionPool::Lease conn, pool_.Acquire());
  TESSERA_ASSIGN_OR_RETURN(pg::Result r,
                           conn->Exec(absl::StrCat("SELECT ", kCardFields, kCardsFrom,
                                                   "WHERE c.lot_number = $1 ORDER BY c.position"),
                                      {pg::Param(lot_number)}));
  return ReadCards(r);
}

absl::StatusOr<Delivery> PgDispatchStore::Deliver(const DeliveryRequest& request) {
  const std::string fingerprint = Fingerprint(request);
  TESSERA_ASSIGN_OR_RETURN(pg::ConnectionPool::Lease conn, pool_.Acquire());
  TESSERA_ASSIGN_OR_RETURN(pg::Transaction tx, pg::Transaction::Begin(*conn));
  // A retry answers what the first call did.
  TESSERA_ASSIGN_OR_RETURN(
      pg::Result earlier,
      conn->Exec("SELECT protocol, fingerprint FROM dispatch.deliveries WHERE requested_by = $1 "
                 "AND request_id = $2",
                 {pg::Param(request.requested_by), pg::Param(request.request_id)}));
  if (earlier.rows() > 0) {
    if (earlier.Text(0, 1) != fingerprint) {
      return absl::AlreadyExistsError(
          absl::StrCat("request_id: ", request.request_id, " was used for delivery ",
                       std::string(earlier.Text(0, 0)), ", which asked for something else"));
    }
    TESSERA_ASSIGN_OR_RETURN(Delivery first,
                             ReadDelivery(*conn, "protocol = $1", pg::Param(earlier.Text(0, 0))));
    first.repeated = true;
    return first;
  }
  TESSERA_ASSIGN_OR_RETURN(
      pg::Result lot,
      conn->Exec("SELECT office, office_name, prefettura FROM dispatch.lots WHERE lot_number = $1",
                 {pg::Param(request.lot_number)}));
  if (lot.rows() == 0 || lot.Text(0, 0) != request.office) {
    return absl::NotFoundError(
        absl::StrCat("lot_number: ", request.lot_number, " is no lot of office ", request.office));
  }
  const std::string office_name(lot.Text(0, 1));
  const std::string prefettura(lot.Text(0, 2));
  TESSERA_ASSIGN_OR_RETURN(
      pg::Result cards,
      conn->Exec("SELECT c.card_number, c.state, coalesce(d.protocol, '') FROM dispatch.cards c "
                 "LEFT JOIN dispatch.deliveries d ON d.id = c.delivery_id WHERE c.lot_number = $1 "
                 "ORDER BY c.position FOR UPDATE OF c",
                 {pg::Param(request.lot_number)}));
  std::vector<std::string> chosen;
  if (request.card_numbers.empty()) {
    for (int i = 0; i < cards.rows(); ++i) {
      if (cards.Text(i, 1) == kSpedita) chosen.emplace_back(cards.Text(i, 0));
    }
    if (chosen.empty()) {
      return absl::FailedPreconditionError(
          absl::StrCat("lot ", request.lot_number, ": every card is delivered already"));
    }
  } else {
    for (const std::string& number : request.card_numbers) {
      int row = -1;
      for (int i = 0; i < cards.rows() && row < 0; ++i) {
        if (cards.Text(i, 0) == number) row = i;
      }
      if (row < 0) {
        return absl::NotFoundError(
            absl::StrCat("card_numbers: ", number, " is not in lot ", request.lot_number));
      }
      if (cards.Text(row, 1) != kSpedita) {
        return absl::FailedPreconditionError(absl::StrCat("card_numbers: ", number,
                                                          " was delivered already (protocol ",
                                                          std::string(cards.Text(row, 2)), ")"));
      }
      chosen.push_back(number);
    }
  }
  const int year = static_cast<int>(ItalianDate(request.at).year());
  const std::string counter_key = prefettura.empty() ? "MIN" : prefettura;
  TESSERA_ASSIGN_OR_RETURN(
      pg::Result counter,
      conn->Exec("INSERT INTO dispatch.protocol_counters (prefettura, year, last) VALUES ($1, $2, "
                 "1) ON CONFLICT (prefettura, year) DO UPDATE SET last = "
                 "dispatch.protocol_counters.last + 1 RETURNING last",
                 {pg::Param(counter_key), pg::Param(year)}));
  const std::string protocol =
      absl::StrFormat("%s-%d-%06d", counter_key, year, static_cast<int>(counter.Int(0, 0)));
  TESSERA_ASSIGN_OR_RETURN(
      pg::Result delivery,
      conn->Exec(
          "INSERT INTO dispatch.deliveries (protocol, prefettura, office, office_name, "
          "collector_cf, collector_surname, collector_name, operator_cf, "
          "operator_surname, operator_name, operated_at, requested_by, request_id, "
          "fingerprint) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, "
          "to_timestamp($11), $12, $13, $14) RETURNING id",
          {pg::Param(protocol), pg::Param(prefettura), pg::Param(request.office),
           pg::Param(office_name), pg::Param(request.collector.codice_fiscale),
           pg::Param(request.collector.surname), pg::Param(request.collector.name),
           pg::Param(request.operator_person.codice_fiscale),
           pg::Param(request.operator_person.surname), pg::Param(request.operator_person.name),
           pg::Param(UnixSeconds(request.at)), pg::Param(request.requested_by),
           pg::Param(request.request_id), pg::Param(fingerprint)}));
  const int64_t id = delivery.Int(0, 0);
  std::vector<std::string> activate;
  for (const std::string& number : request.activate) {
    if (std::find(chosen.begin(), chosen.end(), number) != chosen.end()) activate.push_back(number);
  }
  TESSERA_RETURN_IF_ERROR(
      conn->Exec("UPDATE dispatch.cards SET delivery_id = $1, state = CASE WHEN card_number = "
                 "ANY($3::text[]) THEN 'ATTIVA' ELSE 'CONSEGNATA' END, activated_at = CASE WHEN "
                 "card_number = ANY($3::text[]) THEN to_timestamp($4) END WHERE card_number = "
                 "ANY($2::text[])",
                 {pg::Param(id), pg::Param::TextArray(chosen), pg::Param::TextArray(activate),
                  pg::Param(UnixSeconds(request.at))})
          .status());
  for (const QueuedMail& mail : request.mails) {
    TESSERA_RETURN_IF_ERROR(Queue(*conn, mail, request.at));
  }
  TESSERA_ASSIGN_OR_RETURN(Delivery done, ReadDelivery(*conn, "id = $1", pg::Param(id)));
  TESSERA_RETURN_IF_ERROR(tx.Commit());
  return done;
}

absl::StatusOr<Delivery> PgDispatchStore::GetDelivery(const std::string& protocol) {
  TESSERA_ASSIGN_OR_RETURN(pg::ConnectionPool::Lease conn, pool_.Acquire());
  absl::StatusOr<Delivery> delivery = ReadDelivery(*conn, "protocol = $1", pg::Param(protocol));
  if (delivery.status().code() == absl::StatusCode::kNotFound) {
    return absl::NotFoundError(absl::StrCat("protocol: ", protocol, ": no such delivery"));
  }
  return delivery;
}

absl::StatusOr<DispatchCard> PgDispatchStore::GetCard(const std::string& card_number) {
  TESSERA_ASSIGN_OR_RETURN(pg::ConnectionPool::Lease conn, pool_.Acquire());
  TESSERA_ASSIGN_OR_RETURN(
      pg::Result r,
      conn->Exec(absl::StrCat("SELECT ", kCardFields,
                              ", l.office FROM dispatch.cards c JOIN dispatch.lots l USING "
                              "(lot_number) LEFT JOIN dispatch.deliveries d ON d.id = "
                              "c.delivery_id WHERE c.card_number = $1"),
                 {pg::Param(card_number)}));
  if (r.rows() == 0) {
    return absl::NotFoundError(absl::StrCat("card_number: ", card_number, ": no such card"));
  }
  DispatchCard card = ReadCards(r)[0];
  card.office = std::string(r.Text(0, 9));
  return card;
}

absl::StatusOr<Registration> PgDispatchStore::Register(const RegistrationRequest& request) {
  TESSERA_ASSIGN_OR_RETURN(pg::ConnectionPool::Lease conn, pool_.Acquire());
  TESSERA_ASSIGN_OR_RETURN(pg::Transaction tx, pg::Transaction::Begin(*conn));
  // A retry answers what the first call did.
  TESSERA_ASSIGN_OR_RETURN(
      pg::Result earlier,
      conn->Exec("SELECT card_number FROM dispatch.registrations WHERE requested_by = $1 AND "
                 "request_id = $2",
                 {pg::Param(request.requested_by), pg::Param(request.request_id)}));
  if (earlier.rows() > 0) {
    if (earlier.Text(0, 0) != request.card_number) {
      return absl::AlreadyExistsError(absl::StrCat("request_id: ", request.request_id,
                                                   " was used to register card ",
                                                   std::string(earlier.Text(0, 0))));
    }
    TESSERA_ASSIGN_OR_RETURN(Registration first, ReadRegistration(*conn, request.card_number));
    first.repeated = true;
    return first;
  }
  TESSERA_ASSIGN_OR_RETURN(std::string state,
                           LockCardOf(*conn, request.card_number, request.office));
  if (state == kSpedita) {
    return absl::FailedPreconditionError(
        absl::StrCat("card_number: ", request.card_number,
                     " is not delivered yet (SPEDITA): it is registered once the comune has it"));
  }
  if (state == kAttiva) {
    return absl::FailedPreconditionError(
        absl::StrCat("card_number: ", request.card_number, " is registered already (ATTIVA)"));
  }
  TESSERA_RETURN_IF_ERROR(
      conn->Exec("UPDATE dispatch.cards SET state = 'ATTIVA', activated_at = to_timestamp($2) "
                 "WHERE card_number = $1",
                 {pg::Param(request.card_number), pg::Param(UnixSeconds(request.at))})
          .status());
  TESSERA_RETURN_IF_ERROR(
      conn->Exec("INSERT INTO dispatch.registrations (card_number, office, holder_cf, "
                 "registered_by_cf, registered_by_surname, registered_by_name, registered_at, "
                 "requested_by, request_id) VALUES ($1, $2, $3, $4, $5, $6, to_timestamp($7), "
                 "$8, $9)",
                 {pg::Param(request.card_number), pg::Param(request.office),
                  pg::Param(request.holder.codice_fiscale),
                  pg::Param(request.registered_by.codice_fiscale),
                  pg::Param(request.registered_by.surname), pg::Param(request.registered_by.name),
                  pg::Param(UnixSeconds(request.at)), pg::Param(request.requested_by),
                  pg::Param(request.request_id)})
          .status());
  for (const QueuedMail& mail : request.mails) {
    TESSERA_RETURN_IF_ERROR(Queue(*conn, mail, request.at));
  }
  TESSERA_ASSIGN_OR_RETURN(Registration done, ReadRegistration(*conn, request.card_number));
  TESSERA_RETURN_IF_ERROR(tx.Commit());
  return done;
}

absl::StatusOr<bool> PgDispatchStore::Resend(const ResendRequest& request) {
  TESSERA_ASSIGN_OR_RETURN(pg::ConnectionPool::Lease conn, pool_.Acquire());
  TESSERA_ASSIGN_OR_RETURN(pg::Transaction tx, pg::Transaction::Begin(*conn));
  TESSERA_ASSIGN_OR_RETURN(std::string state,
                           LockCardOf(*conn, request.card_number, request.office));
  if (state != kAttiva) {
    return absl::FailedPreconditionError(absl::StrCat("card_number: ", request.card_number, " is ",
                                                      state,
                                                      ": its halves go out when it is registered"));
  }
  TESSERA_ASSIGN_OR_RETURN(
      pg::Result recorded,
      conn->Exec("INSERT INTO dispatch.halves_resends (card_number, to_address, resent_at, "
                 "requested_by, request_id) VALUES ($1, $2, to_timestamp($3), $4, $5) ON "
                 "CONFLICT (requested_by, request_id) DO NOTHING",
                 {pg::Param(request.card_number), pg::Param(request.mail.to),
                  pg::Param(UnixSeconds(request.at)), pg::Param(request.requested_by),
                  pg::Param(request.request_id)}));
  if (recorded.AffectedRows() == 0) return false;
  TESSERA_RETURN_IF_ERROR(Queue(*conn, request.mail, request.at));
  TESSERA_RETURN_IF_ERROR(tx.Commit());
  return true;
}

}  // namespace tessera::dispatch
