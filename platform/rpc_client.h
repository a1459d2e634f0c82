// gRPC client helpers: an mTLS channel from PEM strings, and a unary call by method name
// with raw protobuf bytes (for the health service, whose stubs gRPC does not install, and
// for tests that try arbitrary RPCs against a policy table).
#pragma once

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <memory>
#include <string>

#include "absl/status/statusor.h"

namespace tessera {

// The largest answer a tessera client takes (gRPC's default is 4 MiB): an office's every
// workstation bundle in one zip, about 3 KB each.
inline constexpr int kMaxClientReceiveBytes = 64 << 20;

// Trusts `root_pem` for the server; presents the client certificate when both are given.
// `target` is "host:port"; the server certificate must name the host.
std::shared_ptr<grpc::Channel> MtlsChannel(const std::string& target, const std::string& root_pem,
                                           const std::string& client_cert_pem = "",
                                           const std::string& client_key_pem = "");

// Every call carries `credential` in its "authorization" metadata: a census access code, for a
// comune that has no certificate yet (no client certificate), or a person's session ("Bearer
// <token>", with the client certificate of the machine it is bound to). gRPC sends call
// credentials only over a secure channel.
std::shared_ptr<grpc::Channel> CredentialChannel(const std::string& target,
                                                 const std::string& root_pem,
                                                 const std::string& credential,
                                                 const std::string& client_cert_pem = "",
                                                 const std::string& client_key_pem = "");

struct RawReply {
  grpc::Status status;
  std::string body;  // serialized response message
};

RawReply RawUnaryCall(const std::shared_ptr<grpc::Channel>& channel, const std::string& method,
                      const std::string& request_body,
                      std::chrono::seconds timeout = std::chrono::seconds(10));

// grpc.health.v1.Health/Check for the whole server (or one `service` name): "SERVING",
// "NOT_SERVING", "SERVICE_UNKNOWN"... or the call's error.
absl::StatusOr<std::string> CheckHealth(const std::shared_ptr<grpc::Channel>& channel,
                                        const std::string& service = "");

}  // namespace tessera
