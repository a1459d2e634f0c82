// The gRPC server every tessera service uses: TLS 1.2+ with a client certificate required
// and verified against the tessera CA bundle, the health service, server reflection, and on
// every call, before any handler runs: the caller read from its certificate (which must come
// from the issuing CA trusted for its kind), its expiry and revocation checked again (a
// connection may outlive both), then the service's RpcPolicy. A service may also let in
// callers that have no certificate yet but carry a credential it issued (CallCredential).
// Every call leaves one access-log line: "rpc" (method, caller, peer, status, duration) when
// it was dispatched, "rpc_unauthenticated" or "rpc_denied" when the door refused it.
// Health says NOT_SERVING while the revocation check cannot give current answers.
#pragma once

#include <grpcpp/grpcpp.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "platform/actor.h"
#include "platform/periodic.h"
#include "platform/principal.h"
#include "platform/revocation.h"
#include "platform/rpc_policy.h"

namespace tessera {

struct ServerTlsFiles {
  std::string certificate_chain;  // PEM: the service certificate, then its issuing CA
  std::string private_key;        // PEM (PKCS#8) of the service's TLS key
  std::string client_ca_bundle;   // PEM: the CAs whose client certificates are accepted
  unsigned reload_seconds = 10;   // how often the three files are read again (renewal)
};

struct RpcServerOptions {
  std::string listen_address = "127.0.0.1:0";  // port 0: the OS picks, read it from port()
  ServerTlsFiles tls;
  // Required: which issuing CA certifies which kind of caller, and the revocation check every
  // certificate caller passes on every call.
  std::shared_ptr<const ClientTrust> trust;
  std::shared_ptr<RevocationCheck> revocation;
  std::vector<RpcRule> rules;            // StandardRules() are added automatically
  std::vector<grpc::Service*> services;  // not owned; must outlive the server
  int max_receive_bytes = 1 << 20;       // larger requests: RESOURCE_EXHAUSTED
  // Calls served at once (gRPC's sync server takes a thread per call): beyond it a call is
  // refused with RESOURCE_EXHAUSTED rather than queued without bound.
  int max_threads = 64;

  // Optional. When set, the handshake asks for a client certificate but no longer requires
  // one (one presented is still verified against client_ca_bundle), and a call without a
  // certificate is let in only if its "authorization" metadata (kCallCredentialHeader) is a
  // credential this function accepts; the policy table then applies to the principal it
  // returns. It may block (a database lookup): the checks then run on gRPC's executor
  // threads. Return UNAUTHENTICATED for a credential that is wrong, expired or revoked.
  std::function<absl::StatusOr<Principal>(std::string_view credential)> call_credential;

  // Optional. When set, a call over a certificate connection may carry a person's session:
  // "authorization: Bearer <token>" (kSessionScheme). This function checks the token against
  // the connection certificate's SHA-256 (hex) and returns the session, which the principal
  // then carries for the policy table and the handlers; UNAUTHENTICATED refuses the call (a
  // bad token is never quietly ignored). Unset: a call carrying a session token is refused.
  std::function<absl::StatusOr<PersonSession>(std::string_view token,
                                              std::string_view certificate_sha256)>
      session_check;
};

inline constexpr char kCallCredentialHeader[] = "authorization";
// The scheme that starts an access code credential: "AccessCode 057001-7KQ2M-...".
inline constexpr std::string_view kAccessCodeScheme = "AccessCode ";
// The scheme of a session token (card login): "Bearer eyJ...".
inline constexpr std::string_view kSessionScheme = "Bearer ";

class RpcServer {
 public:
  static absl::StatusOr<std::unique_ptr<RpcServer>> Start(RpcServerOptions options);
  ~RpcServer();

  int port() const { return port_; }
  // Serving when `serving` and the revocation check is current (checked every second).
  void SetServing(bool serving);
  void Shutdown();
  void Wait();

 private:
  RpcServer(std::unique_ptr<grpc::Server> server, int port,
            std::shared_ptr<RevocationCheck> revocation, std::string certificate_chain);
  void UpdateHealth();
  void CheckCertificateExpiry();

  std::unique_ptr<grpc::Server> server_;
  int port_;
  std::shared_ptr<RevocationCheck> revocation_;
  std::mutex mutex_;
  bool wanted_serving_ = false;
  std::optional<bool> serving_;  // what health says now
  bool degraded_ = false;        // not serving for want of current revocation answers
  std::unique_ptr<PeriodicTask> health_monitor_;
  const std::string certificate_chain_;  // re-read: a renewal replaces it
  std::optional<int64_t> days_left_;     // of the service's own certificate, last read
  bool certificate_ok_ = true;           // over kCertificateWarningDays left (mutex_)
  int ticks_ = 0;
};

// The health service name that says whether this service's own TLS certificate has more than
// kCertificateWarningDays left (NOT_SERVING: renew it, `tessera ca renew-service`). The
// server as a whole stays SERVING.
inline constexpr char kCertificateHealthService[] = "tessera.tls-certificate";
inline constexpr int kCertificateWarningDays = 30;

// The caller of the current RPC, as the policy check established it. UNAUTHENTICATED if
// it is not known (a call credential revoked between the door and the handler); the refusal of
// the rule's scope (RpcRule::scope: PERMISSION_DENIED, or why the request's office could not be
// read) if the request reaches beyond the caller's office. Every handler asks before acting.
absl::StatusOr<Principal> CallerOf(const grpc::ServerContext& context);
// The SHA-256 (lower-case hex) of the client certificate of the current call's connection;
// UNAUTHENTICATED if it has none.
absl::StatusOr<std::string> ClientCertificateSha256(const grpc::ServerContext& context);
// The same caller as the actor of what the handler does, with the call's id in the access log.
absl::StatusOr<Actor> ActorOf(const grpc::ServerContext& context);

}  // namespace tessera
