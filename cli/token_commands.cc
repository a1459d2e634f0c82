// tessera token …: tokens and cards through tessera's PKCS#11 layer.
#include <botan/auto_rng.h>
#include <botan/pkcs10.h>
#include <botan/x509self.h>

#include "absl/strings/str_cat.h"
#include "ca/profile.h"
#include "cli/common.h"
#include "hsm/token.h"
#include "hsm/token_key.h"
#include "platform/files.h"
#include "platform/status_macros.h"

namespace tessera::cli {
namespace {

absl::StatusOr<hsm::KeyAlgorithm> AlgorithmFromName(const std::string& name) {
  if (name == "ec-p256") return hsm::KeyAlgorithm::kEcP256;
  if (name == "rsa-2048") return hsm::KeyAlgorithm::kRsa2048;
  if (name == "rsa-3072") return hsm::KeyAlgorithm::kRsa3072;
  return absl::InvalidArgumentError("--algorithm: must be ec-p256, rsa-2048 or rsa-3072");
}

}  // namespace

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

absl::Status TokenWriteCert(const Args& args) {
  TESSERA_ASSIGN_OR_RETURN(std::string label, args.Required("label"));
  TESSERA_ASSIGN_OR_RETURN(std::string key_id, args.Required("key-id"));
  TESSERA_ASSIGN_OR_RETURN(std::string cert_path, args.Required("cert"));
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
  Botan::X509_Certificate cert(der);
  std::unique_ptr<Botan::Public_Key> certified(cert.subject_public_key());
  if (certified->public_key_bits() != key->public_key_bits()) {
    return absl::FailedPreconditionError(
        absl::StrCat("--cert: certifies another key than '", key_id, "' on token '", label, "'"));
  }
  TESSERA_ASSIGN_OR_RETURN(auto lease, token->Acquire());
  TESSERA_RETURN_IF_ERROR(lease->WriteCertificate(id, key_id, der).status());
  Print(args, {{"token", label}, {"key_id", key_id}},
        absl::StrCat("certificate written to token '", label, "' beside key '", key_id, "'"));
  return absl::OkStatus();
}

}  // namespace tessera::cli
