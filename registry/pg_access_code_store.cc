#include <botan/mem_ops.h>

#include "absl/strings/str_cat.h"
#include "platform/clock.h"
#include "platform/status_macros.h"
#include "registry/internal/request_journal.h"
#include "registry/pg_stores.h"

namespace tessera::registry {

using std::chrono::system_clock;

absl::Status PgAccessCodeStore::Put(const std::string& office, const AccessCodeDigest& digest,
                                    system_clock::time_point issued_at,
                                    system_clock::time_point expires_at, const Request& request) {
  const Actor& actor = request.actor;
  const CensusOwner census = CensusOwnerOf(office);
  const bool comune = census.kind == CensusKind::kComune;
  TESSERA_ASSIGN_OR_RETURN(auto conn, pool_.Acquire());
  TESSERA_ASSIGN_OR_RETURN(pg::Transaction tx, pg::Transaction::Begin(*conn));
  TESSERA_ASSIGN_OR_RETURN(
      std::optional<std::string> repeated,
      internal::BeginRequest(*conn, request, "IssueAccessCode", pg::Param(UnixSeconds(issued_at))));
  if (repeated.has_value()) {
    return absl::AlreadyExistsError(absl::StrCat(
        "request_id: '", request.request_id, "' already issued office ", office,
        "'s access code, which was shown once; ask with a new request_id for a new code (it "
        "replaces that one)"));
  }
  // The office must be in the reference list: a comune, or a province with current comuni.
  TESSERA_ASSIGN_OR_RETURN(
      pg::Result r,
      conn->Exec("SELECT (SELECT state FROM registry.censuses WHERE kind = $2 AND owner = $1) "
                 "WHERE EXISTS (SELECT 1 FROM registry.comuni WHERE CASE WHEN $2 = 'comune' "
                 "THEN istat = $1 ELSE province_code = $1 AND ceased_at IS NULL END)",
                 {pg::Param(census.owner), pg::Param(CensusKindName(census.kind))}));
  const char* field = comune ? "istat" : "province_sigla";
  if (r.rows() == 0) {
    return absl::NotFoundError(absl::StrCat(field, ": '", office, "' is no ",
                                            comune ? "comune" : "province",
                                            " in the reference list"));
  }
  if (!r.IsNull(0, 0) && r.Text(0, 0) == "SUBMITTED") {
    return absl::FailedPreconditionError(absl::StrCat(
        field, ": the census of ", census.owner,
        " is already submitted; it needs no access code (changes go through the security "
        "console)"));
  }
  TESSERA_RETURN_IF_ERROR(
      conn->Exec("INSERT INTO registry.census_access_codes (office, code_sha256, issued_at, "
                 "expires_at) VALUES ($1, $2, to_timestamp($3), to_timestamp($4)) ON CONFLICT "
                 "(office) DO UPDATE SET code_sha256 = EXCLUDED.code_sha256, issued_at = "
                 "EXCLUDED.issued_at, expires_at = EXCLUDED.expires_at",
                 {pg::Param(office), pg::Param::Bytes(digest), pg::Param(UnixSeconds(issued_at)),
                  pg::Param(UnixSeconds(expires_at))})
          .status());
  TESSERA_RETURN_IF_ERROR(
      conn->Exec("INSERT INTO registry.access_code_issuances (office, issued_at, expires_at, "
                 "issued_by_kind, issued_by, issued_by_serial, call_id) VALUES ($1, "
                 "to_timestamp($2), to_timestamp($3), $4, $5, NULLIF($6, ''), NULLIF($7, ''))",
                 {pg::Param(office), pg::Param(UnixSeconds(issued_at)),
                  pg::Param(UnixSeconds(expires_at)), pg::Param(actor.kind), pg::Param(actor.name),
                  pg::Param(actor.serial), pg::Param(actor.call_id)})
          .status());
  TESSERA_RETURN_IF_ERROR(internal::FinishRequest(*conn, request, "{}"));
  TESSERA_RETURN_IF_ERROR(internal::FinishRequest(*conn, request, "{}"));
  return tx.Commit();
}

absl::StatusOr<bool> PgAccessCodeStore::IsValid(const AccessCode& code,
                                                system_clock::time_point now) {
  const CensusOwner census = CensusOwnerOf(code.office);
  TESSERA_ASSIGN_OR_RETURN(auto conn, pool_.Acquire());
  TESSERA_ASSIGN_OR_RETURN(
      pg::Result r,
      conn->Exec("SELECT a.code_sha256 FROM registry.census_access_codes a WHERE a.office = $1 "
                 "AND a.expires_at > to_timestamp($2) AND NOT EXISTS (SELECT 1 FROM "
                 "registry.censuses c WHERE c.kind = $3 AND c.owner = $4 AND c.state = "
                 "'SUBMITTED')",
                 {pg::Param(code.office), pg::Param(UnixSeconds(now)),
                  pg::Param(CensusKindName(census.kind)), pg::Param(census.owner)}));
  if (r.rows() == 0) return false;
  const std::vector<uint8_t> stored = r.Bytes(0, 0);
  return stored.size() == code.digest.size() &&
         Botan::constant_time_compare(stored.data(), code.digest.data(), stored.size());
}

}  // namespace tessera::registry
