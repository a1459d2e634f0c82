// Producing one card on its token, step by step (docs/process.md, "Producing a card"). Each
// step is recorded in the card's journal when done, so a rerun after a crash or a failure
// resumes after the last recorded step and does no step's work twice on the card:
//
//   credentials  PIN, PUK and password drawn, both halves of each sealed and recorded
//                (whole, they live only in this process's memory)
//   token        the blank token labelled with the card number, SO PIN = PUK, user PIN set
//   key          the key pair generated on the card (sensitive, never extractable)
//   request      a PKCS#10 request signed on the card
//   certificate  the certificate from the CA, asked with request_id = the card number
//   written      the certificate on the card beside its key (same CKA_ID)
//   proved       a challenge signed on the card with the user PIN, verified with the
//                certificate: only then is the card produced
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "hsm/module.h"
#include "hsm/secret_sealer.h"
#include "hsm/session.h"
#include "personalization/credentials.h"
#include "personalization/token_archive.h"

namespace tessera::personalization {

// A card order as personalization receives it.
struct CardToMake {
  std::string card_number;  // 16 digits; the token's label
  std::string codice_fiscale;
  std::string surname, name;
  // The ordering office (ISTAT code, province code, or "ministero"), as printed on envelopes
  // ("ACCUMOLI (RI)"), and its province's sigla: its prefettura receives the card's lot.
  std::string office, office_name, province_sigla;
};

enum class CardStep {
  kNone,
  kCredentials,
  kToken,
  kKey,
  kRequest,
  kCertificate,
  kWritten,
  kProved
};
// "credentials", "token", …: as journals and logs name a step.
std::string_view CardStepName(CardStep step);

// Where a card's production stands: what its journal keeps between steps.
struct CardRecord {
  std::string card_number;
  CardStep done = CardStep::kNone;   // the last step completed
  SealedHalves envelope, mail;       // after kCredentials
  std::vector<uint8_t> request;      // PKCS#10 DER, after kRequest
  std::vector<uint8_t> certificate;  // X.509 DER, after kCertificate
  // How often the card was started again on a new token (its token spoiled, or not in this
  // station's readers); each attempt asks the CA under its own request id.
  int attempt = 0;
};

// The card journal: PostgreSQL in the daemon, memory in tests.
class CardJournal {
 public:
  virtual ~CardJournal() = default;
  virtual absl::StatusOr<std::optional<CardRecord>> Load(const std::string& card_number) = 0;
  // Records the card's progress; the step is done once this returns OK.
  virtual absl::Status Save(const CardRecord& record) = 0;
};

// The CA as the card maker needs it: a certificate for the card's request, issued once per
// card and attempt whatever the retries (request_id "card-<number>", "card-<number>-<n>" for
// the n-th attempt from 2 on).
class CardCertifier {
 public:
  virtual ~CardCertifier() = default;
  virtual absl::StatusOr<std::vector<uint8_t>> Certify(const CardToMake& card,
                                                       std::span<const uint8_t> request,
                                                       int attempt) = 0;
  // Revokes (reason superseded) the certificate issued for a card that will not be produced
  // with it; a retry answers OK.
  virtual absl::Status Withdraw(const CardToMake& card, std::span<const uint8_t> certificate) = 0;
};

// A card number's form: 16 digits (the ordering office's code, then a sequence).
bool IsCardNumber(const std::string& text);

// The key pair's CKA_ID on every card: one key pair, one certificate.
inline const std::vector<uint8_t> kCardKeyId = {0x01};

// A card started this many times without being proved is given up (FAILED_PRECONDITION).
inline constexpr int kCardAttempts = 4;

// The CA request id of a card's attempt.
std::string CardRequestId(const std::string& card_number, int attempt);

class CardMaker {
 public:
  CardMaker(std::shared_ptr<hsm::Module> cards, const hsm::SecretSealer& sealer,
            CardJournal& journal, CardCertifier& certifier,
            hsm::KeyAlgorithm algorithm = hsm::KeyAlgorithm::kEcP256)
      : cards_(std::move(cards)),
        sealer_(sealer),
        journal_(journal),
        certifier_(certifier),
        algorithm_(algorithm) {}

  // Runs the card's remaining steps and returns its record, proved. A failing step returns
  // its error with the steps before it recorded: calling again resumes there. A card spoiled
  // (token gone, unreadable or in another station's reader, key unusable) starts again: any
  // certificate issued for its attempt is withdrawn, the card is set back to its token step
  // with the same credentials and the next attempt, and ABORTED returned (calling again makes
  // it afresh); after kCardAttempts it is given up (FAILED_PRECONDITION). `starting`,
  // if given, hears each step as it starts (a reader's status line).
  // With `reader_slot` (a card line: readers bound to slots), the card is the one in that
  // reader: a new card takes the blank card there, and a card under way is looked for there
  // only; otherwise (SoftHSM) any free slot and a card found by its label anywhere.
  absl::StatusOr<CardRecord> Make(const CardToMake& card,
                                  const std::function<void(CardStep)>& starting = {},
                                  std::optional<CK_SLOT_ID> reader_slot = {});

  // The card's outcome is recorded: on a card line the encoder lets go of it (hsm::Module::
  // LetGo) and the line takes it out of the reader; on SoftHSM a produced card's token goes on
  // the shelf, if there is one (personalization/token_archive.h).
  absl::Status Release(const CardToMake& card, std::optional<CK_SLOT_ID> reader_slot,
                       bool produced);
  void ShelveProducedCards(std::shared_ptr<ProducedCardShelf> shelf) { shelf_ = std::move(shelf); }
  // Whether the reader holds a card (blank or not) that can be read.
  bool HasCard(CK_SLOT_ID reader_slot) const {
    absl::StatusOr<std::optional<hsm::TokenInfo>> card = cards_->TokenIn(reader_slot);
    return card.ok() && card->has_value();
  }

  // A card given up for good (its failure cannot be mended): the certificate issued for it,
  // if any, is withdrawn at the CA, so that no certificate of tessera-ca is on no card.
  absl::Status Abandon(const CardToMake& card);

 private:
  absl::Status InitializeToken(const CardToMake& card, const CardCredentials& credentials,
                               std::optional<CK_SLOT_ID> reader_slot);
  // A spoiled card's next attempt (Make, above).
  absl::Status StartAgain(const CardToMake& card, const CardCredentials& credentials,
                          CardRecord& record, std::optional<CK_SLOT_ID> reader_slot,
                          const absl::Status& why);
  // The steps done on the card itself (token to proved), recording each in `record`.
  absl::StatusOr<CardRecord> MakeOnCard(const CardToMake& card, const CardCredentials& credentials,
                                        CardRecord& record,
                                        const std::function<void(CardStep)>& starting,
                                        std::optional<CK_SLOT_ID> reader_slot);

  std::shared_ptr<hsm::Module> cards_;
  const hsm::SecretSealer& sealer_;
  CardJournal& journal_;
  CardCertifier& certifier_;
  hsm::KeyAlgorithm algorithm_;
  std::shared_ptr<ProducedCardShelf> shelf_;
};

}  // namespace tessera::personalization
