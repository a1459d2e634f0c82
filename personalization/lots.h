// Lots (docs/process.md, "Lots and print files"; seed 001 §5.6): when a batch ends (finished or
// cancelled), its produced cards are sealed into lots, one per ordering office, each with a
// national lot number and the prefettura of the office's province that will receive it. Each
// lot gets its print files in the spool: the card faces, and the envelope sheets with the
// envelope halves (0600; the only place they are ever in clear). When an operator confirms the
// print, the envelope files are destroyed and the sealed envelope halves dropped. The dispatch
// service lists sealed lots and takes each over once.
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "hsm/secret_sealer.h"
#include "personalization/batches.h"
#include "personalization/credentials.h"
#include "platform/clock.h"

namespace tessera::personalization {

struct LotCard {
  std::string card_number;
  std::string codice_fiscale, surname, name;
  std::vector<uint8_t> certificate;  // DER: its notAfter is the expiry printed on the face
  SealedHalves envelope;             // empty once printed
};

struct Lot {
  std::string number;  // 10 digits: the year, then a national sequence
  int64_t batch_id = 0;
  std::string office, office_name;
  std::string prefettura;  // sigla of the receiving prefettura's province ("" for the Ministry)
  Clock::TimePoint sealed_at{};
  std::string cards_file, envelopes_file;  // empty until written
  bool printed = false;
  bool handed_over = false;
  std::vector<LotCard> cards;  // in the order of the print files
};

class LotStore {
 public:
  virtual ~LotStore() = default;
  // Seals the produced cards of every ended batch that are in no lot yet, one lot per office;
  // returns how many lots it sealed.
  virtual absl::StatusOr<int> SealEndedBatches(Clock::TimePoint now) = 0;
  // Sealed lots whose files are not written yet, with their cards.
  virtual absl::StatusOr<std::vector<Lot>> LotsToPrint() = 0;
  virtual absl::Status FilesWritten(const std::string& lot, const std::string& cards_file,
                                    const std::string& envelopes_file, Clock::TimePoint now) = 0;
  // The batch's lots whose files are written and whose print is not confirmed.
  virtual absl::StatusOr<std::vector<Lot>> Unprinted(int64_t batch_id) = 0;
  // Records the print confirmed and drops the lot's sealed envelope halves, in one
  // transaction; a lot printed before is left as it is.
  virtual absl::Status Printed(const std::string& lot, const BatchRequest& request,
                               Clock::TimePoint now) = 0;
  // Sealed lots: those not handed over yet (or all, the latest 1000), without cards.
  virtual absl::StatusOr<std::vector<Lot>> List(bool include_handed_over) = 0;
  // One lot with its cards (no halves); NOT_FOUND for an unknown number.
  virtual absl::StatusOr<Lot> Get(const std::string& lot) = 0;
  // Marks the lot taken over by `to`; a repeat by the same taker is OK, FAILED_PRECONDITION
  // if another took it.
  virtual absl::Status HandOver(const std::string& lot, const std::string& to,
                                Clock::TimePoint now) = 0;
  // The card's sealed mail halves for its lot's taker, the request recorded (mail_half_requests)
  // in the same transaction. NOT_FOUND for a card in no sealed lot; FAILED_PRECONDITION if its
  // lot is not handed over to the request's caller; ALREADY_EXISTS for a request id used for
  // another card. A retry records nothing new.
  virtual absl::StatusOr<SealedHalves> MailHalvesFor(const std::string& card_number,
                                                     const BatchRequest& request,
                                                     Clock::TimePoint now) = 0;
  // Card number → lot number, for those of `card_numbers` that are in a sealed lot
  // (personalization/token_archive.h).
  virtual absl::StatusOr<std::map<std::string, std::string>> SealedLotsOf(
      const std::vector<std::string>& card_numbers) = 0;
};

// A card's mail halves in clear, for the one holder they are mailed to.
struct MailHalves {
  Secret pin, puk, password;
};

// The lots' side of a daemon's upkeep, and the operator's print confirmation.
class LotDesk {
 public:
  // `archive_dir`: SoftHSM's card archive (personalization/token_archive.h), or "" for none.
  LotDesk(LotStore& store, const hsm::SecretSealer& sealer, std::string spool_dir,
          const Clock& clock, std::string archive_dir = "")
      : store_(store),
        sealer_(sealer),
        spool_dir_(std::move(spool_dir)),
        clock_(clock),
        archive_dir_(std::move(archive_dir)) {}

  // Seals what ended batches produced and writes the print files of lots without them:
  // <spool>/lot-<number>-cards.pdf and <spool>/lot-<number>-envelopes.pdf (0600), and moves
  // their cards' shelved tokens into the lot's archive. Returns the lots whose files it wrote.
  // The shelf is swept whenever it sealed or printed lots, and at least every kShelfSweep: the
  // shelved tokens of cards whose lot another daemon sealed (that daemon could not move them:
  // they are on this one's shelf) move then.
  absl::StatusOr<std::vector<Lot>> SealAndPrint();
  static constexpr std::chrono::seconds kShelfSweep{30};

  // The mail halves of one card, opened for the dispatch service that took its lot over, at
  // the holder's registration or for a resend; each request recorded and logged (never the
  // halves). INVALID_ARGUMENT naming the field for a malformed card number or request id.
  absl::StatusOr<MailHalves> ReleaseMailHalves(const std::string& card_number,
                                               const BatchRequest& request);

  // The operator confirms the batch's envelopes printed: each envelope file is destroyed, then
  // the lot is recorded printed (by whom, when) and its sealed envelope halves are dropped.
  // Returns the lots confirmed now.
  absl::StatusOr<std::vector<std::string>> ConfirmPrinted(int64_t batch_id,
                                                          const BatchRequest& request);

 private:
  absl::Status WriteFiles(const Lot& lot);

  LotStore& store_;
  const hsm::SecretSealer& sealer_;
  const std::string spool_dir_;
  const Clock& clock_;
  const std::string archive_dir_;
  std::optional<Clock::TimePoint> last_sweep_;  // of the shelf (SealAndPrint's caller's thread)
};

}  // namespace tessera::personalization
