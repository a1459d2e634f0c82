// Where a produced card goes once its lot is sealed. On a card line the card leaves its reader
// by hand; on SoftHSM (test rigs, the demo) its token is a directory in the daemon's live token
// store, and SoftHSM's start-up time and memory grow with every token there (C_Initialize
// 0.04 s at 1 token, 0.2–0.47 s at 1,000). So the daemon, when it starts and before anything
// uses the card module, moves the tokens of cards in sealed lots into the lot's archive,
// `<archive>/lot-<number>/`: itself a SoftHSM token directory, so a softhsm2.conf naming it
// shows that lot's cards to pkcs11-tool. Cards of lots not sealed yet stay live: a card whose
// outcome is not reported yet is resumed on its token.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "hsm/module.h"

namespace tessera::personalization {

// For some card numbers, the sealed lot of each one that is in one.
using SealedLotsOf = std::function<absl::StatusOr<std::map<std::string, std::string>>(
    const std::vector<std::string>& card_numbers)>;

struct ArchiveReport {
  int archived = 0;  // tokens moved to their lot's archive
  int live = 0;      // card tokens left in the live store
  bool softhsm = false;
};

// Archives the tokens of sealed cards. `cards` must be the only reference to the module: it is
// finalized while the tokens move, then loaded again (the new instance is left in `cards`).
// Not SoftHSM: nothing to move (real cards are taken out of their readers).
absl::StatusOr<ArchiveReport> ArchiveSealedCards(std::shared_ptr<hsm::Module>& cards,
                                                 const SealedLotsOf& lot_of,
                                                 const std::string& archive);

}  // namespace tessera::personalization
