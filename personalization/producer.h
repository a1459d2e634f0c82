// One round of the personalization daemon's work: claim orders, make each card and each
// workstation bundle, report what became of them. The daemon (services/perso) runs rounds
// while its batches run; several daemons share the queue through the registry's leases.
#pragma once

#include <functional>
#include <optional>
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
  // Orders of the reach not yet produced or failed after this claim, held ones included
  // (every worker's); -1 if the source cannot say.
  int open_orders = -1;
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
// A card failed for good has its certificate, if one was issued, withdrawn first
// (CardMaker::Abandon).
bool IsFinal(const absl::Status& failure);

struct RoundReport {
  int produced = 0;
  int failed = 0;                        // reported failed for good
  int retried = 0;                       // left for the next round
  absl::Status retry_reason;             // the last failure that left an order for later
  int open_orders = -1;                  // as the claim said (ClaimedWork::open_orders)
  std::vector<Outcome> outcomes;         // what was reported, produced and failed
  std::vector<absl::Status> unreported;  // the registry refused an outcome (logged by the caller)
};

// Optional hooks of a round: where it stands (the reader's status line), and each outcome
// before it is reported (the daemon records it against its batch; a failure to record leaves
// the order for the next round, unreported).
struct RoundHooks {
  std::function<void(const std::string& order, std::string_view step)> on_step;
  // `card` is the order of a card outcome, null for a workstation's.
  std::function<absl::Status(const Outcome&, const CardToMake* card)> record;
};

class Producer {
 public:
  // With `reader_slot`, the round's cards are made in that reader (CardMaker::Make), and the
  // encoder lets go of each once its outcome is recorded.
  Producer(OrderSource& orders, CardMaker& cards, BundleIssuer& bundles, RoundHooks hooks = {},
           std::optional<CK_SLOT_ID> reader_slot = {})
      : orders_(orders),
        cards_(cards),
        bundles_(bundles),
        hooks_(std::move(hooks)),
        reader_slot_(reader_slot) {}

  absl::StatusOr<RoundReport> RunOnce(int limit);

 private:
  OrderSource& orders_;
  CardMaker& cards_;
  BundleIssuer& bundles_;
  RoundHooks hooks_;
  std::optional<CK_SLOT_ID> reader_slot_;
};

}  // namespace tessera::personalization
