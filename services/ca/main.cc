// tessera-ca: the certificate authority service. For now it serves the gRPC health service
// over mTLS with the default-deny policy; issuance, revocation, CRL and OCSP follow.
//
//   tessera-ca --config <file.toml>
//
// Config keys (each overridable by TESSERA_<KEY> in the environment, e.g. TESSERA_GRPC_LISTEN):
//   grpc.listen            address:port to listen on; port 0 lets the OS pick
//   grpc.port_file         optional: where to write the port actually bound
//   tls.certificate_chain  PEM: this service's certificate, then its issuing CA
//   tls.private_key        PEM: this service's TLS key
//   tls.client_ca_bundle   PEM: the tessera CAs whose client certificates are accepted
//   log.level              debug | info | warn | error (default info)
#include <signal.h>

#include <cstdio>
#include <string>

#include "platform/config.h"
#include "platform/files.h"
#include "platform/log.h"
#include "platform/rpc_server.h"
#include "platform/status_macros.h"

namespace tessera {
namespace {

constexpr char kUsage[] = "usage: tessera-ca --config <file.toml>\n";

absl::Status Serve(const std::string& config_path) {
  TESSERA_ASSIGN_OR_RETURN(Config config, Config::LoadFile(config_path));
  TESSERA_ASSIGN_OR_RETURN(std::string level, config.StringOr("log.level", "info"));
  TESSERA_RETURN_IF_ERROR(InitLogging("tessera-ca", level));

  RpcServerOptions options;
  TESSERA_ASSIGN_OR_RETURN(options.listen_address, config.String("grpc.listen"));
  TESSERA_ASSIGN_OR_RETURN(options.tls.certificate_chain, config.String("tls.certificate_chain"));
  TESSERA_ASSIGN_OR_RETURN(options.tls.private_key, config.String("tls.private_key"));
  TESSERA_ASSIGN_OR_RETURN(options.tls.client_ca_bundle, config.String("tls.client_ca_bundle"));
  TESSERA_ASSIGN_OR_RETURN(std::string port_file, config.StringOr("grpc.port_file", ""));

  // Block the stop signals before gRPC starts its threads, then wait for them here.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  TESSERA_ASSIGN_OR_RETURN(std::unique_ptr<RpcServer> server, RpcServer::Start(std::move(options)));
  server->SetServing(true);
  if (!port_file.empty())
    TESSERA_RETURN_IF_ERROR(WriteFile(port_file, std::to_string(server->port()) + "\n"));
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
      std::fprintf(stderr, "tessera-ca: unknown argument '%s'\n%s", arg.c_str(), tessera::kUsage);
      return 2;
    }
  }
  if (config_path.empty()) {
    std::fputs(tessera::kUsage, stderr);
    return 2;
  }
  absl::Status status = tessera::Serve(config_path);
  if (!status.ok()) {
    std::fprintf(stderr, "tessera-ca: %s\n", std::string(status.message()).c_str());
    return 1;
  }
  return 0;
}
