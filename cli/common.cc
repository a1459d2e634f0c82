#include "cli/common.h"

#include <botan/hash.h>
#include <botan/hex.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <map>

#include "absl/strings/str_cat.h"
#include "cli/session.h"
#include "platform/files.h"
#include "platform/grpc_status.h"
#include "platform/process.h"
#include "platform/random.h"
#include "platform/rpc_client.h"
#include "platform/rpc_server.h"
#include "platform/status_macros.h"

namespace tessera::cli {
namespace {

// What each command runs, by its place in the tree.
std::map<const CLI::App*, Command>& Commands() {
  static auto* commands = new std::map<const CLI::App*, Command>;
  return *commands;
}

// Every secret a command may read, by variable name, as TakeSecretsFromEnv took it.
std::map<std::string, absl::StatusOr<Secret>>& TakenSecrets() {
  static auto* secrets = new std::map<std::string, absl::StatusOr<Secret>>;
  return *secrets;
}

// The secret in `name` (taken at start, or now for a name not in the list); NOT_FOUND if unset.
absl::StatusOr<Secret> SecretFromEnv(const char* name) {
  auto it = TakenSecrets().find(name);
  return it != TakenSecrets().end() ? it->second : TakeSecretFromEnv(name);
}

}  // namespace

void TakeSecretsFromEnv() {
  for (const char* name :
       {"TESSERA_SO_PIN", "TESSERA_USER_PIN", "TESSERA_ROOT_SO_PIN", "TESSERA_ROOT_PIN",
        "TESSERA_CA_SO_PIN", "TESSERA_CA_PIN", "TESSERA_ACCESS_CODE", "TESSERA_DAILY_PASSWORD"}) {
    TakenSecrets().insert_or_assign(name, TakeSecretFromEnv(name));
  }
}

std::vector<std::string> Args::All(const std::string& name) const {
  std::vector<std::string> values;
  auto [first, last] = options.equal_range(name);
  for (auto it = first; it != last; ++it) values.push_back(it->second);
  return values;
}

CLI::App* AddCommand(CLI::App& parent, const std::string& name, const std::string& description,
                     Command run, const std::string& footer) {
  // A command under a group (not under the bare tessera, nor under the ceremony, which is a
  // command itself) carries the group's note too.
  const bool in_group = parent.get_parent() != nullptr && CommandOf(parent) == nullptr;
  const std::string group_footer = in_group ? parent.get_footer() : "";
  CLI::App* command = parent.add_subcommand(name, description);
  command->footer(footer.empty() || group_footer.empty() ? footer + group_footer
                                                         : footer + "\n\n" + group_footer);
  Commands().emplace(command, std::move(run));
  return command;
}

CLI::App* AddGroup(CLI::App& parent, const std::string& name, const std::string& description,
                   const std::string& footer) {
  CLI::App* group = parent.add_subcommand(name, description);
  group->footer(footer);
  return group;
}

const Command* CommandOf(const CLI::App& app) {
  auto it = Commands().find(&app);
  return it == Commands().end() ? nullptr : &it->second;
}

std::vector<CLI::Option*> OptionsOf(CLI::App& app) {
  std::vector<CLI::Option*> options = app.get_options();
  for (CLI::App* group :
       app.get_subcommands([](CLI::App* sub) { return sub->get_name().empty(); })) {
    for (CLI::Option* option : group->get_options()) options.push_back(option);
  }
  return options;
}

void AddRequestId(CLI::App& command) {
  command
      .add_option("--request-id",
                  "the request's id; without it, derived from the command, so running it again "
                  "is a safe retry")
      ->type_name("ID");
}

std::string ConnectsTo(const std::string& service) {
  std::string note = "Connects to " + service +
                     " with --target HOST:PORT --ca BUNDLE.pem --cert CLIENT.pem --key CLIENT.key "
                     "(before or after the command), or TESSERA_TARGET, TESSERA_TLS_CA, "
                     "TESSERA_TLS_CERT, TESSERA_TLS_KEY.";
  if (service == "tessera-registry") {
    note +=
        "\nA comune or prefettura without a certificate: TESSERA_ACCESS_CODE=<its census access "
        "code> (or TESSERA_ACCESS_CODE_FILE), no --cert/--key.";
  }
  return note;
}

void AddGlobalOptions(CLI::App& app) {
  // Global options are read wherever they stand: before the command or after it (fallthrough).
  app.fallthrough();
  app.add_flag("--json")->description("machine-readable output; errors too, as JSON on stderr");
  app.add_option("--module", "PKCS#11 module (token commands)")
      ->type_name("PATH")
      ->envname("TESSERA_PKCS11_MODULE")
      ->default_str("/usr/lib/softhsm/libsofthsm2.so");
  const std::string connecting = "Connecting to a service";
  app.add_option("--target", "the service's address")
      ->type_name("HOST:PORT")
      ->envname("TESSERA_TARGET")
      ->group(connecting);
  app.add_option("--ca", "CA certificates the service's certificate is checked against")
      ->type_name("BUNDLE.pem")
      ->envname("TESSERA_TLS_CA")
      ->group(connecting);
  app.add_option("--cert", "this client's certificate chain")
      ->type_name("CLIENT.pem")
      ->envname("TESSERA_TLS_CERT")
      ->group(connecting);
  app.add_option("--key", "this client's private key")
      ->type_name("CLIENT.key")
      ->envname("TESSERA_TLS_KEY")
      ->group(connecting);
}

std::string NewRequestIdOf(const Args& args, std::string_view command) {
  if (std::string given = args.Get("request-id"); !given.empty()) return given;
  return absl::StrCat("cli-", std::string(command), "-",
                      Botan::hex_encode(ThreadRng().random_vec(16), false));
}

std::string RequestIdOf(const Args& args, std::string_view command, std::string_view content) {
  if (std::string given = args.Get("request-id"); !given.empty()) return given;
  auto sha256 = Botan::HashFunction::create_or_throw("SHA-256");
  sha256->update(reinterpret_cast<const uint8_t*>(content.data()), content.size());
  return absl::StrCat("cli-", std::string(command), "-",
                      Botan::hex_encode(sha256->final(), false).substr(0, 32));
}

absl::StatusOr<Secret> PinFromEnv(const char* name) {
  absl::StatusOr<Secret> pin = SecretFromEnv(name);
  if (pin.status().code() == absl::StatusCode::kNotFound) {
    return absl::InvalidArgumentError(
        absl::StrCat(name, " (or ", name, "_FILE) must be set (PINs are never arguments)"));
  }
  return pin;
}

absl::StatusOr<std::shared_ptr<hsm::Module>> LoadModule(const Args& args) {
  return hsm::Module::Load(args.Get("module"));
}

void Print(const Args& args, const nlohmann::json& result, const std::string& text) {
  // With --out - the file itself goes to stdout, for a pipe: the report goes beside it.
  const bool stdout_taken = args.Get("out") == "-" || args.Get("password-out") == "-";
  std::fputs((args.json ? result.dump() : text).c_str(), stdout_taken ? stderr : stdout);
  std::fputc('\n', stdout_taken ? stderr : stdout);
}

absl::StatusOr<int> ParseDigits(const std::string& text, size_t max_digits,
                                const std::string& error) {
  if (text.empty() || text.size() > max_digits ||
      text.find_first_not_of("0123456789") != std::string::npos) {
    return absl::InvalidArgumentError(error);
  }
  return std::stoi(text);
}

absl::StatusOr<std::shared_ptr<grpc::Channel>> ServiceChannel(const Args& args) {
  return Channel(args, /*with_session=*/true);
}

absl::StatusOr<std::shared_ptr<grpc::Channel>> MachineChannel(const Args& args) {
  return Channel(args, /*with_session=*/false);
}

absl::StatusOr<std::shared_ptr<grpc::Channel>> Channel(const Args& args, bool with_session) {
  const std::string target = args.Get("target");
  const std::string ca = args.Get("ca");
  if (target.empty()) return absl::InvalidArgumentError("--target (or TESSERA_TARGET) is required");
  if (ca.empty()) return absl::InvalidArgumentError("--ca (or TESSERA_TLS_CA) is required");
  TESSERA_ASSIGN_OR_RETURN(std::string ca_pem, ReadFile(ca));
  const std::string cert = args.Get("cert");
  const std::string key = args.Get("key");
  absl::StatusOr<Secret> access_code = SecretFromEnv("TESSERA_ACCESS_CODE");
  if (!access_code.ok() && access_code.status().code() != absl::StatusCode::kNotFound) {
    return access_code.status();
  }
  if (access_code.ok()) {
    if (!cert.empty() || !key.empty()) {
      return absl::InvalidArgumentError(
          "TESSERA_ACCESS_CODE and a client certificate (--cert/--key, TESSERA_TLS_CERT/KEY): "
          "use one or the other");
    }
    return CredentialChannel(target, ca_pem,
                             std::string(kAccessCodeScheme) + std::string(access_code->view()));
  }
  std::string cert_pem, key_pem;
  if (!cert.empty() || !key.empty()) {
    if (cert.empty() || key.empty()) {
      return absl::InvalidArgumentError("--cert and --key go together");
    }
    TESSERA_ASSIGN_OR_RETURN(cert_pem, ReadFile(cert));
    TESSERA_ASSIGN_OR_RETURN(key_pem, ReadFile(key));
    if (with_session) {
      if (std::optional<std::string> session = SessionCredentialFor(cert_pem, ca_pem, key_pem)) {
        return CredentialChannel(target, ca_pem, *session, cert_pem, key_pem);
      }
    }
  }
  return MtlsChannel(target, ca_pem, cert_pem, key_pem);
}

absl::Status FromGrpc(const grpc::Status& status) { return FromGrpcStatus(status); }

absl::Status Health(const Args& args) {
  TESSERA_ASSIGN_OR_RETURN(std::shared_ptr<grpc::Channel> channel, ServiceChannel(args));
  const std::string target = args.Get("target");
  TESSERA_ASSIGN_OR_RETURN(std::string status, CheckHealth(channel));
  nlohmann::json json = {
      {"target", target}, {"status", status}, {"warnings", nlohmann::json::array()}};
  std::string text = target + ": " + status;
  if (CheckHealth(channel, kCertificateHealthService).value_or("") == "NOT_SERVING") {
    const std::string warning =
        absl::StrCat("its TLS certificate expires within ", kCertificateWarningDays,
                     " days: renew it (tessera ca renew-service)");
    json["warnings"].push_back(warning);
    text += "\nwarning: " + warning;
  }
  Print(args, json, text);
  return status == "SERVING" ? absl::OkStatus() : absl::UnavailableError(target + " is " + status);
}

}  // namespace tessera::cli
