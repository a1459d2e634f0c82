#include "platform/crl_revocation.h"

#include <botan/pk_keys.h>
#include <botan/pkix_types.h>
#include <botan/x509_crl.h>
#include <httplib.h>

#include <mutex>

#include "absl/strings/str_cat.h"
#include "platform/log.h"

namespace tessera {
HttpGet PlainHttpGet(std::chrono::milliseconds timeout) {
  return [timeout](const std::string& url, const std::string& etag) -> absl::StatusOr<HttpFetched> {
    // "http://host:port/path": cpp-httplib wants the scheme+authority and the path apart.
    const size_t authority = url.find("://");
    const size_t path = url.find('/', authority == std::string::npos ? 0 : authority + 3);
    if (authority == std::string::npos || path == std::string::npos) {
      return absl::InvalidArgumentError(absl::StrCat("url '", url, "': expected http://host/path"));
    }
    httplib::Client client(url.substr(0, path));
    client.set_connection_timeout(timeout);
    client.set_read_timeout(timeout);
    client.set_write_timeout(timeout);
    httplib::Headers headers;
    if (!etag.empty()) headers.emplace("If-None-Match", etag);
    httplib::Result result = client.Get(url.substr(path), headers);
    if (!result) {
      return absl::UnavailableError(
          absl::StrCat("GET ", url, ": ", httplib::to_string(result.error())));
    }
    return HttpFetched{result->status, result->body, result->get_header_value("ETag")};
  };
}

CrlRevocationCheck::CrlRevocationCheck(std::shared_ptr<const ClientTrust> trust,
                                       std::string base_url, HttpGet get, const Clock& clock)
    : trust_(std::move(trust)),
      base_url_(std::move(base_url)),
      get_(std::move(get)),
      clock_(clock) {}

absl::Status CrlRevocationCheck::Refresh() {
  absl::Status all = absl::OkStatus();
  for (const TrustedIssuer& issuer : trust_->issuers()) {
    absl::Status one = RefreshOne(issuer);
    if (!one.ok()) {
      LogEvent(spdlog::level::warn, "crl_refresh_failed",
               {{"issuer", issuer.name}, {"error", std::string(one.message())}});
      all.Update(one);
    }
  }
  return all;
}

absl::Status CrlRevocationCheck::RefreshOne(const TrustedIssuer& issuer) {
  std::string etag;
  int64_t number = -1;
  {
    std::shared_lock lock(mutex_);
    if (auto it = crls_.find(issuer.name); it != crls_.end()) {
      etag = it->second.etag;
      number = it->second.number;
    }
  }
  const std::string url = absl::StrCat(base_url_, "/", issuer.name, ".crl");
  absl::StatusOr<HttpFetched> fetched = get_(url, etag);
  if (!fetched.ok()) return fetched.status();
  if (fetched->status == 304 && number >= 0) return absl::OkStatus();
  if (fetched->status != 200) {
    return absl::UnavailableError(absl::StrCat("GET ", url, ": HTTP ", fetched->status));
  }
  Loaded loaded;
  loaded.etag = fetched->etag;
  try {
    Botan::X509_CRL crl(std::vector<uint8_t>(fetched->body.begin(), fetched->body.end()));
    // Only a CRL this CA signed counts: anyone on the network path could answer the GET.
    if (!(crl.issuer_dn() == issuer.certificate->subject_dn()) ||
        !crl.check_signature(*issuer.certificate->load_subject_public_key())) {
      return absl::UnauthenticatedError(
          absl::StrCat(url, ": not a CRL signed by CA '", issuer.name, "'"));
    }
    if (!crl.next_update().time_is_set()) {
      return absl::InvalidArgumentError(absl::StrCat(url, ": the CRL has no nextUpdate"));
    }
    loaded.number = crl.crl_number();
    loaded.this_update = crl.this_update().to_std_timepoint();
    loaded.next_update = crl.next_update().to_std_timepoint();
    for (const Botan::CRL_Entry& entry : crl.get_revoked()) {
      loaded.revoked.insert(SerialHex(entry.serial_number()));
    }
  } catch (const std::exception& e) {
    return absl::InvalidArgumentError(absl::StrCat(url, ": not a CRL: ", e.what()));
  }
  // An older CRL (a replayed one, or a stale cache on the way) never replaces a newer one.
  if (loaded.number < number) {
    return absl::FailedPreconditionError(absl::StrCat(
        url, ": cRLNumber ", loaded.number, " is older than the one held (", number, ")"));
  }
  std::unique_lock lock(mutex_);
  const bool changed = loaded.number != number;
  crls_[issuer.name] = std::move(loaded);
  if (changed) {
    LogEvent(spdlog::level::info, "crl_loaded",
             {{"issuer", issuer.name},
              {"number", std::to_string(crls_[issuer.name].number)},
              {"revoked", std::to_string(crls_[issuer.name].revoked.size())}});
  }
  return absl::OkStatus();
}

absl::Status CrlRevocationCheck::Check(const Principal& caller) {
  std::shared_lock lock(mutex_);
  auto it = crls_.find(caller.issuer);
  if (it == crls_.end()) {
    return absl::UnavailableError(absl::StrCat("revocation status unknown: no CRL of CA '",
                                               caller.issuer, "' loaded yet; try later"));
  }
  const Loaded& crl = it->second;
  if (clock_.Now() >= crl.next_update) {
    return absl::UnavailableError(absl::StrCat("revocation status unknown: the CRL of CA '",
                                               caller.issuer, "' expired at ",
                                               UtcText(crl.next_update), "; try later"));
  }
  if (crl.revoked.contains(caller.serial)) {
    return absl::UnauthenticatedError(absl::StrCat("client certificate: revoked (serial ",
                                                   caller.serial, ", CA '", caller.issuer, "')"));
  }
  return absl::OkStatus();
}

absl::Status CrlRevocationCheck::Health() const {
  std::shared_lock lock(mutex_);
  const Clock::TimePoint now = clock_.Now();
  for (const TrustedIssuer& issuer : trust_->issuers()) {
    auto it = crls_.find(issuer.name);
    if (it == crls_.end()) {
      return absl::UnavailableError(absl::StrCat("no CRL of CA '", issuer.name, "' loaded"));
    }
    if (now >= it->second.next_update) {
      return absl::UnavailableError(absl::StrCat("the CRL of CA '", issuer.name, "' expired at ",
                                                 UtcText(it->second.next_update)));
    }
  }
  return absl::OkStatus();
}

int64_t CrlRevocationCheck::CrlNumber(const std::string& issuer) const {
  std::shared_lock lock(mutex_);
  auto it = crls_.find(issuer);
  return it == crls_.end() ? -1 : it->second.number;
}

}  // namespace tessera
