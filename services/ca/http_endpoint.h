// tessera-ca's public plain-HTTP endpoint, what certificates point at (RFC 5280 CRL
// distribution points and caIssuers are fetched without TLS, and OCSP per RFC 6960/5019):
// GET /crl/<ca>.crl (an issuing CA's last CRL, or the root's), GET /ca/<name>.crt (root and
// issuing CA certificates), POST /ocsp and GET /ocsp/<base64 request>.
//
// It faces anyone on the network, so it must not be knocked over: GNU libmicrohttpd serves it
// event-driven (a slow or idle connection costs an fd and a few KiB, never a thread), with
// limits on connections (total and per IP), memory per connection, idle time and request
// bodies (16 KiB, however the body arrives), and every answer comes from memory: CRLs from a
// CrlCache, OCSP answers pre-signed by the OcspResponder. The only request that waits for the
// database and the HSM is the first one for a certificate's OCSP answer; it is suspended and
// handed to the responder's workers, so the event loop goes on serving everyone else.
#pragma once

#include <map>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "ca/crl_cache.h"
#include "ca/ocsp_responder.h"

struct MHD_Daemon;

namespace tessera::ca_service {

struct HttpLimits {
  int threads = 2;                       // http.threads: event loops
  unsigned max_connections = 4096;       // http.max_connections
  unsigned per_ip_connections = 256;     // http.max_connections_per_ip
  unsigned idle_timeout_seconds = 10;    // http.idle_timeout_seconds
  size_t connection_memory = 32 * 1024;  // http.connection_memory_bytes: headers + I/O buffer
  unsigned listen_backlog = 1024;        // http.listen_backlog
  // http.nice: the endpoint's threads run at this niceness, so that a flood of requests
  // (it faces anyone) yields the CPU to issuance rather than compete with it as an equal.
  int nice = 5;
};

class CaHttpEndpoint {
 public:
  // The largest request body (an OCSP request) read; a larger one is refused with 413 before
  // more than this is read.
  static constexpr size_t kMaxRequestBody = 16 * 1024;

  // `certificates`: name -> DER ("root", "operators", ...).
  CaHttpEndpoint(ca::CrlCache& crls, std::map<std::string, std::string> certificates,
                 ca::OcspResponder& ocsp, HttpLimits limits = {});
  ~CaHttpEndpoint() { Stop(); }

  // Binds `host:port` (port 0: the OS picks) and serves on background threads; the port.
  absl::StatusOr<int> Start(const std::string& host, int port);
  // Stops the OCSP responder's workers first (a suspended request is answered tryLater),
  // then the server.
  void Stop();

  // Used by the libmicrohttpd callbacks.
  struct Request;
  ca::CrlCache& crls() { return crls_; }
  ca::OcspResponder& ocsp() { return ocsp_; }
  const std::map<std::string, std::string>& certificates() const { return certificates_; }
  int nice() const { return limits_.nice; }

 private:
  ca::CrlCache& crls_;
  const std::map<std::string, std::string> certificates_;
  ca::OcspResponder& ocsp_;
  const HttpLimits limits_;
  MHD_Daemon* daemon_ = nullptr;
};

}  // namespace tessera::ca_service
