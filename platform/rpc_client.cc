#include "platform/rpc_client.h"

#include <grpcpp/generic/generic_stub.h>

#include <future>

#include "platform/grpc_status.h"
#include "platform/rpc_server.h"

namespace tessera {
namespace {

grpc::ChannelArguments ChannelArgs() {
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_ENABLE_RETRIES, 0);
  // Fresh connection per channel: each test's credentials are really used in a handshake.
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  // Past gRPC's 4 MiB default: a large comune's workstation bundles in one zip (3 KB each).
  args.SetMaxReceiveMessageSize(kMaxClientReceiveBytes);
  return args;
}

// Adds the same credential to every call's metadata.
class FixedCredential final : public grpc::MetadataCredentialsPlugin {
 public:
  explicit FixedCredential(std::string credential) : credential_(std::move(credential)) {}
  bool IsBlocking() const override { return false; }
  grpc::Status GetMetadata(grpc::string_ref, grpc::string_ref, const grpc::AuthContext&,
                           std::multimap<grpc::string, grpc::string>* metadata) override {
    metadata->emplace(kCallCredentialHeader, credential_);
    return grpc::Status::OK;
  }

 private:
  std::string credential_;
};

}  // namespace

std::shared_ptr<grpc::Channel> MtlsChannel(const std::string& target, const std::string& root_pem,
                                           const std::string& client_cert_pem,
                                           const std::string& client_key_pem) {
  grpc::SslCredentialsOptions options;
  options.pem_root_certs = root_pem;
  options.pem_cert_chain = client_cert_pem;
  options.pem_private_key = client_key_pem;
  return grpc::CreateCustomChannel(target, grpc::SslCredentials(options), ChannelArgs());
}

std::shared_ptr<grpc::Channel> CredentialChannel(const std::string& target,
                                                 const std::string& root_pem,
                                                 const std::string& credential,
                                                 const std::string& client_cert_pem,
                                                 const std::string& client_key_pem) {
  grpc::SslCredentialsOptions options;
  options.pem_root_certs = root_pem;
  options.pem_cert_chain = client_cert_pem;
  options.pem_private_key = client_key_pem;
  std::shared_ptr<grpc::ChannelCredentials> tls = grpc::SslCredentials(options);
  // The default minimum security level of call credentials is privacy and integrity: the
  // credential never goes over a channel that is not TLS.
  std::shared_ptr<grpc::CallCredentials> call =
      grpc::MetadataCredentialsFromPlugin(std::make_unique<FixedCredential>(credential));
  return grpc::CreateCustomChannel(target, grpc::CompositeChannelCredentials(tls, call),
                                   ChannelArgs());
}

RawReply RawUnaryCall(const std::shared_ptr<grpc::Channel>& channel, const std::string& method,
                      const std::string& request_body, std::chrono::seconds timeout) {
  grpc::GenericStub stub(channel);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + timeout);
  grpc::Slice slice(request_body);
  grpc::ByteBuffer request(&slice, 1);
  grpc::ByteBuffer response;
  std::promise<grpc::Status> done;
  stub.UnaryCall(&context, method, grpc::StubOptions(), &request, &response,
                 [&done](grpc::Status status) { done.set_value(std::move(status)); });
  RawReply reply;
  reply.status = done.get_future().get();
  if (reply.status.ok()) {
    std::vector<grpc::Slice> slices;
    (void)response.Dump(&slices);
    for (const grpc::Slice& s : slices) {
      reply.body.append(reinterpret_cast<const char*>(s.begin()), s.size());
    }
  }
  return reply;
}

absl::StatusOr<std::string> CheckHealth(const std::shared_ptr<grpc::Channel>& channel,
                                        const std::string& service) {
  // HealthCheckRequest{service = 1} (empty: the whole server); the reply is one varint field.
  if (service.size() > 127) return absl::InvalidArgumentError("health: service name too long");
  const std::string request =
      service.empty() ? "" : std::string{0x0a, static_cast<char>(service.size())} + service;
  RawReply reply = RawUnaryCall(channel, "/grpc.health.v1.Health/Check", request);
  if (reply.status.error_code() == grpc::StatusCode::NOT_FOUND)
    return std::string("SERVICE_UNKNOWN");
  if (!reply.status.ok()) {
    return FromGrpcStatus(reply.status);
  }
  static constexpr const char* kNames[] = {"UNKNOWN", "SERVING", "NOT_SERVING", "SERVICE_UNKNOWN"};
  if (reply.body.empty()) return std::string("UNKNOWN");
  if (reply.body.size() == 2 && reply.body[0] == 0x08 && reply.body[1] >= 0 && reply.body[1] <= 3) {
    return std::string(kNames[static_cast<int>(reply.body[1])]);
  }
  return absl::InternalError("health: unexpected reply");
}

}  // namespace tessera
