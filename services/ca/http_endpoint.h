// tessera-ca's plain-HTTP endpoint, what certificates point at (RFC 5280 CRL distribution
// points and caIssuers are fetched without TLS): GET /crl/<ca>.crl serves the last CRL the
// publisher signed, GET /ca/<ca>.crt the CA certificates (root and issuing), as DER, and
// OCSP (RFC 6960): POST /ocsp with the DER request as body, GET /ocsp/<base64 request>.
#pragma once

#include <httplib.h>

#include <map>
#include <memory>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "ca/crl_store.h"
#include "ca/ocsp_responder.h"

namespace tessera::ca_service {

class CaHttpEndpoint {
 public:
  static constexpr size_t kMaxOcspRequestBytes = 16 * 1024;

  // `certificates`: name -> DER ("root", "operators", ...).
  CaHttpEndpoint(ca::CrlStore& crls, std::map<std::string, std::string> certificates,
                 ca::OcspResponder& ocsp);
  ~CaHttpEndpoint() { Stop(); }

  // Binds `host:port` (port 0: the OS picks) and serves on a background thread.
  absl::StatusOr<int> Start(const std::string& host, int port);
  void Stop();

 private:
  ca::CrlStore& crls_;
  std::map<std::string, std::string> certificates_;
  httplib::Server server_;
  std::thread thread_;
};

}  // namespace tessera::ca_service
