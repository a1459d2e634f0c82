// tessera: the command line for operators and test rigs. `tessera --help` lists commands.
#include <cstdio>
#include <string>

#include "cli/common.h"
#include "platform/process.h"

namespace tessera::cli {
namespace {

constexpr char kUsage[] = R"(usage: tessera <command> [options]

tokens and cards (PINs from TESSERA_SO_PIN / TESSERA_USER_PIN, never arguments):
  token init        --label L
  token csr         --label L --key-id ID --cn CN --out FILE [--algorithm ec-p256|rsa-2048|rsa-3072]
                    generate a key pair on the token and write a PKCS#10 request signed there
  token write-cert  --label L --key-id ID --cert FILE
                    store a certificate beside its key pair (checked to match)

certificate authority:
  ceremony          --config FILE
                    key ceremony: root on its own token, issuing CAs and OCSP responders on
                    the online token, service certificates; PINs from TESSERA_ROOT_SO_PIN,
                    TESSERA_ROOT_PIN, TESSERA_CA_SO_PIN, TESSERA_CA_PIN; also signs the root's
                    first CRL (root.crl)
  ceremony root-crl --config FILE [--revoke CA ... --reason N]
                    the root's next CRL, signed on the offline root token (TESSERA_ROOT_PIN):
                    every earlier entry, the issuing CAs named revoked (N: 0, 2 cACompromise,
                    3, 4 superseded, 5 cessationOfOperation), cRLNumber + 1
  ca issue          --profile P --csr FILE [--cf CF | --istat N --progressive N |
                    --service S --dns D --ip A] [--request-id ID] [--out FILE]
  ca get            --serial S [--out FILE]
  ca list           [--issuer I] [--profile P] [--subject TEXT] [--revoked true]
                    [--page-size N] [--page-token T]
  ca chain          --out-dir DIR
  ca crl            --issuer CA [--out FILE] [--format der|pem]
                    the issuing CA's current CRL: number, dates, entries
  ca bundle         --istat N --progressive N --out FILE.p12 [--password-out FILE]
                    [--show-password] [--request-id ID]
                    a workstation's key, certificate and chain as a PKCS#12 file (progressive
                    99: the comune's server certificate); its password goes to --password-out
                    (default FILE.p12.pass; both files mode 0600), and is printed only with
                    --show-password
  ca bundle-get     --serial S --out FILE.p12 [--password-out FILE] [--show-password]
                    a workstation bundle issued before, e.g. for the ALP's download
  ca renew-service  --service NAME --dir PKI_DIR [--dns D --ip A] [--request-id ID]
                    a new key and certificate for a tessera service (names the service
                    profile's renewable_services lists), written over PKI_DIR/NAME.key and
                    NAME.pem; the service takes them up without a restart
  ca revoke         --serial S --reason N [--request-id ID]
                    N: 0 unspecified, 1 keyCompromise, 3 affiliationChanged, 4 superseded,
                    5 cessationOfOperation, 9 privilegeWithdrawn

registry and census (tessera-registry):
  registry load-reference  [--dir deploy/reference]
                    load or refresh the comuni, provinces and cadastral codes (idempotent)
  registry declare  --istat N --workstations N --employees N --switch-over YYYY-MM-DD
                    a comune's monitoring sheet: the limits its census is checked against
  registry access-code  --istat N | --province SIGLA
                    a census access code for a comune, or a prefettura, that has no
                    certificate yet (replaces its earlier one); shown once, only its digest
                    is kept
  registry ministry-operator add  --cf CF --surname S --name N --birth-date YYYY-MM-DD
                    --birth-place P --birth-province SIGLA --sex M|F --email MAILBOX
                    --reason TEXT [--request-id ID]
                    make a person a Ministry operator (recorded with who and why) and order
                    their card under the Ministry's number 000000...; only these cards act
                    for the Ministry, never a card a census ordered
  registry ministry-operator remove  --cf CF --reason TEXT [--request-id ID]
  registry ministry-operator list
  registry accept-mismatch  --cf CF --part surname|name|birth_date|sex|birthplace --reason TEXT
                    [--request-id ID]
                    the Agenzia delle Entrate issued this code with a mismatch: censuses
                    naming it are no longer refused for that part (recorded with who and why)
  census import     FILE
                    a census spreadsheet (CSV, layout in the README): every error as a table of
                    line, column and rule, and nothing kept; else every comune saved as a draft
  census show       --istat N | --province SIGLA
                    a comune's census, or a prefettura's; with --json the census as JSON,
                    which census save reads back
  census save       FILE.json
                    save a draft (the JSON of census show --json, edited)
  census list       [--kind comune|prefettura] [--state draft|submitted] [--page-size N]
                    [--page-token T]
  census submit     --istat N | --province SIGLA
                    submit the draft: every rule checked, then card and workstation
                    orders created

services:
  health            ask a tessera service for its gRPC health

connecting to a service (or TESSERA_TARGET, TESSERA_TLS_CA, TESSERA_TLS_CERT, TESSERA_TLS_KEY):
  --target HOST:PORT --ca BUNDLE.pem --cert CLIENT.pem --key CLIENT.key
  a comune without a certificate: TESSERA_ACCESS_CODE=<its census access code>, no --cert

secrets (PINs, the access code) come from the environment, never from arguments; each
variable X may instead be X_FILE, naming a file of mode 0600 or 0400 whose first line is the
secret (e.g. systemd's LoadCredential). They are wiped from the environment at start.

options:
  --module PATH   PKCS#11 module (default $TESSERA_PKCS11_MODULE or SoftHSM's)
  --json          machine-readable output
  --help          this text
)";

absl::Status Dispatch(const Args& args) {
  const std::vector<std::string>& w = args.words;
  static const std::map<std::string, absl::Status (*)(const Args&)> kCommands = {
      {"token init", TokenInit},
      {"token csr", TokenCsr},
      {"token write-cert", TokenWriteCert},
      {"ceremony", Ceremony},
      {"ceremony root-crl", CeremonyRootCrl},
      {"health", Health},
      {"ca issue", CaIssue},
      {"ca get", CaGet},
      {"ca list", CaList},
      {"ca chain", CaChain},
      {"ca revoke", CaRevoke},
      {"ca crl", CaCrl},
      {"ca bundle", CaBundle},
      {"ca bundle-get", CaBundleGet},
      {"ca renew-service", CaRenewService},
      {"registry load-reference", RegistryLoadReference},
      {"registry declare", RegistryDeclare},
      {"registry access-code", RegistryAccessCode},
      {"registry ministry-operator add", RegistryMinistryOperatorAdd},
      {"registry ministry-operator remove", RegistryMinistryOperatorRemove},
      {"registry ministry-operator list", RegistryMinistryOperatorList},
      {"registry accept-mismatch", RegistryAcceptMismatch},
      {"census save", CensusSave},
      {"census import", CensusImport},
      {"census show", CensusShow},
      {"census list", CensusList},
      {"census submit", CensusSubmit}};
  // The longest run of first words that names a command ("registry ministry-operator add",
  // "census import" FILE).
  auto it = kCommands.end();
  std::string command;
  for (size_t n = std::min<size_t>(w.size(), 3); n > 0 && it == kCommands.end(); --n) {
    command.clear();
    for (size_t i = 0; i < n; ++i) command += (i > 0 ? " " : "") + w[i];
    it = kCommands.find(command);
  }
  if (it == kCommands.end()) {
    return absl::InvalidArgumentError("unknown command '" + command + "'; see tessera --help");
  }
  return it->second(args);
}

}  // namespace
}  // namespace tessera::cli

int main(int argc, char** argv) {
  // First: no core dump or ptrace of a process holding PINs, and no PIN left in its
  // environment, whatever the command.
  if (absl::Status hardened = tessera::HardenProcess(); !hardened.ok()) {
    std::fprintf(stderr, "tessera: %s\n", std::string(hardened.message()).c_str());
    return 1;
  }
  tessera::cli::TakeSecretsFromEnv();
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
