// tessera: the command line for operators and test rigs.
//
//   tessera token init   --label L                      new token (PINs from the environment)
//   tessera token csr    --label L --key-id ID --cn CN [--algorithm ec-p256|rsa-2048|rsa-3072]
//                        --out req.pem                  key pair on the token + PKCS#10
//   tessera ceremony --config FILE                      root, issuing CAs, responders, services
//   tessera health --target HOST:PORT --ca CA.pem [--cert C.pem --key K.pem]
//
// Common: --module PATH (or TESSERA_PKCS11_MODULE), --json for machine-readable output.
// PINs never come from the command line (other users can read it in ps): TESSERA_SO_PIN and
// TESSERA_USER_PIN.
#include <botan/auto_rng.h>
#include <botan/pkcs10.h>
#include <botan/x509self.h>

#include <cstdio>
#include <cstdlib>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "ca/ceremony.h"
#include "ca/subject.h"
#include "hsm/module.h"
#include "hsm/token.h"
#include "hsm/token_key.h"
#include "platform/clock.h"
#include "platform/files.h"
#include "platform/log.h"
#include "platform/rpc_client.h"
#include "platform/status_macros.h"

namespace tessera::cli {
namespace {

constexpr char kUsage[] = R"(usage: tessera <command> [options]

commands:
  token init      --label L
                  initialize a token in a free slot; SO PIN from TESSERA_SO_PIN,
                  user PIN from TESSERA_USER_PIN
  token csr       --label L --key-id ID --cn CN --out FILE [--algorithm ec-p256|rsa-2048|rsa-3072]
                  generate a key pair on the token and write a PKCS#10 request signed there
  ceremony        --config FILE
                  key ceremony: root on its own token, issuing CAs and OCSP responders on
                  the online token, service certificates; PINs from TESSERA_ROOT_SO_PIN,
                  TESSERA_ROOT_PIN, TESSERA_CA_SO_PIN, TESSERA_CA_PIN
  health          --target HOST:PORT --ca FILE [--cert FILE --key FILE]
                  ask a tessera service for its gRPC health over mTLS

options:
  --module PATH   PKCS#11 module (default $TESSERA_PKCS11_MODULE or SoftHSM's)
  --json          machine-readable output
  --help          this text
)";

// Parsed "--name value" options; repeated options keep every value.
struct Args {
  std::vector<std::string> words;
  std::multimap<std::string, std::string> options;
  bool json = false;

  absl::StatusOr<std::string> Required(const std::string& name) const {
    auto it = options.find(name);
    if (it == options.end()) return absl::InvalidArgumentError("--" + name + " is required");
    return it->second;
  }
  std::string Or(const std::string& name, const std::string& fallback) const {
    auto it = options.find(name);
    return it == options.end() ? fallback : it->second;
  }
};

absl::StatusOr<Args> Parse(int argc, char** argv) {
  Args args;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--json") {
      args.json = true;
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
  const char* value = std::getenv(name);
  if (value == nullptr || *value == '\0') {
    return absl::InvalidArgumentError(
        absl::StrCat(name, " must be set (PINs are never arguments)"));
  }
  return Secret(value);
}

absl::StatusOr<std::shared_ptr<hsm::Module>> LoadModule(const Args& args) {
  const char* env = std::getenv("TESSERA_PKCS11_MODULE");
  return hsm::Module::Load(args.Or("module", env ? env : "/usr/lib/softhsm/libsofthsm2.so"));
}

void Print(const Args& args, const nlohmann::json& result, const std::string& text) {
  std::puts(args.json ? result.dump().c_str() : text.c_str());
}

absl::StatusOr<hsm::KeyAlgorithm> AlgorithmFromName(const std::string& name) {
  if (name == "ec-p256") return hsm::KeyAlgorithm::kEcP256;
  if (name == "rsa-2048") return hsm::KeyAlgorithm::kRsa2048;
  if (name == "rsa-3072") return hsm::KeyAlgorithm::kRsa3072;
  return absl::InvalidArgumentError("--algorithm: must be ec-p256, rsa-2048 or rsa-3072");
}

absl::Status TokenInit(const Args& args) {
  TESSERA_ASSIGN_OR_RETURN(std::string label, args.Required("label"));
  TESSERA_ASSIGN_OR_RETURN(Secret so_pin, PinFromEnv("TESSERA_SO_PIN"));
  TESSERA_ASSIGN_OR_RETURN(Secret user_pin, PinFromEnv("TESSERA_USER_PIN"));
  TESSERA_ASSIGN_OR_RETURN(auto module, LoadModule(args));
  TESSERA_ASSIGN_OR_RETURN(hsm::TokenInfo info, module->InitToken(label, so_pin, user_pin));
  Print(args, {{"label", info.label}, {"serial", info.serial}},
        absl::StrCat("token '", info.label, "' initialized, serial ", info.serial));
  return absl::OkStatus();
}

absl::Status TokenCsr(const Args& args) {
  TESSERA_ASSIGN_OR_RETURN(std::string label, args.Required("label"));
  TESSERA_ASSIGN_OR_RETURN(std::string key_id, args.Required("key-id"));
  TESSERA_ASSIGN_OR_RETURN(std::string common_name, args.Required("cn"));
  TESSERA_ASSIGN_OR_RETURN(std::string out, args.Required("out"));
  TESSERA_ASSIGN_OR_RETURN(hsm::KeyAlgorithm algorithm,
                           AlgorithmFromName(args.Or("algorithm", "ec-p256")));
  TESSERA_ASSIGN_OR_RETURN(Secret user_pin, PinFromEnv("TESSERA_USER_PIN"));
  TESSERA_ASSIGN_OR_RETURN(auto module, LoadModule(args));
  TESSERA_ASSIGN_OR_RETURN(auto token, hsm::Token::Login(module, label, user_pin));
  TESSERA_ASSIGN_OR_RETURN(
      auto key,
      hsm::GenerateTokenKey(token, {.algorithm = algorithm,
                                    .id = std::vector<uint8_t>(key_id.begin(), key_id.end()),
                                    .label = key_id}));
  std::string pem;
  try {
    Botan::AutoSeeded_RNG rng;
    Botan::X509_Cert_Options options;
    options.common_name = common_name;
    options.country = "IT";
    options.organization = ca::kOrganization;
    pem = Botan::X509::create_cert_req(options, *key, "SHA-256", rng).PEM_encode();
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat("CSR: ", e.what()));
  }
  TESSERA_RETURN_IF_ERROR(WriteFile(out, pem, 0644));
  Print(args,
        {{"token", label},
         {"key_id", key_id},
         {"algorithm", hsm::KeyAlgorithmName(algorithm)},
         {"csr", out}},
        absl::StrCat(hsm::KeyAlgorithmName(algorithm), " key '", key_id, "' generated on token '",
                     label, "'; CSR signed on the token written to ", out));
  return absl::OkStatus();
}

absl::Status Ceremony(const Args& args) {
  TESSERA_ASSIGN_OR_RETURN(std::string config_path, args.Required("config"));
  TESSERA_ASSIGN_OR_RETURN(ca::CeremonyConfig config, ca::CeremonyConfig::LoadFile(config_path));
  ca::CeremonyPins pins;
  TESSERA_ASSIGN_OR_RETURN(pins.root_so_pin, PinFromEnv("TESSERA_ROOT_SO_PIN"));
  TESSERA_ASSIGN_OR_RETURN(pins.root_user_pin, PinFromEnv("TESSERA_ROOT_PIN"));
  TESSERA_ASSIGN_OR_RETURN(pins.online_so_pin, PinFromEnv("TESSERA_CA_SO_PIN"));
  TESSERA_ASSIGN_OR_RETURN(pins.online_user_pin, PinFromEnv("TESSERA_CA_PIN"));
  TESSERA_RETURN_IF_ERROR(InitLogging("tessera-ceremony"));
  SystemClock clock;
  TESSERA_ASSIGN_OR_RETURN(ca::CeremonyRecord record, ca::RunCeremony(config, pins, clock));
  nlohmann::json json = {{"files", record.files}, {"fingerprints", nlohmann::json::object()}};
  std::string text = "ceremony complete; certificates (SHA-256 fingerprints):";
  for (const auto& [name, fingerprint] : record.fingerprints) {
    json["fingerprints"][name] = fingerprint;
    text += absl::StrFormat("\n  %-18s %s", name, fingerprint);
  }
  text += "\nwritten to " + config.output_dir;
  Print(args, json, text);
  return absl::OkStatus();
}

absl::Status Health(const Args& args) {
  TESSERA_ASSIGN_OR_RETURN(std::string target, args.Required("target"));
  TESSERA_ASSIGN_OR_RETURN(std::string ca_path, args.Required("ca"));
  TESSERA_ASSIGN_OR_RETURN(std::string ca_pem, ReadFile(ca_path));
  // Without --cert/--key the client presents no certificate: tessera services refuse that.
  std::string cert_pem, key_pem;
  if (args.options.contains("cert") || args.options.contains("key")) {
    TESSERA_ASSIGN_OR_RETURN(std::string cert_path, args.Required("cert"));
    TESSERA_ASSIGN_OR_RETURN(std::string key_path, args.Required("key"));
    TESSERA_ASSIGN_OR_RETURN(cert_pem, ReadFile(cert_path));
    TESSERA_ASSIGN_OR_RETURN(key_pem, ReadFile(key_path));
  }
  TESSERA_ASSIGN_OR_RETURN(std::string status,
                           CheckHealth(MtlsChannel(target, ca_pem, cert_pem, key_pem)));
  Print(args, {{"target", target}, {"status", status}}, target + ": " + status);
  return status == "SERVING" ? absl::OkStatus() : absl::UnavailableError(target + " is " + status);
}

absl::Status Dispatch(const Args& args) {
  const std::vector<std::string>& w = args.words;
  if (w.size() == 2 && w[0] == "token" && w[1] == "init") return TokenInit(args);
  if (w.size() == 2 && w[0] == "token" && w[1] == "csr") return TokenCsr(args);
  if (w.size() == 1 && w[0] == "health") return Health(args);
  if (w.size() == 1 && w[0] == "ceremony") return Ceremony(args);
  return absl::InvalidArgumentError("unknown command; see tessera --help");
}

}  // namespace
}  // namespace tessera::cli

int main(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    if (std::string(argv[i]) == "--help" || std::string(argv[i]) == "-h") {
      std::fputs(tessera::cli::kUsage, stdout);
      return 0;
    }
  }
  auto args = tessera::cli::Parse(argc, argv);
  absl::Status status = args.ok() ? tessera::cli::Dispatch(*args) : args.status();
  if (!status.ok()) {
    if (args.ok() && args->json) {
      nlohmann::json error = {{"error", std::string(status.message())},
                              {"code", absl::StatusCodeToString(status.code())}};
      std::fprintf(stderr, "%s\n", error.dump().c_str());
    } else {
      std::fprintf(stderr, "tessera: %s\n", std::string(status.message()).c_str());
    }
    return status.code() == absl::StatusCode::kInvalidArgument ? 2 : 1;
  }
  return 0;
}
