#include "platform/rpc_server.h"

#include <botan/data_src.h>
#include <botan/hex.h>
#include <botan/x509cert.h>
#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/health_check_service_interface.h>
#include <grpcpp/security/auth_metadata_processor.h>
#include <grpcpp/security/tls_certificate_provider.h>
#include <grpcpp/security/tls_credentials_options.h>
#include <grpcpp/support/server_interceptor.h>

#include <chrono>
#include <functional>
#include <mutex>
#include <optional>
#include <unordered_map>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "platform/acting_for.h"
#include "platform/clock.h"
#include "platform/files.h"
#include "platform/grpc_status.h"
#include "platform/log.h"
#include "platform/random.h"
#include "platform/status_macros.h"

namespace tessera {
namespace {

using CallCredentialCheck = std::function<absl::StatusOr<Principal>(std::string_view)>;
using SessionCheck =
    std::function<absl::StatusOr<PersonSession>(std::string_view, std::string_view)>;
using Clock = std::chrono::steady_clock;

// An id for one call, unique enough to find its access-log line from an audit record.
std::string NewCallId() {
  uint8_t bytes[8];
  ThreadRng().randomize(bytes, sizeof bytes);
  return Botan::hex_encode(bytes, sizeof bytes, false);
}

std::string Milliseconds(Clock::duration elapsed) {
  return absl::StrFormat("%.3f", std::chrono::duration<double, std::milli>(elapsed).count());
}

// The fields every access-log line has, whether the call was refused at the door or
// dispatched: call_id, method, caller_kind, caller, caller_serial, peer, status, ms.
void LogCall(spdlog::level::level_enum level, std::string_view event, const std::string& call_id,
             const std::string& method, const Principal* caller, const std::string& peer,
             grpc::StatusCode code, Clock::duration elapsed, const std::string& reason) {
  const std::string kind = caller != nullptr ? std::string(PrincipalKindName(caller->kind)) : "-";
  auto or_dash = [](const std::string& value) { return value.empty() ? std::string("-") : value; };
  const std::string name = caller != nullptr ? or_dash(caller->name) : "-";
  const std::string serial = caller != nullptr ? or_dash(caller->serial) : "-";
  const std::string status = StatusCodeName(code);
  const std::string ms = Milliseconds(elapsed);
  std::vector<LogField> fields = {
      {"call_id", call_id},      {"method", method}, {"caller_kind", kind}, {"caller", name},
      {"caller_serial", serial}, {"peer", peer},     {"status", status},    {"ms", ms}};
  if (caller != nullptr && caller->session) {
    fields.push_back({"person", caller->session->person});
    fields.push_back({"session", caller->session->id});
  }
  if (!reason.empty()) fields.push_back({"reason", reason});
  spdlog::log(level, "{}", FormatEvent(event, fields));
}

// Who the handlers' CallerOf and the access log say called, per call. gRPC's AuthContext is
// the connection's, shared by every call on it, so a per-call identity (an access code varies
// from call to call on one connection) and the call id cannot live there; the access-log
// interceptor records them here when the call is dispatched and drops them when it ends.
struct CallRecord {
  std::string call_id;
  absl::StatusOr<Principal> caller;
};

class CallRegistry {
 public:
  static CallRegistry& Get() {
    static CallRegistry* registry = new CallRegistry();  // never destroyed: calls may outlive main
    return *registry;
  }
  void Put(const grpc::ServerContextBase* call, CallRecord record) {
    std::lock_guard lock(mutex_);
    calls_.insert_or_assign(call, std::move(record));
  }
  std::optional<CallRecord> Find(const grpc::ServerContextBase* call) {
    std::lock_guard lock(mutex_);
    auto it = calls_.find(call);
    if (it == calls_.end()) return std::nullopt;
    return it->second;
  }
  void Erase(const grpc::ServerContextBase* call, const std::string& call_id) {
    std::lock_guard lock(mutex_);
    auto it = calls_.find(call);
    if (it != calls_.end() && it->second.call_id == call_id) calls_.erase(it);
  }

 private:
  std::mutex mutex_;
  std::unordered_map<const grpc::ServerContextBase*, CallRecord> calls_;
};

// Runs for every call, after the TLS handshake verified the client certificate and before
// the call reaches a handler: identifies the caller, checks that its certificate is still
// good, and applies the policy table. A call refused here never reaches a handler nor the
// access-log interceptor, so the refusal is its access-log line (rpc_unauthenticated or
// rpc_denied, with the interceptor's fields). gRPC shows an AuthMetadataProcessor neither
// the call nor the connection's address, so these lines say peer "-".
class PolicyEnforcer final : public grpc::AuthMetadataProcessor {
 public:
  PolicyEnforcer(RpcPolicy policy, std::shared_ptr<const ClientTrust> trust,
                 std::shared_ptr<RevocationCheck> revocation, CallCredentialCheck call_credential,
                 SessionCheck session_check)
      : policy_(std::move(policy)),
        trust_(std::move(trust)),
        revocation_(std::move(revocation)),
        call_credential_(std::move(call_credential)),
        session_check_(std::move(session_check)) {}

  bool IsBlocking() const override {
    return call_credential_ != nullptr || revocation_->MayBlock();
  }

  grpc::Status Process(const InputMetadata& metadata, grpc::AuthContext* context, OutputMetadata*,
                       OutputMetadata*) override {
    const Clock::time_point start = Clock::now();
    std::string method;
    if (auto it = metadata.find(":path"); it != metadata.end()) {
      method.assign(it->second.data(), it->second.size());
    }
    std::optional<Principal> presented;
    absl::StatusOr<Principal> caller = Identify(metadata, *context, presented);
    if (!caller.ok()) {
      // UNAUTHENTICATED, or the check's own failure (UNAVAILABLE: database down, CRL expired).
      grpc::Status refused = ToGrpcStatus(caller.status());
      LogCall(spdlog::level::warn, "rpc_unauthenticated", NewCallId(), method,
              presented ? &*presented : nullptr, "-", refused.error_code(), Clock::now() - start,
              std::string(caller.status().message()));
      return refused;
    }
    if (absl::Status allowed = policy_.Authorize(method, *caller); !allowed.ok()) {
      // PERMISSION_DENIED, or UNAVAILABLE when the rule depends on something not known now.
      grpc::Status refused = ToGrpcStatus(allowed);
      LogCall(spdlog::level::warn, "rpc_denied", NewCallId(), method, &*caller, "-",
              refused.error_code(), Clock::now() - start, std::string(allowed.message()));
      return refused;
    }
    return grpc::Status::OK;
  }

  absl::Status CheckScope(const std::string& method, const Principal& caller,
                          const google::protobuf::Message& request) const {
    return policy_.CheckScope(method, caller, request);
  }

  // The caller of a call this door let in, for the handlers and the access log: read again
  // from its certificate (parsed once per connection; expiry and revocation were checked at
  // the door a moment ago) or its call credential (checked again, so a credential revoked
  // in between leaves the call with no caller, and handlers that ask refuse it).
  absl::StatusOr<Principal> CallerOfAdmitted(
      const grpc::AuthContext& context,
      const std::multimap<grpc::string_ref, grpc::string_ref>& metadata) {
    std::vector<grpc::string_ref> pems =
        context.FindPropertyValues(GRPC_X509_PEM_CERT_PROPERTY_NAME);
    auto credential = metadata.find(kCallCredentialHeader);
    if (!pems.empty()) {
      TESSERA_ASSIGN_OR_RETURN(CertificateCaller caller,
                               Recognize(std::string(pems.front().data(), pems.front().size())));
      TESSERA_RETURN_IF_ERROR(AttachSession(metadata, caller));
      return caller.principal;
    }
    if (call_credential_ == nullptr || credential == metadata.end()) {
      return absl::UnauthenticatedError("caller unknown: no client certificate or credential");
    }
    return call_credential_(std::string_view(credential->second.data(), credential->second.size()));
  }

 private:
  // The client certificate, or else the call's credential if this service accepts one.
  // `presented` is who the certificate names when it could be read, even if it is refused
  // (expired, revoked), so the refusal's log line says whose certificate it was.
  absl::StatusOr<Principal> Identify(const InputMetadata& metadata,
                                     const grpc::AuthContext& context,
                                     std::optional<Principal>& presented) {
    std::vector<grpc::string_ref> pems =
        context.FindPropertyValues(GRPC_X509_PEM_CERT_PROPERTY_NAME);
    if (!pems.empty()) {
      TESSERA_ASSIGN_OR_RETURN(
          CertificateCaller caller,
          FromCertificate(std::string(pems.front().data(), pems.front().size()), presented));
      TESSERA_RETURN_IF_ERROR(AttachSession(metadata, caller));
      return caller.principal;
    }
    auto credential = metadata.find(kCallCredentialHeader);
    if (credential != metadata.end() && IsSessionToken(credential->second)) {
      return absl::UnauthenticatedError(
          "a session token is good only with the client certificate of the machine it was issued "
          "to, and this connection has none");
    }
    if (call_credential_ == nullptr || credential == metadata.end()) {
      return absl::UnauthenticatedError(call_credential_ == nullptr
                                            ? "no client certificate"
                                            : "no client certificate and no access code");
    }
    return call_credential_(std::string_view(credential->second.data(), credential->second.size()));
  }

  // A connection's certificate is parsed once, not on every call.
  absl::StatusOr<CertificateCaller> Recognize(const std::string& pem) {
    std::lock_guard lock(mutex_);
    if (auto it = cache_.find(pem); it != cache_.end()) return it->second;
    absl::StatusOr<CertificateCaller> caller = trust_->Identify(pem);
    if (!caller.ok()) return caller.status();
    if (cache_.size() > 10000) cache_.clear();
    cache_.emplace(pem, *caller);
    return caller;
  }

  // Its expiry and revocation are checked on every call, since an HTTP/2 connection may stay
  // open for days.
  absl::StatusOr<CertificateCaller> FromCertificate(const std::string& pem,
                                                    std::optional<Principal>& presented) {
    TESSERA_ASSIGN_OR_RETURN(CertificateCaller caller, Recognize(pem));
    presented = caller.principal;
    if (std::chrono::system_clock::now() >= caller.not_after) {
      return absl::UnauthenticatedError(
          absl::StrCat("client certificate: expired at ", UtcText(caller.not_after)));
    }
    TESSERA_RETURN_IF_ERROR(revocation_->Check(caller.principal));
    return caller;
  }

  static bool IsSessionToken(grpc::string_ref value) {
    return std::string_view(value.data(), value.size()).starts_with(kSessionScheme);
  }

  // The person's session the call carries, checked against this connection's certificate and
  // attached to its principal. A call without one stays the machine's.
  absl::Status AttachSession(const std::multimap<grpc::string_ref, grpc::string_ref>& metadata,
                             CertificateCaller& caller) {
    auto credential = metadata.find(kCallCredentialHeader);
    if (credential == metadata.end() || !IsSessionToken(credential->second)) {
      return absl::OkStatus();
    }
    if (session_check_ == nullptr) {
      return absl::UnauthenticatedError("this service takes no session tokens");
    }
    const std::string_view token(credential->second.data() + kSessionScheme.size(),
                                 credential->second.size() - kSessionScheme.size());
    TESSERA_ASSIGN_OR_RETURN(PersonSession session, session_check_(token, caller.sha256));
    caller.principal.session = std::move(session);
    return absl::OkStatus();
  }

  RpcPolicy policy_;
  std::shared_ptr<const ClientTrust> trust_;
  std::shared_ptr<RevocationCheck> revocation_;
  CallCredentialCheck call_credential_;
  SessionCheck session_check_;
  std::mutex mutex_;
  std::unordered_map<std::string, CertificateCaller> cache_;
};

// The access log of dispatched calls: one "rpc" line per call when its status is sent (or,
// if none ever is, when the call is torn down), and the call's caller and id for CallerOf.
// The duration runs from dispatch (after the door) to the status. Metadata values and
// message bodies are never logged: an access code travels in metadata.
class AccessLog final : public grpc::experimental::Interceptor {
 public:
  AccessLog(grpc::experimental::ServerRpcInfo* info, std::shared_ptr<PolicyEnforcer> door)
      : call_(info->server_context()),
        method_(info->method() != nullptr ? info->method() : "-"),
        door_(std::move(door)),
        call_id_(NewCallId()),
        start_(Clock::now()),
        caller_(absl::UnauthenticatedError("caller unknown: no initial metadata yet")) {}

  ~AccessLog() override {
    if (!logged_) Log(grpc::StatusCode::CANCELLED);
    CallRegistry::Get().Erase(call_, call_id_);
  }

  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    using grpc::experimental::InterceptionHookPoints;
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::POST_RECV_INITIAL_METADATA)) {
      peer_ = call_->peer();
      std::shared_ptr<const grpc::AuthContext> auth = call_->auth_context();
      const auto* metadata = methods->GetRecvInitialMetadata();
      if (auth != nullptr && metadata != nullptr) {
        caller_ = door_->CallerOfAdmitted(*auth, *metadata);
      }
      CallRegistry::Get().Put(call_, {call_id_, caller_});
    }
    // The rule's scope, on each request message as it arrives: a call that reaches beyond its
    // caller's office is left without a caller, which its handler asks for before acting.
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::POST_RECV_MESSAGE) &&
        caller_.ok()) {
      const auto* request =
          static_cast<const google::protobuf::Message*>(methods->GetRecvMessage());
      if (request != nullptr) {
        if (absl::Status scope = door_->CheckScope(method_, *caller_, *request); !scope.ok()) {
          LogCall(spdlog::level::warn, "rpc_denied", call_id_, method_, &*caller_, peer_,
                  grpc::StatusCode::PERMISSION_DENIED, Clock::now() - start_,
                  std::string(scope.message()));
          caller_ = scope;
          CallRegistry::Get().Put(call_, {call_id_, caller_});
        }
      }
    }
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::PRE_SEND_STATUS) && !logged_) {
      Log(methods->GetSendStatus().error_code());
    }
    methods->Proceed();
  }

 private:
  void Log(grpc::StatusCode code) {
    logged_ = true;
    LogCall(spdlog::level::info, "rpc", call_id_, method_, caller_.ok() ? &*caller_ : nullptr,
            peer_.empty() ? "-" : peer_, code, Clock::now() - start_, "");
  }

  grpc::ServerContextBase* call_;
  const std::string method_;
  std::shared_ptr<PolicyEnforcer> door_;
  const std::string call_id_;
  const Clock::time_point start_;
  std::string peer_;
  absl::StatusOr<Principal> caller_;
  bool logged_ = false;
};

class AccessLogFactory final : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  explicit AccessLogFactory(std::shared_ptr<PolicyEnforcer> door) : door_(std::move(door)) {}
  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override {
    return new AccessLog(info, door_);
  }

 private:
  std::shared_ptr<PolicyEnforcer> door_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<RpcServer>> RpcServer::Start(RpcServerOptions options) {
  if (options.trust == nullptr || options.revocation == nullptr) {
    return absl::InvalidArgumentError(
        "gRPC server: a client trust and a revocation check are required (no certificate is "
        "let in unchecked)");
  }
  // gRPC's file watcher reads these itself; a missing or unreadable one stops start-up here.
  for (const std::string* path :
       {&options.tls.certificate_chain, &options.tls.private_key, &options.tls.client_ca_bundle}) {
    TESSERA_RETURN_IF_ERROR(ReadFile(*path).status());
  }

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
  auto door = std::make_shared<PolicyEnforcer>(
      RpcPolicy(std::move(rules)), options.trust, options.revocation,
      std::move(options.call_credential), std::move(options.session_check));
  credentials->SetAuthMetadataProcessor(door);

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
  std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> interceptors;
  interceptors.push_back(std::make_unique<AccessLogFactory>(door));
  builder.experimental().SetInterceptorCreators(std::move(interceptors));
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
  std::optional<CallRecord> call = CallRegistry::Get().Find(&context);
  if (!call.has_value()) {
    ClearActingFor();
    return absl::UnauthenticatedError("caller unknown: the call was not admitted by the door");
  }
  // The handler acts for this caller from here on: its database changes are audited as theirs.
  if (call->caller.ok()) {
    SetActingFor(ActingForCaller(*call->caller, call->call_id));
  } else {
    ClearActingFor();
  }
  return call->caller;
}

absl::StatusOr<std::string> ClientCertificateSha256(const grpc::ServerContext& context) {
  std::shared_ptr<const grpc::AuthContext> auth = context.auth_context();
  if (auth == nullptr)
    return absl::UnauthenticatedError("the connection has no client certificate");
  std::vector<grpc::string_ref> pems = auth->FindPropertyValues(GRPC_X509_PEM_CERT_PROPERTY_NAME);
  if (pems.empty()) return absl::UnauthenticatedError("the connection has no client certificate");
  try {
    Botan::DataSource_Memory source(reinterpret_cast<const uint8_t*>(pems.front().data()),
                                    pems.front().size());
    return CertificateSha256(Botan::X509_Certificate(source));
  } catch (const std::exception& e) {
    return absl::UnauthenticatedError(absl::StrCat("client certificate: unreadable: ", e.what()));
  }
}

absl::StatusOr<Actor> ActorOf(const grpc::ServerContext& context) {
  std::optional<CallRecord> call = CallRegistry::Get().Find(&context);
  if (!call.has_value()) {
    return absl::UnauthenticatedError("caller unknown: the call was not admitted by the door");
  }
  if (!call->caller.ok()) return call->caller.status();
  return ActorOf(*call->caller, call->call_id);
}

}  // namespace tessera
