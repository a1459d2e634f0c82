#include "cli/common.h"

#include <cstdio>
#include <cstdlib>
#include <map>

#include "absl/strings/str_cat.h"
#include "platform/files.h"
#include "platform/grpc_status.h"
#include "platform/process.h"
#include "platform/rpc_client.h"
#include "platform/rpc_server.h"
#include "platform/status_macros.h"

namespace tessera::cli {
namespace {

std::string OptionOrEnv(const Args& args, const std::string& name, const char* env) {
  const char* value = std::getenv(env);
  return args.Or(name, value != nullptr ? value : "");
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
        "TESSERA_CA_SO_PIN", "TESSERA_CA_PIN", "TESSERA_ACCESS_CODE"}) {
    TakenSecrets().insert_or_assign(name, TakeSecretFromEnv(name));
  }
}

absl::StatusOr<Args> Parse(int argc, char** argv) {
  Args args;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--json") {
      args.json = true;
    } else if (arg == "--show-password") {  // a switch: no value follows
      args.options.emplace("show-password", "true");
    } else if (arg.starts_with("--")) {
      if (i + 1 >= argc) return absl::InvalidArgumentError(arg + " needs a value");
      args.options.emplace(arg.substr(2), argv[++i]);
    } else {
      args.words.push_back(arg);
    }
  }
  return args;
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
  const char* env = std::getenv("TESSERA_PKCS11_MODULE");
  return hsm::Module::Load(args.Or("module", env ? env : "/usr/lib/softhsm/libsofthsm2.so"));
}

void Print(const Args& args, const nlohmann::json& result, const std::string& text) {
  // With --out - the file itself goes to stdout, for a pipe: the report goes beside it.
  const bool stdout_taken = args.Or("out", "") == "-" || args.Or("password-out", "") == "-";
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
  const std::string target = OptionOrEnv(args, "target", "TESSERA_TARGET");
  const std::string ca = OptionOrEnv(args, "ca", "TESSERA_TLS_CA");
  if (target.empty()) return absl::InvalidArgumentError("--target (or TESSERA_TARGET) is required");
  if (ca.empty()) return absl::InvalidArgumentError("--ca (or TESSERA_TLS_CA) is required");
  TESSERA_ASSIGN_OR_RETURN(std::string ca_pem, ReadFile(ca));
  const std::string cert = OptionOrEnv(args, "cert", "TESSERA_TLS_CERT");
  const std::string key = OptionOrEnv(args, "key", "TESSERA_TLS_KEY");
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
  }
  return MtlsChannel(target, ca_pem, cert_pem, key_pem);
}

absl::Status FromGrpc(const grpc::Status& status) { return FromGrpcStatus(status); }

absl::Status Health(const Args& args) {
  TESSERA_ASSIGN_OR_RETURN(std::shared_ptr<grpc::Channel> channel, ServiceChannel(args));
  const std::string target = OptionOrEnv(args, "target", "TESSERA_TARGET");
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
