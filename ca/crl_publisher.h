// Keeps every issuing CA's CRL current: a new CRL when revocations moved the revision, and
// before nextUpdate comes close. Runs on a background thread of tessera-ca, never on the
// request path; several replicas may run it (the store keeps the numbers strictly increasing).
#pragma once

#include <chrono>
#include <map>
#include <memory>

#include "absl/status/status.h"
#include "ca/crl_store.h"
#include "ca/issuer.h"
#include "platform/clock.h"
#include "platform/periodic.h"

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
      : store_(store),
        issuers_(issuers),
        clock_(clock),
        policy_(policy),
        task_("crl_publisher", policy.poll, [this] { return RunOnce().status(); }) {}

  // Publishes what is due for every issuer; returns how many CRLs it signed.
  absl::StatusOr<int> RunOnce();
  void Start() { task_.Start(); }  // RunOnce every policy.poll on a background thread
  // RunOnce now (the CRLs exist before anything is served), then as Start.
  absl::Status RunThenStart() { return task_.RunThenStart(); }
  void Stop() { task_.Stop(); }

 private:
  absl::StatusOr<bool> PublishIfDue(const Issuer& issuer);

  CrlStore& store_;
  const std::map<std::string, std::unique_ptr<Issuer>>& issuers_;
  const Clock& clock_;
  CrlPolicy policy_;
  PeriodicTask task_;  // last: its thread uses the members above
};

}  // namespace tessera::ca
