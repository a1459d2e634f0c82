#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "identity/codice_fiscale.h"
#include "platform/clock.h"
#include "platform/status_macros.h"
#include "registry/pg_stores.h"

namespace tessera::registry {
namespace {

using std::chrono::system_clock;

std::vector<std::string> SplitProfiles(std::string_view joined) {
  if (joined.empty()) return {};
  return absl::StrSplit(absl::string_view(joined.data(), joined.size()), ',');
}

constexpr char kSessionColumns[] =
    "id, codice_fiscale, office, array_to_string(profiles, ','), machine, machine_sha256, "
    "method, coalesce(card_serial, ''), extract(epoch FROM started_at)::bigint, "
    "extract(epoch FROM expires_at)::bigint, extract(epoch FROM renew_until)::bigint, "
    "extract(epoch FROM ended_at)::bigint";

SessionRecord SessionFrom(const pg::Result& r, int row) {
  SessionRecord session{.id = std::string(r.Text(row, 0)),
                        .codice_fiscale = std::string(r.Text(row, 1)),
                        .office = std::string(r.Text(row, 2)),
                        .profiles = SplitProfiles(r.Text(row, 3)),
                        .machine = std::string(r.Text(row, 4)),
                        .machine_sha256 = std::string(r.Text(row, 5)),
                        .method = std::string(r.Text(row, 6)),
                        .card_serial = std::string(r.Text(row, 7)),
                        .started_at = FromUnixSeconds(r.Int(row, 8)),
                        .expires_at = FromUnixSeconds(r.Int(row, 9)),
                        .renew_until = FromUnixSeconds(r.Int(row, 10))};
  if (!r.IsNull(row, 11)) session.ended_at = FromUnixSeconds(r.Int(row, 11));
  return session;
}

}  // namespace

absl::Status PgLoginStore::PutChallenge(const LoginChallenge& challenge) {
  TESSERA_ASSIGN_OR_RETURN(auto conn, pool_.Acquire());
  // Challenges older than a day are of no use to anyone: swept as new ones come.
  return conn
      ->ExecPipeline(
          {{"DELETE FROM registry.login_challenges WHERE created_at < to_timestamp($1) - "
            "interval '1 day'",
            {pg::Param(UnixSeconds(challenge.created_at))}},
           {"INSERT INTO registry.login_challenges (id, codice_fiscale, machine, machine_sha256, "
            "to_sign, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, to_timestamp($6), "
            "to_timestamp($7))",
            {pg::Param(challenge.id), pg::Param(challenge.codice_fiscale),
             pg::Param(challenge.machine), pg::Param(challenge.machine_sha256),
             pg::Param::Bytes(std::span(reinterpret_cast<const uint8_t*>(challenge.to_sign.data()),
                                        challenge.to_sign.size())),
             pg::Param(UnixSeconds(challenge.created_at)),
             pg::Param(UnixSeconds(challenge.expires_at))}}})
      .status();
}

absl::StatusOr<LoginChallenge> PgLoginStore::TakeChallenge(const std::string& id,
                                                           system_clock::time_point now) {
  TESSERA_ASSIGN_OR_RETURN(auto conn, pool_.Acquire());
  // One statement: of two calls racing with one challenge, one finds it unused.
  TESSERA_ASSIGN_OR_RETURN(
      pg::Result r,
      conn->Exec("WITH taken AS (UPDATE registry.login_challenges SET used_at = to_timestamp($2) "
                 "WHERE id = $1 AND used_at IS NULL RETURNING *) SELECT id, codice_fiscale, "
                 "machine, machine_sha256, to_sign, extract(epoch FROM created_at)::bigint, "
                 "extract(epoch FROM expires_at)::bigint, true FROM taken UNION ALL SELECT id, "
                 "'', '', '', ''::bytea, 0, 0, false FROM registry.login_challenges WHERE id = $1 "
                 "AND used_at IS NOT NULL AND NOT EXISTS (SELECT 1 FROM taken)",
                 {pg::Param(id), pg::Param(UnixSeconds(now))}));
  if (r.rows() == 0) return absl::NotFoundError("no such login challenge");
  if (!r.Bool(0, 7)) return absl::FailedPreconditionError("login challenge used already");
  const std::vector<uint8_t> to_sign = r.Bytes(0, 4);
  return LoginChallenge{.id = std::string(r.Text(0, 0)),
                        .codice_fiscale = std::string(r.Text(0, 1)),
                        .machine = std::string(r.Text(0, 2)),
                        .machine_sha256 = std::string(r.Text(0, 3)),
                        .to_sign = std::string(to_sign.begin(), to_sign.end()),
                        .created_at = FromUnixSeconds(r.Int(0, 5)),
                        .expires_at = FromUnixSeconds(r.Int(0, 6))};
}

absl::StatusOr<LoginStanding> PgLoginStore::StandingOf(const std::string& codice_fiscale,
                                                       const access::Office& office) {
  // The Ministry has no census: its kind names none, so the person has no profiles there.
  const std::string census_kind(office.KindName());
  TESSERA_ASSIGN_OR_RETURN(auto conn, pool_.Acquire());
  TESSERA_ASSIGN_OR_RETURN(
      pg::Result r,
      conn->Exec("SELECT p.codice_fiscale, (SELECT array_to_string(u.profiles, ',') FROM "
                 "registry.census_users u JOIN registry.censuses c ON c.id = u.census_id WHERE "
                 "u.codice_fiscale = p.codice_fiscale AND c.state = 'SUBMITTED' AND c.kind = $2 "
                 "AND c.owner = $3), EXISTS (SELECT 1 FROM registry.ministry_operators m WHERE "
                 "m.codice_fiscale = p.codice_fiscale), (SELECT o.certificate_serial FROM "
                 "registry.card_orders o WHERE o.codice_fiscale = p.codice_fiscale AND "
                 "o.ended_at IS NULL AND o.state = 'PRODOTTA') FROM registry.persons p WHERE "
                 "p.person_key = $1",
                 {pg::Param(identity::PersonKey(codice_fiscale)), pg::Param(census_kind),
                  pg::Param(office.census_owner())}));
  LoginStanding standing;
  if (r.rows() == 0) return standing;
  standing.known = true;
  standing.codice_fiscale = std::string(r.Text(0, 0));
  if (!r.IsNull(0, 1)) standing.profiles = SplitProfiles(r.Text(0, 1));
  standing.ministry_operator = r.Bool(0, 2);
  if (!r.IsNull(0, 3)) standing.live_card_serial = std::string(r.Text(0, 3));
  return standing;
}

absl::StatusOr<std::optional<OfficeUser>> PgLoginStore::UserAt(const std::string& codice_fiscale,
                                                               const access::Office& office) {
  TESSERA_ASSIGN_OR_RETURN(auto conn, pool_.Acquire());
  const pg::Param person_key(identity::PersonKey(codice_fiscale));
  // The Ministry's operators are on its own records, never in a census.
  TESSERA_ASSIGN_OR_RETURN(
      pg::Result r,
      office.kind == access::Office::Kind::kMinistero
          ? conn->Exec("SELECT p.codice_fiscale, p.surname, p.name, m.email, $2::text FROM "
                       "registry.persons p JOIN registry.ministry_operators m ON m.codice_fiscale "
                       "= p.codice_fiscale WHERE p.person_key = $1",
                       {person_key, pg::Param(access::kMinistryOperatorProfile)})
          : conn->Exec(
                "SELECT p.codice_fiscale, p.surname, p.name, u.email, "
                "array_to_string(u.profiles, ',') FROM registry.census_users u JOIN "
                "registry.censuses c ON c.id = u.census_id JOIN registry.persons p ON "
                "p.codice_fiscale = u.codice_fiscale WHERE p.person_key = $1 AND c.state = "
                "'SUBMITTED' AND c.kind = $2 AND c.owner = $3",
                {person_key, pg::Param(office.KindName()), pg::Param(office.census_owner())}));
  if (r.rows() == 0) return std::nullopt;
  return OfficeUser{.codice_fiscale = std::string(r.Text(0, 0)),
                    .surname = std::string(r.Text(0, 1)),
                    .name = std::string(r.Text(0, 2)),
                    .email = std::string(r.Text(0, 3)),
                    .profiles = SplitProfiles(r.Text(0, 4))};
}

absl::Status PgLoginStore::OpenSession(const SessionRecord& session) {
  TESSERA_ASSIGN_OR_RETURN(auto conn, pool_.Acquire());
  return conn
      ->Exec(
          "INSERT INTO registry.sessions (id, codice_fiscale, office, profiles, machine, "
          "machine_sha256, method, card_serial, started_at, expires_at, renew_until) VALUES "
          "($1, $2, $3, $4::text[], $5, $6, $7, NULLIF($8, ''), to_timestamp($9), "
          "to_timestamp($10), to_timestamp($11))",
          {pg::Param(session.id), pg::Param(session.codice_fiscale), pg::Param(session.office),
           pg::Param::TextArray(session.profiles), pg::Param(session.machine),
           pg::Param(session.machine_sha256), pg::Param(session.method),
           pg::Param(session.card_serial), pg::Param(UnixSeconds(session.started_at)),
           pg::Param(UnixSeconds(session.expires_at)), pg::Param(UnixSeconds(session.renew_until))})
      .status();
}

absl::StatusOr<SessionRecord> PgLoginStore::GetSession(const std::string& id) {
  TESSERA_ASSIGN_OR_RETURN(auto conn, pool_.Acquire());
  TESSERA_ASSIGN_OR_RETURN(
      pg::Result r,
      conn->Exec(absl::StrCat("SELECT ", kSessionColumns, " FROM registry.sessions WHERE id = $1"),
                 {pg::Param(id)}));
  if (r.rows() == 0) return absl::NotFoundError("no such session");
  return SessionFrom(r, 0);
}

absl::Status PgLoginStore::ExtendSession(const std::string& id,
                                         system_clock::time_point expires_at) {
  TESSERA_ASSIGN_OR_RETURN(auto conn, pool_.Acquire());
  TESSERA_ASSIGN_OR_RETURN(
      pg::Result r,
      conn->Exec("UPDATE registry.sessions SET expires_at = to_timestamp($2) WHERE id = $1 AND "
                 "ended_at IS NULL",
                 {pg::Param(id), pg::Param(UnixSeconds(expires_at))}));
  if (r.AffectedRows() == 0) return absl::FailedPreconditionError("the session has ended");
  return absl::OkStatus();
}

absl::StatusOr<bool> PgLoginStore::EndSession(const std::string& id, const std::string& reason,
                                              system_clock::time_point now) {
  TESSERA_ASSIGN_OR_RETURN(auto conn, pool_.Acquire());
  TESSERA_ASSIGN_OR_RETURN(
      pg::Result r,
      conn->Exec("UPDATE registry.sessions SET ended_at = to_timestamp($3), end_reason = $2, "
                 "ended_seq = nextval('registry.session_endings') WHERE id = $1 AND ended_at IS "
                 "NULL",
                 {pg::Param(id), pg::Param(reason), pg::Param(UnixSeconds(now))}));
  return r.AffectedRows() > 0;
}

absl::StatusOr<int> PgLoginStore::EndSessionsOf(const std::string& codice_fiscale,
                                                const std::string& office,
                                                const std::string& reason,
                                                system_clock::time_point now) {
  TESSERA_ASSIGN_OR_RETURN(auto conn, pool_.Acquire());
  TESSERA_ASSIGN_OR_RETURN(
      pg::Result r,
      conn->Exec("UPDATE registry.sessions s SET ended_at = to_timestamp($3), end_reason = $2, "
                 "ended_seq = nextval('registry.session_endings') FROM registry.persons p WHERE "
                 "p.person_key = $1 AND s.codice_fiscale = p.codice_fiscale AND s.ended_at IS "
                 "NULL AND ($4 = '' OR s.office = $4)",
                 {pg::Param(identity::PersonKey(codice_fiscale)), pg::Param(reason),
                  pg::Param(UnixSeconds(now)), pg::Param(office)}));
  return static_cast<int>(r.AffectedRows());
}

absl::StatusOr<std::vector<SessionRecord>> PgLoginStore::LiveCardSessions(
    system_clock::time_point now) {
  TESSERA_ASSIGN_OR_RETURN(auto conn, pool_.Acquire());
  TESSERA_ASSIGN_OR_RETURN(
      pg::Result r,
      conn->Exec(absl::StrCat("SELECT ", kSessionColumns,
                              " FROM registry.sessions WHERE ended_at IS NULL AND method = 'card' "
                              "AND expires_at > to_timestamp($1)"),
                 {pg::Param(UnixSeconds(now))}));
  std::vector<SessionRecord> sessions;
  for (int row = 0; row < r.rows(); ++row) sessions.push_back(SessionFrom(r, row));
  return sessions;
}

absl::StatusOr<bool> PgLoginStore::MinistryOperatorLoggedIn() {
  TESSERA_ASSIGN_OR_RETURN(auto conn, pool_.Acquire());
  TESSERA_ASSIGN_OR_RETURN(
      pg::Result r,
      conn->Exec("SELECT EXISTS (SELECT 1 FROM registry.sessions WHERE office = 'ministero')"));
  return r.Bool(0, 0);
}

absl::StatusOr<access::SessionState> PgLoginStore::EndedSince(int64_t cursor,
                                                              system_clock::time_point now) {
  TESSERA_ASSIGN_OR_RETURN(auto conn, pool_.Acquire());
  // Ended sessions are numbered as they end; one ending in a transaction not yet committed may
  // take a lower number than one already seen, so the cursor stays behind the oldest ending of
  // the last minute and a few are sent twice (services keep a set).
  TESSERA_ASSIGN_OR_RETURN(
      pg::Result r,
      conn->Exec("SELECT id, extract(epoch FROM expires_at)::bigint, ended_seq, ended_at > "
                 "to_timestamp($2) - interval '1 minute' FROM registry.sessions WHERE ended_seq > "
                 "$1 AND expires_at > to_timestamp($2) ORDER BY ended_seq LIMIT 10000",
                 {pg::Param(cursor), pg::Param(UnixSeconds(now))}));
  access::SessionState state;
  state.next_cursor = cursor;
  bool recent = false;
  for (int row = 0; row < r.rows(); ++row) {
    state.ended.push_back({std::string(r.Text(row, 0)), FromUnixSeconds(r.Int(row, 1))});
    recent = recent || r.Bool(row, 3);
    if (!recent) state.next_cursor = r.Int(row, 2);
  }
  return state;
}

}  // namespace tessera::registry
