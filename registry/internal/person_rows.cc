#include "registry/internal/person_rows.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "identity/codice_fiscale.h"
#include "platform/clock.h"
#include "platform/status_macros.h"

namespace tessera::registry::internal {

absl::StatusOr<PersonIdentity> RecordPerson(pg::Connection& conn, const CensusUser& user,
                                            const pg::Param& when) {
  const std::string key = identity::PersonKey(user.codice_fiscale);
  // A concurrent transaction recording the same person makes this INSERT wait for it, then
  // skip: the SELECT that follows (a new snapshot) sees the row it committed.
  TESSERA_RETURN_IF_ERROR(
      conn.Exec("INSERT INTO registry.persons (codice_fiscale, person_key, surname, name, "
                "birth_date, birth_place, birth_province, sex, created_at) VALUES ($1, $2, $3, "
                "$4, $5::date, $6, $7, $8, to_timestamp($9)) ON CONFLICT DO NOTHING",
                {pg::Param(user.codice_fiscale), pg::Param(key), pg::Param(user.surname),
                 pg::Param(user.name), pg::Param(IsoDate(user.birth_date)),
                 pg::Param(user.birth_place), pg::Param(user.birth_province), pg::Param(user.sex),
                 when})
          .status());
  TESSERA_ASSIGN_OR_RETURN(pg::Result r,
                           conn.Exec("SELECT codice_fiscale, surname, name, birth_date::text, "
                                     "birth_place, birth_province, sex FROM registry.persons WHERE "
                                     "person_key = $1",
                                     {pg::Param(key)}));
  if (r.rows() != 1) {
    // The INSERT skipped on another unique index: the code is recorded under another key,
    // which PersonKey makes impossible.
    return absl::InternalError(absl::StrCat("no person row for key ", key));
  }
  TESSERA_ASSIGN_OR_RETURN(auto birth_date, ParseIsoDate(std::string(r.Text(0, 3))));
  return PersonIdentity{
      std::string(r.Text(0, 0)), std::string(r.Text(0, 1)), std::string(r.Text(0, 2)), birth_date,
      std::string(r.Text(0, 4)), std::string(r.Text(0, 5)), std::string(r.Text(0, 6))};
}

absl::StatusOr<std::optional<LiveCard>> FindLiveCard(pg::Connection& conn,
                                                     const std::string& codice_fiscale) {
  TESSERA_ASSIGN_OR_RETURN(
      pg::Result r, conn.Exec("SELECT card_number, census_id FROM registry.card_orders WHERE "
                              "codice_fiscale = $1 AND ended_at IS NULL",
                              {pg::Param(codice_fiscale)}));
  if (r.rows() == 0) return std::optional<LiveCard>();
  LiveCard card{std::string(r.Text(0, 0)), std::nullopt};
  if (!r.IsNull(0, 1)) card.census_id = r.Int(0, 1);
  return std::optional<LiveCard>(std::move(card));
}

absl::StatusOr<std::string> OrderCard(pg::Connection& conn, const std::string& prefix,
                                      const std::string& codice_fiscale,
                                      std::optional<int64_t> census_id, const pg::Param& when) {
  TESSERA_ASSIGN_OR_RETURN(
      pg::Result counter,
      conn.Exec("INSERT INTO registry.card_number_counters AS k (prefix, last) VALUES ($1, 1) "
                "ON CONFLICT (prefix) DO UPDATE SET last = k.last + 1 RETURNING last",
                {pg::Param(prefix)}));
  const std::string card_number = absl::StrCat(prefix, absl::StrFormat("%010d", counter.Int(0, 0)));
  TESSERA_RETURN_IF_ERROR(
      conn.Exec("INSERT INTO registry.card_orders (card_number, codice_fiscale, census_id, "
                "state, created_at) VALUES ($1, $2, $3, 'LAVORAZIONE', to_timestamp($4))",
                {pg::Param(card_number), pg::Param(codice_fiscale),
                 census_id ? pg::Param(*census_id) : pg::Param(std::nullopt), when})
          .status());
  return card_number;
}

}  // namespace tessera::registry::internal
