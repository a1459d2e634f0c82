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

// The PIN from TESSERA_USER_PIN (scripts), else asked on the terminal without echo.
absl::StatusOr<Secret> CardPin(const std::string& label) {
  if (absl::StatusOr<Secret> pin = PinFromEnv("TESSERA_USER_PIN"); pin.ok()) return pin;
  FILE* tty = std::fopen("/dev/tty", "r+");
  if (tty == nullptr) {
    return absl::InvalidArgumentError(
        "the card's PIN: no terminal to ask it on (set TESSERA_USER_PIN or TESSERA_USER_PIN_FILE)");
  }
  std::fprintf(tty, "PIN of card %s: ", label.c_str());
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
  if (typed.empty()) return absl::InvalidArgumentError("the card's PIN: nothing typed");
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

absl::Status Login(const Args& args) {
  const std::string label = args.Get("token-label");
  const std::string cert = args.Get("cert");
  if (cert.empty() || args.Get("key").empty()) {
    return absl::InvalidArgumentError(
        "--cert and --key (or TESSERA_TLS_CERT/KEY): the machine's certificate, which the "
        "session is bound to");
  }
  TESSERA_ASSIGN_OR_RETURN(std::string cert_pem, ReadFile(cert));
  TESSERA_ASSIGN_OR_RETURN(std::string machine_sha256, FirstCertificateSha256(cert_pem));
  TESSERA_ASSIGN_OR_RETURN(auto module, LoadModule(args));
  TESSERA_ASSIGN_OR_RETURN(Secret pin, CardPin(label));
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
      app, "login", "log in with your card at this machine (its --cert/--key)", Login,
      "Reads the operator certificate on the card, has tessera-registry (--target) send a "
      "challenge bound to this machine's certificate, signs it on the card and keeps the "
      "session in " +
          std::string("$XDG_CONFIG_HOME/tessera/session.json (mode 0600; TESSERA_SESSION_FILE "
                      "to choose). The PIN is asked on the terminal (TESSERA_USER_PIN or "
                      "TESSERA_USER_PIN_FILE for scripts). Every later command made with the "
                      "same --cert sends the session; it is renewed when it has under five "
                      "minutes left, up to ten hours after login."));
  login->add_option("--token-label", "the card's token label (its card number)")
      ->type_name("LABEL")
      ->required();
  AddCommand(app, "whoami", "the session this CLI holds: person, office, profiles, expiry", WhoAmI);
  AddCommand(app, "logout", "end the session at every tessera service (tessera-registry --target)",
             Logout);
}

}  // namespace tessera::cli
