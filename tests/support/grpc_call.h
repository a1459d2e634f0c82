// gRPC client helpers for tests: mTLS channel credentials from PEM strings, and a unary call
// by method name with raw protobuf bytes, so any RPC (even one no stub exists for) can be
// tried against a server's policy table.
#pragma once

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>

namespace tessera::testing {

// Trusts `root_pem` for the server; presents the client certificate when both are given.
std::shared_ptr<grpc::Channel> MtlsChannel(int port, const std::string& root_pem,
                                           const std::string& client_cert_pem = "",
                                           const std::string& client_key_pem = "");

struct RawReply {
  grpc::Status status;
  std::string body;  // serialized response message
};

RawReply RawUnaryCall(const std::shared_ptr<grpc::Channel>& channel, const std::string& method,
                      const std::string& request_body);

}  // namespace tessera::testing
