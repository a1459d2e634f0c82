#include "ca/settings.h"

#include <filesystem>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "ca/ceremony.h"
#include "ca/workstation_bundle.h"
#include "platform/status_macros.h"

namespace tessera::ca {
namespace {

// An integer key with its default, within [min, max].
absl::StatusOr<int64_t> Bounded(const Config& config, const char* key, int64_t fallback,
                                int64_t min, int64_t max) {
  TESSERA_ASSIGN_OR_RETURN(int64_t value, config.IntOr(key, fallback));
  if (value < min || value > max) {
    return absl::InvalidArgumentError(absl::StrCat(key, ": ", min, " to ", max));
  }
  return value;
}

absl::Status ReadHttp(const Config& config, HttpSettings& http) {
  TESSERA_ASSIGN_OR_RETURN(std::string listen, config.String("http.listen"));
  const size_t colon = listen.rfind(':');
  if (colon == std::string::npos) {
    return absl::InvalidArgumentError("http.listen: expected host:port");
  }
  http.host = listen.substr(0, colon);
  if (!absl::SimpleAtoi(listen.substr(colon + 1), &http.port) || http.port < 0 ||
      http.port > 65535) {
    return absl::InvalidArgumentError("http.listen: the port must be a number, 0 to 65535");
  }
  TESSERA_ASSIGN_OR_RETURN(http.port_file, config.StringOr("http.port_file", ""));
  TESSERA_ASSIGN_OR_RETURN(int64_t threads, Bounded(config, "http.threads", 2, 1, 64));
  TESSERA_ASSIGN_OR_RETURN(int64_t connections,
                           Bounded(config, "http.max_connections", 4096, 1, 1'000'000));
  TESSERA_ASSIGN_OR_RETURN(int64_t per_ip,
                           Bounded(config, "http.max_connections_per_ip", 256, 0, 1'000'000));
  TESSERA_ASSIGN_OR_RETURN(int64_t idle, Bounded(config, "http.idle_timeout_seconds", 10, 1, 3600));
  TESSERA_ASSIGN_OR_RETURN(int64_t memory, Bounded(config, "http.connection_memory_bytes",
                                                   32 * 1024, 8 * 1024, 1024 * 1024));
  TESSERA_ASSIGN_OR_RETURN(int64_t backlog, Bounded(config, "http.listen_backlog", 1024, 1, 65535));
  TESSERA_ASSIGN_OR_RETURN(int64_t nice, Bounded(config, "http.nice", 5, 0, 19));
  TESSERA_ASSIGN_OR_RETURN(int64_t db_connections,
                           Bounded(config, "http.db_connections", 4, 1, 64));
  TESSERA_ASSIGN_OR_RETURN(int64_t db_wait_ms, Bounded(config, "http.db_wait_ms", 250, 0, 60'000));
  http.threads = static_cast<int>(threads);
  http.max_connections = static_cast<unsigned>(connections);
  http.per_ip_connections = static_cast<unsigned>(per_ip);
  http.idle_timeout_seconds = static_cast<unsigned>(idle);
  http.connection_memory = static_cast<size_t>(memory);
  http.listen_backlog = static_cast<unsigned>(backlog);
  http.nice = static_cast<int>(nice);
  http.db_connections = static_cast<size_t>(db_connections);
  http.db_wait = std::chrono::milliseconds(db_wait_ms);
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<CaSettings> ReadCaSettings(const Config& config) {
  CaSettings s;
  TESSERA_ASSIGN_OR_RETURN(s.conninfo, config.String("db.conninfo"));
  TESSERA_ASSIGN_OR_RETURN(int64_t connections, Bounded(config, "db.max_connections", 8, 1, 256));
  s.max_connections = static_cast<size_t>(connections);
  TESSERA_ASSIGN_OR_RETURN(s.module_path, config.String("hsm.module"));
  TESSERA_ASSIGN_OR_RETURN(s.token_label, config.String("hsm.token"));
  TESSERA_ASSIGN_OR_RETURN(std::string issuers, config.String("ca.issuers"));
  for (absl::string_view name : absl::StrSplit(issuers, ',', absl::SkipWhitespace())) {
    s.issuers.emplace_back(absl::StripAsciiWhitespace(name));
  }
  if (s.issuers.empty()) return absl::InvalidArgumentError("ca.issuers: at least one name");
  TESSERA_ASSIGN_OR_RETURN(s.root_certificate_path, config.String("ca.root_certificate"));
  const std::filesystem::path pki = std::filesystem::path(s.root_certificate_path).parent_path();
  TESSERA_ASSIGN_OR_RETURN(s.root_crl_path,
                           config.StringOr("ca.root_crl", (pki / "root.crl").string()));
  TESSERA_ASSIGN_OR_RETURN(s.profiles_path, config.String("ca.profiles"));
  TESSERA_ASSIGN_OR_RETURN(s.base_url, config.String("ca.base_url"));
  TESSERA_ASSIGN_OR_RETURN(
      s.ceremony_certificates_path,
      config.StringOr("ca.ceremony_certificates", (pki / kCeremonyIssuedFile).string()));
  TESSERA_ASSIGN_OR_RETURN(s.bundle_seal_key,
                           config.StringOr("bundles.seal_key", kBundleSealKeyLabel));
  TESSERA_RETURN_IF_ERROR(ReadHttp(config, s.http));

  TESSERA_ASSIGN_OR_RETURN(int64_t crl_validity, config.IntOr("crl.validity_hours", 24));
  TESSERA_ASSIGN_OR_RETURN(int64_t crl_refresh, config.IntOr("crl.refresh_hours", 12));
  if (crl_validity < 1 || crl_validity > 24 * 31 || crl_refresh < 0 ||
      crl_refresh >= crl_validity) {
    return absl::InvalidArgumentError(
        "crl.refresh_hours must be below crl.validity_hours, and validity 1 to 744 hours");
  }
  s.crl.validity = std::chrono::hours(crl_validity);
  s.crl.refresh_before = std::chrono::hours(crl_refresh);
  TESSERA_ASSIGN_OR_RETURN(int64_t ocsp_validity,
                           Bounded(config, "ocsp.validity_hours", 1, 1, 24 * 7));
  TESSERA_ASSIGN_OR_RETURN(int64_t cache,
                           Bounded(config, "ocsp.cache_entries", 1'000'000, 1000, 100'000'000));
  TESSERA_ASSIGN_OR_RETURN(int64_t workers, Bounded(config, "ocsp.workers", 2, 1, 64));
  s.ocsp.validity = std::chrono::hours(ocsp_validity);
  s.ocsp.max_entries = static_cast<size_t>(cache);
  s.ocsp.workers = static_cast<int>(workers);
  TESSERA_ASSIGN_OR_RETURN(int64_t renew_days, config.IntOr("ocsp.renew_before_days", 10));
  if (renew_days < 1) return absl::InvalidArgumentError("ocsp.renew_before_days: at least 1");
  s.ocsp_renewal.renew_before = std::chrono::hours(24 * renew_days);
  return s;
}

absl::Status CheckOcspRenewal(const OcspRenewalPolicy& renewal, const ProfileSet& profiles) {
  TESSERA_ASSIGN_OR_RETURN(const Profile* responder, profiles.Find(kOcspResponderProfile));
  const int64_t responder_days = responder->validity_days > 0
                                     ? responder->validity_days
                                     : 28 * int64_t{responder->validity_months};
  const int64_t renew_days =
      std::chrono::duration_cast<std::chrono::hours>(renewal.renew_before).count() / 24;
  if (renew_days >= responder_days) {
    return absl::InvalidArgumentError(
        absl::StrCat("ocsp.renew_before_days: 1 to ", responder_days - 1,
                     " (below the ocsp_responder profile's validity)"));
  }
  return absl::OkStatus();
}

}  // namespace tessera::ca
