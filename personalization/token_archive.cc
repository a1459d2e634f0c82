#include "personalization/token_archive.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "hsm/softhsm_store.h"
#include "platform/log.h"
#include "platform/status_macros.h"

namespace tessera::personalization {
namespace {

bool IsCardNumber(const std::string& label) {
  return label.size() == 16 &&
         std::all_of(label.begin(), label.end(), [](char c) { return absl::ascii_isdigit(c); });
}

}  // namespace

absl::StatusOr<ArchiveReport> ArchiveSealedCards(std::shared_ptr<hsm::Module>& cards,
                                                 const SealedLotsOf& lot_of,
                                                 const std::string& archive) {
  ArchiveReport report;
  TESSERA_ASSIGN_OR_RETURN(std::vector<hsm::TokenInfo> tokens, cards->ListTokens());
  std::vector<std::string> card_numbers;
  std::map<std::string, std::string> serial_of;
  for (const hsm::TokenInfo& token : tokens) {
    if (!hsm::IsSoftHsm(token)) continue;
    report.softhsm = true;
    if (!token.initialized || !IsCardNumber(token.label)) continue;
    card_numbers.push_back(token.label);
    serial_of[token.label] = token.serial;
  }
  report.live = static_cast<int>(card_numbers.size());
  if (card_numbers.empty()) return report;
  TESSERA_ASSIGN_OR_RETURN(auto lots, lot_of(card_numbers));
  if (lots.empty()) return report;

  if (cards.use_count() != 1) {
    return absl::FailedPreconditionError(
        "card archive: the card module is in use; archive before anything opens it");
  }
  TESSERA_ASSIGN_OR_RETURN(std::string token_directory, hsm::SoftHsmTokenDirectory());
  const std::string path = cards->path();
  cards.reset();  // C_Finalize: SoftHSM lets go of every token
  absl::Status moved = absl::OkStatus();
  for (const auto& [card, lot] : lots) {
    moved = hsm::MoveSoftHsmToken(token_directory, serial_of[card],
                                  absl::StrCat(archive, "/lot-", lot));
    if (!moved.ok()) break;
    ++report.archived;
    --report.live;
  }
  TESSERA_ASSIGN_OR_RETURN(cards, hsm::Module::Load(path));
  TESSERA_RETURN_IF_ERROR(moved);
  LogEvent(spdlog::level::info, "cards_archived",
           {{"archived", std::to_string(report.archived)},
            {"live", std::to_string(report.live)},
            {"archive", archive}});
  return report;
}

}  // namespace tessera::personalization
