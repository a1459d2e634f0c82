#include "dispatch/intake.h"

#include "absl/strings/str_cat.h"
#include "platform/log.h"
#include "platform/status_macros.h"

namespace tessera::dispatch {

absl::StatusOr<std::vector<QueuedMail>> CardsAtThePrefetturaNotice(const LotIntake& lot,
                                                                   CensusDirectory& directory) {
  const std::string office = CensusOfficeOf(lot.office);
  if (!office.starts_with("comune:")) return std::vector<QueuedMail>{};
  TESSERA_ASSIGN_OR_RETURN(std::optional<OfficeContact> comune, PlaceOnRecord(directory, office));
  if (!comune.has_value() || comune->pec.empty()) {
    LogEvent(spdlog::level::warn, "lot_notice_skipped",
             {{"lot", lot.lot_number}, {"office", lot.office}, {"why", "no PEC on record"}});
    return std::vector<QueuedMail>{};
  }
  TESSERA_ASSIGN_OR_RETURN(std::optional<OfficeContact> prefettura,
                           PlaceOnRecord(directory, "prefettura:" + lot.office.substr(0, 3)));
  const std::string where =
      prefettura.has_value() ? absl::StrCat(prefettura->name, ", ", prefettura->address)
                             : absl::StrCat("la Prefettura della provincia (", lot.prefettura, ")");
  return std::vector<QueuedMail>{
      {.kind = "cards_at_prefettura",
       .to = comune->pec,
       .subject = absl::StrCat("ANPR: smart card per operatori disponibili in Prefettura (lotto ",
                               lot.lot_number, ")"),
       .body = absl::StrCat(
           "Al ", comune->name,
           ".\n\nSi comunica che le smart card per operatori ANPR del lotto "
           "n. ",
           lot.lot_number, " (", lot.cards.size(), " carte) sono disponibili presso: ", where,
           ".\n\nLe ritira il sindaco, o un suo delegato censito come operatore del comune, "
           "che alla consegna riceve nella propria casella di posta personale la seconda metà "
           "dei codici della propria carta; le altre carte si registrano poi ai titolari.\n\n"
           "Ministero dell'Interno - ANPR\n")}};
}

absl::StatusOr<int> TakeOverSealedLots(LotSource& source, DispatchStore& store,
                                       CensusDirectory& directory, const Clock& clock) {
  TESSERA_ASSIGN_OR_RETURN(std::vector<std::string> sealed, source.Sealed());
  int taken = 0;
  for (const std::string& lot_number : sealed) {
    absl::StatusOr<LotSummary> known = store.GetLot(lot_number);
    if (known.ok()) continue;
    if (known.status().code() != absl::StatusCode::kNotFound) return known.status();
    TESSERA_ASSIGN_OR_RETURN(LotIntake lot, source.HandOver(lot_number));
    TESSERA_ASSIGN_OR_RETURN(std::vector<QueuedMail> notices,
                             CardsAtThePrefetturaNotice(lot, directory));
    TESSERA_ASSIGN_OR_RETURN(bool recorded, store.TakeOver(lot, clock.Now(), notices));
    if (!recorded) continue;
    ++taken;
    LogEvent(spdlog::level::info, "lot_taken_over",
             {{"lot", lot.lot_number},
              {"office", lot.office},
              {"prefettura", lot.prefettura},
              {"cards", std::to_string(lot.cards.size())},
              {"notices", std::to_string(notices.size())}});
  }
  return taken;
}

}  // namespace tessera::dispatch
