#include "absl/strings/str_cat.h"
#include "identity/codice_fiscale.h"
#include "platform/clock.h"
#include "platform/status_macros.h"
#include "registry/pg_stores.h"

namespace tessera::registry {

absl::StatusOr<bool> PgCodeMismatchStore::Accept(const std::string& codice_fiscale,
                                                 const std::string& part,
                                                 const ChangeRequest& change,
                                                 std::chrono::system_clock::time_point now,
                                                 const Actor& actor) {
  TESSERA_RETURN_IF_ERROR(CheckActor(actor));
  if (absl::Status valid = identity::ValidateCodiceFiscale(codice_fiscale); !valid.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("codice_fiscale: ", std::string(valid.message())));
  }
  static const std::set<std::string> kParts = {"surname", "name", "birth_date", "sex",
                                               "birthplace"};
  if (!kParts.contains(part)) {
    return absl::InvalidArgumentError(
        "part: one of surname, name, birth_date, sex, birthplace (the part of the code that "
        "does not match)");
  }
  TESSERA_RETURN_IF_ERROR(CheckChangeRequest(change));
  TESSERA_ASSIGN_OR_RETURN(auto conn, pool_.Acquire());
  TESSERA_ASSIGN_OR_RETURN(
      pg::Result earlier,
      conn->Exec("SELECT codice_fiscale, part FROM registry.accepted_code_mismatches WHERE "
                 "request_id = $1",
                 {pg::Param(change.request_id)}));
  if (earlier.rows() > 0) {
    if (earlier.Text(0, 0) != codice_fiscale || earlier.Text(0, 1) != part) {
      return absl::AlreadyExistsError(
          "request_id: already used for another acceptance; a new one needs a new request_id");
    }
    return true;
  }
  TESSERA_RETURN_IF_ERROR(
      conn->Exec("INSERT INTO registry.accepted_code_mismatches (codice_fiscale, part, reason, "
                 "accepted_at, request_id, accepted_by_kind, accepted_by, accepted_by_serial, "
                 "call_id) VALUES ($1, $2, $3, to_timestamp($4), $5, $6, $7, NULLIF($8, ''), "
                 "NULLIF($9, '')) ON CONFLICT (codice_fiscale, part) DO NOTHING",
                 {pg::Param(codice_fiscale), pg::Param(part), pg::Param(change.reason),
                  pg::Param(UnixSeconds(now)), pg::Param(change.request_id), pg::Param(actor.kind),
                  pg::Param(actor.name), pg::Param(actor.serial), pg::Param(actor.call_id)})
          .status());
  return false;
}

absl::StatusOr<AcceptedMismatches> PgCodeMismatchStore::All() {
  TESSERA_ASSIGN_OR_RETURN(auto conn, pool_.Acquire());
  TESSERA_ASSIGN_OR_RETURN(
      pg::Result r,
      conn->Exec("SELECT codice_fiscale, part FROM registry.accepted_code_mismatches"));
  AcceptedMismatches out;
  for (int row = 0; row < r.rows(); ++row) {
    out[std::string(r.Text(row, 0))].emplace(r.Text(row, 1));
  }
  return out;
}

}  // namespace tessera::registry
