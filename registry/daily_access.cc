#include "registry/daily_access.h"

#include "absl/strings/str_cat.h"
#include "access/daily_password.h"
#include "identity/codice_fiscale.h"
#include "platform/log.h"
#include "platform/status_macros.h"
#include "registry/census.h"

namespace tessera::registry {
namespace {

using std::chrono::days;
using std::chrono::sys_days;

constexpr char kWrong[] = "codice fiscale or daily password wrong, or no daily password today";

// Who may authorize whom: the security administrator of a comune or prefettura for its users,
// a comune's mayor too (when that administrator's own card is out), and the Ministry's
// operators for a prefettura's users (its central security administration).
absl::StatusOr<access::Office> OfficeTheCallerAdministers(const Principal& caller,
                                                          const std::string& named) {
  if (!caller.session) {
    return absl::PermissionDeniedError("a daily password is authorized by a person's session");
  }
  const PersonSession& session = *caller.session;
  TESSERA_ASSIGN_OR_RETURN(access::Office own, access::ParseOffice(session.office));
  if (own.kind == access::Office::Kind::kMinistero) {
    if (!session.Holds(access::kMinistryOperatorProfile, own.KindName())) {
      return absl::PermissionDeniedError("only a Ministry operator acts for the Ministry");
    }
    absl::StatusOr<access::Office> office = access::ParseOffice(named);
    if (!office.ok() || office->kind != access::Office::Kind::kPrefettura) {
      return absl::InvalidArgumentError(
          "office: the Ministry authorizes a prefettura's users: prefettura:<province code>");
    }
    return office;
  }
  if (!named.empty() && named != session.office) {
    return absl::PermissionDeniedError(
        absl::StrCat("office: ", session.office, "'s administrator may not act for ", named));
  }
  const bool administrator = session.Holds(kAmministratoreSicurezza, own.KindName()) ||
                             session.Holds(kSindacoDelegato, "comune");
  if (!administrator) {
    return absl::PermissionDeniedError(absl::StrCat(
        "a daily password is authorized by the office's Amministratore Sicurezza (or a "
        "comune's mayor), not by ",
        session.person));
  }
  return own;
}

}  // namespace

absl::StatusOr<std::pair<DayPassword, OutboxMail>> DailyAccess::NewPasswordMail(
    const std::string& mailbox, const std::string& office, std::chrono::year_month_day until) {
  const auto now = clock_.Now();
  TESSERA_ASSIGN_OR_RETURN(access::DailyPassword made, access::NewDailyPassword(now));
  const std::string body = absl::StrCat(
      "La sua password temporanea per l'accesso con codice fiscale da una postazione di ", office,
      " e' valida fino alla mezzanotte di oggi (", IsoDate(ItalianDate(now)), "):\n\n",
      std::string(made.password.view()), "\n\nNe ricevera' una nuova ogni giorno fino al ",
      IsoDate(until), ", finche' la nuova carta non e' attiva.\n");
  TESSERA_ASSIGN_OR_RETURN(std::vector<uint8_t> sealed, seal_(body));
  return std::pair{DayPassword{ItalianDate(now), made.hash, made.expires_at, now},
                   OutboxMail{"daily_password", mailbox, "tessera: password temporanea di oggi",
                              std::move(sealed)}};
}

absl::StatusOr<DailyAccess::Authorized> DailyAccess::Authorize(
    const std::string& codice_fiscale, const std::string& office_text, const std::string& until,
    const std::string& reason, Request request, const Principal& caller) {
  const std::string code = identity::NormalizeCodiceFiscale(codice_fiscale);
  if (absl::Status valid = identity::ValidateCodiceFiscale(code); !valid.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("codice_fiscale: ", valid.message()));
  }
  if (reason.empty() || reason.size() > 500) {
    return absl::InvalidArgumentError("reason: 1 to 500 characters");
  }
  TESSERA_ASSIGN_OR_RETURN(access::Office office, OfficeTheCallerAdministers(caller, office_text));
  if (identity::PersonKey(code) == identity::PersonKey(caller.session->person)) {
    return absl::PermissionDeniedError(
        "codice_fiscale: nobody authorizes themselves (the mayor, or the Ministry for a "
        "prefettura, acts for an administrator whose card is out)");
  }
  absl::StatusOr<std::chrono::year_month_day> end = ParseIsoDate(until);
  if (!end.ok()) return absl::InvalidArgumentError("until: a date, YYYY-MM-DD");
  const auto now = clock_.Now();
  const sys_days today = sys_days(ItalianDate(now));
  if (sys_days(*end) < today || sys_days(*end) > today + days(limits_.longest_grant_days)) {
    return absl::InvalidArgumentError(absl::StrCat("until: from today (", IsoDate(today), ") to ",
                                                   limits_.longest_grant_days, " days ahead"));
  }
  TESSERA_ASSIGN_OR_RETURN(LoginStanding standing, logins_.StandingOf(code, office));
  TESSERA_ASSIGN_OR_RETURN(std::string mailbox, store_.MailboxAt(code, office));
  if (!standing.known || standing.profiles.empty() || mailbox.empty()) {
    return absl::NotFoundError(
        absl::StrCat("codice_fiscale: ", code, " is no user of ", office.Text()));
  }
  TESSERA_ASSIGN_OR_RETURN(auto password_mail, NewPasswordMail(mailbox, office.Text(), *end));
  const DailyGrant grant{.codice_fiscale = standing.codice_fiscale,
                         .office = office.Text(),
                         .until = *end,
                         .reason = reason,
                         .granted_by = caller.session->person,
                         .granted_by_session = caller.session->id,
                         .request_id = request.request_id,
                         .granted_at = now};
  request.fingerprint = RequestFingerprint(
      "AuthorizeDailyPassword", {grant.codice_fiscale, grant.office, IsoDate(*end), reason});
  TESSERA_RETURN_IF_ERROR(store_.Grant(grant, password_mail.first, password_mail.second, request));
  LogEvent(spdlog::level::info, "daily_password_granted",
           {{"person", grant.codice_fiscale},
            {"office", grant.office},
            {"until", IsoDate(*end)},
            {"granted_by", grant.granted_by}});
  return Authorized{*end, password_mail.first.expires_at};
}

absl::StatusOr<int> DailyAccess::IssueDue() {
  const std::chrono::year_month_day today = ItalianDate(clock_.Now());
  TESSERA_ASSIGN_OR_RETURN(std::vector<DailyAccessStore::Due> due, store_.DueOn(today));
  for (const DailyAccessStore::Due& grant : due) {
    TESSERA_ASSIGN_OR_RETURN(auto password_mail,
                             NewPasswordMail(grant.mailbox, grant.office, today));
    TESSERA_RETURN_IF_ERROR(store_.Issue(grant, password_mail.first, password_mail.second));
  }
  return static_cast<int>(due.size());
}

absl::StatusOr<CardLogin::Issued> DailyAccess::Login(const std::string& codice_fiscale,
                                                     const Secret& password,
                                                     const Machine& machine) {
  const std::string code = identity::NormalizeCodiceFiscale(codice_fiscale);
  if (absl::Status valid = identity::ValidateCodiceFiscale(code); !valid.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("codice_fiscale: ", valid.message()));
  }
  TESSERA_ASSIGN_OR_RETURN(access::Office office, access::OfficeOfMachine(machine.principal));
  if (office.kind == access::Office::Kind::kMinistero) {
    return absl::PermissionDeniedError("the Ministry's operators log in with their card only");
  }
  const auto now = clock_.Now();
  // The lock-outs first: a locked person or machine costs no password comparison.
  TESSERA_ASSIGN_OR_RETURN(
      DailyAccessStore::Failures failures,
      store_.FailuresSince(code, machine.principal.name, now - limits_.person_window,
                           now - limits_.machine_window));
  if (failures.person >= limits_.person_failures) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "codice_fiscale: ", failures.person, " wrong daily passwords lately; locked until ",
        UtcText(failures.person_oldest + limits_.person_window)));
  }
  if (failures.machine >= limits_.machine_failures) {
    return absl::ResourceExhaustedError(
        absl::StrCat("this machine: ", failures.machine,
                     " wrong daily passwords within the hour; locked "
                     "until ",
                     UtcText(failures.machine_oldest + limits_.machine_window)));
  }
  TESSERA_ASSIGN_OR_RETURN(LoginStanding standing, logins_.StandingOf(code, office));
  TESSERA_ASSIGN_OR_RETURN(std::optional<DayPassword> today,
                           store_.PasswordOn(code, office, ItalianDate(now)));
  const bool matches = today.has_value() && now < today->expires_at && standing.known &&
                       !standing.profiles.empty() && access::PasswordMatches(today->hash, password);
  TESSERA_RETURN_IF_ERROR(store_.RecordAttempt(code, machine.principal.name, matches, now));
  if (!matches) {
    LogEvent(spdlog::level::warn, "login_refused",
             {{"person", code},
              {"machine", machine.principal.name},
              {"method", "daily_password"},
              {"reason", kWrong}});
    return absl::UnauthenticatedError(kWrong);
  }
  TESSERA_ASSIGN_OR_RETURN(CardLogin::Issued issued,
                           sessions_.Open(standing.codice_fiscale, standing.profiles, office,
                                          machine, "daily_password", "", today->expires_at));
  LogEvent(spdlog::level::info, "login",
           {{"person", issued.session.codice_fiscale},
            {"machine", machine.principal.name},
            {"office", issued.session.office},
            {"session", issued.session.id},
            {"method", "daily_password"}});
  return issued;
}

}  // namespace tessera::registry
