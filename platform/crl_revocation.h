// Revocation at the door from CRLs: a service other than tessera-ca keeps the current CRL of
// every issuing CA it trusts for callers, fetched from tessera-ca's HTTP endpoint
// (<base_url>/<ca>.crl), checked (issuer, signature, dates, a cRLNumber never going back) and
// refreshed every `refresh` with a conditional GET (ETag), so a revocation shuts the door
// within refresh + the CA's publishing delay. Checking a caller is a hash lookup in memory.
// When a CA's CRL is missing or past its nextUpdate, callers with that CA's certificates are
// refused (UNAVAILABLE) and Health() says why: fail closed.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <shared_mutex>
#include <string>
#include <unordered_set>

#include "absl/status/statusor.h"
#include "platform/clock.h"
#include "platform/principal.h"
#include "platform/revocation.h"

namespace tessera {

struct HttpFetched {
  int status = 0;    // 200, or 304 when the ETag still matches
  std::string body;  // the CRL (DER) on 200
  std::string etag;  // the ETag header, if any
};
// GETs `url`, sending If-None-Match: `etag` when it is not empty. UNAVAILABLE when the server
// cannot be reached.
using HttpGet =
    std::function<absl::StatusOr<HttpFetched>(const std::string& url, const std::string& etag)>;
// Plain HTTP GET with cpp-httplib (CRLs are signed; they need no TLS), `timeout` per request.
HttpGet PlainHttpGet(std::chrono::milliseconds timeout);

class CrlRevocationCheck final : public RevocationCheck {
 public:
  // `base_url`: where the CRLs are, e.g. "http://127.0.0.1:8080/crl" (no trailing slash).
  CrlRevocationCheck(std::shared_ptr<const ClientTrust> trust, std::string base_url, HttpGet get,
                     const Clock& clock);

  // Fetches every issuing CA's CRL; keeps the one it has when a fetch fails or a CRL does not
  // check out (and says so in the returned status).
  absl::Status Refresh();

  absl::Status Check(const Principal& caller) override;
  bool MayBlock() const override { return false; }
  absl::Status Health() const override;

  // What is loaded for CA `issuer`, for logs and tests: cRLNumber, or -1 when none.
  int64_t CrlNumber(const std::string& issuer) const;

 private:
  struct Loaded {
    std::string etag;
    int64_t number = -1;
    Clock::TimePoint this_update, next_update;
    std::unordered_set<std::string> revoked;  // serials, lower-case hex
  };
  absl::Status RefreshOne(const TrustedIssuer& issuer);

  const std::shared_ptr<const ClientTrust> trust_;
  const std::string base_url_;
  const HttpGet get_;
  const Clock& clock_;
  mutable std::shared_mutex mutex_;
  std::map<std::string, Loaded> crls_;  // by CA name
};

}  // namespace tessera
