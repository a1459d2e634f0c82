// tessera-ca's revocation at the door: every caller's certificate is looked up in the CA's
// own records (one primary-key query on serial, then the issuer compared), so a certificate
// this CA revoked opens nothing from the next call. Answers are cached for `ttl` and a
// revocation made here drops its entry at once (another replica's shows within ttl). A
// certificate tessera-ca has no record of is refused: every certificate it or the ceremony
// signed is on record. A database outage refuses callers (UNAVAILABLE): fail closed.
#pragma once

#include <chrono>
#include <mutex>
#include <string>
#include <unordered_map>

#include "ca/certificate_store.h"
#include "platform/clock.h"
#include "platform/revocation.h"

namespace tessera::ca {

class RecordedRevocationCheck final : public RevocationCheck {
 public:
  RecordedRevocationCheck(CertificateStore& store, const Clock& clock,
                          std::chrono::seconds ttl = std::chrono::seconds(10))
      : store_(store), clock_(clock), ttl_(ttl) {}

  absl::Status Check(const Principal& caller) override;
  bool MayBlock() const override { return true; }
  absl::Status Health() const override { return absl::OkStatus(); }

  // The certificate's status changed here: ask the records again on its next call.
  void Forget(const std::string& serial);

 private:
  struct Cached {
    std::string issuer;
    absl::Status verdict;
    Clock::TimePoint at;
  };
  absl::Status Lookup(const Principal& caller);

  CertificateStore& store_;
  const Clock& clock_;
  const std::chrono::seconds ttl_;
  std::mutex mutex_;
  std::unordered_map<std::string, Cached> cache_;  // by serial
};

}  // namespace tessera::ca
