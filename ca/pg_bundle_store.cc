#include "absl/strings/str_cat.h"
#include "ca/bundle_store.h"
#include "platform/status_macros.h"

namespace tessera::ca {
namespace {

// Every query names its columns in this order; Read() maps them back. A bundle's certificate
// is the workstation certificate in ca.certificates with the same request_id (none while the
// request is pending; never a certificate someone else asked for under that request_id).
// (A bundle's certificate row can be locked only through an inner join: `issued_only`.)
std::string Select(const std::string& where, bool issued_only = false) {
  return absl::StrCat(
      "SELECT b.request_id, b.istat, b.progressive, b.sealed_key, b.sealed_password, "
      "b.sealed_pkcs12, c.serial, c.revoked_at IS NOT NULL FROM ca.workstation_bundles b ",
      issued_only ? "" : "LEFT ",
      "JOIN ca.certificates c ON c.request_id = b.request_id "
      "AND c.profile IN ('workstation', 'comune_server') ",
      where);
}

BundleRecord Read(const pg::Result& r, int row) {
  BundleRecord b;
  b.request_id = r.Text(row, 0);
  b.istat = r.Text(row, 1);
  b.progressive = static_cast<int>(r.Int(row, 2));
  if (!r.IsNull(row, 3)) b.sealed_key = r.Bytes(row, 3);
  b.sealed_password = r.Bytes(row, 4);
  if (!r.IsNull(row, 5)) b.sealed_pkcs12 = r.Bytes(row, 5);
  if (!r.IsNull(row, 6)) b.serial = r.Text(row, 6);
  b.revoked = !r.IsNull(row, 7) && r.Bool(row, 7);
  return b;
}

absl::StatusOr<BundleRecord> FindByRequestId(pg::Connection& conn, const std::string& request_id) {
  TESSERA_ASSIGN_OR_RETURN(pg::Result r,
                           conn.Exec(Select("WHERE b.request_id = $1"), {pg::Param(request_id)}));
  if (r.rows() == 0) {
    return absl::NotFoundError(absl::StrCat("request_id '", request_id, "': no bundle"));
  }
  return Read(r, 0);
}

}  // namespace

absl::StatusOr<BundleRecord> BundleStore::Begin(const BundleRecord& pending, const Actor& actor) {
  TESSERA_RETURN_IF_ERROR(CheckActor(actor));
  TESSERA_ASSIGN_OR_RETURN(auto conn, pool_.Acquire());
  TESSERA_ASSIGN_OR_RETURN(pg::Transaction tx, pg::Transaction::Begin(*conn));
  // One workstation at a time: the check for a live bundle and the insert must not interleave
  // with another request for the same workstation.
  TESSERA_RETURN_IF_ERROR(conn->Exec("SELECT pg_advisory_xact_lock(hashtext($1), $2::integer)",
                                     {pg::Param("ca.workstation_bundles:" + pending.istat),
                                      pg::Param(pending.progressive)})
                              .status());
  absl::StatusOr<BundleRecord> existing = FindByRequestId(*conn, pending.request_id);
  if (existing.ok() || !absl::IsNotFound(existing.status())) return existing;

  TESSERA_ASSIGN_OR_RETURN(pg::Result live,
                           conn->Exec(Select("WHERE b.istat = $1 AND b.progressive = $2 "
                                             "AND c.revoked_at IS NULL LIMIT 1"),
                                      {pg::Param(pending.istat), pg::Param(pending.progressive)}));
  if (live.rows() > 0) {
    const BundleRecord other = Read(live, 0);
    char workstation[32];
    std::snprintf(workstation, sizeof workstation, "%s%04d", pending.istat.c_str(),
                  pending.progressive);
    return absl::FailedPreconditionError(
        other.serial.empty()
            ? absl::StrCat("workstation ", workstation,
                           ": a bundle is already being issued under "
                           "request_id '",
                           other.request_id, "'; retry that request")
            : absl::StrCat("workstation ", workstation, ": certificate ", other.serial,
                           " is live; revoke it before issuing another"));
  }
  // ON CONFLICT: a concurrent call with the same request_id (for another workstation, so
  // under another lock) may have inserted first; then the caller gets that row to compare.
  TESSERA_RETURN_IF_ERROR(
      conn->Exec("INSERT INTO ca.workstation_bundles (request_id, istat, progressive, "
                 "sealed_key, sealed_password, requested_by_kind, requested_by, "
                 "requested_by_serial, requested_call_id) VALUES ($1, $2, $3, $4, $5, $6, $7, "
                 "NULLIF($8, ''), NULLIF($9, '')) ON CONFLICT (request_id) DO NOTHING",
                 {pg::Param(pending.request_id), pg::Param(pending.istat),
                  pg::Param(pending.progressive), pg::Param::Bytes(pending.sealed_key),
                  pg::Param::Bytes(pending.sealed_password), pg::Param(actor.kind),
                  pg::Param(actor.name), pg::Param(actor.serial), pg::Param(actor.call_id)})
          .status());
  TESSERA_ASSIGN_OR_RETURN(BundleRecord recorded, FindByRequestId(*conn, pending.request_id));
  TESSERA_RETURN_IF_ERROR(tx.Commit());
  return recorded;
}

absl::StatusOr<BundleRecord> BundleStore::Complete(const std::string& request_id,
                                                   const std::vector<uint8_t>& sealed_pkcs12) {
  TESSERA_ASSIGN_OR_RETURN(auto conn, pool_.Acquire());
  TESSERA_RETURN_IF_ERROR(
      conn->Exec("UPDATE ca.workstation_bundles SET sealed_pkcs12 = $2, sealed_key = NULL, "
                 "completed_at = now() WHERE request_id = $1 AND sealed_pkcs12 IS NULL",
                 {pg::Param(request_id), pg::Param::Bytes(sealed_pkcs12)})
          .status());
  return FindByRequestId(*conn, request_id);
}

absl::Status BundleStore::Abandon(const std::string& request_id) {
  TESSERA_ASSIGN_OR_RETURN(auto conn, pool_.Acquire());
  return conn
      ->Exec(
          "DELETE FROM ca.workstation_bundles WHERE request_id = $1 "
          "AND sealed_pkcs12 IS NULL",
          {pg::Param(request_id)})
      .status();
}

absl::StatusOr<BundleRecord> BundleStore::FindBySerial(const std::string& serial) {
  TESSERA_ASSIGN_OR_RETURN(auto conn, pool_.Acquire());
  TESSERA_ASSIGN_OR_RETURN(pg::Result r,
                           conn->Exec(Select("WHERE c.serial = $1"), {pg::Param(serial)}));
  if (r.rows() == 0) {
    return absl::NotFoundError(absl::StrCat("serial ", serial, ": no workstation bundle"));
  }
  return Read(r, 0);
}

absl::StatusOr<BundleRecord> BundleStore::Download(
    const std::string& serial, const Actor& actor,
    const std::function<absl::Status(const BundleRecord&)>& hand_out) {
  TESSERA_RETURN_IF_ERROR(CheckActor(actor));
  TESSERA_ASSIGN_OR_RETURN(auto conn, pool_.Acquire());
  TESSERA_ASSIGN_OR_RETURN(pg::Transaction tx, pg::Transaction::Begin(*conn));
  TESSERA_ASSIGN_OR_RETURN(
      pg::Result r,
      conn->Exec(Select("WHERE c.serial = $1 FOR SHARE OF c", true), {pg::Param(serial)}));
  if (r.rows() == 0) {
    return absl::NotFoundError(absl::StrCat("serial ", serial, ": no workstation bundle"));
  }
  const BundleRecord bundle = Read(r, 0);
  TESSERA_RETURN_IF_ERROR(hand_out(bundle));
  TESSERA_RETURN_IF_ERROR(
      conn->Exec("INSERT INTO ca.bundle_downloads (serial, bundle_request_id, downloaded_by_kind, "
                 "downloaded_by, downloaded_by_serial, call_id) VALUES ($1, $2, $3, $4, "
                 "NULLIF($5, ''), NULLIF($6, ''))",
                 {pg::Param(serial), pg::Param(bundle.request_id), pg::Param(actor.kind),
                  pg::Param(actor.name), pg::Param(actor.serial), pg::Param(actor.call_id)})
          .status());
  TESSERA_RETURN_IF_ERROR(tx.Commit());
  return bundle;
}

}  // namespace tessera::ca
