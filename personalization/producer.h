// One round of the personalization daemon's work: claim orders, make each card and each
// workstation bundle, report what became of them. The daemon (services/perso) runs rounds
// while its batches run; several daemons share the queue through the registry's leases.
#pragma once

#include <span>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "personalization/card_maker.h"
#include "personalization/workstation_bundles.h"

namespace tessera::personalization {

// What the registry hands out (ClaimOrders) and takes back (ReportOrders), as the daemon sees
// it.
struct ClaimedWork {
  std::vector<CardToMake> cards;
  std::vector<std::string> workstations;  // common ids
};
struct Outcome {
  bool card = true;
  std::string order;               // card number or workstation common id
  std::string certificate_serial;  // produced: lower-case hex
  std::string failure;             // failed for good: why
};
class OrderSource {
 public:
  virtual ~OrderSource() = default;
  // Up to `limit` orders of each kind, this worker's own claims first.
  virtual absl::StatusOr<ClaimedWork> Claim(int limit) = 0;
  // One status per outcome, in order.
  virtual absl::StatusOr<std::vector<absl::Status>> Report(std::span<const Outcome> outcomes) = 0;
};

// Whether a failed step will fail again however often it is retried (a refused subject, a
// foreign token, a malformed order): such a card or workstation is reported failed. Anything
// else (a service unreachable, a deadline, a token busy) is left claimed for the next round.
bool IsFinal(const absl::Status& failure);

struct RoundReport {
  int produced = 0;
  int failed = 0;                        // reported failed for good
  int retried = 0;                       // left for the next round
  std::vector<absl::Status> unreported;  // the registry refused an outcome (logged by the caller)
};

class Producer {
 public:
  Producer(OrderSource& orders, CardMaker& cards, BundleIssuer& bundles)
      : orders_(orders), cards_(cards), bundles_(bundles) {}

  absl::StatusOr<RoundReport> RunOnce(int limit);

 private:
  OrderSource& orders_;
  CardMaker& cards_;
  BundleIssuer& bundles_;
};

}  // namespace tessera::personalization
