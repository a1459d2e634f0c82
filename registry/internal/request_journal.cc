#include "registry/internal/request_journal.h"

#include "absl/strings/str_cat.h"
#include "platform/request_id.h"
#include "platform/status_macros.h"

namespace tessera::registry::internal {
namespace {

std::string Caller(const Actor& actor) { return absl::StrCat(actor.kind, ":", actor.name); }

}  // namespace

absl::StatusOr<std::optional<std::string>> BeginRequest(pg::Connection& conn,
                                                        const Request& request,
                                                        std::string_view call,
                                                        const pg::Param& when) {
  TESSERA_RETURN_IF_ERROR(CheckRequestId(request.request_id));
  TESSERA_RETURN_IF_ERROR(CheckActor(request.actor));
  const pg::Param caller(Caller(request.actor));
  TESSERA_ASSIGN_OR_RETURN(
      pg::Result inserted,
      conn.Exec("INSERT INTO registry.requests (caller, request_id, call, fingerprint, "
                "created_at) VALUES ($1, $2, $3, $4, to_timestamp($5)) ON CONFLICT DO NOTHING "
                "RETURNING 1",
                {caller, pg::Param(request.request_id), pg::Param(std::string(call)),
                 pg::Param::Bytes(request.fingerprint), when}));
  if (inserted.rows() == 1) return std::optional<std::string>();
  // On record: a new statement sees the row its first call committed.
  TESSERA_ASSIGN_OR_RETURN(pg::Result earlier,
                           conn.Exec("SELECT call, fingerprint, coalesce(outcome::text, '{}') "
                                     "FROM registry.requests WHERE caller = $1 AND request_id = $2",
                                     {caller, pg::Param(request.request_id)}));
  if (earlier.rows() == 0) {  // its first call rolled back meanwhile: the caller may retry
    return absl::AbortedError("request_id: a call with this key was under way; try again");
  }
  const std::vector<uint8_t> fingerprint = earlier.Bytes(0, 1);
  if (earlier.Text(0, 0) != call ||
      !std::equal(fingerprint.begin(), fingerprint.end(), request.fingerprint.begin(),
                  request.fingerprint.end())) {
    return absl::AlreadyExistsError(
        absl::StrCat("request_id: '", request.request_id, "' was used for another request (",
                     std::string(earlier.Text(0, 0)), "); a new request needs a new key"));
  }
  return std::optional<std::string>(std::string(earlier.Text(0, 2)));
}

absl::Status FinishRequest(pg::Connection& conn, const Request& request,
                           const std::string& outcome_json) {
  return conn
      .Exec(
          "UPDATE registry.requests SET outcome = $3::jsonb WHERE caller = $1 AND request_id = "
          "$2",
          {pg::Param(Caller(request.actor)), pg::Param(request.request_id),
           pg::Param(outcome_json)})
      .status();
}

}  // namespace tessera::registry::internal
