// Keeps every issuing CA's CRL current: a new CRL when revocations moved the revision, and
// before nextUpdate comes close. Runs on a background thread of tessera-ca, never on the
// request path; several replicas may run it (the store keeps the numbers strictly increasing).
#pragma once

#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <thread>

#include "absl/status/status.h"
#include "ca/crl_store.h"
#include "ca/issuer.h"
#include "platform/clock.h"

namespace tessera::ca {

struct CrlPolicy {
  std::chrono::seconds validity{std::chrono::hours(24)};  // nextUpdate - thisUpdate
  std::chrono::seconds refresh_before{
      std::chrono::hours(12)};  // re-sign this long before nextUpdate
  std::chrono::milliseconds poll{std::chrono::milliseconds(500)};
};

class CrlPublisher {
 public:
  CrlPublisher(CrlStore& store, const std::map<std::string, std::unique_ptr<Issuer>>& issuers,
               const Clock& clock, CrlPolicy policy = {})
      : store_(store), issuers_(issuers), clock_(clock), policy_(policy) {}
  ~CrlPublisher() { Stop(); }

  // Publishes what is due for every issuer; returns how many CRLs it signed.
  absl::StatusOr<int> RunOnce();
  void Start();  // RunOnce every policy.poll on a background thread
  void Stop();

 private:
  absl::StatusOr<bool> PublishIfDue(const Issuer& issuer);

  CrlStore& store_;
  const std::map<std::string, std::unique_ptr<Issuer>>& issuers_;
  const Clock& clock_;
  CrlPolicy policy_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace tessera::ca
