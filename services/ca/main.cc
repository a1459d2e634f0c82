// tessera-ca: the certificate authority service. Serves gRPC over mTLS with the default-deny
// policy table (issuance, revocation, lookup, the CA chain, workstation bundles), and the
// public plain-HTTP endpoint certificates point at (CRLs, CA certificates, OCSP).
//
//   tessera-ca --config <file.toml>
//
// Config keys (each overridable by TESSERA_<KEY> in the environment, e.g. TESSERA_DB_CONNINFO):
//   grpc.listen            address:port to listen on; port 0 lets the OS pick
//   grpc.port_file         optional: where to write the port actually bound
//   tls.certificate_chain  PEM: this service's certificate, then its issuing CA
//   tls.private_key        PEM: this service's TLS key
//   tls.client_ca_bundle   PEM: the tessera CAs whose client certificates are accepted
//   db.conninfo            libpq connection string; migrations of schema "ca" run at start
//   db.max_connections     connections for issuance, revocation and upkeep (default 8)
//   hsm.module             PKCS#11 module path
//   hsm.token              label of the online token the ceremony created
//   ca.issuers             comma-separated issuing CA names on that token
//   ca.root_certificate    PEM of the root (it lives on the offline token)
//   ca.root_crl            the root's CRL (DER or PEM) the key ceremony writes, served as
//                          /crl/root.crl (default: root.crl beside ca.root_certificate; until
//                          it exists that path answers 404 and start-up logs a warning)
//   ca.profiles            the profiles file
//   ca.base_url            where tessera-ca's HTTP endpoint is reached (CRL/OCSP URLs)
//   ca.ceremony_certificates  PEM of the leaves the key ceremony signed (service identities,
//                          OCSP responders), recorded at start (default: issued.pem beside
//                          ca.root_certificate)
//   trust.issuers          which issuing CA certifies which kind of caller (default
//                          service=operators,operator=operators,workstation=workstations)
//   bundles.seal_key       label of the AES key sealing workstation bundles (default
//                          "workstation-bundles", created by the ceremony)
//   http.listen            host:port of the public HTTP endpoint; port 0: the OS picks
//   http.port_file         optional: where to write the HTTP port actually bound
//   http.threads           event-loop threads (default 2)
//   http.max_connections   open connections at most (default 4096)
//   http.max_connections_per_ip  from one address at most (default 256)
//   http.idle_timeout_seconds    a connection silent this long is closed (default 10)
//   http.connection_memory_bytes headers and buffers of one connection (default 32768)
//   http.listen_backlog    connections the kernel queues before accept (default 1024)
//   http.nice              niceness of the endpoint's threads, so that a flood of requests
//                          yields the CPU to issuance (default 5; 0: same as issuance)
//   http.db_connections    the endpoint's own database connections, apart from issuance's
//                          (default 4)
//   http.db_wait_ms        how long the endpoint waits for one of them before answering
//                          tryLater / 503 (default 250)
//   crl.validity_hours     nextUpdate - thisUpdate (default 24)
//   crl.refresh_hours      re-sign this long before nextUpdate (default 12)
//   ocsp.validity_hours    nextUpdate - thisUpdate of OCSP answers (default 1)
//   ocsp.cache_entries     pre-signed answers kept in memory (default 1000000, ~1 KiB each)
//   ocsp.workers           threads signing answers not yet in memory (default 2)
//   ocsp.renew_before_days certify a responder's key again this long before its certificate
//                          expires (default 10; below the ocsp_responder profile's validity)
//   log.level              debug | info | warn | error (default info)
// The token PIN comes from TESSERA_CA_PIN (or a 0600 file named by TESSERA_CA_PIN_FILE), never
// from the config file; it is removed from the environment as soon as it is read.
#include <botan/data_src.h>

#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "ca/authority.h"
#include "ca/bundle_store.h"
#include "ca/caller_revocation.h"
#include "ca/ceremony.h"
#include "ca/certificate_store.h"
#include "ca/crl_cache.h"
#include "ca/crl_publisher.h"
#include "ca/crl_store.h"
#include "ca/issuer.h"
#include "ca/ocsp_renewal.h"
#include "ca/ocsp_responder.h"
#include "ca/profile.h"
#include "ca/workstation_bundle.h"
#include "hsm/module.h"
#include "hsm/secret_sealer.h"
#include "hsm/token.h"
#include "platform/config.h"
#include "platform/files.h"
#include "platform/log.h"
#include "platform/migrations.h"
#include "platform/pg_pool.h"
#include "platform/process.h"
#include "platform/rpc_server.h"
#include "platform/service_main.h"
#include "platform/status_macros.h"
#include "services/ca/handlers.h"
#include "services/ca/http_endpoint.h"

namespace tessera {
namespace {

constexpr char kName[] = "tessera-ca";

absl::StatusOr<std::string> RootDer(const std::string& path) {
  TESSERA_ASSIGN_OR_RETURN(std::string pem, ReadFile(path));
  try {
    Botan::X509_Certificate root(reinterpret_cast<const uint8_t*>(pem.data()), pem.size());
    std::vector<uint8_t> der = root.BER_encode();
    return std::string(der.begin(), der.end());
  } catch (const std::exception& e) {
    return absl::InvalidArgumentError("ca.root_certificate: not a certificate: " +
                                      std::string(e.what()));
  }
}

// Every certificate in a PEM file.
absl::StatusOr<std::vector<Botan::X509_Certificate>> ReadCertificates(const std::string& path) {
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

absl::Status Serve(const std::string& config_path) {
  // First, before any thread starts (CRL publisher, HTTP, gRPC): the stop signals then reach
  // only ServeUntilStopped, and shutdown is orderly.
  TESSERA_ASSIGN_OR_RETURN(ServiceStart start, StartService(kName, config_path));
  const Config& config = start.config;
  TESSERA_ASSIGN_OR_RETURN(std::string conninfo, config.String("db.conninfo"));
  TESSERA_ASSIGN_OR_RETURN(int64_t max_connections, config.IntOr("db.max_connections", 8));
  TESSERA_ASSIGN_OR_RETURN(std::string module_path, config.String("hsm.module"));
  TESSERA_ASSIGN_OR_RETURN(std::string token_label, config.String("hsm.token"));
  TESSERA_ASSIGN_OR_RETURN(std::string issuer_names, config.String("ca.issuers"));
  TESSERA_ASSIGN_OR_RETURN(std::string root_path, config.String("ca.root_certificate"));
  TESSERA_ASSIGN_OR_RETURN(std::string profiles_path, config.String("ca.profiles"));
  TESSERA_ASSIGN_OR_RETURN(std::string base_url, config.String("ca.base_url"));
  const std::string default_ceremony_certificates =
      (std::filesystem::path(root_path).parent_path() / ca::kCeremonyIssuedFile).string();
  TESSERA_ASSIGN_OR_RETURN(
      std::string ceremony_certificates_path,
      config.StringOr("ca.ceremony_certificates", default_ceremony_certificates));
  TESSERA_ASSIGN_OR_RETURN(std::string bundle_seal_key,
                           config.StringOr("bundles.seal_key", ca::kBundleSealKeyLabel));
  TESSERA_ASSIGN_OR_RETURN(std::string http_listen, config.String("http.listen"));
  TESSERA_ASSIGN_OR_RETURN(std::string http_port_file, config.StringOr("http.port_file", ""));
  TESSERA_ASSIGN_OR_RETURN(
      std::string root_crl_path,
      config.StringOr("ca.root_crl",
                      (std::filesystem::path(root_path).parent_path() / "root.crl").string()));
  ca_service::HttpLimits http_limits;
  TESSERA_ASSIGN_OR_RETURN(int64_t http_threads, config.IntOr("http.threads", 2));
  TESSERA_ASSIGN_OR_RETURN(int64_t http_max_connections,
                           config.IntOr("http.max_connections", 4096));
  TESSERA_ASSIGN_OR_RETURN(int64_t http_per_ip, config.IntOr("http.max_connections_per_ip", 256));
  TESSERA_ASSIGN_OR_RETURN(int64_t http_idle, config.IntOr("http.idle_timeout_seconds", 10));
  TESSERA_ASSIGN_OR_RETURN(int64_t http_memory,
                           config.IntOr("http.connection_memory_bytes", 32 * 1024));
  TESSERA_ASSIGN_OR_RETURN(int64_t http_backlog, config.IntOr("http.listen_backlog", 1024));
  TESSERA_ASSIGN_OR_RETURN(int64_t http_nice, config.IntOr("http.nice", 5));
  TESSERA_ASSIGN_OR_RETURN(int64_t http_db_connections, config.IntOr("http.db_connections", 4));
  TESSERA_ASSIGN_OR_RETURN(int64_t http_db_wait_ms, config.IntOr("http.db_wait_ms", 250));
  TESSERA_ASSIGN_OR_RETURN(int64_t ocsp_cache_entries,
                           config.IntOr("ocsp.cache_entries", 1'000'000));
  TESSERA_ASSIGN_OR_RETURN(int64_t ocsp_workers, config.IntOr("ocsp.workers", 2));
  struct Range {
    const char* key;
    int64_t value, min, max;
  };
  for (const Range& r : std::initializer_list<Range>{
           {"http.threads", http_threads, 1, 64},
           {"http.max_connections", http_max_connections, 1, 1'000'000},
           {"http.max_connections_per_ip", http_per_ip, 0, 1'000'000},
           {"http.idle_timeout_seconds", http_idle, 1, 3600},
           {"http.connection_memory_bytes", http_memory, 8 * 1024, 1024 * 1024},
           {"http.listen_backlog", http_backlog, 1, 65535},
           {"http.nice", http_nice, 0, 19},
           {"http.db_connections", http_db_connections, 1, 64},
           {"http.db_wait_ms", http_db_wait_ms, 0, 60'000},
           {"ocsp.cache_entries", ocsp_cache_entries, 1000, 100'000'000},
           {"ocsp.workers", ocsp_workers, 1, 64}}) {
    if (r.value < r.min || r.value > r.max) {
      return absl::InvalidArgumentError(absl::StrCat(r.key, ": ", r.min, " to ", r.max));
    }
  }
  http_limits.threads = static_cast<int>(http_threads);
  http_limits.max_connections = static_cast<unsigned>(http_max_connections);
  http_limits.per_ip_connections = static_cast<unsigned>(http_per_ip);
  http_limits.idle_timeout_seconds = static_cast<unsigned>(http_idle);
  http_limits.connection_memory = static_cast<size_t>(http_memory);
  http_limits.listen_backlog = static_cast<unsigned>(http_backlog);
  http_limits.nice = static_cast<int>(http_nice);
  TESSERA_ASSIGN_OR_RETURN(int64_t crl_validity_hours, config.IntOr("crl.validity_hours", 24));
  TESSERA_ASSIGN_OR_RETURN(int64_t crl_refresh_hours, config.IntOr("crl.refresh_hours", 12));
  TESSERA_ASSIGN_OR_RETURN(int64_t ocsp_validity_hours, config.IntOr("ocsp.validity_hours", 1));
  TESSERA_ASSIGN_OR_RETURN(int64_t ocsp_renew_before_days,
                           config.IntOr("ocsp.renew_before_days", 10));
  if (ocsp_validity_hours < 1 || ocsp_validity_hours > 24 * 7) {
    return absl::InvalidArgumentError("ocsp.validity_hours: 1 to 168");
  }
  if (crl_validity_hours < 1 || crl_refresh_hours < 0 || crl_refresh_hours >= crl_validity_hours) {
    return absl::InvalidArgumentError(
        "crl.refresh_hours must be below crl.validity_hours, and validity at least 1");
  }
  const size_t colon = http_listen.rfind(':');
  if (colon == std::string::npos) {
    return absl::InvalidArgumentError("http.listen: expected host:port");
  }
  // Taken out of the environment at once: /proc/<pid>/environ and children never see it.
  TESSERA_ASSIGN_OR_RETURN(Secret pin, TakeSecretFromEnv("TESSERA_CA_PIN"));

  // Database first: a schema the program does not know stops start-up.
  pg::ConnectionPool pool(conninfo, static_cast<size_t>(max_connections));
  // The public endpoint's reads get their own connections, and wait briefly for one: a flood
  // of OCSP or CRL requests can neither starve issuance nor pile up waiting.
  pg::ConnectionPool endpoint_pool(conninfo, static_cast<size_t>(http_db_connections),
                                   std::chrono::milliseconds(http_db_wait_ms));
  TESSERA_RETURN_IF_ERROR(pg::MigrateAtStart(pool, ca::PgCertificateStore::kSchema,
                                             ca::PgCertificateStore::Migrations()));
  TESSERA_ASSIGN_OR_RETURN(ca::ProfileSet profiles, ca::ProfileSet::LoadFile(profiles_path));
  TESSERA_ASSIGN_OR_RETURN(const ca::Profile* responder_profile,
                           profiles.Find(ca::kOcspResponderProfile));
  const int64_t responder_days = responder_profile->validity_days > 0
                                     ? responder_profile->validity_days
                                     : 28 * int64_t{responder_profile->validity_months};
  if (ocsp_renew_before_days < 1 || ocsp_renew_before_days >= responder_days) {
    return absl::InvalidArgumentError(
        absl::StrCat("ocsp.renew_before_days: 1 to ", responder_days - 1,
                     " (below the ocsp_responder profile's validity)"));
  }
  TESSERA_ASSIGN_OR_RETURN(std::string root_der, RootDer(root_path));

  TESSERA_ASSIGN_OR_RETURN(auto module, hsm::Module::Load(module_path));
  TESSERA_ASSIGN_OR_RETURN(auto token, hsm::Token::Login(module, token_label, pin));
  std::map<std::string, std::unique_ptr<ca::Issuer>> issuers;
  for (absl::string_view name : absl::StrSplit(issuer_names, ',', absl::SkipWhitespace())) {
    const std::string issuer_name(name);
    TESSERA_ASSIGN_OR_RETURN(issuers[issuer_name],
                             ca::LoadIssuerFromToken(token, issuer_name, base_url));
    LogEvent(spdlog::level::info, "issuer_loaded", {{"issuer", issuer_name}});
  }

  std::map<std::string, std::string> ca_certificates = {{"root", root_der}};
  for (const auto& [name, issuer] : issuers) {
    std::vector<uint8_t> der = issuer->certificate().BER_encode();
    ca_certificates[name] = std::string(der.begin(), der.end());
  }

  SystemClock clock;
  ca::PgCertificateStore store(pool);
  ca::CertificateAuthority authority(store, profiles, std::move(issuers), clock);
  // The ceremony's certificates on record before anyone calls: a service certificate can
  // then be revoked, and is checked at the door like every other.
  TESSERA_ASSIGN_OR_RETURN(std::vector<Botan::X509_Certificate> ceremony_certificates,
                           ReadCertificates(ceremony_certificates_path));
  TESSERA_ASSIGN_OR_RETURN(int recorded,
                           authority.RecordCeremonyCertificates(ceremony_certificates));
  LogEvent(spdlog::level::info, "ceremony_certificates",
           {{"file", ceremony_certificates_path},
            {"certificates", std::to_string(ceremony_certificates.size())},
            {"newly_recorded", std::to_string(recorded)}});
  auto door = std::make_shared<ca::RecordedRevocationCheck>(store, clock);
  authority.OnRevoked([door](const std::string& serial) { door->Forget(serial); });
  start.rpc.revocation = door;
  ca::PgCrlStore crl_store(pool);
  ca::CrlPublisher publisher(crl_store, authority.issuers(), clock,
                             {.validity = std::chrono::hours(crl_validity_hours),
                              .refresh_before = std::chrono::hours(crl_refresh_hours)});
  // The first CRLs before anything is served, so /crl never answers 503 after start-up.
  TESSERA_RETURN_IF_ERROR(publisher.RunOnce().status());
  publisher.Start();
  ca::PgCertificateStore endpoint_store(endpoint_pool);
  ca::PgCrlStore endpoint_crls(endpoint_pool);
  std::vector<std::string> crl_issuers;
  for (const auto& [name, issuer] : authority.issuers()) crl_issuers.push_back(name);
  ca::CrlCache crl_cache(
      endpoint_crls, crl_issuers, root_crl_path,
      Botan::X509_Certificate(std::vector<uint8_t>(root_der.begin(), root_der.end())));
  if (absl::Status loaded = crl_cache.RunOnce(); !loaded.ok()) {
    LogEvent(spdlog::level::warn, "crl_cache_failed", {{"error", std::string(loaded.message())}});
  }
  crl_cache.Start();
  TESSERA_ASSIGN_OR_RETURN(
      std::unique_ptr<ca::OcspResponder> ocsp,
      ca::OcspResponder::Create(endpoint_store, authority.issuers(), token, clock,
                                {.validity = std::chrono::hours(ocsp_validity_hours),
                                 .max_entries = static_cast<size_t>(ocsp_cache_entries),
                                 .workers = static_cast<int>(ocsp_workers)}));
  // A revocation here is signed into the certificate's answer at once, in the background.
  authority.OnRevoked([&ocsp](const std::string& serial) { ocsp->Forget(serial); });
  ocsp->Start();
  ca::OcspResponderRenewal renewal(
      authority, *ocsp, clock, {.renew_before = std::chrono::hours(24 * ocsp_renew_before_days)});
  renewal.Start();
  ca_service::CaHttpEndpoint http(crl_cache, std::move(ca_certificates), *ocsp, http_limits);
  int http_port = 0;
  if (!absl::SimpleAtoi(http_listen.substr(colon + 1), &http_port)) {
    return absl::InvalidArgumentError("http.listen: the port must be a number");
  }
  TESSERA_ASSIGN_OR_RETURN(http_port, http.Start(http_listen.substr(0, colon), http_port));
  if (!http_port_file.empty()) {
    TESSERA_RETURN_IF_ERROR(WriteFile(http_port_file, std::to_string(http_port) + "\n"));
  }
  LogEvent(spdlog::level::info, "http_serving", {{"port", std::to_string(http_port)}});

  absl::StatusOr<hsm::SecretSealer> sealer = hsm::SecretSealer::Open(token, bundle_seal_key, false);
  if (!sealer.ok()) {
    return absl::FailedPreconditionError(
        absl::StrCat("bundles.seal_key: no AES key '", bundle_seal_key, "' on token '", token_label,
                     "' (the key ceremony creates it): ", sealer.status().message()));
  }
  ca::BundleStore bundle_store(pool);
  ca::WorkstationBundles bundles(authority, bundle_store, *std::move(sealer),
                                 std::vector<uint8_t>(root_der.begin(), root_der.end()));
  ca_service::CertificateAuthorityHandlers handlers(authority, bundles, crl_store, root_der);
  start.rpc.services = {&handlers};
  start.rpc.rules = ca_service::CaPolicy();
  const absl::Status served = ServeUntilStopped(std::move(start.rpc), start.port_file);
  http.Stop();
  renewal.Stop();
  crl_cache.Stop();
  publisher.Stop();
  return served;
}

}  // namespace
}  // namespace tessera

int main(int argc, char** argv) {
  return tessera::ServiceMain(argc, argv, tessera::kName, tessera::Serve);
}
