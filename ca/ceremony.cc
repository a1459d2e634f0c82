#include "ca/ceremony.h"

#include <botan/auto_rng.h>
#include <botan/data_src.h>
#include <botan/ecdsa.h>
#include <botan/hash.h>
#include <botan/hex.h>
#include <botan/pkcs8.h>
#include <botan/pubkey.h>
#include <botan/x509_ca.h>
#include <botan/x509_ext.h>
#include <toml++/toml.h>

#include <cctype>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <set>

#include "absl/strings/str_cat.h"
#include "ca/certificate_builder.h"
#include "ca/extensions.h"
#include "ca/internal/signing.h"
#include "ca/internal/tbs.h"
#include "ca/issuer.h"
#include "ca/lint.h"
#include "ca/root_crl.h"
#include "ca/workstation_bundle.h"
#include "hsm/module.h"
#include "hsm/secret_sealer.h"
#include "hsm/token.h"
#include "hsm/token_key.h"
#include "platform/files.h"
#include "platform/log.h"
#include "platform/status_macros.h"

namespace tessera::ca {
namespace {

namespace fs = std::filesystem;
using std::chrono::system_clock;

std::vector<uint8_t> Id(const std::string& name) { return {name.begin(), name.end()}; }

void Audit(const std::string& step, std::initializer_list<LogField> fields) {
  std::vector<LogField> all = {{"step", step}};
  all.insert(all.end(), fields.begin(), fields.end());
  spdlog::info("{}", FormatEvent("ceremony", all));
}

std::string Fingerprint(const Botan::X509_Certificate& cert) {
  auto sha256 = Botan::HashFunction::create_or_throw("SHA-256");
  sha256->update(cert.BER_encode());
  return Botan::hex_encode(sha256->final());
}

Botan::X509_DN CaSubject(const std::string& common_name) {
  Botan::X509_DN dn;
  dn.add_attribute("X520.Country", "IT");
  dn.add_attribute("X520.Organization", kOrganization);
  dn.add_attribute("X520.OrganizationalUnit", "Anagrafe Nazionale Popolazione Residente");
  dn.add_attribute("X520.CommonName", common_name);
  return dn;
}

absl::StatusOr<hsm::KeyAlgorithm> ParseAlgorithm(const std::string& text, const std::string& key) {
  if (text == "ec-p256") return hsm::KeyAlgorithm::kEcP256;
  if (text == "rsa-3072") return hsm::KeyAlgorithm::kRsa3072;
  return absl::InvalidArgumentError(absl::StrCat(key, ": must be ec-p256 or rsa-3072"));
}

// A CA certificate: basicConstraints CA with a path length, keyCertSign + cRLSign, SKI; an
// issuing CA also gets AKI, the root's CRL distribution point and caIssuers. Its
// TBSCertificate is linted against the CA rules in an unsigned draft, and only then does the
// token key sign those same bytes.
absl::StatusOr<Botan::X509_Certificate> IssueCaCertificate(
    const CaSpec& spec, const Botan::Public_Key& subject_key, const Botan::Private_Key& signer,
    const Botan::X509_Certificate* parent, const std::string& base_url,
    system_clock::time_point now, Botan::RandomNumberGenerator& rng) {
  const Botan::X509_DN subject = CaSubject(spec.common_name);
  Profile validity;
  validity.validity_months = 12 * spec.validity_years;
  const auto not_before = std::chrono::floor<std::chrono::seconds>(now);
  Botan::Extensions ext;
  ext.add(new Botan::Cert_Extension::Basic_Constraints(true, parent == nullptr ? 1 : 0), true);
  ext.add(new Botan::Cert_Extension::Key_Usage(
              static_cast<Botan::Key_Constraints>(Botan::KEY_CERT_SIGN | Botan::CRL_SIGN)),
          true);
  ext.add(new Botan::Cert_Extension::Subject_Key_ID(subject_key.public_key_bits(), "SHA-160"));
  if (parent != nullptr) {
    ext.add(new Botan::Cert_Extension::Authority_Key_ID(parent->subject_key_id()));
    ext.add(CrlDistributionPoint(base_url + "/crl/root.crl").release());
    ext.add(AuthorityInfoAccess("", base_url + "/ca/root.crt").release());
  }
  TESSERA_ASSIGN_OR_RETURN(SignatureShape shape, ShapeOf(signer));
  const Botan::secure_vector<uint8_t> tbs =
      EncodeTbs({.serial = RandomSerial(rng),
                 .signature_algorithm = shape.algorithm,
                 .issuer = parent == nullptr ? subject : parent->subject_dn(),
                 .not_before = not_before,
                 .not_after = NotAfter(validity, not_before),
                 .subject = subject,
                 .subject_public_key = subject_key.subject_public_key(),
                 .extensions = &ext});
  TESSERA_ASSIGN_OR_RETURN(Botan::X509_Certificate draft, UnsignedDraft(tbs, shape));
  if (absl::Status linted = LintCa({draft, parent, spec.validity_years}); !linted.ok()) {
    return absl::FailedPreconditionError(absl::StrCat("CA ", spec.name, ": ", linted.message()));
  }
  absl::StatusOr<Botan::X509_Certificate> cert = SignTbs(tbs, shape.algorithm, signer, rng);
  if (!cert.ok()) {
    return absl::UnavailableError(absl::StrCat("CA ", spec.name, ": ", cert.status().message()));
  }
  return cert;
}

class CeremonyRun {
 public:
  CeremonyRun(const CeremonyConfig& config, const Clock& clock)
      : config_(config), clock_(clock), out_(config.output_dir) {}

  absl::StatusOr<CeremonyRecord> Run(const CeremonyPins& pins) {
    TESSERA_ASSIGN_OR_RETURN(ProfileSet profiles, ProfileSet::LoadFile(config_.profiles_path));
    TESSERA_ASSIGN_OR_RETURN(auto module, hsm::Module::Load(config_.module_path));
    TESSERA_RETURN_IF_ERROR(CheckNothingExists(*module));
    Audit("start", {{"root_token", config_.root_token}, {"online_token", config_.online_token}});

    // The root, on its own token.
    TESSERA_RETURN_IF_ERROR(
        module->InitToken(config_.root_token, pins.root_so_pin, pins.root_user_pin).status());
    Audit("token_initialized", {{"label", config_.root_token}});
    TESSERA_ASSIGN_OR_RETURN(auto root_token,
                             hsm::Token::Login(module, config_.root_token, pins.root_user_pin));
    TESSERA_ASSIGN_OR_RETURN(auto root_key, GenerateKey(root_token, config_.root));
    TESSERA_ASSIGN_OR_RETURN(Botan::X509_Certificate root,
                             IssueCaCertificate(config_.root, *root_key, *root_key, nullptr,
                                                config_.base_url, clock_.Now(), rng_));
    TESSERA_RETURN_IF_ERROR(Store(root_token, config_.root.name, root));

    // The issuing CAs, on the online token, signed by the root.
    TESSERA_RETURN_IF_ERROR(
        module->InitToken(config_.online_token, pins.online_so_pin, pins.online_user_pin).status());
    Audit("token_initialized", {{"label", config_.online_token}});
    TESSERA_ASSIGN_OR_RETURN(auto online,
                             hsm::Token::Login(module, config_.online_token, pins.online_user_pin));
    std::map<std::string, std::unique_ptr<Issuer>> issuers;
    std::string bundle = root.PEM_encode();
    for (const CaSpec& spec : config_.issuing) {
      TESSERA_ASSIGN_OR_RETURN(auto key, GenerateKey(online, spec));
      TESSERA_ASSIGN_OR_RETURN(
          Botan::X509_Certificate cert,
          IssueCaCertificate(spec, *key, *root_key, &root, config_.base_url, clock_.Now(), rng_));
      TESSERA_RETURN_IF_ERROR(Store(online, spec.name, cert));
      TESSERA_RETURN_IF_ERROR(
          Write(spec.name + "-chain.pem", cert.PEM_encode() + root.PEM_encode()));
      bundle += cert.PEM_encode();
      TESSERA_ASSIGN_OR_RETURN(
          issuers[spec.name],
          Issuer::Create(IssuerContext::ForBaseUrl(spec.name, config_.base_url),
                         std::make_unique<Botan::X509_Certificate>(cert), std::move(key)));
    }
    TESSERA_RETURN_IF_ERROR(Write("bundle.pem", bundle));
    // The root's first CRL (no CA revoked): the issuing CAs' CRL distribution point names it.
    TESSERA_ASSIGN_OR_RETURN(std::vector<uint8_t> root_crl,
                             FirstRootCrl(root, *root_key, clock_.Now(),
                                          std::chrono::hours(24 * config_.root_crl_validity_days)));
    TESSERA_RETURN_IF_ERROR(Write(kRootCrlFile, std::string(root_crl.begin(), root_crl.end())));
    Audit("root_crl",
          {{"number", "1"}, {"validity_days", std::to_string(config_.root_crl_validity_days)}});

    // The AES key that seals workstation bundles (their keys, passwords and PKCS#12 files).
    TESSERA_RETURN_IF_ERROR(hsm::SecretSealer::Open(online, kBundleSealKeyLabel, true).status());
    Audit("sealing_key", {{"label", kBundleSealKeyLabel}});

    // A delegated OCSP responder per issuing CA: key on the HSM, short validity.
    std::string issued;  // PEM of every leaf certificate the ceremony signs
    TESSERA_ASSIGN_OR_RETURN(const Profile* ocsp_profile, profiles.Find(kOcspResponderProfile));
    for (const CaSpec& spec : config_.issuing) {
      const std::string name = OcspResponderName(spec.name);
      TESSERA_ASSIGN_OR_RETURN(auto key,
                               GenerateKey(online, {.name = name, .algorithm = spec.algorithm}));
      TESSERA_ASSIGN_OR_RETURN(
          Botan::X509_Certificate cert,
          IssueLeaf(*issuers.at(spec.name), *ocsp_profile, {.service = name}, *key));
      TESSERA_RETURN_IF_ERROR(Store(online, name, cert));
      issued += cert.PEM_encode();
    }

    // tessera's own service certificates (software TLS keys: gRPC reads them from PEM).
    TESSERA_ASSIGN_OR_RETURN(const Profile* service_profile, profiles.Find("service"));
    auto issuer = issuers.find(service_profile->issuer);
    if (issuer == issuers.end()) {
      return absl::FailedPreconditionError(
          absl::StrCat("profile 'service' is issued by '", service_profile->issuer,
                       "', which the ceremony file does not create"));
    }
    for (const ServiceSpec& service : config_.services) {
      Botan::ECDSA_PrivateKey key(rng_, Botan::EC_Group("secp256r1"));
      TESSERA_ASSIGN_OR_RETURN(Botan::X509_Certificate cert,
                               IssueLeaf(*issuer->second, *service_profile,
                                         {.service = service.name,
                                          .dns_names = service.dns_names,
                                          .ip_addresses = service.ip_addresses},
                                         key));
      TESSERA_RETURN_IF_ERROR(Write(service.name + ".key", Botan::PKCS8::PEM_encode(key), kSecret));
      TESSERA_RETURN_IF_ERROR(Write(
          service.name + ".pem", cert.PEM_encode() + issuer->second->certificate().PEM_encode()));
      Audit("service_certificate", {{"service", service.name}, {"sha256", Fingerprint(cert)}});
      issued += cert.PEM_encode();
    }
    // Every leaf signed here, for tessera-ca to record at start-up (ca.ceremony_certificates):
    // then they can be revoked and are checked at the door like the certificates it issues.
    TESSERA_RETURN_IF_ERROR(Write(kCeremonyIssuedFile, issued));
    Audit("done", {{"output", config_.output_dir}});
    return std::move(record_);
  }

 private:
  absl::Status CheckNothingExists(const hsm::Module& module) {
    for (const std::string& label : {config_.root_token, config_.online_token}) {
      if (module.FindTokenByLabel(label).ok()) {
        return absl::AlreadyExistsError(
            absl::StrCat("token '", label, "' already exists; the ceremony never overwrites one"));
      }
    }
    if (config_.root_token == config_.online_token) {
      return absl::InvalidArgumentError("hsm.root_token: the root needs its own token");
    }
    if (fs::exists(out_ / "root.pem") || fs::exists(out_ / "bundle.pem")) {
      return absl::AlreadyExistsError(
          absl::StrCat(config_.output_dir, " already holds a ceremony's output; refusing"));
    }
    std::error_code ec;
    fs::create_directories(out_, ec);
    if (ec) return absl::UnavailableError(absl::StrCat("cannot create ", config_.output_dir));
    return absl::OkStatus();
  }

  absl::StatusOr<std::unique_ptr<Botan::Private_Key>> GenerateKey(
      const std::shared_ptr<hsm::Token>& token, const CaSpec& spec) {
    TESSERA_ASSIGN_OR_RETURN(auto key, hsm::GenerateTokenKey(token, {.algorithm = spec.algorithm,
                                                                     .id = Id(spec.name),
                                                                     .label = spec.name}));
    Audit("key_generated", {{"key", spec.name},
                            {"algorithm", hsm::KeyAlgorithmName(spec.algorithm)},
                            {"token", token->info().label}});
    return key;
  }

  absl::StatusOr<Botan::X509_Certificate> IssueLeaf(const Issuer& issuer, const Profile& profile,
                                                    const SubjectData& data,
                                                    const Botan::Public_Key& key) {
    TESSERA_ASSIGN_OR_RETURN(
        CertificatePlan plan,
        PlanCertificate(profile, data, key, issuer.context(), RandomSerial(rng_), clock_.Now()));
    return issuer.Issue(plan);
  }

  // Writes the certificate beside its key (same CKA_ID) and as <name>.pem.
  absl::Status Store(const std::shared_ptr<hsm::Token>& token, const std::string& name,
                     const Botan::X509_Certificate& cert) {
    TESSERA_ASSIGN_OR_RETURN(auto lease, token->Acquire());
    TESSERA_RETURN_IF_ERROR(lease->WriteCertificate(Id(name), name, cert.BER_encode()).status());
    TESSERA_RETURN_IF_ERROR(Write(name + ".pem", cert.PEM_encode()));
    record_.fingerprints.emplace_back(name, Fingerprint(cert));
    Audit("certificate", {{"name", name},
                          {"subject", cert.subject_dn().to_string()},
                          {"serial", Botan::hex_encode(cert.serial_number())},
                          {"sha256", Fingerprint(cert)}});
    return absl::OkStatus();
  }

  // A key is written as a secret (0600, never through a symlink); certificates 0644.
  static constexpr bool kSecret = true;
  absl::Status Write(const std::string& file, const std::string& content, bool secret = false) {
    const std::string path = (out_ / file).string();
    TESSERA_RETURN_IF_ERROR(secret ? WriteSecretFile(path, content) : WriteFile(path, content));
    record_.files.push_back(path);
    return absl::OkStatus();
  }

  const CeremonyConfig& config_;
  const Clock& clock_;
  fs::path out_;
  Botan::AutoSeeded_RNG rng_;
  CeremonyRecord record_;
};

}  // namespace

absl::StatusOr<CeremonyConfig> CeremonyConfig::LoadFile(const std::string& path) {
  TESSERA_ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  toml::table t;
  try {
    t = toml::parse(text, path);
  } catch (const toml::parse_error& error) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": ", std::string(error.description())));
  }
  const fs::path base = fs::path(path).parent_path();
  auto relative = [&](const std::string& p) {
    return fs::path(p).is_absolute() ? p : (base / p).lexically_normal().string();
  };
  auto required = [&](const char* key) -> absl::StatusOr<std::string> {
    std::optional<std::string> value = t.at_path(key).value<std::string>();
    if (!value || value->empty())
      return absl::InvalidArgumentError(absl::StrCat(path, ": ", key, " is required"));
    return *value;
  };
  auto ca = [&](const toml::table& table, const std::string& where) -> absl::StatusOr<CaSpec> {
    CaSpec spec;
    spec.name = table["name"].value_or(std::string());
    spec.common_name = table["common_name"].value_or(std::string());
    spec.validity_years = static_cast<int>(table["validity_years"].value_or(int64_t{0}));
    if (spec.name.empty() ||
        spec.name.find_first_not_of("abcdefghijklmnopqrstuvwxyz-") != std::string::npos) {
      return absl::InvalidArgumentError(absl::StrCat(path, ": ", where, ".name: a-z and '-' only"));
    }
    if (spec.common_name.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ": ", where, ".common_name is required"));
    }
    if (spec.validity_years < 7 || spec.validity_years > 30) {
      return absl::InvalidArgumentError(absl::StrCat(
          path, ": ", where, ".validity_years: 7 to 30 (a CA must outlive six-year leaves)"));
    }
    TESSERA_ASSIGN_OR_RETURN(spec.algorithm,
                             ParseAlgorithm(table["algorithm"].value_or(std::string("ec-p256")),
                                            absl::StrCat(path, ": ", where, ".algorithm")));
    return spec;
  };

  CeremonyConfig config;
  TESSERA_ASSIGN_OR_RETURN(config.module_path, required("hsm.module"));
  if (const char* module = std::getenv("TESSERA_HSM_MODULE"); module != nullptr && *module) {
    config.module_path = module;
  }
  TESSERA_ASSIGN_OR_RETURN(config.root_token, required("hsm.root_token"));
  TESSERA_ASSIGN_OR_RETURN(config.online_token, required("hsm.online_token"));
  TESSERA_ASSIGN_OR_RETURN(config.base_url, required("urls.base"));
  if (!config.base_url.starts_with("http://")) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": urls.base must be an http:// URL"));
  }
  TESSERA_ASSIGN_OR_RETURN(std::string output, required("output.dir"));
  config.output_dir = relative(output);
  TESSERA_ASSIGN_OR_RETURN(std::string profiles, required("output.profiles"));
  config.profiles_path = relative(profiles);
  const toml::table* root = t["root"].as_table();
  if (root == nullptr)
    return absl::InvalidArgumentError(absl::StrCat(path, ": [root] is required"));
  TESSERA_ASSIGN_OR_RETURN(config.root, ca(*root, "root"));
  config.root_crl_validity_days = static_cast<int>(
      (*root)["crl_validity_days"].value_or(int64_t{config.root_crl_validity_days}));
  if (config.root_crl_validity_days < 7 || config.root_crl_validity_days > 730) {
    return absl::InvalidArgumentError(absl::StrCat(
        path, ": root.crl_validity_days: 7 to 730 (the offline root re-signs it before then)"));
  }
  if (config.root.name != "root") {
    return absl::InvalidArgumentError(absl::StrCat(path, ": root.name must be \"root\""));
  }
  std::set<std::string> names = {"root"};
  if (const toml::array* list = t["issuing"].as_array()) {
    for (size_t i = 0; i < list->size(); ++i) {
      const toml::table* entry = (*list)[i].as_table();
      if (entry == nullptr) continue;
      TESSERA_ASSIGN_OR_RETURN(CaSpec spec, ca(*entry, absl::StrCat("issuing[", i, "]")));
      if (!names.insert(spec.name).second) {
        return absl::InvalidArgumentError(
            absl::StrCat(path, ": issuing[", i, "].name '", spec.name, "' is used twice"));
      }
      if (spec.validity_years >= config.root.validity_years) {
        return absl::InvalidArgumentError(
            absl::StrCat(path, ": issuing[", i, "].validity_years: must be less than the root's (",
                         config.root.validity_years, "): an issuing CA may not outlive its root"));
      }
      config.issuing.push_back(std::move(spec));
    }
  }
  if (config.issuing.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": at least one [[issuing]] CA is required"));
  }
  if (const toml::array* list = t["service"].as_array()) {
    for (const toml::node& node : *list) {
      const toml::table* entry = node.as_table();
      if (entry == nullptr) continue;
      ServiceSpec service;
      service.name = (*entry)["name"].value_or(std::string());
      if (const toml::array* dns = (*entry)["dns"].as_array()) {
        for (const toml::node& n : *dns) service.dns_names.push_back(n.value_or(std::string()));
      }
      if (const toml::array* ip = (*entry)["ip"].as_array()) {
        for (const toml::node& n : *ip) service.ip_addresses.push_back(n.value_or(std::string()));
      }
      config.services.push_back(std::move(service));
    }
  }
  return config;
}

absl::StatusOr<CeremonyRecord> RunCeremony(const CeremonyConfig& config, const CeremonyPins& pins,
                                           const Clock& clock) {
  return CeremonyRun(config, clock).Run(pins);
}

absl::StatusOr<std::vector<Botan::X509_Certificate>> ReadCertificatesFile(const std::string& path) {
  TESSERA_ASSIGN_OR_RETURN(std::string pem, ReadFile(path));
  std::vector<Botan::X509_Certificate> certificates;
  try {
    Botan::DataSource_Memory source(pem);
    while (!source.end_of_data()) {
      certificates.emplace_back(source);
      // Skip the whitespace after each PEM block, so end_of_data() sees the real end.
      uint8_t next = 0;
      while (source.peek(&next, 1, 0) == 1 && std::isspace(next)) source.discard_next(1);
    }
  } catch (const std::exception& e) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": not a list of certificates: ", e.what()));
  }
  return certificates;
}

absl::StatusOr<std::vector<uint8_t>> ReadCertificateDer(const std::string& path) {
  TESSERA_ASSIGN_OR_RETURN(std::string pem, ReadFile(path));
  try {
    Botan::X509_Certificate certificate(reinterpret_cast<const uint8_t*>(pem.data()), pem.size());
    return certificate.BER_encode();
  } catch (const std::exception& e) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": not a certificate: ", e.what()));
  }
}

}  // namespace tessera::ca
