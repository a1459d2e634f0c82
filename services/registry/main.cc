// tessera-registry: reference data, censuses and the orders they create. Serves gRPC over mTLS
// with the default-deny policy table (services/registry/handlers.cc).
//
//   tessera-registry --config <file.toml>
//
// Config keys (each overridable by TESSERA_<KEY> in the environment):
//   grpc.listen            address:port to listen on; port 0 lets the OS pick
//   grpc.port_file         optional: where to write the port actually bound
//   registry.max_import_mb largest census file ImportCensus takes (a national file, sent in
//                          parts of at most 1 MiB), default 64
//   tls.certificate_chain  PEM: this service's certificate, then its issuing CA
//   tls.private_key        PEM: this service's TLS key
//   tls.client_ca_bundle   PEM: the tessera CAs whose client certificates are accepted
//   trust.issuers          which issuing CA certifies which kind of caller (default
//                          service=operators,operator=operators,workstation=workstations)
//   revocation.crl_url     where tessera-ca serves the issuing CAs' CRLs ("http://host:port/crl")
//   revocation.refresh_seconds  how often they are fetched again (default 10, at most 50)
//   db.conninfo            libpq connection string; migrations of schema "registry" run at start
//   db.max_connections     default 8
//   registry.email_rules   the personal e-mail rules (deploy/reference/personal_email.txt)
//   log.level              debug | info | warn | error (default info)
#include <string>

#include "platform/clock.h"
#include "platform/migrations.h"
#include "platform/pg_pool.h"
#include "platform/service_main.h"
#include "platform/status_macros.h"
#include "registry/census_office.h"
#include "registry/pg_stores.h"
#include "services/registry/handlers.h"

namespace tessera {
namespace {

constexpr char kName[] = "tessera-registry";

// The largest gRPC message the registry receives: a census draft and its envelope.
constexpr int kMaxMessageBytes = static_cast<int>(registry::kMaxDraftBytes) + (1 << 20);

absl::Status Serve(const std::string& config_path) {
  TESSERA_ASSIGN_OR_RETURN(ServiceStart start, StartService(kName, config_path));
  TESSERA_RETURN_IF_ERROR(UseCrlRevocation(start));
  TESSERA_RETURN_IF_ERROR(CheckItalianTimeZone());  // census windows open on Italian dates
  const Config& config = start.config;
  TESSERA_ASSIGN_OR_RETURN(int64_t max_import_mb, config.IntOr("registry.max_import_mb", 64));
  TESSERA_ASSIGN_OR_RETURN(std::string conninfo, config.String("db.conninfo"));
  TESSERA_ASSIGN_OR_RETURN(int64_t max_connections, config.IntOr("db.max_connections", 8));
  TESSERA_ASSIGN_OR_RETURN(std::string email_rules_path, config.String("registry.email_rules"));
  if (max_import_mb < 1 || max_import_mb > 512) {
    return absl::InvalidArgumentError("registry.max_import_mb: 1 to 512");
  }
  // No message is larger than a census draft (2 MiB, registry::kMaxDraftBytes) and its
  // envelope; a census file comes in 1 MiB parts.
  start.rpc.max_receive_bytes = kMaxMessageBytes;
  TESSERA_ASSIGN_OR_RETURN(registry::PersonalEmailRules email_rules,
                           registry::PersonalEmailRules::ReadFile(email_rules_path));

  pg::ConnectionPool pool(conninfo, static_cast<size_t>(max_connections));
  TESSERA_RETURN_IF_ERROR(pg::MigrateAtStart(pool, registry::kPgSchema, registry::PgMigrations()));
  SystemClock clock;
  registry::PgRegistryStores stores(pool);
  registry::CensusOffice office(stores.View(), email_rules, clock);
  start.rpc.rules = registry_service::RegistryPolicy(office);
  registry_service::RegistryHandlers handlers(office, static_cast<size_t>(max_import_mb) << 20);
  start.rpc.services = {&handlers};
  // A comune without a certificate yet calls with its census access code instead.
  start.rpc.call_credential = [&office](std::string_view credential) {
    return registry_service::AccessCodeCaller(office, credential);
  };
  return ServeUntilStopped(std::move(start.rpc), start.port_file);
}

}  // namespace
}  // namespace tessera

int main(int argc, char** argv) {
  return tessera::ServiceMain(argc, argv, tessera::kName, tessera::Serve);
}
