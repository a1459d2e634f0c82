#include "personalization/token_archive.h"

#include <filesystem>

#include "absl/strings/str_cat.h"
#include "hsm/softhsm_store.h"
#include "personalization/card_maker.h"
#include "platform/log.h"
#include "platform/status_macros.h"

namespace tessera::personalization {
namespace {

// A shelved card's token into its sealed lot's directory (nothing to do if it is not on the
// shelf: made by another daemon, on a card line, or moved before).
absl::Status ShelveIntoLot(const std::string& archive, const std::string& lot,
                           const std::string& card_number) {
  namespace fs = std::filesystem;
  const fs::path shelved = fs::path(archive) / "produced" / card_number;
  std::error_code error;
  if (!fs::exists(shelved, error)) return absl::OkStatus();  // made elsewhere, or moved before
  const fs::path lot_dir = fs::path(archive) / absl::StrCat("lot-", lot);
  fs::create_directories(lot_dir, error);
  if (!error) fs::rename(shelved, lot_dir / card_number, error);
  if (error) {
    return absl::UnavailableError(absl::StrCat("moving ", shelved.string(), " into ",
                                               lot_dir.string(), ": ", error.message()));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<int> ShelveSealedCards(const std::string& archive, const SealedLotsOf& lot_of) {
  std::vector<std::string> shelved;
  std::error_code error;
  for (const auto& entry :
       std::filesystem::directory_iterator(std::filesystem::path(archive) / "produced", error)) {
    // (a token being moved in from another file system: not a card yet)
    if (IsCardNumber(entry.path().filename().string())) {
      shelved.push_back(entry.path().filename().string());
    }
  }
  if (shelved.empty()) return 0;
  TESSERA_ASSIGN_OR_RETURN(auto sealed, lot_of(shelved));
  for (const auto& [card, lot] : sealed) {
    TESSERA_RETURN_IF_ERROR(ShelveIntoLot(archive, lot, card));
  }
  return static_cast<int>(sealed.size());
}

absl::StatusOr<ArchiveReport> ArchiveSealedCards(std::shared_ptr<hsm::Module>& cards,
                                                 const SealedLotsOf& lot_of,
                                                 const std::string& archive) {
  ArchiveReport report;
  TESSERA_RETURN_IF_ERROR(ShelveSealedCards(archive, lot_of).status());
  TESSERA_ASSIGN_OR_RETURN(std::vector<hsm::TokenInfo> tokens, cards->ListTokens());
  std::vector<std::string> card_numbers;
  std::map<std::string, std::string> serial_of;
  for (const hsm::TokenInfo& token : tokens) {
    if (!hsm::IsSoftHsm(token)) continue;
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
                                  absl::StrCat(archive, "/lot-", lot), card);
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

absl::StatusOr<std::unique_ptr<ProducedCardShelf>> ProducedCardShelf::Open(
    std::shared_ptr<hsm::Module> cards, std::string archive) {
  TESSERA_ASSIGN_OR_RETURN(std::string token_directory, hsm::SoftHsmTokenDirectory());
  return std::unique_ptr<ProducedCardShelf>(
      new ProducedCardShelf(std::move(cards), std::move(token_directory), std::move(archive)));
}

absl::Status ProducedCardShelf::Shelve(const std::string& card_number) {
  absl::StatusOr<hsm::TokenInfo> token = cards_->FindTokenByLabel(card_number);
  if (token.status().code() == absl::StatusCode::kNotFound) return absl::OkStatus();  // shelved
  TESSERA_RETURN_IF_ERROR(token.status());
  if (!hsm::IsSoftHsm(*token)) return absl::OkStatus();
  TESSERA_RETURN_IF_ERROR(hsm::MoveSoftHsmToken(token_directory_, token->serial,
                                                absl::StrCat(archive_, "/produced"), card_number));
  cards_->Retire(token->slot);
  return absl::OkStatus();
}

}  // namespace tessera::personalization
