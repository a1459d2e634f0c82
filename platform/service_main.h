// What every tessera service binary does around its own wiring: read --config, keep SIGINT and
// SIGTERM for an orderly stop, load the config and start logging, read the gRPC listener and
// TLS keys every service has; then serve until told to stop.
//
//   int main(int argc, char** argv) { return tessera::ServiceMain(argc, argv, "tessera-x", Serve);
//   }
//
//   absl::Status Serve(const std::string& config_path) {
//     TESSERA_ASSIGN_OR_RETURN(ServiceStart start, StartService("tessera-x", config_path));
//     ... the service's own keys from start.config, its stores and handlers ...
//     return ServeUntilStopped(std::move(start.rpc), start.port_file);
//   }
#pragma once

#include <grpcpp/grpcpp.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "platform/config.h"
#include "platform/periodic.h"
#include "platform/rpc_server.h"

namespace tessera {

struct ServiceStart {
  Config config;
  RpcServerOptions rpc;   // listen_address, tls and trust filled in from the config
  std::string port_file;  // grpc.port_file, or empty
  // Background upkeep started for the service (the CRL refresher): stopped when this goes.
  std::vector<std::unique_ptr<PeriodicTask>> upkeep;
};

// Blocks SIGINT and SIGTERM in this thread and so in every thread started after it (they then
// reach only ServeUntilStopped's wait: no thread dies mid-work on a signal); loads the config
// file and starts logging as `name` at log.level; reads grpc.listen, grpc.port_file,
// tls.certificate_chain, tls.private_key, tls.client_ca_bundle (re-read every
// tls.reload_seconds, default 10: a renewed identity needs no restart), and which issuing CA
// certifies which kind of caller: trust.issuers (default ClientTrust::kDefaultNames), each
// CA's certificate <name>.pem in trust.pki_dir (default: the bundle's directory). Call it
// first.
absl::StatusOr<ServiceStart> StartService(const std::string& name, const std::string& config_path);

// For every service but tessera-ca: revocation at the door from the issuing CAs' CRLs, fetched
// from revocation.crl_url (tessera-ca's "<http base>/crl") every revocation.refresh_seconds
// (default 10, at most 50: a revocation must shut the door within a minute). A first fetch
// before serving; if tessera-ca cannot be reached the service still starts, refuses
// certificate callers and says NOT_SERVING until the CRLs arrive.
absl::Status UseCrlRevocation(ServiceStart& start);

// A channel to another tessera service (`target`: "host:port", as its certificate names the
// host) that presents this service's own TLS identity: the same certificate and key it serves
// with, trusting the same CA bundle. Read once, at the call.
using ChannelTo = std::function<std::shared_ptr<grpc::Channel>(const std::string& target)>;
absl::StatusOr<ChannelTo> ChannelsAsItself(const ServiceStart& start);

// Starts the gRPC server, marks it serving, writes the port file (if any), then waits for
// SIGINT or SIGTERM; on one, marks it not serving and shuts it down (calls in flight get a few
// seconds to finish). Returns after shutdown: the caller stops its own threads next.
absl::Status ServeUntilStopped(RpcServerOptions options, const std::string& port_file);

// main() of a service: --config FILE or --help, then serve(config path); an error is printed
// as "<name>: <message>" and exits 1 (2 for a usage error). Once serve returns, the process
// exits at once, without static destructors (gRPC's threads may still be winding down).
int ServiceMain(int argc, char** argv, const char* name,
                absl::Status (*serve)(const std::string& config_path));

}  // namespace tessera
