// Where a produced card goes. On a card line the card leaves its reader (hsm::Module::LetGo);
// on SoftHSM (test rigs, the demo) its token is a directory in the daemon's live token store,
// and SoftHSM slows with every token there: C_InitToken lists the whole directory, and
// C_Initialize reads every token (0.04 s at 1 token, 0.2–0.47 s at 1,000). So:
//   - once a produced card's outcome is recorded, its token directory moves to
//     `<archive>/produced/<card number>` and the module retires its slot (ProducedCardShelf);
//   - when the card's lot is sealed, the lot desk moves it on to
//     `<archive>/lot-<number>/<card number>` (ShelveSealedCards);
//   - at start, before anything uses the card module, tokens of cards in sealed lots still in
//     the live store (a crash came between) go to their lot (ArchiveSealedCards).
// Each `lot-<number>` directory is a SoftHSM token directory: a softhsm2.conf naming it shows
// that lot's cards to pkcs11-tool.
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
};

// Moves the shelved tokens (<archive>/produced) of cards in sealed lots into their lots'
// directories; returns how many. The shelf holds the cards this daemon made: a lot sealed by
// another daemon finds them here.
absl::StatusOr<int> ShelveSealedCards(const std::string& archive, const SealedLotsOf& lot_of);

// Archives the tokens of sealed cards (the shelf's first, as ShelveSealedCards). `cards` must be
// the only reference to the module: it is finalized while the tokens move, then loaded again (the
// new instance is left in `cards`). Not SoftHSM: nothing to move (real cards are taken out of their
// readers).
absl::StatusOr<ArchiveReport> ArchiveSealedCards(std::shared_ptr<hsm::Module>& cards,
                                                 const SealedLotsOf& lot_of,
                                                 const std::string& archive);

// The run-time half: SoftHSM keeps a moved token's slot, which nobody touches again.
class ProducedCardShelf {
 public:
  static absl::StatusOr<std::unique_ptr<ProducedCardShelf>> Open(std::shared_ptr<hsm::Module> cards,
                                                                 std::string archive);
  // The produced card's token out of the live store (a token not found: shelved before).
  absl::Status Shelve(const std::string& card_number);

 private:
  ProducedCardShelf(std::shared_ptr<hsm::Module> cards, std::string token_directory,
                    std::string archive)
      : cards_(std::move(cards)),
        token_directory_(std::move(token_directory)),
        archive_(std::move(archive)) {}

  std::shared_ptr<hsm::Module> cards_;
  const std::string token_directory_, archive_;
};

}  // namespace tessera::personalization
