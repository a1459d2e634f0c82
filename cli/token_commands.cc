// tessera token …: tokens and cards through tessera's PKCS#11 layer.
#include <botan/auto_rng.h>
#include <botan/pkcs10.h>
#include <botan/x509self.h>

#include <CLI/CLI.hpp>
#include <map>

#include "absl/strings/str_cat.h"
#include "ca/profile.h"
#include "cli/common.h"
#include "hsm/token.h"
#include "hsm/token_key.h"
#include "personalization/card_proof.h"
#include "platform/files.h"
#include "platform/status_macros.h"

namespace tessera::cli {
namespace {

// --algorithm's choices: the parser takes only these names.
const std::map<std::string, hsm::KeyAlgorithm> kAlgorithms = {
    {"ec-p256", hsm::KeyAlgorithm::kEcP256},
    {"rsa-2048", hsm::KeyAlgorithm::kRsa2048},
    {"rsa-3072", hsm::KeyAlgorithm::kRsa3072}};

absl::Status TokenInit(const Args& args) {
  const std::string label = args.Get("label");
  TESSERA_ASSIGN_OR_RETURN(Secret so_pin, PinFromEnv("TESSERA_SO_PIN"));
  TESSERA_ASSIGN_OR_RETURN(Secret user_pin, PinFromEnv("TESSERA_USER_PIN"));
  TESSERA_ASSIGN_OR_RETURN(auto module, LoadModule(args));
  TESSERA_ASSIGN_OR_RETURN(hsm::TokenInfo info, module->InitToken(label, so_pin, user_pin));
  Print(args, {{"label", info.label}, {"serial", info.serial}},
        absl::StrCat("token '", info.label, "' initialized, serial ", info.serial));
  return absl::OkStatus();
}

absl::Status TokenCsr(const Args& args) {
  const std::string label = args.Get("label");
  const std::string key_id = args.Get("key-id");
  const std::string common_name = args.Get("cn");
  const std::string out = args.Get("out");
  const hsm::KeyAlgorithm algorithm = kAlgorithms.at(args.Get("algorithm"));
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

absl::Status TokenWriteCert(const Args& args) {
  const std::string label = args.Get("label");
  const std::string key_id = args.Get("key-id");
  const std::string cert_path = args.Get("cert");
  TESSERA_ASSIGN_OR_RETURN(std::string pem, ReadFile(cert_path));
  std::vector<uint8_t> der;
  try {
    Botan::X509_Certificate cert(reinterpret_cast<const uint8_t*>(pem.data()), pem.size());
    der = cert.BER_encode();
  } catch (const std::exception& e) {
    return absl::InvalidArgumentError(absl::StrCat("--cert: not a certificate: ", e.what()));
  }
  TESSERA_ASSIGN_OR_RETURN(Secret user_pin, PinFromEnv("TESSERA_USER_PIN"));
  TESSERA_ASSIGN_OR_RETURN(auto module, LoadModule(args));
  TESSERA_ASSIGN_OR_RETURN(auto token, hsm::Token::Login(module, label, user_pin));
  const std::vector<uint8_t> id(key_id.begin(), key_id.end());
  // The certificate must belong to the key pair already on the card.
  TESSERA_ASSIGN_OR_RETURN(auto key, hsm::LoadTokenKey(token, id));
  if (!personalization::CheckCertificateMatchesKey(Botan::X509_Certificate(der), *key).ok()) {
    return absl::FailedPreconditionError(
        absl::StrCat("--cert: certifies another key than '", key_id, "' on token '", label, "'"));
  }
  TESSERA_ASSIGN_OR_RETURN(auto lease, token->Acquire());
  TESSERA_RETURN_IF_ERROR(lease->WriteCertificate(id, key_id, der).status());
  Print(args, {{"token", label}, {"key_id", key_id}},
        absl::StrCat("certificate written to token '", label, "' beside key '", key_id, "'"));
  return absl::OkStatus();
}

void AddLabel(CLI::App& command) {
  command.add_option("--label", "the token's label (for a card, its number)")
      ->type_name("L")
      ->required();
}

void AddKeyId(CLI::App& command) {
  command.add_option("--key-id", "the key pair's id (and label) on the token")
      ->type_name("ID")
      ->required();
}

}  // namespace

void AddTokenCommands(CLI::App& app) {
  CLI::App* token =
      AddGroup(app, "token", "tokens and cards, through the PKCS#11 module",
               "PINs come from TESSERA_SO_PIN and TESSERA_USER_PIN (or their _FILE credential "
               "files), never from arguments. The module: --module PATH, or "
               "TESSERA_PKCS11_MODULE, or SoftHSM's.");

  CLI::App* init = AddCommand(*token, "init", "initialize a token with the two PINs", TokenInit);
  AddLabel(*init);

  CLI::App* csr = AddCommand(
      *token, "csr", "generate a key pair on the token and write a PKCS#10 request signed there",
      TokenCsr, "The key never leaves the token; only TESSERA_USER_PIN is needed.");
  AddLabel(*csr);
  AddKeyId(*csr);
  csr->add_option("--cn", "the request's common name")->type_name("CN")->required();
  csr->add_option("--out", "where the request (PEM) goes")->type_name("FILE")->required();
  csr->add_option("--algorithm", "the key pair's algorithm")
      ->type_name("ALG")
      ->check(CLI::IsMember(kAlgorithms))
      ->default_str("ec-p256");

  CLI::App* write_cert =
      AddCommand(*token, "write-cert", "store a certificate beside its key pair (checked to match)",
                 TokenWriteCert);
  AddLabel(*write_cert);
  AddKeyId(*write_cert);
  // Not the global --cert (the client certificate for a service): a command's own option comes
  // first, and no token command connects to a service.
  write_cert->add_option("--cert", "the certificate to store")->type_name("FILE")->required();
}

}  // namespace tessera::cli
