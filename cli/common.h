// What every tessera CLI command shares: the command tree (CLI11 subcommands), parsed options,
// PINs from the environment, the PKCS#11 module, output as text or JSON, and the mTLS channel to
// a tessera service.
#pragma once

#include <grpcpp/grpcpp.h>

#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "hsm/module.h"
#include "platform/secret.h"

namespace CLI {
class App;
class Option;
}  // namespace CLI

namespace tessera::cli {

// A command's options as the parser took them, with the global ones (--json, --module,
// --target …), by long name without "--" (a positional by its name). Which options a command
// has, which are required and which values they take is declared once, where its group file
// adds it (AddCaCommands …), and the parser enforces it before the command runs.
struct Args {
  std::multimap<std::string, std::string> options;  // every value of a repeated option
  bool json = false;

  // The option's value, its default, or "" when it has neither.
  std::string Get(const std::string& name) const { return Or(name, ""); }
  // The option's value (the first given, if repeated) or its default; `fallback` when it has
  // neither.
  std::string Or(const std::string& name, const std::string& fallback) const {
    auto [first, last] = options.equal_range(name);
    return first == last ? fallback : first->second;
  }
  // Every value of a repeatable option (--dns, --ip, --revoke), in order.
  std::vector<std::string> All(const std::string& name) const;
  // A switch (--show-password) was given.
  bool Has(const std::string& name) const { return options.contains(name); }
};

// What a command does with its options.
using Command = std::function<absl::Status(const Args&)>;

// Adds the command `name` under `parent` (a CLI11 subcommand) that runs `run`; the caller
// declares its options on the result. `description` is its line in --help listings, `footer`
// the longer explanation under its own --help (followed by its group's).
CLI::App* AddCommand(CLI::App& parent, const std::string& name, const std::string& description,
                     Command run, const std::string& footer = "");
// Adds a group of commands (ca, census …), not a command itself; `footer` applies to every
// command in it (e.g. which service they connect to).
CLI::App* AddGroup(CLI::App& parent, const std::string& name, const std::string& description,
                   const std::string& footer = "");
// What `app` runs; null for a group or the bare tessera.
const Command* CommandOf(const CLI::App& app);
// Every option of `app`, those in its option groups (--istat | --province) included.
std::vector<CLI::Option*> OptionsOf(CLI::App& app);
// --request-id ID on a command whose id RequestIdOf derives from what it sends.
void AddRequestId(CLI::App& command);
// The note on connecting to `service` that goes under each of its commands' --help.
std::string ConnectsTo(const std::string& service);

// The command tree. Global options (--json, --module, and --target/--ca/--cert/--key with
// their TESSERA_* variables) go on the app; each group file adds its commands.
void AddGlobalOptions(CLI::App& app);
void AddTokenCommands(CLI::App& app);        // token …
void AddCaCommands(CLI::App& app);           // ceremony, ceremony root-crl, ca …
void AddRegistryCommands(CLI::App& app);     // registry …, census …
void AddBatchCommands(CLI::App& app);        // batch …, lot …
void AddSessionCommands(CLI::App& app);      // login, whoami, logout
void AddAuditCommands(CLI::App& app);        // audit verify
void AddDispatchCommands(CLI::App& app);     // delivery …, deliver
void AddWorkstationCommands(CLI::App& app);  // workstation …
// The bash completion script for the tree under `app`: its commands at each level and each
// command's options.
std::string BashCompletion(CLI::App& app);
// Parses argv against the tree, runs the command and returns the exit status: 0 success, 2
// invalid arguments (refused by the parser, or the command's INVALID_ARGUMENT), 1 any other
// failure; --help 0.
int RunCommandLine(int argc, char** argv);

// A non-negative number of at most `max_digits` digits; otherwise INVALID_ARGUMENT `error`.
absl::StatusOr<int> ParseDigits(const std::string& text, size_t max_digits,
                                const std::string& error);

// Takes every secret variable the CLI knows (TESSERA_SO_PIN, TESSERA_USER_PIN,
// TESSERA_ROOT_SO_PIN, TESSERA_ROOT_PIN, TESSERA_CA_SO_PIN, TESSERA_CA_PIN, TESSERA_ACCESS_CODE,
// TESSERA_DAILY_PASSWORD,
// or their *_FILE credential files) out of the environment at start, whichever command runs,
// so none lingers in the process (platform/process.h). Call it once, first thing in main().
void TakeSecretsFromEnv();
// PINs are never arguments (other users can read them in ps): only environment variables or
// credential files, as TakeSecretsFromEnv took them.
absl::StatusOr<Secret> PinFromEnv(const char* name);
// --module, else $TESSERA_PKCS11_MODULE, else SoftHSM's.
absl::StatusOr<std::shared_ptr<hsm::Module>> LoadModule(const Args& args);
// The command's report (JSON with --json) on stdout, or on stderr when --out or --password-out
// is "-" (stdout then carries the file).
void Print(const Args& args, const nlohmann::json& result, const std::string& text);

// The request_id of a command that changes something: --request-id, else "cli-<command>-" and
// a digest of what it sends, so the same command run twice is one request (a safe retry) and a
// changed one a new request.
std::string RequestIdOf(const Args& args, std::string_view command, std::string_view content);
// --request-id, else "cli-<command>-" and 128 random bits: for the commands whose every run is
// its own request (a reload that reports what it changed, a new access code).
std::string NewRequestIdOf(const Args& args, std::string_view command);

// An mTLS channel from --target/--ca/--cert/--key, defaulting to $TESSERA_TARGET,
// $TESSERA_TLS_CA, $TESSERA_TLS_CERT and $TESSERA_TLS_KEY. With $TESSERA_ACCESS_CODE instead
// of a certificate (a comune without one yet, on tessera-registry), every call carries the
// code; it is never an argument (other users can read arguments in ps). Without either the
// client presents nothing and tessera services refuse it.
// With a certificate, every call carries the person's session (tessera login) when it is bound
// to that certificate (cli/session.h).
absl::StatusOr<std::shared_ptr<grpc::Channel>> ServiceChannel(const Args& args);
// A stub of `Service` over ServiceChannel(args): StubAt<v1::Registry>(args).
template <typename Service>
absl::StatusOr<std::unique_ptr<typename Service::Stub>> StubAt(const Args& args) {
  absl::StatusOr<std::shared_ptr<grpc::Channel>> channel = ServiceChannel(args);
  if (!channel.ok()) return channel.status();
  return Service::NewStub(*channel);
}
// The same without any session: the machine alone (the login itself).
absl::StatusOr<std::shared_ptr<grpc::Channel>> MachineChannel(const Args& args);
absl::StatusOr<std::shared_ptr<grpc::Channel>> Channel(const Args& args, bool with_session);
// A gRPC error as a status whose message says what the service answered.
absl::Status FromGrpc(const grpc::Status& status);

// tessera health: ask a tessera service for its gRPC health.
absl::Status Health(const Args& args);

}  // namespace tessera::cli
