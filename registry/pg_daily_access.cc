#include "absl/strings/str_cat.h"
#include "identity/codice_fiscale.h"
#include "platform/clock.h"
#include "platform/status_macros.h"
#include "registry/internal/request_journal.h"
#include "registry/pg_stores.h"

namespace tessera::registry {
namespace {

using std::chrono::system_clock;

// The mail into the outbox, in the caller's transaction.
absl::Status QueueMail(pg::Connection& conn, const OutboxMail& mail, system_clock::time_point at) {
  return conn
      .Exec(
          "INSERT INTO registry.outbox (kind, to_address, subject, sealed_body, created_at) "
          "VALUES ($1, $2, $3, $4, to_timestamp($5))",
          {pg::Param(mail.kind), pg::Param(mail.to), pg::Param(mail.subject),
           pg::Param::Bytes(mail.sealed_body), pg::Param(UnixSeconds(at))})
      .status();
}

// A day's password of a grant: a new one replaces the day's (`replace`), or is dropped if the
// day has one already. Whether it was stored.
absl::StatusOr<bool> StorePassword(pg::Connection& conn, const std::string& codice_fiscale,
                                   const std::string& office, const DayPassword& password,
                                   bool replace) {
  TESSERA_ASSIGN_OR_RETURN(
      pg::Result stored,
      conn.Exec(absl::StrCat("INSERT INTO registry.daily_passwords (codice_fiscale, office, day, "
                             "hash, expires_at, issued_at) VALUES ($1, $2, $3::date, $4, "
                             "to_timestamp($5), to_timestamp($6)) ON CONFLICT (codice_fiscale, "
                             "office, day) ",
                             replace ? "DO UPDATE SET hash = EXCLUDED.hash, expires_at = "
                                       "EXCLUDED.expires_at, issued_at = EXCLUDED.issued_at"
                                     : "DO NOTHING"),
                {pg::Param(codice_fiscale), pg::Param(office), pg::Param(IsoDate(password.day)),
                 pg::Param(password.hash), pg::Param(UnixSeconds(password.expires_at)),
                 pg::Param(UnixSeconds(password.issued_at))}));
  return stored.AffectedRows() > 0;
}

}  // namespace

absl::StatusOr<std::string> PgDailyAccessStore::MailboxAt(const std::string& codice_fiscale,
                                                          const access::Office& office) {
  TESSERA_ASSIGN_OR_RETURN(auto conn, pool_.Acquire());
  TESSERA_ASSIGN_OR_RETURN(
      pg::Result r,
      conn->Exec("SELECT u.email FROM registry.census_users u JOIN registry.censuses c ON c.id = "
                 "u.census_id JOIN registry.persons p ON p.codice_fiscale = u.codice_fiscale "
                 "WHERE p.person_key = $1 AND c.state = 'SUBMITTED' AND c.kind = $2 AND c.owner "
                 "= $3",
                 {pg::Param(identity::PersonKey(codice_fiscale)), pg::Param(office.KindName()),
                  pg::Param(office.census_owner())}));
  return r.rows() == 0 ? std::string() : std::string(r.Text(0, 0));
}

absl::Status PgDailyAccessStore::Grant(const DailyGrant& grant, const DayPassword& today,
                                       const OutboxMail& mail, const Request& request) {
  TESSERA_ASSIGN_OR_RETURN(auto conn, pool_.Acquire());
  TESSERA_ASSIGN_OR_RETURN(pg::Transaction tx, pg::Transaction::Begin(*conn));
  // The registry's request journal: a key used before, for this or another request, is
  // refused (a password is mailed once, as an access code is shown once).
  TESSERA_ASSIGN_OR_RETURN(std::optional<std::string> repeated,
                           internal::BeginRequest(*conn, request, "AuthorizeDailyPassword",
                                                  pg::Param(UnixSeconds(grant.granted_at))));
  if (repeated.has_value()) {
    return absl::AlreadyExistsError(
        absl::StrCat("request_id: '", grant.request_id,
                     "' already authorized a daily password, which was mailed once; ask with a new "
                     "request_id"));
  }
  TESSERA_RETURN_IF_ERROR(
      conn->Exec("INSERT INTO registry.daily_password_grants (codice_fiscale, office, until_date, "
                 "reason, granted_at, granted_by, granted_by_session, request_id) VALUES ($1, $2, "
                 "$3::date, $4, to_timestamp($5), $6, $7, $8) ON CONFLICT (codice_fiscale, "
                 "office) DO UPDATE SET until_date = EXCLUDED.until_date, reason = "
                 "EXCLUDED.reason, granted_at = EXCLUDED.granted_at, granted_by = "
                 "EXCLUDED.granted_by, granted_by_session = EXCLUDED.granted_by_session, "
                 "request_id = EXCLUDED.request_id",
                 {pg::Param(grant.codice_fiscale), pg::Param(grant.office),
                  pg::Param(IsoDate(grant.until)), pg::Param(grant.reason),
                  pg::Param(UnixSeconds(grant.granted_at)), pg::Param(grant.granted_by),
                  pg::Param(grant.granted_by_session), pg::Param(grant.request_id)})
          .status());
  // A new grant makes a new password for today: the one mailed before stops working.
  TESSERA_RETURN_IF_ERROR(StorePassword(*conn, grant.codice_fiscale, grant.office, today,
                                        /*replace=*/true)
                              .status());
  TESSERA_RETURN_IF_ERROR(QueueMail(*conn, mail, grant.granted_at));
  TESSERA_RETURN_IF_ERROR(internal::FinishRequest(*conn, request, "{}"));
  return tx.Commit();
}

absl::StatusOr<std::vector<DailyAccessStore::Due>> PgDailyAccessStore::DueOn(
    std::chrono::year_month_day today) {
  TESSERA_ASSIGN_OR_RETURN(auto conn, pool_.Acquire());
  TESSERA_ASSIGN_OR_RETURN(
      pg::Result r,
      conn->Exec("SELECT g.codice_fiscale, g.office, u.email FROM registry.daily_password_grants "
                 "g JOIN registry.censuses c ON c.state = 'SUBMITTED' AND c.kind = "
                 "split_part(g.office, ':', 1) AND c.owner = split_part(g.office, ':', 2) JOIN "
                 "registry.census_users u ON u.census_id = c.id AND u.codice_fiscale = "
                 "g.codice_fiscale WHERE g.until_date >= $1::date AND NOT EXISTS (SELECT 1 FROM "
                 "registry.daily_passwords d WHERE d.codice_fiscale = g.codice_fiscale AND "
                 "d.office = g.office AND d.day = $1::date) ORDER BY g.codice_fiscale",
                 {pg::Param(IsoDate(today))}));
  std::vector<Due> due;
  for (int row = 0; row < r.rows(); ++row) {
    due.push_back(
        {std::string(r.Text(row, 0)), std::string(r.Text(row, 1)), std::string(r.Text(row, 2))});
  }
  return due;
}

absl::Status PgDailyAccessStore::Issue(const Due& due, const DayPassword& password,
                                       const OutboxMail& mail) {
  TESSERA_ASSIGN_OR_RETURN(auto conn, pool_.Acquire());
  TESSERA_ASSIGN_OR_RETURN(pg::Transaction tx, pg::Transaction::Begin(*conn));
  TESSERA_ASSIGN_OR_RETURN(bool stored, StorePassword(*conn, due.codice_fiscale, due.office,
                                                      password, /*replace=*/false));
  if (!stored) return absl::OkStatus();  // another replica was first
  TESSERA_RETURN_IF_ERROR(QueueMail(*conn, mail, password.issued_at));
  return tx.Commit();
}

absl::StatusOr<std::optional<DayPassword>> PgDailyAccessStore::PasswordOn(
    const std::string& codice_fiscale, const access::Office& office,
    std::chrono::year_month_day today) {
  TESSERA_ASSIGN_OR_RETURN(auto conn, pool_.Acquire());
  TESSERA_ASSIGN_OR_RETURN(
      pg::Result r,
      conn->Exec("SELECT d.hash, extract(epoch FROM d.expires_at)::bigint FROM "
                 "registry.daily_passwords d JOIN registry.daily_password_grants g USING "
                 "(codice_fiscale, office) JOIN registry.persons p ON p.codice_fiscale = "
                 "d.codice_fiscale WHERE p.person_key = $1 AND d.office = $2 AND d.day = "
                 "$3::date AND g.until_date >= $3::date",
                 {pg::Param(identity::PersonKey(codice_fiscale)), pg::Param(office.Text()),
                  pg::Param(IsoDate(today))}));
  if (r.rows() == 0) return std::nullopt;
  return DayPassword{today, std::string(r.Text(0, 0)), FromUnixSeconds(r.Int(0, 1)), {}};
}

absl::Status PgDailyAccessStore::RecordAttempt(const std::string& codice_fiscale,
                                               const std::string& machine, bool succeeded,
                                               system_clock::time_point at) {
  TESSERA_ASSIGN_OR_RETURN(auto conn, pool_.Acquire());
  return conn
      ->Exec(
          "INSERT INTO registry.daily_password_attempts (codice_fiscale, machine, at, "
          "succeeded) VALUES ($1, $2, to_timestamp($3), $4)",
          {pg::Param(identity::PersonKey(codice_fiscale)), pg::Param(machine),
           pg::Param(UnixSeconds(at)), pg::Param(succeeded)})
      .status();
}

absl::StatusOr<DailyAccessStore::Failures> PgDailyAccessStore::FailuresSince(
    const std::string& codice_fiscale, const std::string& machine,
    system_clock::time_point person_since, system_clock::time_point machine_since) {
  TESSERA_ASSIGN_OR_RETURN(auto conn, pool_.Acquire());
  TESSERA_ASSIGN_OR_RETURN(
      pg::Result r,
      conn->Exec("SELECT (SELECT count(*) FROM registry.daily_password_attempts WHERE "
                 "codice_fiscale = $1 AND NOT succeeded AND at >= to_timestamp($3)), (SELECT "
                 "coalesce(extract(epoch FROM min(at))::bigint, 0) FROM "
                 "registry.daily_password_attempts WHERE codice_fiscale = $1 AND NOT succeeded "
                 "AND at >= to_timestamp($3)), (SELECT count(*) FROM "
                 "registry.daily_password_attempts WHERE machine = $2 AND NOT succeeded AND at >= "
                 "to_timestamp($4)), (SELECT coalesce(extract(epoch FROM min(at))::bigint, 0) FROM "
                 "registry.daily_password_attempts WHERE machine = $2 AND NOT succeeded AND at >= "
                 "to_timestamp($4))",
                 {pg::Param(identity::PersonKey(codice_fiscale)), pg::Param(machine),
                  pg::Param(UnixSeconds(person_since)), pg::Param(UnixSeconds(machine_since))}));
  return Failures{static_cast<int>(r.Int(0, 0)), FromUnixSeconds(r.Int(0, 1)),
                  static_cast<int>(r.Int(0, 2)), FromUnixSeconds(r.Int(0, 3))};
}

}  // namespace tessera::registry
