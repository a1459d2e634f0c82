#include "ca/service_pki.h"

#include <botan/auto_rng.h>
#include <botan/ecdsa.h>
#include <botan/pkcs8.h>
#include <botan/x509_ca.h>
#include <botan/x509self.h>

#include "absl/strings/str_cat.h"
#include "hsm/token_key.h"
#include "platform/status_macros.h"

namespace tessera::ca {
namespace {

constexpr char kKeyId[] = "service-ca";
// Backdating absorbs small clock differences between hosts.
constexpr auto kBackdate = std::chrono::minutes(5);

}  // namespace

absl::StatusOr<ServicePki> ServicePki::Create(std::shared_ptr<hsm::Token> token,
                                              const std::string& ca_name,
                                              hsm::KeyAlgorithm algorithm,
                                              std::chrono::hours validity) {
  hsm::KeyPairSpec spec{.algorithm = algorithm,
                        .id = std::vector<uint8_t>(kKeyId, kKeyId + sizeof kKeyId - 1),
                        .label = ca_name};
  TESSERA_ASSIGN_OR_RETURN(std::unique_ptr<Botan::Private_Key> key,
                           hsm::GenerateTokenKey(token, spec));
  try {
    Botan::AutoSeeded_RNG rng;
    Botan::X509_Cert_Options options;
    options.common_name = ca_name;
    options.organization = kOrganization;
    options.country = "IT";
    options.CA_key(0);  // signs leaves only
    const auto now = std::chrono::system_clock::now();
    options.start = Botan::X509_Time(now - kBackdate);
    options.end = Botan::X509_Time(now + validity);
    auto cert = std::make_unique<Botan::X509_Certificate>(
        Botan::X509::create_self_signed_cert(options, *key, "SHA-256", rng));
    return ServicePki(std::move(key), std::move(cert));
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat("service CA: cannot self-sign: ", e.what()));
  }
}

absl::StatusOr<TlsIdentity> ServicePki::Issue(const std::string& common_name, std::string_view unit,
                                              std::chrono::hours validity) const {
  try {
    Botan::AutoSeeded_RNG rng;
    Botan::ECDSA_PrivateKey key(rng, Botan::EC_Group("secp256r1"));
    Botan::X509_Cert_Options options;
    options.common_name = common_name;
    options.org_unit = std::string(unit);
    options.organization = kOrganization;
    options.country = "IT";
    options.dns = "localhost";
    options.ip = "127.0.0.1";
    options.add_constraints(Botan::Key_Constraints::DIGITAL_SIGNATURE);
    options.add_ex_constraint("PKIX.ServerAuth");
    options.add_ex_constraint("PKIX.ClientAuth");
    Botan::PKCS10_Request request = Botan::X509::create_cert_req(options, key, "SHA-256", rng);

    Botan::X509_CA ca(*ca_cert_, *ca_key_, "SHA-256", rng);
    const auto now = std::chrono::system_clock::now();
    Botan::X509_Certificate cert = ca.sign_request(request, rng, Botan::X509_Time(now - kBackdate),
                                                   Botan::X509_Time(now + validity));
    return TlsIdentity{cert.PEM_encode(), Botan::PKCS8::PEM_encode(key)};
  } catch (const std::exception& e) {
    return absl::InternalError(
        absl::StrCat("service CA: cannot issue for ", common_name, ": ", e.what()));
  }
}

}  // namespace tessera::ca
