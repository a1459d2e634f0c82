#include "platform/rpc_server.h"

#include <botan/data_src.h>
#include <botan/x509cert.h>
#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/health_check_service_interface.h>
#include <grpcpp/security/auth_metadata_processor.h>
#include <grpcpp/security/tls_certificate_provider.h>
#include <grpcpp/security/tls_credentials_options.h>

#include <mutex>
#include <unordered_map>

#include "absl/strings/str_cat.h"
#include "platform/clock.h"
#include "platform/files.h"
#include "platform/grpc_status.h"
#include "platform/log.h"
#include "platform/status_macros.h"

namespace tessera {
namespace {

constexpr char kKindProperty[] = "tessera_principal_kind";
constexpr char kNameProperty[] = "tessera_principal_name";
constexpr char kIssuerProperty[] = "tessera_principal_issuer";
constexpr char kSerialProperty[] = "tessera_principal_serial";

using CallCredentialCheck = std::function<absl::StatusOr<Principal>(std::string_view)>;

// Runs for every call, after the TLS handshake verified the client certificate and before
// the call reaches a handler: identifies the caller, checks that its certificate is still
// good, and applies the policy table.
class PolicyEnforcer final : public grpc::AuthMetadataProcessor {
 public:
  PolicyEnforcer(RpcPolicy policy, std::shared_ptr<const ClientTrust> trust,
                 std::shared_ptr<RevocationCheck> revocation, CallCredentialCheck call_credential)
      : policy_(std::move(policy)),
        trust_(std::move(trust)),
        revocation_(std::move(revocation)),
        call_credential_(std::move(call_credential)) {}

  bool IsBlocking() const override {
    return call_credential_ != nullptr || revocation_->MayBlock();
  }

  grpc::Status Process(const InputMetadata& metadata, grpc::AuthContext* context, OutputMetadata*,
                       OutputMetadata*) override {
    std::string method;
    if (auto it = metadata.find(":path"); it != metadata.end()) {
      method.assign(it->second.data(), it->second.size());
    }
    absl::StatusOr<Principal> caller = Identify(metadata, *context);
    if (!caller.ok()) {
      LogEvent(spdlog::level::warn, "rpc_unauthenticated",
               {{"method", method}, {"reason", std::string(caller.status().message())}});
      // UNAUTHENTICATED, or the check's own failure (UNAVAILABLE: database down, CRL expired).
      return ToGrpcStatus(caller.status());
    }
    if (absl::Status allowed = policy_.Authorize(method, *caller); !allowed.ok()) {
      LogEvent(spdlog::level::warn, "rpc_denied",
               {{"method", method},
                {"caller_kind", PrincipalKindName(caller->kind)},
                {"caller", caller->name},
                {"serial", caller->serial}});
      return grpc::Status(grpc::StatusCode::PERMISSION_DENIED, std::string(allowed.message()));
    }
    context->AddProperty(kKindProperty, std::string(PrincipalKindName(caller->kind)));
    context->AddProperty(kNameProperty, caller->name);
    context->AddProperty(kIssuerProperty, caller->issuer);
    context->AddProperty(kSerialProperty, caller->serial);
    return grpc::Status::OK;
  }

 private:
  // The client certificate, or else the call's credential if this service accepts one.
  absl::StatusOr<Principal> Identify(const InputMetadata& metadata,
                                     const grpc::AuthContext& context) {
    std::vector<grpc::string_ref> pems =
        context.FindPropertyValues(GRPC_X509_PEM_CERT_PROPERTY_NAME);
    if (!pems.empty()) {
      return FromCertificate(std::string(pems.front().data(), pems.front().size()));
    }
    auto credential = metadata.find(kCallCredentialHeader);
    if (call_credential_ == nullptr || credential == metadata.end()) {
      return absl::UnauthenticatedError(call_credential_ == nullptr
                                            ? "no client certificate"
                                            : "no client certificate and no access code");
    }
    return call_credential_(std::string_view(credential->second.data(), credential->second.size()));
  }

  // A connection's certificate is parsed once, not on every call; its expiry and revocation
  // are checked on every call, since an HTTP/2 connection may stay open for days.
  absl::StatusOr<Principal> FromCertificate(const std::string& pem) {
    absl::StatusOr<CertificateCaller> caller;
    {
      std::lock_guard lock(mutex_);
      if (auto it = cache_.find(pem); it != cache_.end()) {
        caller = it->second;
      } else {
        caller = trust_->Identify(pem);
        if (!caller.ok()) return caller.status();
        if (cache_.size() > 10000) cache_.clear();
        cache_.emplace(pem, *caller);
      }
    }
    if (std::chrono::system_clock::now() >= caller->not_after) {
      return absl::UnauthenticatedError(
          absl::StrCat("client certificate: expired at ", UtcText(caller->not_after)));
    }
    TESSERA_RETURN_IF_ERROR(revocation_->Check(caller->principal));
    return caller->principal;
  }

  RpcPolicy policy_;
  std::shared_ptr<const ClientTrust> trust_;
  std::shared_ptr<RevocationCheck> revocation_;
  CallCredentialCheck call_credential_;
  std::mutex mutex_;
  std::unordered_map<std::string, CertificateCaller> cache_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<RpcServer>> RpcServer::Start(RpcServerOptions options) {
  if (options.trust == nullptr || options.revocation == nullptr) {
    return absl::InvalidArgumentError(
        "gRPC server: a client trust and a revocation check are required (no certificate is "
        "let in unchecked)");
  }
  TESSERA_ASSIGN_OR_RETURN(std::string chain, ReadFile(options.tls.certificate_chain));
  TESSERA_ASSIGN_OR_RETURN(std::string key, ReadFile(options.tls.private_key));
  TESSERA_ASSIGN_OR_RETURN(std::string client_cas, ReadFile(options.tls.client_ca_bundle));

  (void)chain;
  (void)key;
  (void)client_cas;  // read above only to refuse a missing or unreadable file at start-up

  // gRPC's TLS stack negotiates TLS 1.2 or 1.3 only. A certificate presented is always
  // verified; it is optional only where the service accepts a call credential instead. The
  // files are watched: a renewed certificate and key (or a new CA bundle) are taken up
  // without a restart, by new connections, within tls.reload_seconds.
  auto files = std::make_shared<grpc::experimental::FileWatcherCertificateProvider>(
      options.tls.private_key, options.tls.certificate_chain, options.tls.client_ca_bundle,
      options.tls.reload_seconds);
  grpc::experimental::TlsServerCredentialsOptions tls(files);
  tls.watch_root_certs();
  tls.watch_identity_key_cert_pairs();
  tls.set_cert_request_type(options.call_credential == nullptr
                                ? GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY
                                : GRPC_SSL_REQUEST_CLIENT_CERTIFICATE_AND_VERIFY);
  std::shared_ptr<grpc::ServerCredentials> credentials =
      grpc::experimental::TlsServerCredentials(tls);

  std::vector<RpcRule> rules = RpcPolicy::StandardRules();
  rules.insert(rules.end(), options.rules.begin(), options.rules.end());
  credentials->SetAuthMetadataProcessor(
      std::make_shared<PolicyEnforcer>(RpcPolicy(std::move(rules)), options.trust,
                                       options.revocation, std::move(options.call_credential)));

  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort(options.listen_address, credentials, &port);
  builder.SetMaxReceiveMessageSize(options.max_receive_bytes);
  grpc::ResourceQuota quota("tessera-rpc");
  quota.SetMaxThreads(options.max_threads);
  builder.SetResourceQuota(quota);
  for (grpc::Service* service : options.services) builder.RegisterService(service);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (server == nullptr || port == 0) {
    return absl::UnavailableError(absl::StrCat("gRPC: cannot listen on ", options.listen_address));
  }
  return std::unique_ptr<RpcServer>(new RpcServer(
      std::move(server), port, std::move(options.revocation), options.tls.certificate_chain));
}

RpcServer::RpcServer(std::unique_ptr<grpc::Server> server, int port,
                     std::shared_ptr<RevocationCheck> revocation, std::string certificate_chain)
    : server_(std::move(server)),
      port_(port),
      revocation_(std::move(revocation)),
      certificate_chain_(std::move(certificate_chain)) {
  UpdateHealth();
  CheckCertificateExpiry();
  health_monitor_ =
      std::make_unique<PeriodicTask>("health_monitor", std::chrono::seconds(1), [this] {
        UpdateHealth();
        if (++ticks_ % 60 == 0) CheckCertificateExpiry();
        return absl::OkStatus();
      });
  health_monitor_->Start();
}

RpcServer::~RpcServer() { Shutdown(); }

void RpcServer::SetServing(bool serving) {
  {
    std::lock_guard lock(mutex_);
    wanted_serving_ = serving;
  }
  UpdateHealth();
}

void RpcServer::UpdateHealth() {
  const absl::Status revocation = revocation_->Health();
  std::lock_guard lock(mutex_);
  const bool serving = wanted_serving_ && revocation.ok();
  if (serving_ == serving) return;
  if (wanted_serving_ && !revocation.ok()) {
    LogEvent(spdlog::level::err, "not_serving",
             {{"reason", absl::StrCat("revocation: ", revocation.message())}});
    degraded_ = true;
  } else if (serving && degraded_) {
    LogEvent(spdlog::level::info, "serving_again");
    degraded_ = false;
  }
  serving_ = serving;
  if (auto* health = server_->GetHealthCheckService()) {
    health->SetServingStatus(serving);  // sets every service name, so put ours back
    health->SetServingStatus(kCertificateHealthService, certificate_ok_);
  }
}

void RpcServer::CheckCertificateExpiry() {
  absl::StatusOr<std::string> pem = ReadFile(certificate_chain_);
  if (!pem.ok()) return;  // being replaced: next time
  int64_t days_left = 0;
  std::string not_after;
  try {
    Botan::DataSource_Memory source(*pem);
    Botan::X509_Certificate cert(source);
    const auto left = cert.not_after().to_std_timepoint() - std::chrono::system_clock::now();
    days_left = std::chrono::duration_cast<std::chrono::hours>(left).count() / 24;
    not_after = UtcText(cert.not_after().to_std_timepoint());
  } catch (const std::exception&) {
    return;
  }
  const bool expiring = days_left < kCertificateWarningDays;
  // Logged at start-up, whenever the answer changes, and daily while it is a warning.
  if (expiring && (days_left_ != days_left)) {
    LogEvent(spdlog::level::warn, "tls_certificate_expiring",
             {{"file", certificate_chain_},
              {"not_after", not_after},
              {"days_left", std::to_string(days_left)},
              {"action", "renew it: tessera ca renew-service"}});
  } else if (!expiring && days_left_.has_value() && *days_left_ < kCertificateWarningDays) {
    LogEvent(spdlog::level::info, "tls_certificate_renewed", {{"not_after", not_after}});
  }
  days_left_ = days_left;
  std::lock_guard lock(mutex_);
  certificate_ok_ = !expiring;
  if (auto* health = server_->GetHealthCheckService()) {
    health->SetServingStatus(kCertificateHealthService, certificate_ok_);
  }
}

void RpcServer::Shutdown() {
  if (health_monitor_ != nullptr) health_monitor_->Stop();
  if (server_ != nullptr)
    server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(5));
}

void RpcServer::Wait() { server_->Wait(); }

absl::StatusOr<Principal> CallerOf(const grpc::ServerContext& context) {
  std::shared_ptr<const grpc::AuthContext> auth = context.auth_context();
  std::vector<grpc::string_ref> kinds = auth->FindPropertyValues(kKindProperty);
  std::vector<grpc::string_ref> names = auth->FindPropertyValues(kNameProperty);
  if (kinds.empty() || names.empty()) {
    return absl::UnauthenticatedError("caller unknown: the policy check did not run");
  }
  std::string kind(kinds.front().data(), kinds.front().size());
  Principal caller;
  caller.name.assign(names.front().data(), names.front().size());
  std::vector<grpc::string_ref> issuers = auth->FindPropertyValues(kIssuerProperty);
  std::vector<grpc::string_ref> serials = auth->FindPropertyValues(kSerialProperty);
  if (!issuers.empty()) caller.issuer.assign(issuers.front().data(), issuers.front().size());
  if (!serials.empty()) caller.serial.assign(serials.front().data(), serials.front().size());
  for (PrincipalKind k : {PrincipalKind::kService, PrincipalKind::kWorkstation,
                          PrincipalKind::kOperator, PrincipalKind::kAccessCode}) {
    if (PrincipalKindName(k) == kind) {
      caller.kind = k;
      return caller;
    }
  }
  return absl::UnauthenticatedError("caller unknown: unexpected principal kind");
}

}  // namespace tessera
