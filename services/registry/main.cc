// tessera-registry: reference data, censuses and the orders they create. Serves gRPC over mTLS
// with the default-deny policy table (services/registry/handlers.cc).
//
//   tessera-registry --config <file.toml>
//
// Config keys (each overridable by TESSERA_<KEY> in the environment):
//   grpc.listen            address:port to listen on; port 0 lets the OS pick
//   grpc.port_file         optional: where to write the port actually bound
//   grpc.max_request_mb    largest request accepted (a national census file), default 64
//   tls.certificate_chain  PEM: this service's certificate, then its issuing CA
//   tls.private_key        PEM: this service's TLS key
//   tls.client_ca_bundle   PEM: the tessera CAs whose client certificates are accepted
//   db.conninfo            libpq connection string; migrations of schema "registry" run at start
//   db.max_connections     default 8
//   registry.email_rules   the personal e-mail rules (deploy/reference/personal_email.txt)
//   log.level              debug | info | warn | error (default info)
#include <signal.h>

#include <cstdio>
#include <string>

#include "platform/config.h"
#include "platform/files.h"
#include "platform/log.h"
#include "platform/migrations.h"
#include "platform/pg_pool.h"
#include "platform/rpc_server.h"
#include "platform/status_macros.h"
#include "registry/census_office.h"
#include "services/registry/handlers.h"

namespace tessera {
namespace {

constexpr char kUsage[] = "usage: tessera-registry --config <file.toml>\n";

absl::Status Serve(const std::string& config_path) {
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  TESSERA_ASSIGN_OR_RETURN(Config config, Config::LoadFile(config_path));
  TESSERA_ASSIGN_OR_RETURN(std::string level, config.StringOr("log.level", "info"));
  TESSERA_RETURN_IF_ERROR(InitLogging("tessera-registry", level));

  RpcServerOptions options;
  TESSERA_ASSIGN_OR_RETURN(options.listen_address, config.String("grpc.listen"));
  TESSERA_ASSIGN_OR_RETURN(options.tls.certificate_chain, config.String("tls.certificate_chain"));
  TESSERA_ASSIGN_OR_RETURN(options.tls.private_key, config.String("tls.private_key"));
  TESSERA_ASSIGN_OR_RETURN(options.tls.client_ca_bundle, config.String("tls.client_ca_bundle"));
  TESSERA_ASSIGN_OR_RETURN(std::string port_file, config.StringOr("grpc.port_file", ""));
  TESSERA_ASSIGN_OR_RETURN(int64_t max_request_mb, config.IntOr("grpc.max_request_mb", 64));
  TESSERA_ASSIGN_OR_RETURN(std::string conninfo, config.String("db.conninfo"));
  TESSERA_ASSIGN_OR_RETURN(int64_t max_connections, config.IntOr("db.max_connections", 8));
  TESSERA_ASSIGN_OR_RETURN(std::string email_rules_path, config.String("registry.email_rules"));
  if (max_request_mb < 1 || max_request_mb > 512) {
    return absl::InvalidArgumentError("grpc.max_request_mb: 1 to 512");
  }
  options.max_receive_bytes = static_cast<int>(max_request_mb) << 20;
  TESSERA_ASSIGN_OR_RETURN(registry::PersonalEmailRules email_rules,
                           registry::PersonalEmailRules::ReadFile(email_rules_path));

  pg::ConnectionPool pool(conninfo, static_cast<size_t>(max_connections));
  {
    TESSERA_ASSIGN_OR_RETURN(auto conn, pool.Acquire());
    TESSERA_ASSIGN_OR_RETURN(pg::MigrationReport report,
                             pg::ApplyMigrations(*conn, registry::PgReferenceStore::kSchema,
                                                 registry::PgReferenceStore::Migrations()));
    LogEvent(spdlog::level::info, "migrations",
             {{"schema", "registry"}, {"version", std::to_string(report.current_version)}});
  }
  SystemClock clock;
  registry::PgReferenceStore reference(pool);
  registry::PgCensusStore censuses(pool);
  registry::CensusOffice office(reference, censuses, email_rules, clock);
  registry_service::RegistryHandlers handlers(office);
  options.services = {&handlers};
  options.rules = registry_service::RegistryPolicy();
  // A comune without a certificate yet calls with its census access code instead.
  options.call_credential = [&office](std::string_view credential) {
    return registry_service::AccessCodeCaller(office, credential);
  };

  TESSERA_ASSIGN_OR_RETURN(std::unique_ptr<RpcServer> server, RpcServer::Start(std::move(options)));
  server->SetServing(true);
  if (!port_file.empty()) {
    TESSERA_RETURN_IF_ERROR(WriteFile(port_file, std::to_string(server->port()) + "\n"));
  }
  LogEvent(spdlog::level::info, "serving", {{"port", std::to_string(server->port())}});
  int signal = 0;
  sigwait(&stop_signals, &signal);
  LogEvent(spdlog::level::info, "stopping", {{"signal", std::to_string(signal)}});
  server->SetServing(false);
  server->Shutdown();
  return absl::OkStatus();
}

}  // namespace
}  // namespace tessera

int main(int argc, char** argv) {
  std::string config_path;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--config" && i + 1 < argc) {
      config_path = argv[++i];
    } else if (arg == "--help" || arg == "-h") {
      std::fputs(tessera::kUsage, stdout);
      return 0;
    } else {
      std::fprintf(stderr, "tessera-registry: unknown argument '%s'\n%s", arg.c_str(),
                   tessera::kUsage);
      return 2;
    }
  }
  if (config_path.empty()) {
    std::fputs(tessera::kUsage, stderr);
    return 2;
  }
  absl::Status status = tessera::Serve(config_path);
  if (!status.ok()) {
    std::fprintf(stderr, "tessera-registry: %s\n", std::string(status.message()).c_str());
    return 1;
  }
  return 0;
}
