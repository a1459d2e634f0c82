#include "platform/service_main.h"

#include <signal.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>

#include "absl/debugging/failure_signal_handler.h"
#include "absl/debugging/symbolize.h"
#include "platform/crl_revocation.h"
#include "platform/files.h"
#include "platform/log.h"
#include "platform/process.h"
#include "platform/rpc_client.h"
#include "platform/status_macros.h"

namespace tessera {
namespace {

sigset_t StopSignals() {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  return signals;
}

}  // namespace

absl::StatusOr<ServiceStart> StartService(const std::string& name, const std::string& config_path) {
  const sigset_t stop = StopSignals();
  pthread_sigmask(SIG_BLOCK, &stop, nullptr);

  TESSERA_ASSIGN_OR_RETURN(Config config, Config::LoadFile(config_path));
  TESSERA_ASSIGN_OR_RETURN(std::string level, config.StringOr("log.level", "info"));
  TESSERA_RETURN_IF_ERROR(InitLogging(name, level));
  ServiceStart start{.config = std::move(config)};
  TESSERA_ASSIGN_OR_RETURN(start.rpc.listen_address, start.config.String("grpc.listen"));
  TESSERA_ASSIGN_OR_RETURN(start.rpc.tls.certificate_chain,
                           start.config.String("tls.certificate_chain"));
  TESSERA_ASSIGN_OR_RETURN(start.rpc.tls.private_key, start.config.String("tls.private_key"));
  TESSERA_ASSIGN_OR_RETURN(start.rpc.tls.client_ca_bundle,
                           start.config.String("tls.client_ca_bundle"));
  TESSERA_ASSIGN_OR_RETURN(start.port_file, start.config.StringOr("grpc.port_file", ""));
  TESSERA_ASSIGN_OR_RETURN(int64_t reload_seconds, start.config.IntOr("tls.reload_seconds", 10));
  if (reload_seconds < 1 || reload_seconds > 3600) {
    return absl::InvalidArgumentError("tls.reload_seconds: 1 to 3600");
  }
  start.rpc.tls.reload_seconds = static_cast<unsigned>(reload_seconds);
  TESSERA_ASSIGN_OR_RETURN(int64_t max_threads, start.config.IntOr("grpc.max_threads", 64));
  if (max_threads < 4 || max_threads > 4096) {
    return absl::InvalidArgumentError("grpc.max_threads: 4 to 4096");
  }
  start.rpc.max_threads = static_cast<int>(max_threads);
  TESSERA_ASSIGN_OR_RETURN(
      std::string pki_dir,
      start.config.StringOr(
          "trust.pki_dir",
          std::filesystem::path(start.rpc.tls.client_ca_bundle).parent_path().string()));
  TESSERA_ASSIGN_OR_RETURN(std::string issuers,
                           start.config.StringOr("trust.issuers", ClientTrust::kDefaultNames));
  TESSERA_ASSIGN_OR_RETURN(ClientTrust trust, ClientTrust::Load(pki_dir, issuers));
  start.rpc.trust = std::make_shared<const ClientTrust>(std::move(trust));
  return start;
}

absl::StatusOr<ChannelTo> ChannelsAsItself(const ServiceStart& start) {
  TESSERA_ASSIGN_OR_RETURN(std::string chain, ReadFile(start.rpc.tls.certificate_chain));
  TESSERA_ASSIGN_OR_RETURN(std::string key, ReadFile(start.rpc.tls.private_key));
  TESSERA_ASSIGN_OR_RETURN(std::string roots, ReadFile(start.rpc.tls.client_ca_bundle));
  return ChannelTo([chain, key, roots](const std::string& target) {
    return MtlsChannel(target, roots, chain, key);
  });
}

absl::Status UseCrlRevocation(ServiceStart& start) {
  static const SystemClock clock;
  TESSERA_ASSIGN_OR_RETURN(std::string crl_url, start.config.String("revocation.crl_url"));
  TESSERA_ASSIGN_OR_RETURN(int64_t refresh_seconds,
                           start.config.IntOr("revocation.refresh_seconds", 10));
  if (refresh_seconds < 1 || refresh_seconds > 50) {
    return absl::InvalidArgumentError(
        "revocation.refresh_seconds: 1 to 50 (a revocation shuts the door within a minute)");
  }
  while (!crl_url.empty() && crl_url.back() == '/') crl_url.pop_back();
  auto check = std::make_shared<CrlRevocationCheck>(start.rpc.trust, crl_url,
                                                    PlainHttpGet(std::chrono::seconds(5)), clock);
  if (absl::Status first = check->Refresh(); !first.ok()) {
    LogEvent(spdlog::level::err, "crl_first_fetch_failed",
             {{"error", std::string(first.message())},
              {"consequence", "certificate callers refused until the CRLs load"}});
  }
  start.upkeep.push_back(std::make_unique<PeriodicTask>(
      "crl_refresh", std::chrono::seconds(refresh_seconds), [check] { return check->Refresh(); }));
  start.upkeep.back()->Start();
  start.rpc.revocation = std::move(check);
  return absl::OkStatus();
}

absl::Status ServeUntilStopped(RpcServerOptions options, const std::string& port_file) {
  TESSERA_ASSIGN_OR_RETURN(std::unique_ptr<RpcServer> server, RpcServer::Start(std::move(options)));
  server->SetServing(true);
  if (!port_file.empty()) {
    TESSERA_RETURN_IF_ERROR(WriteFile(port_file, std::to_string(server->port()) + "\n"));
  }
  LogEvent(spdlog::level::info, "serving", {{"port", std::to_string(server->port())}});
  const sigset_t stop = StopSignals();
  int signal = 0;
  sigwait(&stop, &signal);
  LogEvent(spdlog::level::info, "stopping", {{"signal", std::to_string(signal)}});
  server->SetServing(false);
  server->Shutdown();
  return absl::OkStatus();
}

int ServiceMain(int argc, char** argv, const char* name,
                absl::Status (*serve)(const std::string& config_path)) {
  // A crash prints its stack to stderr (the service's log): with core dumps off (below), the
  // only trace a rare fault at shutdown leaves. Stacks hold addresses and names, no data.
  absl::InitializeSymbolizer(argv[0]);
  absl::InstallFailureSignalHandler(absl::FailureSignalHandlerOptions{});
  // Before anything holds a secret: no core dumps, no ptrace by the user's other processes.
  if (absl::Status hardened = HardenProcess(); !hardened.ok()) {
    std::fprintf(stderr, "%s: %s\n", name, std::string(hardened.message()).c_str());
    return 1;
  }
  const std::string usage = std::string("usage: ") + name + " --config <file.toml>\n";
  std::string config_path;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--config" && i + 1 < argc) {
      config_path = argv[++i];
    } else if (arg == "--help" || arg == "-h") {
      std::fputs(usage.c_str(), stdout);
      return 0;
    } else {
      std::fprintf(stderr, "%s: unknown argument '%s'\n%s", name, arg.c_str(), usage.c_str());
      return 2;
    }
  }
  if (config_path.empty()) {
    std::fputs(usage.c_str(), stderr);
    return 2;
  }
  const absl::Status status = serve(config_path);
  if (!status.ok()) std::fprintf(stderr, "%s: %s\n", name, std::string(status.message()).c_str());
  // Everything `serve` started is stopped and its state gone. The process ends here without
  // static destructors: gRPC's own threads may still be winding down connections, and must not
  // meet a destroyed logger or gRPC's destroyed globals (a SIGSEGV at exit, rarely, otherwise).
  std::fflush(nullptr);
  std::_Exit(status.ok() ? 0 : 1);
}

}  // namespace tessera
