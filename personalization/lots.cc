#include "personalization/lots.h"

#include <botan/x509cert.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "personalization/card_maker.h"
#include "personalization/print_files.h"
#include "personalization/token_archive.h"
#include "platform/files.h"
#include "platform/log.h"
#include "platform/request_id.h"
#include "platform/status_macros.h"

namespace tessera::personalization {

absl::Status LotDesk::WriteFiles(const Lot& lot) {
  std::vector<CardFace> faces;
  std::vector<EnvelopeSheet> sheets;
  for (const LotCard& card : lot.cards) {
    std::chrono::year_month_day expires{};
    try {
      expires =
          ItalianDate(Botan::X509_Certificate(card.certificate).not_after().to_std_timepoint());
    } catch (const std::exception& e) {
      return absl::DataLossError(absl::StrCat("lot ", lot.number, ": card ", card.card_number,
                                              "'s certificate: ", e.what()));
    }
    faces.push_back({card.card_number, card.surname, card.name, expires});
    EnvelopeSheet sheet{.card_number = card.card_number,
                        .holder = absl::StrCat(card.surname, " ", card.name),
                        .comune = lot.office_name};
    for (auto [credential, half] : {std::pair{Credential::kPin, &sheet.pin_half},
                                    std::pair{Credential::kPuk, &sheet.puk_half},
                                    std::pair{Credential::kPassword, &sheet.password_half}}) {
      TESSERA_ASSIGN_OR_RETURN(*half, OpenHalf(sealer_, card.card_number, credential,
                                               Half::kEnvelope, card.envelope.Get(credential)));
    }
    sheets.push_back(std::move(sheet));
  }
  TESSERA_ASSIGN_OR_RETURN(std::string cards_pdf, CardFacesPdf(faces));
  TESSERA_ASSIGN_OR_RETURN(Secret envelopes_pdf, EnvelopesPdf(sheets));
  const std::string cards_file = absl::StrCat(spool_dir_, "/lot-", lot.number, "-cards.pdf");
  const std::string envelopes_file =
      absl::StrCat(spool_dir_, "/lot-", lot.number, "-envelopes.pdf");
  TESSERA_RETURN_IF_ERROR(WriteFile(cards_file, cards_pdf));
  TESSERA_RETURN_IF_ERROR(WriteSecretFile(envelopes_file, envelopes_pdf.view()));
  TESSERA_RETURN_IF_ERROR(
      store_.FilesWritten(lot.number, cards_file, envelopes_file, clock_.Now()));
  LogEvent(spdlog::level::info, "lot_files_written",
           {{"lot", lot.number},
            {"office", lot.office},
            {"cards", std::to_string(lot.cards.size())},
            {"cards_file", cards_file},
            {"envelopes_file", envelopes_file}});
  return absl::OkStatus();
}

absl::StatusOr<std::vector<Lot>> LotDesk::SealAndPrint() {
  TESSERA_ASSIGN_OR_RETURN(int sealed, store_.SealEndedBatches(clock_.Now()));
  if (sealed > 0) LogEvent(spdlog::level::info, "lots_sealed", {{"lots", std::to_string(sealed)}});
  TESSERA_ASSIGN_OR_RETURN(std::vector<Lot> lots, store_.LotsToPrint());
  for (const Lot& lot : lots) TESSERA_RETURN_IF_ERROR(WriteFiles(lot));
  // The shelf's cards of every sealed lot into their lots' directories: of the lots printed or
  // sealed now at once, of lots other daemons sealed at least every kShelfSweep.
  const Clock::TimePoint now = clock_.Now();
  if (!archive_dir_.empty() &&
      (sealed > 0 || !lots.empty() || !last_sweep_ || now - *last_sweep_ >= kShelfSweep)) {
    last_sweep_ = now;
    TESSERA_RETURN_IF_ERROR(ShelveSealedCards(archive_dir_, [this](const auto& card_numbers) {
                              return store_.SealedLotsOf(card_numbers);
                            }).status());
  }
  return lots;
}

absl::StatusOr<MailHalves> LotDesk::ReleaseMailHalves(const std::string& card_number,
                                                      const BatchRequest& request) {
  TESSERA_RETURN_IF_ERROR(CheckActor(request.actor));
  TESSERA_RETURN_IF_ERROR(CheckRequestId(request.request_id));
  if (!IsCardNumber(card_number)) return absl::InvalidArgumentError("card_number: 16 digits");
  TESSERA_ASSIGN_OR_RETURN(SealedHalves sealed,
                           store_.MailHalvesFor(card_number, request, clock_.Now()));
  MailHalves halves;
  TESSERA_ASSIGN_OR_RETURN(
      halves.pin, OpenHalf(sealer_, card_number, Credential::kPin, Half::kMail, sealed.pin));
  TESSERA_ASSIGN_OR_RETURN(
      halves.puk, OpenHalf(sealer_, card_number, Credential::kPuk, Half::kMail, sealed.puk));
  TESSERA_ASSIGN_OR_RETURN(halves.password, OpenHalf(sealer_, card_number, Credential::kPassword,
                                                     Half::kMail, sealed.password));
  LogEvent(spdlog::level::info, "mail_halves_released",
           {{"card", card_number}, {"request_id", request.request_id}},
           ActorLogFields(request.actor));
  return halves;
}

absl::StatusOr<std::vector<std::string>> LotDesk::ConfirmPrinted(int64_t batch_id,
                                                                 const BatchRequest& request) {
  TESSERA_RETURN_IF_ERROR(CheckActor(request.actor));
  TESSERA_ASSIGN_OR_RETURN(std::vector<Lot> lots, store_.Unprinted(batch_id));
  std::vector<std::string> confirmed;
  for (const Lot& lot : lots) {
    // Only a file this desk writes: a row pointing elsewhere is not followed.
    const std::string expected = absl::StrCat(spool_dir_, "/lot-", lot.number, "-envelopes.pdf");
    if (lot.envelopes_file != expected) {
      return absl::DataLossError(absl::StrCat("lot ", lot.number, ": envelopes_file '",
                                              lot.envelopes_file, "' is not ", expected));
    }
    // The file first: a crash after this leaves a lot recorded unprinted with no file, which
    // the next confirmation completes; never a file with the halves after "printed".
    if (unlink(lot.envelopes_file.c_str()) != 0 && errno != ENOENT) {
      return absl::InternalError(
          absl::StrCat("destroying ", lot.envelopes_file, ": ", std::strerror(errno)));
    }
    TESSERA_RETURN_IF_ERROR(store_.Printed(lot.number, request, clock_.Now()));
    LogEvent(spdlog::level::info, "lot_printed",
             {{"lot", lot.number},
              {"batch", std::to_string(batch_id)},
              {"envelopes_file", lot.envelopes_file}},
             ActorLogFields(request.actor));
    confirmed.push_back(lot.number);
  }
  return confirmed;
}

}  // namespace tessera::personalization
