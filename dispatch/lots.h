// Cards on their way from tessera-perso's sealed lots to their holders (seed 001 §5.6, §6):
// a lot taken over is shipped to the prefettura of its province (its cards SPEDITA); the
// prefettura's security administrator hands all or some of a comune's cards to its mayor or a
// delegate (CONSEGNATA, under a protocol number, with a receipt); the comune's security
// administrator registers each card to its holder (ATTIVA), and only then does the holder get
// the second halves of PIN, PUK and password by mail. A lot is DA COMPLETARE while any of its
// cards is left to deliver, COMPLETATO when none is.
//
// The store below keeps it all in PostgreSQL (schema "dispatch"); it applies no rule of who
// may do what, which is the desk's (desk.h).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace tessera::dispatch {

inline constexpr char kSpedita[] = "SPEDITA";
inline constexpr char kConsegnata[] = "CONSEGNATA";
inline constexpr char kAttiva[] = "ATTIVA";
inline constexpr char kDaCompletare[] = "DA COMPLETARE";
inline constexpr char kCompletato[] = "COMPLETATO";

using TimePoint = std::chrono::system_clock::time_point;

// A lot as tessera-perso hands it over.
struct IntakeCard {
  std::string card_number;
  std::string codice_fiscale;
  std::string surname;
  std::string name;
  std::string subject_dn;  // of the card's certificate, RFC 2253
  std::string certificate_serial;
};
struct LotIntake {
  std::string lot_number;
  int64_t batch_id = 0;
  std::string office;       // ISTAT code of a comune, province code of a prefettura, "ministero"
  std::string office_name;  // "ACCUMOLI (RI)"
  std::string prefettura;   // sigla of the receiving prefettura, "" for the Ministry's lot
  TimePoint sealed_at;
  std::vector<IntakeCard> cards;  // in the lot's order
};

struct LotSummary {
  std::string lot_number;
  std::string office;
  std::string office_name;
  std::string prefettura;
  int cards = 0;
  int to_deliver = 0;
  TimePoint taken_over_at;
  const char* state() const { return to_deliver > 0 ? kDaCompletare : kCompletato; }
};

struct DispatchCard {
  std::string card_number;
  std::string lot_number;
  std::string codice_fiscale;
  std::string surname;
  std::string name;
  std::string subject_dn;
  std::string certificate_serial;
  std::string state;     // kSpedita, kConsegnata, kAttiva
  std::string protocol;  // of its delivery, "" before
  std::string office;    // its lot's office (GetCard only)
};

struct Person {
  std::string codice_fiscale;
  std::string surname;
  std::string name;
};

// A mail queued in the same transaction as the change it tells of (mail/outbox.h).
struct QueuedMail {
  std::string kind;
  std::string to;
  std::string subject;
  std::optional<std::string> body;   // plain, or …
  std::vector<uint8_t> sealed_body;  // … sealed
};

struct DeliveryRequest {
  std::string office;  // the lot's office
  std::string lot_number;
  std::vector<std::string> card_numbers;  // empty: every card of the lot still to deliver
  std::vector<std::string> activate;      // of those, the ones ATTIVA at once (the collector's)
  Person collector;
  Person operator_person;    // whose session delivers
  std::string requested_by;  // the caller, "<kind>:<name>"
  std::string request_id;
  TimePoint at;
  std::vector<QueuedMail> mails;
};

struct Delivery {
  int64_t id = 0;
  std::string protocol;  // "RI-2026-000001"
  std::string prefettura;
  std::string office;
  std::string office_name;
  Person collector;
  Person operator_person;
  TimePoint at;
  std::vector<DispatchCard> cards;  // in the lot's order
  bool repeated = false;            // a retry, answered as the first call was
};

// A card registered to its holder at the comune (seed 001 §6.3): ATTIVA, its halves mailed.
struct RegistrationRequest {
  std::string office;  // the comune's ISTAT code: the card must be of one of its lots
  std::string card_number;
  Person holder;
  Person registered_by;      // whose session registers it
  std::string requested_by;  // the caller, "<kind>:<name>"
  std::string request_id;
  TimePoint at;
  std::vector<QueuedMail> mails;
};
struct Registration {
  DispatchCard card;  // ATTIVA
  std::string office_name;
  Person holder;
  Person registered_by;
  TimePoint at;
  bool repeated = false;  // a retry, answered as the first call was
};

// A card's second halves sent again, to its holder's mailbox as the census has it now.
struct ResendRequest {
  std::string office;
  std::string card_number;
  std::string requested_by;
  std::string request_id;
  TimePoint at;
  QueuedMail mail;
};

class DispatchStore {
 public:
  virtual ~DispatchStore() = default;
  // Records a lot and its cards (SPEDITA), and queues `notices` in the same transaction. False
  // if it had it already (a retry: nothing queued).
  virtual absl::StatusOr<bool> TakeOver(const LotIntake& lot, TimePoint at,
                                        const std::vector<QueuedMail>& notices) = 0;
  // An office's lots in lot-number order, after `after` ("" from the first), at most `limit`.
  virtual absl::StatusOr<std::vector<LotSummary>> ListLots(const std::string& office,
                                                           const std::string& after, int limit) = 0;
  virtual absl::StatusOr<LotSummary> GetLot(const std::string& lot_number) = 0;  // NOT_FOUND
  virtual absl::StatusOr<std::vector<DispatchCard>> LotCards(const std::string& lot_number) = 0;
  // All or nothing: the cards CONSEGNATA (or ATTIVA), the delivery and its protocol number, the
  // mails. NOT_FOUND for a lot not of that office or a card not in it; FAILED_PRECONDITION
  // naming a card delivered already (and its protocol) or a lot with none left; a retry under
  // the same request id answers the first delivery (`repeated`), ALREADY_EXISTS if it asked
  // for something else.
  virtual absl::StatusOr<Delivery> Deliver(const DeliveryRequest& request) = 0;
  virtual absl::StatusOr<Delivery> GetDelivery(const std::string& protocol) = 0;  // NOT_FOUND
  // One card (NOT_FOUND), with its lot's office.
  virtual absl::StatusOr<DispatchCard> GetCard(const std::string& card_number) = 0;
  // The card CONSEGNATA → ATTIVA, the registration and its mails, in one transaction. NOT_FOUND
  // for a card of no lot of that office; FAILED_PRECONDITION for a card not delivered yet or
  // registered already; a retry under the same request id answers the first (`repeated`),
  // ALREADY_EXISTS if it asked for another card.
  virtual absl::StatusOr<Registration> Register(const RegistrationRequest& request) = 0;
  // The resend recorded and its mail queued, in one transaction: FAILED_PRECONDITION for a card
  // that is not ATTIVA; false for a retry under the same request id (nothing queued again).
  virtual absl::StatusOr<bool> Resend(const ResendRequest& request) = 0;
};

}  // namespace tessera::dispatch
