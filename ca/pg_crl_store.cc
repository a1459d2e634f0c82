#include "ca/crl_store.h"
#include "platform/clock.h"
#include "platform/status_macros.h"

namespace tessera::ca {
namespace {

using std::chrono::system_clock;

}  // namespace

absl::StatusOr<CrlState> PgCrlStore::State(const std::string& issuer) {
  TESSERA_ASSIGN_OR_RETURN(auto conn, pool_.Acquire());
  TESSERA_RETURN_IF_ERROR(conn->Exec("INSERT INTO ca.crl_state (issuer) VALUES ($1) "
                                     "ON CONFLICT (issuer) DO NOTHING",
                                     {pg::Param(issuer)})
                              .status());
  TESSERA_ASSIGN_OR_RETURN(
      pg::Result r,
      conn->Exec(
          "SELECT revision, built_revision, crl_number, "
          "extract(epoch from this_update)::bigint, extract(epoch from next_update)::bigint, "
          "der FROM ca.crl_state WHERE issuer = $1",
          {pg::Param(issuer)}));
  CrlState state;
  state.issuer = issuer;
  state.revision = r.Int(0, 0);
  state.built_revision = r.Int(0, 1);
  state.crl_number = r.Int(0, 2);
  if (!r.IsNull(0, 3)) state.this_update = FromUnixSeconds(r.Int(0, 3));
  if (!r.IsNull(0, 4)) state.next_update = FromUnixSeconds(r.Int(0, 4));
  if (!r.IsNull(0, 5)) state.der = r.Bytes(0, 5);
  return state;
}

absl::StatusOr<int64_t> PgCrlStore::CrlNumber(const std::string& issuer) {
  TESSERA_ASSIGN_OR_RETURN(auto conn, pool_.Acquire());
  TESSERA_ASSIGN_OR_RETURN(
      pg::Result r,
      conn->Exec("SELECT crl_number FROM ca.crl_state WHERE issuer = $1", {pg::Param(issuer)}));
  return r.rows() == 0 ? 0 : r.Int(0, 0);
}

absl::StatusOr<std::vector<RevokedEntry>> PgCrlStore::RevokedEntries(const std::string& issuer,
                                                                     system_clock::time_point at) {
  TESSERA_ASSIGN_OR_RETURN(auto conn, pool_.Acquire());
  TESSERA_ASSIGN_OR_RETURN(
      pg::Result r,
      conn->Exec("SELECT serial, extract(epoch from revoked_at)::bigint, revocation_reason "
                 "FROM ca.certificates WHERE issuer = $1 AND revoked_at IS NOT NULL "
                 "AND not_after >= to_timestamp($2) ORDER BY serial",
                 {pg::Param(issuer), pg::Param(UnixSeconds(at))}));
  std::vector<RevokedEntry> entries;
  entries.reserve(r.rows());
  for (int row = 0; row < r.rows(); ++row) {
    entries.push_back({std::string(r.Text(row, 0)), FromUnixSeconds(r.Int(row, 1)),
                       static_cast<int>(r.Int(row, 2))});
  }
  return entries;
}

absl::StatusOr<bool> PgCrlStore::Publish(const std::string& issuer, int64_t revision,
                                         const CrlContent& content,
                                         const std::vector<uint8_t>& der) {
  TESSERA_ASSIGN_OR_RETURN(auto conn, pool_.Acquire());
  TESSERA_ASSIGN_OR_RETURN(
      pg::Result r,
      conn->Exec("UPDATE ca.crl_state SET crl_number = $2, built_revision = $3, "
                 "this_update = to_timestamp($4), next_update = to_timestamp($5), der = $6 "
                 "WHERE issuer = $1 AND crl_number = $2 - 1",
                 {pg::Param(issuer), pg::Param(static_cast<int64_t>(content.number)),
                  pg::Param(revision), pg::Param(UnixSeconds(content.this_update)),
                  pg::Param(UnixSeconds(content.next_update)), pg::Param::Bytes(der)}));
  return r.AffectedRows() == 1;
}

}  // namespace tessera::ca
