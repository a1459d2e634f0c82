#include "absl/strings/str_cat.h"
#include "platform/clock.h"
#include "platform/status_macros.h"
#include "registry/internal/request_journal.h"
#include "registry/pg_stores.h"

namespace tessera::registry {

using std::chrono::system_clock;

absl::Status PgDeclarationStore::Set(const std::string& istat, const ComuneDeclaration& d,
                                     system_clock::time_point now, const Request& request) {
  TESSERA_ASSIGN_OR_RETURN(auto conn, pool_.Acquire());
  TESSERA_ASSIGN_OR_RETURN(pg::Transaction tx, pg::Transaction::Begin(*conn));
  TESSERA_ASSIGN_OR_RETURN(
      std::optional<std::string> repeated,
      internal::BeginRequest(*conn, request, "SetDeclaration", pg::Param(UnixSeconds(now))));
  if (repeated.has_value()) return absl::OkStatus();
  TESSERA_RETURN_IF_ERROR(
      conn->Exec("INSERT INTO registry.comune_declarations (istat, declared_workstations, "
                 "declared_employees, switch_over) VALUES ($1, $2, $3, $4::date) "
                 "ON CONFLICT (istat) DO UPDATE SET declared_workstations = EXCLUDED."
                 "declared_workstations, declared_employees = EXCLUDED.declared_employees, "
                 "switch_over = EXCLUDED.switch_over",
                 {pg::Param(istat), pg::Param(d.declared_workstations),
                  pg::Param(d.declared_employees), pg::Param(IsoDate(d.switch_over))})
          .status());
  TESSERA_RETURN_IF_ERROR(internal::FinishRequest(*conn, request, "{}"));
  return tx.Commit();
}

absl::StatusOr<std::optional<ComuneDeclaration>> PgDeclarationStore::Get(const std::string& istat) {
  TESSERA_ASSIGN_OR_RETURN(auto conn, pool_.Acquire());
  TESSERA_ASSIGN_OR_RETURN(pg::Result r,
                           conn->Exec("SELECT declared_workstations, declared_employees, "
                                      "switch_over::text FROM registry.comune_declarations "
                                      "WHERE istat = $1",
                                      {pg::Param(istat)}));
  if (r.rows() == 0) return std::optional<ComuneDeclaration>();
  TESSERA_ASSIGN_OR_RETURN(auto switch_over, ParseIsoDate(std::string(r.Text(0, 2))));
  return std::optional<ComuneDeclaration>(
      ComuneDeclaration{static_cast<int>(r.Int(0, 0)), static_cast<int>(r.Int(0, 1)), switch_over});
}

absl::StatusOr<std::map<std::string, ComuneDeclaration>> PgDeclarationStore::GetMany(
    const std::vector<std::string>& istat) {
  TESSERA_ASSIGN_OR_RETURN(auto conn, pool_.Acquire());
  TESSERA_ASSIGN_OR_RETURN(pg::Result r,
                           conn->Exec("SELECT istat, declared_workstations, declared_employees, "
                                      "switch_over::text FROM registry.comune_declarations "
                                      "WHERE istat = ANY ($1::text[])",
                                      {pg::Param::TextArray(istat)}));
  std::map<std::string, ComuneDeclaration> out;
  for (int row = 0; row < r.rows(); ++row) {
    TESSERA_ASSIGN_OR_RETURN(auto switch_over, ParseIsoDate(std::string(r.Text(row, 3))));
    out[std::string(r.Text(row, 0))] = {static_cast<int>(r.Int(row, 1)),
                                        static_cast<int>(r.Int(row, 2)), switch_over};
  }
  return out;
}

}  // namespace tessera::registry
