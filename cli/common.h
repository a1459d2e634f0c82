// What every tessera CLI command shares: parsed options, PINs from the environment, the
// PKCS#11 module, output as text or JSON, and the mTLS channel to a tessera service.
#pragma once

#include <grpcpp/grpcpp.h>

#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "hsm/module.h"
#include "platform/secret.h"

namespace tessera::cli {

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

absl::StatusOr<Args> Parse(int argc, char** argv);

// A non-negative number of at most `max_digits` digits; otherwise INVALID_ARGUMENT `error`.
absl::StatusOr<int> ParseDigits(const std::string& text, size_t max_digits,
                                const std::string& error);

// Takes every secret variable the CLI knows (TESSERA_SO_PIN, TESSERA_USER_PIN,
// TESSERA_ROOT_SO_PIN, TESSERA_ROOT_PIN, TESSERA_CA_SO_PIN, TESSERA_CA_PIN, TESSERA_ACCESS_CODE,
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

// An mTLS channel from --target/--ca/--cert/--key, defaulting to $TESSERA_TARGET,
// $TESSERA_TLS_CA, $TESSERA_TLS_CERT and $TESSERA_TLS_KEY. With $TESSERA_ACCESS_CODE instead
// of a certificate (a comune without one yet, on tessera-registry), every call carries the
// code; it is never an argument (other users can read arguments in ps). Without either the
// client presents nothing and tessera services refuse it.
absl::StatusOr<std::shared_ptr<grpc::Channel>> ServiceChannel(const Args& args);
// A gRPC error as a status whose message says what the service answered.
absl::Status FromGrpc(const grpc::Status& status);

// The commands.
absl::Status TokenInit(const Args& args);
absl::Status TokenCsr(const Args& args);
absl::Status TokenWriteCert(const Args& args);
absl::Status Ceremony(const Args& args);
absl::Status CeremonyRootCrl(const Args& args);
absl::Status Health(const Args& args);
absl::Status CaIssue(const Args& args);
absl::Status CaGet(const Args& args);
absl::Status CaList(const Args& args);
absl::Status CaChain(const Args& args);
absl::Status CaRevoke(const Args& args);
absl::Status CaCrl(const Args& args);
absl::Status CaBundle(const Args& args);
absl::Status CaBundleGet(const Args& args);
absl::Status CaRenewService(const Args& args);
absl::Status RegistryLoadReference(const Args& args);
absl::Status RegistryDeclare(const Args& args);
absl::Status CensusImport(const Args& args);
absl::Status CensusShow(const Args& args);
absl::Status CensusList(const Args& args);
absl::Status CensusSubmit(const Args& args);
absl::Status CensusSave(const Args& args);
absl::Status RegistryAccessCode(const Args& args);
absl::Status RegistryMinistryOperatorAdd(const Args& args);
absl::Status RegistryMinistryOperatorRemove(const Args& args);
absl::Status RegistryMinistryOperatorList(const Args& args);
absl::Status RegistryAcceptMismatch(const Args& args);

}  // namespace tessera::cli
