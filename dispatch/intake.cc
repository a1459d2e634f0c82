#include "dispatch/intake.h"

#include "platform/log.h"
#include "platform/status_macros.h"

namespace tessera::dispatch {

absl::StatusOr<int> TakeOverSealedLots(LotSource& source, DispatchStore& store,
                                       const Clock& clock) {
  TESSERA_ASSIGN_OR_RETURN(std::vector<std::string> sealed, source.Sealed());
  int taken = 0;
  for (const std::string& lot_number : sealed) {
    absl::StatusOr<LotSummary> known = store.GetLot(lot_number);
    if (known.ok()) continue;
    if (known.status().code() != absl::StatusCode::kNotFound) return known.status();
    TESSERA_ASSIGN_OR_RETURN(LotIntake lot, source.HandOver(lot_number));
    TESSERA_ASSIGN_OR_RETURN(bool recorded, store.TakeOver(lot, clock.Now()));
    if (!recorded) continue;
    ++taken;
    LogEvent(spdlog::level::info, "lot_taken_over",
             {{"lot", lot.lot_number},
              {"office", lot.office},
              {"prefettura", lot.prefettura},
              {"cards", std::to_string(lot.cards.size())}});
  }
  return taken;
}

}  // namespace tessera::dispatch
