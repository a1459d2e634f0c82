#include "ca/crl_cache.h"

#include <botan/data_src.h>
#include <botan/x509_crl.h>

#include <system_error>

#include "absl/strings/str_cat.h"
#include "platform/files.h"
#include "platform/log.h"

namespace tessera::ca {

CrlCache::CrlCache(CrlStore& store, std::vector<std::string> issuers, std::string root_crl_path,
                   Botan::X509_Certificate root, std::chrono::milliseconds poll)
    : store_(store),
      issuers_(std::move(issuers)),
      root_crl_path_(std::move(root_crl_path)),
      root_(std::move(root)),
      task_("crl_cache", poll, [this] { return RunOnce(); }) {}

absl::Status CrlCache::RunOnce() {
  absl::Status first = ReloadRoot();
  for (const std::string& issuer : issuers_) {
    absl::Status reloaded = ReloadIssuer(issuer);
    if (first.ok()) first = reloaded;
  }
  return first;
}

absl::Status CrlCache::ReloadIssuer(const std::string& issuer) {
  absl::StatusOr<int64_t> number = store_.CrlNumber(issuer);
  if (!number.ok()) return number.status();
  {
    std::lock_guard lock(mutex_);
    auto it = crls_.find(issuer);
    if (*number == 0 || (it != crls_.end() && it->second->number == *number)) {
      return absl::OkStatus();
    }
  }
  absl::StatusOr<CrlState> state = store_.State(issuer);
  if (!state.ok()) return state.status();
  if (state->der.empty() || !state->this_update || !state->next_update) return absl::OkStatus();
  auto crl = std::make_shared<CachedCrl>();
  crl->name = issuer;
  crl->number = state->crl_number;
  crl->this_update = *state->this_update;
  crl->next_update = *state->next_update;
  crl->der.assign(state->der.begin(), state->der.end());
  crl->etag = absl::StrCat("\"", issuer, "-", crl->number, "\"");
  std::lock_guard lock(mutex_);
  auto& slot = crls_[issuer];
  // Numbers only grow; a slower read racing a newer one must not win.
  if (slot == nullptr || slot->number < crl->number) slot = std::move(crl);
  return absl::OkStatus();
}

absl::Status CrlCache::ReloadRoot() {
  std::error_code error;
  const auto mtime = std::filesystem::last_write_time(root_crl_path_, error);
  if (error) {
    if (!root_missing_logged_) {
      // Until the ceremony has written it, /crl/root.crl answers 404.
      LogEvent(spdlog::level::warn, "root_crl_missing",
               {{"file", root_crl_path_}, {"error", error.message()}});
      root_missing_logged_ = true;
    }
    return absl::OkStatus();
  }
  if (root_mtime_ == mtime) return absl::OkStatus();
  root_mtime_ = mtime;
  root_missing_logged_ = false;
  absl::StatusOr<std::string> bytes = ReadFile(root_crl_path_);
  if (!bytes.ok()) return bytes.status();
  auto crl = std::make_shared<CachedCrl>();
  try {
    Botan::DataSource_Memory source(*bytes);
    Botan::X509_CRL parsed(source);  // PEM or DER
    if (!parsed.check_signature(root_.subject_public_key())) {
      return absl::InvalidArgumentError(
          absl::StrCat(root_crl_path_, ": not signed by the root certificate; not served"));
    }
    crl->name = "root";
    crl->number = parsed.crl_number();
    crl->this_update = parsed.this_update().to_std_timepoint();
    crl->next_update = parsed.next_update().to_std_timepoint();
    const std::vector<uint8_t> der = parsed.BER_encode();
    crl->der.assign(der.begin(), der.end());
  } catch (const std::exception& e) {
    return absl::InvalidArgumentError(
        absl::StrCat(root_crl_path_, ": not a CRL (", e.what(), "); not served"));
  }
  crl->etag = absl::StrCat("\"root-", crl->number, "\"");
  LogEvent(spdlog::level::info, "root_crl_loaded",
           {{"file", root_crl_path_}, {"crl_number", std::to_string(crl->number)}});
  std::lock_guard lock(mutex_);
  crls_["root"] = std::move(crl);
  return absl::OkStatus();
}

std::shared_ptr<const CachedCrl> CrlCache::Get(const std::string& name) const {
  std::lock_guard lock(mutex_);
  auto it = crls_.find(name);
  return it == crls_.end() ? nullptr : it->second;
}

bool CrlCache::Serves(const std::string& name) const {
  return name == "root" || std::find(issuers_.begin(), issuers_.end(), name) != issuers_.end();
}

}  // namespace tessera::ca
