#include "ca/caller_revocation.h"

#include "absl/strings/str_cat.h"

namespace tessera::ca {
namespace {

constexpr size_t kMaxCached = 100000;

}  // namespace

absl::Status RecordedRevocationCheck::Check(const Principal& caller) {
  const Clock::TimePoint now = clock_.Now();
  {
    std::lock_guard lock(mutex_);
    if (auto it = cache_.find(caller.serial);
        it != cache_.end() && it->second.issuer == caller.issuer && now - it->second.at < ttl_) {
      return it->second.verdict;
    }
  }
  absl::Status verdict = Lookup(caller);
  if (absl::IsUnavailable(verdict)) return verdict;  // not an answer about the certificate
  std::lock_guard lock(mutex_);
  if (cache_.size() >= kMaxCached) cache_.clear();
  cache_[caller.serial] = {caller.issuer, verdict, now};
  return verdict;
}

absl::Status RecordedRevocationCheck::Lookup(const Principal& caller) {
  absl::StatusOr<CertificateRecord> record = store_.Get(caller.serial);
  if (absl::IsNotFound(record.status()) ||
      (record.ok() &&
       (record->issuer != caller.issuer || record->state != CertificateState::kIssued))) {
    return absl::UnauthenticatedError(absl::StrCat("client certificate: serial ", caller.serial,
                                                   " of CA '", caller.issuer,
                                                   "' is not on tessera-ca's record"));
  }
  if (!record.ok()) {
    return absl::UnavailableError("revocation status unknown: the CA's records are unavailable");
  }
  if (record->revoked_at.has_value()) {
    return absl::UnauthenticatedError(absl::StrCat("client certificate: revoked (serial ",
                                                   caller.serial, ", CA '", caller.issuer, "')"));
  }
  return absl::OkStatus();
}

void RecordedRevocationCheck::Forget(const std::string& serial) {
  std::lock_guard lock(mutex_);
  cache_.erase(serial);
}

}  // namespace tessera::ca
