#include "absl/strings/str_cat.h"
#include "identity/codice_fiscale.h"
#include "platform/clock.h"
#include "platform/status_macros.h"
#include "registry/internal/person_rows.h"
#include "registry/pg_stores.h"

namespace tessera::registry {
namespace {

// The change an earlier call made with this request_id, if any: {codice fiscale, change}.
absl::StatusOr<std::optional<std::pair<std::string, std::string>>> EarlierChange(
    pg::Connection& conn, const std::string& request_id) {
  TESSERA_ASSIGN_OR_RETURN(pg::Result r,
                           conn.Exec("SELECT p.person_key, c.change FROM "
                                     "registry.ministry_operator_changes c JOIN registry.persons "
                                     "p USING (codice_fiscale) WHERE c.request_id = $1",
                                     {pg::Param(request_id)}));
  if (r.rows() == 0) return std::optional<std::pair<std::string, std::string>>();
  return std::optional<std::pair<std::string, std::string>>(
      {std::string(r.Text(0, 0)), std::string(r.Text(0, 1))});
}

absl::Status RequestIdTaken() {
  return absl::AlreadyExistsError(
      "request_id: already used for another change; a new change needs a new request_id");
}

absl::Status RecordChange(pg::Connection& conn, const std::string& codice_fiscale, const char* what,
                          const ChangeRequest& change, const pg::Param& when, const Actor& actor) {
  return conn
      .Exec(
          "INSERT INTO registry.ministry_operator_changes (codice_fiscale, change, reason, "
          "changed_at, request_id, changed_by_kind, changed_by, changed_by_serial, call_id) "
          "VALUES ($1, $2, $3, to_timestamp($4), $5, $6, $7, NULLIF($8, ''), NULLIF($9, ''))",
          {pg::Param(codice_fiscale), pg::Param(what), pg::Param(change.reason), when,
           pg::Param(change.request_id), pg::Param(actor.kind), pg::Param(actor.name),
           pg::Param(actor.serial), pg::Param(actor.call_id)})
      .status();
}

}  // namespace

absl::StatusOr<PgMinistryOperatorStore::Added> PgMinistryOperatorStore::Add(
    const CensusUser& person, const ChangeRequest& change,
    std::chrono::system_clock::time_point now, const Actor& actor,
    std::vector<Violation>* disagreements) {
  TESSERA_RETURN_IF_ERROR(CheckActor(actor));
  TESSERA_RETURN_IF_ERROR(CheckChangeRequest(change));
  const pg::Param when(UnixSeconds(now));
  TESSERA_ASSIGN_OR_RETURN(auto conn, pool_.Acquire());
  TESSERA_ASSIGN_OR_RETURN(pg::Transaction tx, pg::Transaction::Begin(*conn));
  TESSERA_ASSIGN_OR_RETURN(auto earlier, EarlierChange(*conn, change.request_id));
  const std::string key = identity::PersonKey(person.codice_fiscale);
  if (earlier.has_value() && (earlier->first != key || earlier->second != "added")) {
    return RequestIdTaken();
  }
  TESSERA_ASSIGN_OR_RETURN(PersonIdentity recorded, internal::RecordPerson(*conn, person, when));
  Added added{.codice_fiscale = recorded.codice_fiscale, .repeated = earlier.has_value()};
  TESSERA_ASSIGN_OR_RETURN(std::optional<internal::LiveCard> live,
                           internal::FindLiveCard(*conn, recorded.codice_fiscale));
  if (added.repeated) {
    if (live.has_value()) added.card_number = live->card_number;
    return added;
  }
  std::vector<Violation> differs = DisagreementsWithRecord(person, recorded, "operator");
  if (!differs.empty()) {
    if (disagreements != nullptr) *disagreements = differs;
    return ToStatus(differs);
  }
  TESSERA_ASSIGN_OR_RETURN(
      pg::Result inserted,
      conn->Exec("INSERT INTO registry.ministry_operators (codice_fiscale, email, added_at) "
                 "VALUES ($1, $2, to_timestamp($3)) ON CONFLICT DO NOTHING RETURNING 1",
                 {pg::Param(recorded.codice_fiscale), pg::Param(person.email), when}));
  if (inserted.rows() == 0) {
    return absl::FailedPreconditionError(absl::StrCat(
        "operator.codice_fiscale: ", recorded.codice_fiscale, " is a Ministry operator already"));
  }
  if (live.has_value() && live->census_id.has_value()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "operator.codice_fiscale: ", recorded.codice_fiscale, " holds card ", live->card_number,
        ", ordered by a census; a Ministry operator's card is ordered by the Ministry, so that "
        "card must end first (security console)"));
  }
  if (live.has_value()) {
    added.card_number = live->card_number;  // their Ministry card from an earlier time
  } else {
    TESSERA_ASSIGN_OR_RETURN(added.card_number,
                             internal::OrderCard(*conn, internal::kMinistryCardPrefix,
                                                 recorded.codice_fiscale, std::nullopt, when));
    added.new_card = true;
  }
  TESSERA_RETURN_IF_ERROR(
      RecordChange(*conn, recorded.codice_fiscale, "added", change, when, actor));
  TESSERA_RETURN_IF_ERROR(tx.Commit());
  return added;
}

absl::StatusOr<bool> PgMinistryOperatorStore::Remove(const std::string& codice_fiscale,
                                                     const ChangeRequest& change,
                                                     std::chrono::system_clock::time_point now,
                                                     const Actor& actor) {
  TESSERA_RETURN_IF_ERROR(CheckActor(actor));
  TESSERA_RETURN_IF_ERROR(CheckChangeRequest(change));
  if (absl::Status valid = identity::ValidateCodiceFiscale(codice_fiscale); !valid.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("codice_fiscale: ", std::string(valid.message())));
  }
  const std::string key = identity::PersonKey(codice_fiscale);
  TESSERA_ASSIGN_OR_RETURN(auto conn, pool_.Acquire());
  TESSERA_ASSIGN_OR_RETURN(pg::Transaction tx, pg::Transaction::Begin(*conn));
  TESSERA_ASSIGN_OR_RETURN(auto earlier, EarlierChange(*conn, change.request_id));
  if (earlier.has_value()) {
    if (earlier->first != key || earlier->second != "removed") return RequestIdTaken();
    return true;
  }
  TESSERA_ASSIGN_OR_RETURN(
      pg::Result removed,
      conn->Exec("DELETE FROM registry.ministry_operators m USING registry.persons p WHERE "
                 "p.codice_fiscale = m.codice_fiscale AND p.person_key = $1 RETURNING "
                 "m.codice_fiscale",
                 {pg::Param(key)}));
  if (removed.rows() == 0) {
    return absl::NotFoundError(
        absl::StrCat("codice_fiscale: ", codice_fiscale, " is no Ministry operator"));
  }
  TESSERA_RETURN_IF_ERROR(RecordChange(*conn, std::string(removed.Text(0, 0)), "removed", change,
                                       pg::Param(UnixSeconds(now)), actor));
  TESSERA_RETURN_IF_ERROR(tx.Commit());
  return false;
}

absl::StatusOr<std::vector<MinistryOperator>> PgMinistryOperatorStore::List() {
  TESSERA_ASSIGN_OR_RETURN(auto conn, pool_.Acquire());
  TESSERA_ASSIGN_OR_RETURN(
      pg::Result r,
      conn->Exec("SELECT p.codice_fiscale, p.surname, p.name, p.birth_date::text, p.birth_place, "
                 "p.birth_province, p.sex, m.email, extract(epoch from m.added_at)::bigint, "
                 "coalesce((SELECT o.card_number FROM registry.card_orders o WHERE "
                 "o.codice_fiscale = p.codice_fiscale AND o.ended_at IS NULL), '') FROM "
                 "registry.ministry_operators m JOIN registry.persons p USING (codice_fiscale) "
                 "ORDER BY p.surname, p.name, p.codice_fiscale"));
  std::vector<MinistryOperator> out;
  for (int row = 0; row < r.rows(); ++row) {
    TESSERA_ASSIGN_OR_RETURN(auto birth_date, ParseIsoDate(std::string(r.Text(row, 3))));
    out.push_back({{std::string(r.Text(row, 0)), std::string(r.Text(row, 1)),
                    std::string(r.Text(row, 2)), birth_date, std::string(r.Text(row, 4)),
                    std::string(r.Text(row, 5)), std::string(r.Text(row, 6))},
                   std::string(r.Text(row, 7)),
                   FromUnixSeconds(r.Int(row, 8)),
                   std::string(r.Text(row, 9))});
  }
  return out;
}

absl::StatusOr<bool> PgMinistryOperatorStore::IsOperator(const std::string& codice_fiscale) {
  if (!identity::ValidateCodiceFiscale(codice_fiscale).ok()) return false;
  TESSERA_ASSIGN_OR_RETURN(auto conn, pool_.Acquire());
  TESSERA_ASSIGN_OR_RETURN(
      pg::Result r, conn->Exec("SELECT 1 FROM registry.ministry_operators m JOIN registry.persons "
                               "p USING (codice_fiscale) WHERE p.person_key = $1",
                               {pg::Param(identity::PersonKey(codice_fiscale))}));
  return r.rows() > 0;
}

}  // namespace tessera::registry
