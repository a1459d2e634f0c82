#include "personalization/pg_lots.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "platform/pg.h"
#include "platform/status_macros.h"

namespace tessera::personalization {
namespace {

// The columns every lot query selects, in this order (ReadLot).
constexpr char kLotColumns[] =
    "l.lot_number, l.batch_id, l.office, l.office_name, l.prefettura, extract(epoch FROM "
    "l.sealed_at)::bigint, coalesce(l.cards_file, ''), coalesce(l.envelopes_file, ''), "
    "l.printed_at IS NOT NULL, l.handed_over_at IS NOT NULL";

Lot ReadLot(const pg::Result& r, int row) {
  return {.number = std::string(r.Text(row, 0)),
          .batch_id = r.Int(row, 1),
          .office = std::string(r.Text(row, 2)),
          .office_name = std::string(r.Text(row, 3)),
          .prefettura = std::string(r.Text(row, 4)),
          .sealed_at = FromUnixSeconds(r.Int(row, 5)),
          .cards_file = std::string(r.Text(row, 6)),
          .envelopes_file = std::string(r.Text(row, 7)),
          .printed = r.Bool(row, 8),
          .handed_over = r.Bool(row, 9)};
}

absl::StatusOr<std::vector<Lot>> ReadLots(pg::Connection& conn, const std::string& where,
                                          std::initializer_list<pg::Param> params) {
  TESSERA_ASSIGN_OR_RETURN(
      pg::Result r,
      conn.Exec(absl::StrCat("SELECT ", kLotColumns, " FROM perso.lots l ", where), params));
  std::vector<Lot> lots;
  for (int row = 0; row < r.rows(); ++row) lots.push_back(ReadLot(r, row));
  return lots;
}

// The lot's cards in file order; with their sealed envelope halves if `with_halves`.
absl::Status ReadCards(pg::Connection& conn, Lot& lot, bool with_halves) {
  TESSERA_ASSIGN_OR_RETURN(
      pg::Result r,
      conn.Exec("SELECT lc.card_number, r.codice_fiscale, r.surname, r.name, c.certificate, "
                "c.envelope_pin, c.envelope_puk, c.envelope_password FROM perso.lot_cards lc "
                "JOIN perso.batch_results r ON r.order_id = lc.card_number JOIN perso.cards c ON "
                "c.card_number = lc.card_number WHERE lc.lot_number = $1 ORDER BY lc.position",
                {pg::Param(lot.number)}));
  auto bytes = [&](int row, int column) {
    return r.IsNull(row, column) ? std::vector<uint8_t>() : r.Bytes(row, column);
  };
  for (int row = 0; row < r.rows(); ++row) {
    LotCard card{.card_number = std::string(r.Text(row, 0)),
                 .codice_fiscale = std::string(r.Text(row, 1)),
                 .surname = std::string(r.Text(row, 2)),
                 .name = std::string(r.Text(row, 3)),
                 .certificate = bytes(row, 4)};
    if (with_halves) card.envelope = {bytes(row, 5), bytes(row, 6), bytes(row, 7)};
    lot.cards.push_back(std::move(card));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<int> PgLotStore::SealEndedBatches(Clock::TimePoint now) {
  TESSERA_ASSIGN_OR_RETURN(auto conn, pool_.Acquire());
  TESSERA_ASSIGN_OR_RETURN(pg::Transaction tx, pg::Transaction::Begin(*conn));
  // One sealer at a time across every daemon: a card joins one lot.
  TESSERA_RETURN_IF_ERROR(
      conn->Exec("SELECT pg_advisory_xact_lock(hashtext('perso.seal_lots'))").status());
  // The produced cards in no lot of batches that ended and that no reader (alive within the
  // last 30 s) is still finishing a card of, per office; in a lot by holder.
  TESSERA_ASSIGN_OR_RETURN(
      pg::Result groups,
      conn->Exec(
          "SELECT r.batch_id, r.office, min(r.office_name), min(r.province_sigla), "
          "array_to_string(array_agg(r.order_id ORDER BY r.surname, r.name, r.order_id), ',') "
          "FROM perso.batch_results r JOIN perso.batches b ON b.id = r.batch_id WHERE b.state IN "
          "('finished', 'cancelled') AND r.card AND r.failure IS NULL AND NOT EXISTS (SELECT 1 "
          "FROM perso.lot_cards lc WHERE lc.card_number = r.order_id) AND NOT EXISTS (SELECT 1 "
          "FROM perso.readers x WHERE x.batch_id = b.id AND x.card_number <> '' AND x.beat_at > "
          "to_timestamp($1) - interval '30 seconds') GROUP BY r.batch_id, r.office ORDER BY "
          "r.batch_id, r.office",
          {pg::Param(UnixSeconds(now))}));
  for (int row = 0; row < groups.rows(); ++row) {
    TESSERA_ASSIGN_OR_RETURN(
        pg::Result lot,
        conn->Exec("INSERT INTO perso.lots (lot_number, batch_id, office, office_name, "
                   "prefettura, sealed_at) VALUES (to_char(to_timestamp($5), 'YYYY') || "
                   "lpad(nextval('perso.lot_numbers')::text, 6, '0'), $1, $2, $3, $4, "
                   "to_timestamp($5)) RETURNING lot_number",
                   {pg::Param(groups.Int(row, 0)), pg::Param(groups.Text(row, 1)),
                    pg::Param(groups.Text(row, 2)), pg::Param(groups.Text(row, 3)),
                    pg::Param(UnixSeconds(now))}));
    const std::vector<std::string> cards = absl::StrSplit(std::string(groups.Text(row, 4)), ',');
    TESSERA_RETURN_IF_ERROR(
        conn->Exec("INSERT INTO perso.lot_cards (card_number, lot_number, position) SELECT "
                   "card, $1, position FROM unnest($2::text[]) WITH ORDINALITY AS t(card, "
                   "position)",
                   {pg::Param(lot.Text(0, 0)), pg::Param::TextArray(cards)})
            .status());
  }
  TESSERA_RETURN_IF_ERROR(tx.Commit());
  return groups.rows();
}

absl::StatusOr<std::vector<Lot>> PgLotStore::LotsToPrint() {
  TESSERA_ASSIGN_OR_RETURN(auto conn, pool_.Acquire());
  TESSERA_ASSIGN_OR_RETURN(std::vector<Lot> lots,
                           ReadLots(*conn, "WHERE l.files_at IS NULL ORDER BY l.lot_number", {}));
  for (Lot& lot : lots) TESSERA_RETURN_IF_ERROR(ReadCards(*conn, lot, /*with_halves=*/true));
  return lots;
}

absl::Status PgLotStore::FilesWritten(const std::string& lot, const std::string& cards_file,
                                      const std::string& envelopes_file, Clock::TimePoint now) {
  TESSERA_ASSIGN_OR_RETURN(auto conn, pool_.Acquire());
  return conn
      ->Exec(
          "UPDATE perso.lots SET cards_file = $2, envelopes_file = $3, files_at = "
          "to_timestamp($4) WHERE lot_number = $1",
          {pg::Param(lot), pg::Param(cards_file), pg::Param(envelopes_file),
           pg::Param(UnixSeconds(now))})
      .status();
}

absl::StatusOr<std::vector<Lot>> PgLotStore::Unprinted(int64_t batch_id) {
  TESSERA_ASSIGN_OR_RETURN(auto conn, pool_.Acquire());
  return ReadLots(*conn,
                  "WHERE l.batch_id = $1 AND l.files_at IS NOT NULL AND l.printed_at IS NULL "
                  "ORDER BY l.lot_number",
                  {pg::Param(batch_id)});
}

absl::Status PgLotStore::Printed(const std::string& lot, const BatchRequest& request,
                                 Clock::TimePoint now) {
  TESSERA_ASSIGN_OR_RETURN(auto conn, pool_.Acquire());
  TESSERA_ASSIGN_OR_RETURN(pg::Transaction tx, pg::Transaction::Begin(*conn));
  TESSERA_ASSIGN_OR_RETURN(
      pg::Result r,
      conn->Exec("UPDATE perso.lots SET printed_at = to_timestamp($2), printed_by = $3, "
                 "printed_request = $4 WHERE lot_number = $1 AND printed_at IS NULL",
                 {pg::Param(lot), pg::Param(UnixSeconds(now)),
                  pg::Param(absl::StrCat(request.actor.kind, ":", request.actor.name)),
                  pg::Param(request.request_id)}));
  if (r.AffectedRows() == 0) return absl::OkStatus();  // printed before
  TESSERA_RETURN_IF_ERROR(
      conn->Exec("UPDATE perso.cards SET envelope_pin = NULL, envelope_puk = NULL, "
                 "envelope_password = NULL WHERE card_number IN (SELECT card_number FROM "
                 "perso.lot_cards WHERE lot_number = $1)",
                 {pg::Param(lot)})
          .status());
  return tx.Commit();
}

absl::StatusOr<std::vector<Lot>> PgLotStore::List(bool include_handed_over) {
  TESSERA_ASSIGN_OR_RETURN(auto conn, pool_.Acquire());
  TESSERA_ASSIGN_OR_RETURN(
      std::vector<Lot> lots,
      ReadLots(*conn, "WHERE l.handed_over_at IS NULL OR $1 ORDER BY l.lot_number DESC LIMIT 1000",
               {pg::Param(include_handed_over)}));
  return lots;
}

absl::StatusOr<Lot> PgLotStore::Get(const std::string& number) {
  TESSERA_ASSIGN_OR_RETURN(auto conn, pool_.Acquire());
  TESSERA_ASSIGN_OR_RETURN(std::vector<Lot> lots,
                           ReadLots(*conn, "WHERE l.lot_number = $1", {pg::Param(number)}));
  if (lots.empty()) return absl::NotFoundError(absl::StrCat("lot: no lot ", number));
  TESSERA_RETURN_IF_ERROR(ReadCards(*conn, lots[0], /*with_halves=*/false));
  return std::move(lots[0]);
}

absl::Status PgLotStore::HandOver(const std::string& lot, const std::string& to,
                                  Clock::TimePoint now) {
  TESSERA_ASSIGN_OR_RETURN(auto conn, pool_.Acquire());
  TESSERA_ASSIGN_OR_RETURN(
      pg::Result r,
      conn->Exec("WITH taken AS (UPDATE perso.lots SET handed_over_at = to_timestamp($3), "
                 "handed_over_to = $2 WHERE lot_number = $1 AND handed_over_at IS NULL "
                 "RETURNING 1) SELECT (SELECT count(*) FROM taken), coalesce(handed_over_to, "
                 "'') FROM perso.lots WHERE lot_number = $1",
                 {pg::Param(lot), pg::Param(to), pg::Param(UnixSeconds(now))}));
  if (r.rows() == 0) return absl::NotFoundError(absl::StrCat("lot: no lot ", lot));
  if (r.Int(0, 0) == 1 || r.Text(0, 1) == to) return absl::OkStatus();
  return absl::FailedPreconditionError(
      absl::StrCat("lot ", lot, " was handed over to ", std::string(r.Text(0, 1)), " already"));
}

absl::StatusOr<SealedHalves> PgLotStore::MailHalvesFor(const std::string& card_number,
                                                       const BatchRequest& request,
                                                       Clock::TimePoint now) {
  const std::string caller = absl::StrCat(request.actor.kind, ":", request.actor.name);
  TESSERA_ASSIGN_OR_RETURN(auto conn, pool_.Acquire());
  TESSERA_ASSIGN_OR_RETURN(pg::Transaction tx, pg::Transaction::Begin(*conn));
  TESSERA_ASSIGN_OR_RETURN(
      pg::Result card,
      conn->Exec("SELECT l.lot_number, coalesce(l.handed_over_to, ''), c.mail_pin, c.mail_puk, "
                 "c.mail_password FROM perso.lot_cards lc JOIN perso.lots l USING (lot_number) "
                 "JOIN perso.cards c USING (card_number) WHERE lc.card_number = $1 FOR SHARE",
                 {pg::Param(card_number)}));
  if (card.rows() == 0) {
    return absl::NotFoundError(
        absl::StrCat("card_number: no card ", card_number, " in a sealed lot"));
  }
  if (card.Text(0, 1) != request.actor.name) {
    return absl::FailedPreconditionError(
        absl::StrCat("card ", card_number, ": its lot ", std::string(card.Text(0, 0)),
                     " is not handed over to ", request.actor.name));
  }
  if (card.IsNull(0, 2) || card.IsNull(0, 3) || card.IsNull(0, 4)) {
    return absl::DataLossError(absl::StrCat("card ", card_number, ": its mail halves are missing"));
  }
  TESSERA_ASSIGN_OR_RETURN(
      pg::Result asked,
      conn->Exec("INSERT INTO perso.mail_half_requests (request_id, card_number, asked_by, "
                 "asked_at) VALUES ($1, $2, $3, to_timestamp($4)) ON CONFLICT (request_id) DO "
                 "NOTHING",
                 {pg::Param(request.request_id), pg::Param(card_number), pg::Param(caller),
                  pg::Param(UnixSeconds(now))}));
  if (asked.AffectedRows() == 0) {
    TESSERA_ASSIGN_OR_RETURN(
        pg::Result first,
        conn->Exec("SELECT card_number, asked_by FROM perso.mail_half_requests WHERE "
                   "request_id = $1",
                   {pg::Param(request.request_id)}));
    if (first.rows() == 1 && (first.Text(0, 0) != card_number || first.Text(0, 1) != caller)) {
      return absl::AlreadyExistsError(
          absl::StrCat("request_id: ", request.request_id, " was used for another card or caller"));
    }
  }
  SealedHalves halves{
      .pin = card.Bytes(0, 2), .puk = card.Bytes(0, 3), .password = card.Bytes(0, 4)};
  TESSERA_RETURN_IF_ERROR(tx.Commit());
  return halves;
}

absl::StatusOr<std::map<std::string, std::string>> PgLotStore::SealedLotsOf(
    const std::vector<std::string>& card_numbers) {
  TESSERA_ASSIGN_OR_RETURN(auto conn, pool_.Acquire());
  TESSERA_ASSIGN_OR_RETURN(pg::Result r,
                           conn->Exec("SELECT card_number, lot_number FROM perso.lot_cards "
                                      "WHERE card_number = ANY($1::text[])",
                                      {pg::Param::TextArray(card_numbers)}));
  std::map<std::string, std::string> lots;
  for (int row = 0; row < r.rows(); ++row) {
    lots.emplace(std::string(r.Text(row, 0)), std::string(r.Text(row, 1)));
  }
  return lots;
}

}  // namespace tessera::personalization
