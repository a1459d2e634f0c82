#include "absl/strings/str_format.h"
#include "platform/clock.h"
#include "platform/status_macros.h"
#include "registry/pg_stores.h"

namespace tessera::registry {

absl::StatusOr<std::vector<Workstation>> PgWorkstationStore::WorkstationsOf(
    const std::string& owner) {
  TESSERA_ASSIGN_OR_RETURN(auto conn, pool_.Acquire());
  TESSERA_ASSIGN_OR_RETURN(
      pg::Result r,
      conn->Exec("SELECT progressive, state, coalesce(certificate_serial, ''), "
                 "coalesce(failure, ''), extract(epoch FROM outcome_at)::bigint FROM "
                 "registry.workstation_orders WHERE workstation_owner = $1 ORDER BY progressive",
                 {pg::Param(owner)}));
  std::vector<Workstation> workstations;
  for (int row = 0; row < r.rows(); ++row) {
    Workstation w{.common_id = absl::StrFormat("%s%04d", owner, r.Int(row, 0)),
                  .state = std::string(r.Text(row, 1)),
                  .certificate_serial = std::string(r.Text(row, 2)),
                  .failure = std::string(r.Text(row, 3))};
    if (!r.IsNull(row, 4)) w.outcome_at = FromUnixSeconds(r.Int(row, 4));
    workstations.push_back(std::move(w));
  }
  return workstations;
}

absl::Status PgWorkstationStore::RecordDownload(const WorkstationDownload& download) {
  TESSERA_ASSIGN_OR_RETURN(auto conn, pool_.Acquire());
  return conn
      ->Exec(
          "INSERT INTO registry.workstation_downloads (office, common_ids, archive, person, "
          "session, machine, downloaded_at) VALUES ($1, $2::text[], $3, $4, $5, $6, "
          "to_timestamp($7))",
          {pg::Param(download.office), pg::Param::TextArray(download.common_ids),
           pg::Param(download.archive), pg::Param(download.person), pg::Param(download.session),
           pg::Param(download.machine), pg::Param(UnixSeconds(download.at))})
      .status();
}

}  // namespace tessera::registry
