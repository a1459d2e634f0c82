// tessera login | whoami | logout: a person's session, opened with their card at the machine
// whose certificate the CLI connects with (cli/session.h).
#include <botan/data_src.h>
#include <botan/pkix_types.h>
#include <botan/pubkey.h>
#include <botan/x509cert.h>
#include <termios.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <cstdlib>
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "access/card_signature.h"
#include "cli/session.h"
#include "hsm/token.h"
#include "hsm/token_key.h"
#include "platform/clock.h"
#include "platform/files.h"
#include "platform/random.h"
#include "platform/rpc_client.h"
#include "platform/rpc_server.h"
#include "platform/status_macros.h"
#include "proto/registry.grpc.pb.h"

namespace tessera::cli {
namespace {

constexpr auto kRenewBefore = std::chrono::minutes(5);

nlohmann::json SessionJson(const StoredSession& session) {
  return {{"token", session.token},
          {"session_id", session.session_id},
          {"codice_fiscale", session.codice_fiscale},
          {"office", session.office},
          {"profiles", session.profiles},
          {"expires_at_unix", UnixSeconds(session.expires_at)},
          {"renew_until_unix", UnixSeconds(session.renew_until)},
          {"machine_sha256", session.machine_sha256},
          {"registry_target", session.registry_target}};
}

absl::Status WriteSession(const StoredSession& session) {
  const std::string path = SessionFilePath();
  TESSERA_RETURN_IF_ERROR(MakePrivateDirectory(std::filesystem::path(path).parent_path().string()));
  return WriteSecretFile(path, SessionJson(session).dump() + "\n");
}

StoredSession FromResponse(const v1::SessionResponse& response, std::string machine_sha256,
                           std::string registry_target) {
  return {.token = response.token(),
          .session_id = response.session_id(),
          .codice_fiscale = response.codice_fiscale(),
          .office = response.office(),
          .profiles = {response.profiles().begin(), response.profiles().end()},
          .expires_at = FromUnixSeconds(response.expires_at_unix()),
          .renew_until = FromUnixSeconds(response.renew_until_unix()),
          .machine_sha256 = std::move(machine_sha256),
          .registry_target = std::move(registry_target)};
}

// The SHA-256 of the first certificate in `pem` (the machine's, before its CA).
absl::StatusOr<std::string> FirstCertificateSha256(const std::string& pem) {
  try {
    Botan::DataSource_Memory source(pem);
    return CertificateSha256(Botan::X509_Certificate(source));
  } catch (const std::exception& e) {
    return absl::InvalidArgumentError(absl::StrCat("--cert: not a PEM certificate: ", e.what()));
  }
}

// A secret from `variable` (or its _FILE; scripts), else asked on the terminal without echo
// after `prompt`. `what` names it in errors.
absl::StatusOr<Secret> AskSecret(const char* variable, const std::string& prompt,
                                 const std::string& what) {
  if (absl::StatusOr<Secret> secret = PinFromEnv(variable); secret.ok()) return secret;
  FILE* tty = std::fopen("/dev/tty", "r+");
  if (tty == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat(what, ": no terminal to ask it on (set ",
                                                   variable, " or ", variable, "_FILE)"));
  }
  std::fputs(prompt.c_str(), tty);
  std::fflush(tty);
  termios saved{};
  const bool is_tty = tcgetattr(fileno(tty), &saved) == 0;
  if (is_tty) {
    termios quiet = saved;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    tcsetattr(fileno(tty), TCSAFLUSH, &quiet);
  }
  Botan::secure_vector<uint8_t> typed;
  for (int c = std::fgetc(tty); c != EOF && c != '\n'; c = std::fgetc(tty)) {
    typed.push_back(static_cast<uint8_t>(c));
  }
  if (is_tty) tcsetattr(fileno(tty), TCSAFLUSH, &saved);
  std::fputc('\n', tty);
  std::fclose(tty);
  if (typed.empty()) return absl::InvalidArgumentError(absl::StrCat(what, ": nothing typed"));
  return Secret(std::move(typed));
}

struct CardCertificate {
  std::vector<uint8_t> id;
  std::vector<uint8_t> der;
  std::string codice_fiscale;
};

// The holder's certificate on the card: the one in the operators' branch (OU=Operatori).
absl::StatusOr<CardCertificate> HolderCertificate(std::shared_ptr<hsm::Token> token,
                                                  const std::string& label) {
  TESSERA_ASSIGN_OR_RETURN(std::vector<hsm::TokenCertificate> certificates,
                           hsm::ListCertificates(token));
  for (hsm::TokenCertificate& certificate : certificates) {
    try {
      const Botan::X509_Certificate parsed(certificate.der);
      const auto units = parsed.subject_dn().get_attribute("X520.OrganizationalUnit");
      if (std::find(units.begin(), units.end(), std::string(kOperatorsUnit)) == units.end()) {
        continue;
      }
      return CardCertificate{std::move(certificate.id), std::move(certificate.der),
                             parsed.subject_dn().get_first_attribute("X520.CommonName")};
    } catch (const std::exception&) {
      continue;  // not a certificate we can read: not the holder's
    }
  }
  return absl::NotFoundError(absl::StrCat(
      "card ", label, ": no operator certificate (OU=", std::string(kOperatorsUnit), ") on it"));
}

// The SHA-256 of the machine certificate (--cert) the session will be bound to.
absl::StatusOr<std::string> MachineSha256(const Args& args) {
  if (args.Get("cert").empty() || args.Get("key").empty()) {
    return absl::InvalidArgumentError(
        "--cert and --key (or TESSERA_TLS_CERT/KEY): the machine's certificate, which the "
        "session is bound to");
  }
  TESSERA_ASSIGN_OR_RETURN(std::string cert_pem, ReadFile(args.Get("cert")));
  return FirstCertificateSha256(cert_pem);
}

// Keeps the session the registry answered and says so.
absl::Status KeepSession(const Args& args, const v1::SessionResponse& response,
                         std::string machine_sha256) {
  const StoredSession session =
      FromResponse(response, std::move(machine_sha256), args.Get("target"));
  TESSERA_RETURN_IF_ERROR(WriteSession(session));
  nlohmann::json json = SessionJson(session);
  json.erase("token");
  Print(
      args, json,
      absl::StrCat("logged in: ", session.codice_fiscale, " at ", session.office, " (",
                   absl::StrJoin(session.profiles, ", "), "), until ", UtcText(session.expires_at),
                   ", renewable until ", UtcText(session.renew_until)));
  return absl::OkStatus();
}

// tessera login --daily-password: the temporary password mailed for today (a card being
// replaced), at a workstation of the office that authorized it.
absl::Status PasswordLogin(const Args& args) {
  const std::string cf = args.Get("codice-fiscale");
  if (cf.empty()) {
    return absl::InvalidArgumentError("--codice-fiscale: whose daily password it is");
  }
  TESSERA_ASSIGN_OR_RETURN(std::string machine_sha256, MachineSha256(args));
  TESSERA_ASSIGN_OR_RETURN(
      Secret password,
      AskSecret("TESSERA_DAILY_PASSWORD", "Daily password of " + cf + ": ", "the daily password"));
  TESSERA_ASSIGN_OR_RETURN(std::shared_ptr<grpc::Channel> channel, MachineChannel(args));
  v1::PasswordLoginRequest request;
  request.set_codice_fiscale(cf);
  request.set_password(std::string(password.view()));
  v1::SessionResponse response;
  grpc::ClientContext context;
  const grpc::Status status =
      v1::Registry::NewStub(channel)->PasswordLogin(&context, request, &response);
  request.mutable_password()->assign(request.password().size(), '\0');
  TESSERA_RETURN_IF_ERROR(FromGrpc(status));
  return KeepSession(args, response, std::move(machine_sha256));
}

absl::Status Login(const Args& args) {
  if (args.Has("daily-password")) return PasswordLogin(args);
  const std::string label = args.Get("token-label");
  if (label.empty()) {
    return absl::InvalidArgumentError(
        "--token-label: the card to log in with (or --daily-password --codice-fiscale)");
  }
  TESSERA_ASSIGN_OR_RETURN(std::string machine_sha256, MachineSha256(args));
  TESSERA_ASSIGN_OR_RETURN(auto module, LoadModule(args));
  TESSERA_ASSIGN_OR_RETURN(
      Secret pin, AskSecret("TESSERA_USER_PIN", "PIN of card " + label + ": ", "the card's PIN"));
  TESSERA_ASSIGN_OR_RETURN(std::shared_ptr<hsm::Token> card, hsm::Token::Login(module, label, pin));
  TESSERA_ASSIGN_OR_RETURN(CardCertificate holder, HolderCertificate(card, label));
  TESSERA_ASSIGN_OR_RETURN(std::unique_ptr<Botan::Private_Key> key,
                           hsm::LoadTokenKey(card, holder.id));

  TESSERA_ASSIGN_OR_RETURN(std::shared_ptr<grpc::Channel> channel, MachineChannel(args));
  auto registry = v1::Registry::NewStub(channel);
  v1::BeginLoginRequest begin;
  begin.set_codice_fiscale(holder.codice_fiscale);
  v1::BeginLoginResponse challenge;
  {
    grpc::ClientContext context;
    TESSERA_RETURN_IF_ERROR(FromGrpc(registry->BeginLogin(&context, begin, &challenge)));
  }
  v1::CompleteLoginRequest complete;
  complete.set_challenge_id(challenge.challenge_id());
  complete.set_card_certificate(std::string(holder.der.begin(), holder.der.end()));
  try {
    Botan::PK_Signer signer(*key, ThreadRng(), access::CardSignatureScheme(*key));
    const std::vector<uint8_t> signature =
        signer.sign_message(reinterpret_cast<const uint8_t*>(challenge.to_sign().data()),
                            challenge.to_sign().size(), ThreadRng());
    complete.set_signature(std::string(signature.begin(), signature.end()));
  } catch (const std::exception& e) {
    return hsm::SignatureFailure(e, "the card did not sign", absl::StatusCode::kFailedPrecondition);
  }
  v1::SessionResponse response;
  {
    grpc::ClientContext context;
    TESSERA_RETURN_IF_ERROR(FromGrpc(registry->CompleteLogin(&context, complete, &response)));
  }
  return KeepSession(args, response, std::move(machine_sha256));
}

// tessera daily-password authorize: an administrator (in a session) lets an operator of their
// office log in with a daily password until a date, while a card is replaced.
absl::Status AuthorizeDailyPassword(const Args& args) {
  v1::AuthorizeDailyPasswordRequest request;
  request.set_codice_fiscale(args.Get("codice-fiscale"));
  request.set_until(args.Get("until"));
  request.set_reason(args.Get("reason"));
  request.set_office(args.Get("office"));
  request.set_request_id(RequestIdOf(
      args, "daily-password",
      absl::StrCat(request.codice_fiscale(), "\n", request.until(), "\n", request.office())));
  TESSERA_ASSIGN_OR_RETURN(std::shared_ptr<grpc::Channel> channel, ServiceChannel(args));
  grpc::ClientContext context;
  v1::AuthorizeDailyPasswordResponse response;
  TESSERA_RETURN_IF_ERROR(FromGrpc(
      v1::Registry::NewStub(channel)->AuthorizeDailyPassword(&context, request, &response)));
  Print(args,
        {{"codice_fiscale", request.codice_fiscale()},
         {"until", response.until()},
         {"first_password_expires_at_unix", response.first_password_expires_at_unix()},
         {"request_id", request.request_id()}},
        absl::StrCat("daily password authorized for ", request.codice_fiscale(), " until ",
                     response.until(), "; today's is in the mail, good until ",
                     UtcText(FromUnixSeconds(response.first_password_expires_at_unix()))));
  return absl::OkStatus();
}

absl::StatusOr<StoredSession> CurrentSession() {
  TESSERA_ASSIGN_OR_RETURN(std::optional<StoredSession> session, ReadSession());
  if (!session) return absl::NotFoundError("not logged in (tessera login)");
  return *session;
}

absl::Status WhoAmI(const Args& args) {
  TESSERA_ASSIGN_OR_RETURN(StoredSession session, CurrentSession());
  const bool expired = std::chrono::system_clock::now() >= session.expires_at;
  nlohmann::json json = SessionJson(session);
  json.erase("token");
  json["expired"] = expired;
  Print(args, json,
        absl::StrCat(session.codice_fiscale, " at ", session.office, " (",
                     absl::StrJoin(session.profiles, ", "), "), session ", session.session_id,
                     expired ? ", expired at " : ", until ", UtcText(session.expires_at)));
  return expired ? absl::UnauthenticatedError("the session has expired: log in again")
                 : absl::OkStatus();
}

absl::Status Logout(const Args& args) {
  TESSERA_ASSIGN_OR_RETURN(StoredSession session, CurrentSession());
  TESSERA_ASSIGN_OR_RETURN(std::shared_ptr<grpc::Channel> channel, ServiceChannel(args));
  grpc::ClientContext context;
  v1::LogoutResponse unused;
  grpc::Status ended = v1::Registry::NewStub(channel)->Logout(&context, {}, &unused);
  // A session the registry no longer honours (expired, ended) is as good as logged out.
  if (!ended.ok() && ended.error_code() != grpc::StatusCode::UNAUTHENTICATED) {
    return FromGrpc(ended);
  }
  std::error_code ignored;
  std::filesystem::remove(SessionFilePath(), ignored);
  Print(args, {{"session_id", session.session_id}, {"logged_out", true}},
        absl::StrCat("logged out: session ", session.session_id, " ended"));
  return absl::OkStatus();
}

}  // namespace

std::string SessionFilePath() {
  if (const char* file = std::getenv("TESSERA_SESSION_FILE"); file != nullptr && *file != '\0') {
    return file;
  }
  if (const char* config = std::getenv("XDG_CONFIG_HOME"); config != nullptr && *config != '\0') {
    return std::string(config) + "/tessera/session.json";
  }
  const char* home = std::getenv("HOME");
  return std::string(home != nullptr ? home : ".") + "/.config/tessera/session.json";
}

absl::StatusOr<std::optional<StoredSession>> ReadSession() {
  const std::string path = SessionFilePath();
  if (!std::filesystem::exists(path)) return std::nullopt;
  TESSERA_ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  const nlohmann::json json = nlohmann::json::parse(text, nullptr, false);
  try {
    return StoredSession{.token = json.at("token").get<std::string>(),
                         .session_id = json.at("session_id").get<std::string>(),
                         .codice_fiscale = json.at("codice_fiscale").get<std::string>(),
                         .office = json.at("office").get<std::string>(),
                         .profiles = json.at("profiles").get<std::vector<std::string>>(),
                         .expires_at = FromUnixSeconds(json.at("expires_at_unix").get<int64_t>()),
                         .renew_until = FromUnixSeconds(json.at("renew_until_unix").get<int64_t>()),
                         .machine_sha256 = json.at("machine_sha256").get<std::string>(),
                         .registry_target = json.at("registry_target").get<std::string>()};
  } catch (const nlohmann::json::exception&) {
    return absl::FailedPreconditionError(
        absl::StrCat(path, ": not a tessera session file (log in again)"));
  }
}

std::optional<std::string> SessionCredentialFor(const std::string& cert_pem,
                                                const std::string& ca_pem,
                                                const std::string& key_pem) {
  absl::StatusOr<std::optional<StoredSession>> stored = ReadSession();
  if (!stored.ok() || !stored->has_value()) return std::nullopt;
  StoredSession& session = **stored;
  absl::StatusOr<std::string> machine = FirstCertificateSha256(cert_pem);
  if (!machine.ok() || *machine != session.machine_sha256) return std::nullopt;
  const auto now = std::chrono::system_clock::now();
  if (now >= session.expires_at) return std::nullopt;
  if (session.expires_at - now < kRenewBefore && now < session.renew_until) {
    auto registry = v1::Registry::NewStub(
        CredentialChannel(session.registry_target, ca_pem,
                          std::string(kSessionScheme) + session.token, cert_pem, key_pem));
    grpc::ClientContext context;
    v1::SessionResponse renewed;
    if (registry->RenewSession(&context, {}, &renewed).ok()) {
      session = FromResponse(renewed, session.machine_sha256, session.registry_target);
      (void)WriteSession(session);  // the next command renews again if this did not stick
    }
  }
  return std::string(kSessionScheme) + session.token;
}

void AddSessionCommands(CLI::App& app) {
  CLI::App* login = AddCommand(
      app, "login",
      "log in with your card (or a daily password) at this machine (its --cert/--key)", Login,
      "Reads the operator certificate on the card, has tessera-registry (--target) send a "
      "challenge bound to this machine's certificate, signs it on the card and keeps the "
      "session in " +
          std::string("$XDG_CONFIG_HOME/tessera/session.json (mode 0600; TESSERA_SESSION_FILE "
                      "to choose). The PIN is asked on the terminal (TESSERA_USER_PIN or "
                      "TESSERA_USER_PIN_FILE for scripts). Every later command made with the "
                      "same --cert sends the session; it is renewed when it has under five "
                      "minutes left, up to ten hours after login. While a card is replaced: "
                      "--daily-password --codice-fiscale CF, with the password mailed for today "
                      "(a session until midnight in Rome)."));
  CLI::Option* card = login->add_option("--token-label", "the card's token label (its card number)")
                          ->type_name("LABEL");
  CLI::Option* daily =
      login->add_flag("--daily-password")
          ->description(
              "log in with today's daily password instead (a card being replaced; asked on the "
              "terminal, or TESSERA_DAILY_PASSWORD[_FILE])");
  login->add_option("--codice-fiscale", "whose daily password it is")
      ->type_name("CF")
      ->needs(daily);
  card->excludes(daily);
  CLI::App* daily_password =
      AddGroup(app, "daily-password", "temporary daily passwords while a card is replaced",
               ConnectsTo("tessera-registry") +
                   " Needs a session (tessera login) of the office's "
                   "security administrator (a comune's mayor too).");
  CLI::App* authorize = AddCommand(
      *daily_password, "authorize",
      "let an operator of your office log in with a daily password until a date",
      AuthorizeDailyPassword,
      "The operator gets a new password by mail each day (Europe/Rome) up to --until, and logs "
      "in with it at a workstation of the office: tessera login --daily-password "
      "--codice-fiscale CF.");
  authorize->add_option("--codice-fiscale", "the operator")->type_name("CF")->required();
  authorize->add_option("--until", "the last day, YYYY-MM-DD (today to 30 days ahead)")
      ->type_name("DATE")
      ->required();
  authorize->add_option("--reason", "why (1 to 500 characters)")->type_name("TEXT")->required();
  authorize->add_option("--office", "the Ministry names a prefettura: prefettura:057")
      ->type_name("OFFICE");
  AddRequestId(*authorize);
  AddCommand(app, "whoami", "the session this CLI holds: person, office, profiles, expiry", WhoAmI);
  AddCommand(app, "logout", "end the session at every tessera service (tessera-registry --target)",
             Logout);
}

}  // namespace tessera::cli
