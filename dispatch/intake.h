// Lots come over from personalization: every sealed lot is asked for (the hand-over makes it
// the dispatch service's, once) and recorded here with its cards SPEDITA, on their way to the
// prefettura of its province. A lot handed over whose recording was cut short (a crash between
// the two) is asked for again: the hand-over answers a retry alike.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "dispatch/desk.h"
#include "dispatch/lots.h"
#include "platform/clock.h"

namespace tessera::dispatch {

// Personalization's sealed lots, as the dispatch service takes them.
class LotSource {
 public:
  virtual ~LotSource() = default;
  // Numbers of the sealed lots it may take, oldest first: those not handed over yet, and the
  // latest ones handed over (to find one whose recording was cut short).
  virtual absl::StatusOr<std::vector<std::string>> Sealed() = 0;
  // The lot with its cards, now the dispatch service's (a retry answers the same).
  virtual absl::StatusOr<LotIntake> HandOver(const std::string& lot_number) = 0;
};

// The notice to a comune's PEC that its lot is at the prefettura (seed 001 §5.6): none for a
// prefettura's or the Ministry's lot, nor for a comune without a PEC on record (logged).
absl::StatusOr<std::vector<QueuedMail>> CardsAtThePrefetturaNotice(const LotIntake& lot,
                                                                   CensusDirectory& directory);

// Takes over every sealed lot the store does not have yet, each with its notice; how many it
// took.
absl::StatusOr<int> TakeOverSealedLots(LotSource& source, DispatchStore& store,
                                       CensusDirectory& directory, const Clock& clock);

}  // namespace tessera::dispatch
