// tessera-ca: the certificate authority service. Serves gRPC over mTLS with the default-deny
// policy table (issuance, revocation, lookup, the CA chain, workstation bundles), and the
// public plain-HTTP endpoint certificates point at (CRLs, CA certificates, OCSP).
//
//   tessera-ca --config <file.toml>
//
// Config keys (each overridable by TESSERA_<KEY> in the environment, e.g. TESSERA_DB_CONNINFO),
// read and checked by ca::ReadCaSettings (ca/settings.h):
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
//   crl.validity_hours     nextUpdate - thisUpdate (default 24, at most 744)
//   crl.refresh_hours      re-sign this long before nextUpdate (default 12)
//   ocsp.validity_hours    nextUpdate - thisUpdate of OCSP answers (default 1)
//   ocsp.cache_entries     pre-signed answers kept in memory (default 1000000, ~1 KiB each)
//   ocsp.workers           threads signing answers not yet in memory (default 2)
//   ocsp.renew_before_days certify a responder's key again this long before its certificate
//                          expires (default 10; below the ocsp_responder profile's validity)
//   session.registry       optional: tessera-registry's gRPC address, whose published session
//                          keys and ended sessions the door checks persons' sessions with
//   audit.*                the audit chain's anchor key, on the CA's token
//                          (services/audit/anchoring.h)
//   log.level              debug | info | warn | error (default info)
// The token PIN comes from TESSERA_CA_PIN (or a 0600 file named by TESSERA_CA_PIN_FILE), never
// from the config file; it is removed from the environment as soon as it is read.
#include <string>

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
#include "ca/settings.h"
#include "ca/workstation_bundle.h"
#include "hsm/module.h"
#include "hsm/secret_sealer.h"
#include "hsm/token.h"
#include "platform/files.h"
#include "platform/log.h"
#include "platform/migrations.h"
#include "platform/pg_pool.h"
#include "platform/process.h"
#include "platform/rpc_client.h"
#include "platform/service_main.h"
#include "platform/status_macros.h"
#include "services/audit/anchoring.h"
#include "services/ca/handlers.h"
#include "services/ca/http_endpoint.h"
#include "services/sessions/registry_sessions.h"

namespace tessera {
namespace {

constexpr char kName[] = "tessera-ca";

absl::Status Serve(const std::string& config_path) {
  // First, before any thread starts (CRL publisher, HTTP, gRPC): the stop signals then reach
  // only ServeUntilStopped, and shutdown is orderly.
  TESSERA_ASSIGN_OR_RETURN(ServiceStart start, StartService(kName, config_path));
  TESSERA_ASSIGN_OR_RETURN(const ca::CaSettings settings, ca::ReadCaSettings(start.config));
  // Taken out of the environment at once: /proc/<pid>/environ and children never see it.
  TESSERA_ASSIGN_OR_RETURN(Secret pin, TakeSecretFromEnv("TESSERA_CA_PIN"));

  // Database first: a schema the program does not know stops start-up.
  pg::ConnectionPool pool(settings.conninfo, settings.max_connections);
  // The public endpoint's reads get their own connections, and wait briefly for one: a flood
  // of OCSP or CRL requests can neither starve issuance nor pile up waiting.
  pg::ConnectionPool endpoint_pool(settings.conninfo, settings.http.db_connections,
                                   settings.http.db_wait);
  TESSERA_RETURN_IF_ERROR(pg::MigrateAtStart(pool, ca::PgCertificateStore::kSchema,
                                             ca::PgCertificateStore::Migrations()));
  TESSERA_ASSIGN_OR_RETURN(ca::ProfileSet profiles,
                           ca::ProfileSet::LoadFile(settings.profiles_path));
  TESSERA_RETURN_IF_ERROR(ca::CheckOcspRenewal(settings.ocsp_renewal, profiles));
  TESSERA_ASSIGN_OR_RETURN(std::vector<uint8_t> root_der,
                           ca::ReadCertificateDer(settings.root_certificate_path));

  TESSERA_ASSIGN_OR_RETURN(auto module, hsm::Module::Load(settings.module_path));
  TESSERA_ASSIGN_OR_RETURN(auto token, hsm::Token::Login(module, settings.token_label, pin));
  std::map<std::string, std::unique_ptr<ca::Issuer>> issuers;
  for (const std::string& name : settings.issuers) {
    TESSERA_ASSIGN_OR_RETURN(issuers[name],
                             ca::LoadIssuerFromToken(token, name, settings.base_url));
    LogEvent(spdlog::level::info, "issuer_loaded", {{"issuer", name}});
  }
  std::map<std::string, std::string> ca_certificates = {
      {"root", std::string(root_der.begin(), root_der.end())}};
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
                           ca::ReadCertificatesFile(settings.ceremony_certificates_path));
  TESSERA_ASSIGN_OR_RETURN(int recorded,
                           authority.RecordCeremonyCertificates(ceremony_certificates));
  LogEvent(spdlog::level::info, "ceremony_certificates",
           {{"file", settings.ceremony_certificates_path},
            {"certificates", std::to_string(ceremony_certificates.size())},
            {"newly_recorded", std::to_string(recorded)}});
  auto door = std::make_shared<ca::RecordedRevocationCheck>(store, clock);
  authority.OnRevoked([door](const std::string& serial) { door->Forget(serial); });
  start.rpc.revocation = door;
  ca::PgCrlStore crl_store(pool);
  ca::CrlPublisher publisher(crl_store, authority.issuers(), clock, settings.crl);
  // The first CRLs signed and loaded before anything is served: /crl never answers 503 after
  // start-up. (A root CRL the ceremony has not written yet is logged and served once it is.)
  TESSERA_RETURN_IF_ERROR(publisher.RunThenStart());
  ca::PgCertificateStore endpoint_store(endpoint_pool);
  ca::PgCrlStore endpoint_crls(endpoint_pool);
  ca::CrlCache crl_cache(endpoint_crls, settings.issuers, settings.root_crl_path,
                         Botan::X509_Certificate(root_der));
  if (absl::Status loaded = crl_cache.RunThenStart(); !loaded.ok()) {
    LogEvent(spdlog::level::warn, "crl_cache_failed", {{"error", std::string(loaded.message())}});
  }
  TESSERA_ASSIGN_OR_RETURN(
      std::unique_ptr<ca::OcspResponder> ocsp,
      ca::OcspResponder::Create(endpoint_store, authority.issuers(), token, clock, settings.ocsp));
  // A revocation here is signed into the certificate's answer at once, in the background.
  authority.OnRevoked([&ocsp](const std::string& serial) { ocsp->Forget(serial); });
  ocsp->Start();
  ca::OcspResponderRenewal renewal(authority, *ocsp, clock, settings.ocsp_renewal);
  renewal.Start();
  const ca::HttpSettings& h = settings.http;
  ca_service::CaHttpEndpoint http(crl_cache, std::move(ca_certificates), *ocsp,
                                  {.threads = h.threads,
                                   .max_connections = h.max_connections,
                                   .per_ip_connections = h.per_ip_connections,
                                   .idle_timeout_seconds = h.idle_timeout_seconds,
                                   .connection_memory = h.connection_memory,
                                   .listen_backlog = h.listen_backlog,
                                   .nice = h.nice});
  TESSERA_ASSIGN_OR_RETURN(int http_port, http.Start(h.host, h.port));
  if (!h.port_file.empty()) {
    TESSERA_RETURN_IF_ERROR(WriteFile(h.port_file, std::to_string(http_port) + "\n"));
  }
  LogEvent(spdlog::level::info, "http_serving", {{"port", std::to_string(http_port)}});

  absl::StatusOr<hsm::SecretSealer> sealer =
      hsm::SecretSealer::Open(token, settings.bundle_seal_key, false);
  if (!sealer.ok()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "bundles.seal_key: no AES key '", settings.bundle_seal_key, "' on token '",
        settings.token_label, "' (the key ceremony creates it): ", sealer.status().message()));
  }
  // Every change is in the audit chain; its head is signed with a key on the CA's token.
  TESSERA_ASSIGN_OR_RETURN(std::unique_ptr<audit_service::AuditAnchoring> audit_anchoring,
                           audit_service::AuditAnchoring::Start(
                               start.config, token, pool, ca::PgCertificateStore::kSchema, clock));
  ca::BundleStore bundle_store(pool);
  ca::WorkstationBundles bundles(authority, bundle_store, *std::move(sealer), root_der);
  ca_service::CertificateAuthorityHandlers handlers(authority, bundles, crl_store,
                                                    std::string(root_der.begin(), root_der.end()));
  start.rpc.services = {&handlers};
  // Persons' sessions, checked from what tessera-registry publishes (session.registry: its gRPC
  // address), called as tessera-ca. Without it, a call carrying a session is refused.
  TESSERA_ASSIGN_OR_RETURN(std::string session_registry,
                           start.config.StringOr("session.registry", ""));
  sessions::RegistrySessions person_sessions;
  if (!session_registry.empty()) {
    TESSERA_ASSIGN_OR_RETURN(ChannelTo channel_to, ChannelsAsItself(start));
    person_sessions = sessions::UseRegistrySessions(channel_to(session_registry), start.rpc);
  }
  start.rpc.rules = ca_service::CaPolicy(person_sessions.gate);
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
