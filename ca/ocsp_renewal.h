// Keeps the delegated OCSP responders' short-lived certificates current, so answers never go
// out signed under an expired certificate: when one has less than `renew_before` left, the
// responder's key (on the HSM, never rotated here: that is a ceremony's job) is certified
// again through the ordinary issuance path (intent, lint, one signature, recorded), and
// answers are signed with the new certificate at once.
//
// Several replicas may run it: the request_id is derived from the certificate being
// replaced, so they all ask for the same renewal and the CA signs it once.
#pragma once

#include <chrono>

#include "absl/status/statusor.h"
#include "ca/authority.h"
#include "ca/ocsp_responder.h"
#include "platform/clock.h"
#include "platform/periodic.h"

namespace tessera::ca {

struct OcspRenewalPolicy {
  std::chrono::seconds renew_before{std::chrono::hours(24 * 10)};
  std::chrono::milliseconds poll{std::chrono::hours(1)};
};

class OcspResponderRenewal {
 public:
  OcspResponderRenewal(CertificateAuthority& authority, OcspResponder& responder,
                       const Clock& clock, OcspRenewalPolicy policy = {})
      : authority_(authority),
        responder_(responder),
        clock_(clock),
        policy_(policy),
        task_("ocsp_renewal", policy.poll, [this] { return RunOnce().status(); }) {}

  // Renews every responder certificate that is due; returns how many it replaced.
  absl::StatusOr<int> RunOnce();
  void Start() { task_.Start(); }  // RunOnce now and every policy.poll on a background thread
  void Stop() { task_.Stop(); }

 private:
  CertificateAuthority& authority_;
  OcspResponder& responder_;
  const Clock& clock_;
  OcspRenewalPolicy policy_;
  PeriodicTask task_;  // last: its thread uses the members above
};

}  // namespace tessera::ca
