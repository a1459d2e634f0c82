// The delivery desk at the prefettura (seed 001 §5.6): the rules of who hands which cards to
// whom (and, at the comune, who registers them to their holders). A person in a session acts for
// their office: a prefettura's for the lots of its own office and of the comuni of its province,
// the Ministry's for every lot (and alone for its own operators' lot, and for a prefettura's first
// lot, whose security administrator has no card yet). The collector is checked before anything is
// shown: a user censused for the lot's office (the mayor, or a delegate who must be a censused
// operator of that comune). At the delivery, the collector's own card among those delivered is
// theirs at once (ATTIVA) and its second halves go to their personal mailbox in the delivery's
// transaction; the other cards wait for their registration to their holders.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "dispatch/lots.h"
#include "dispatch/receipt.h"
#include "platform/clock.h"
#include "platform/principal.h"
#include "platform/secret.h"

namespace tessera::dispatch {

// A person as an office's census (or the Ministry's records) has them.
struct CensusEntry {
  Person person;
  std::string email;  // personal mailbox (never a PEC)
  std::vector<std::string> profiles;
};

// The registry, as the dispatch service asks it.
class CensusDirectory {
 public:
  virtual ~CensusDirectory() = default;
  // `codice_fiscale` as a user of `office` ("comune:057001", "prefettura:057", "ministero":
  // a Ministry operator). NOT_FOUND when they are none.
  virtual absl::StatusOr<CensusEntry> User(const std::string& office,
                                           const std::string& codice_fiscale) = 0;
  // How a comune or prefettura ("comune:057001", "prefettura:057") is named and where it is,
  // from its census. NOT_FOUND without one.
  virtual absl::StatusOr<OfficeContact> Place(const std::string& office) = 0;
};

// The place `office` names, or nothing when it has no census on record (other errors pass).
absl::StatusOr<std::optional<OfficeContact>> PlaceOnRecord(CensusDirectory& directory,
                                                           const std::string& office);

// A card's second halves, from personalization (its audited release, once per request id).
struct Halves {
  Secret pin;
  Secret puk;
  Secret password;
};
class HalvesSource {
 public:
  virtual ~HalvesSource() = default;
  virtual absl::StatusOr<Halves> Release(const std::string& card_number,
                                         const std::string& request_id) = 0;
};

// Seals a mail body with a secret in it for the outbox (a key on the service's HSM).
using SealMail = std::function<absl::StatusOr<std::vector<uint8_t>>(const Secret& body)>;

// The Ministry's machine acting by itself during the bootstrap, before any Ministry operator
// has a card (sessions::ActsForMinistry): the Ministry's reach and no person. Its deliveries
// name the Ministry's central administration as the operator who handed the cards over.
PersonSession MinistryBootstrapSession();
inline constexpr char kMinistryBootstrapOperator[] = "MINISTERO DELL'INTERNO";
// Where the Ministry's own deliveries are made, as their receipts name it.
inline constexpr char kMinistryName[] = "Ministero dell'Interno";
inline constexpr char kMinistryAddress[] = "Piazza del Viminale 1, 00184 Roma";

// The census office a lot's office is: "057001" → "comune:057001", "057" → "prefettura:057",
// "ministero" → "ministero".
std::string CensusOfficeOf(const std::string& lot_office);

struct DeliverOrder {
  std::string office;  // the lot's office, as ListLots names it
  std::string lot_number;
  std::vector<std::string> card_numbers;  // empty: every card still to deliver
  std::string collector_cf;
  std::string request_id;
};

// A card registered to its holder at their comune, by its security administrator (or the
// mayor, who registers the administrator's).
struct RegisterOrder {
  std::string codice_fiscale;  // the holder
  std::string card_number;
  std::string request_id;
};
struct Registered {
  Registration registration;
  std::string holder_form_pdf;  // for the holder to sign (holder_form.h)
};

struct LotAndCards {
  LotSummary lot;
  std::vector<DispatchCard> cards;  // in the lot's order
};

class DeliveryDesk {
 public:
  DeliveryDesk(DispatchStore& store, CensusDirectory& directory, HalvesSource& halves,
               SealMail seal, const Clock& clock)
      : store_(store),
        directory_(directory),
        halves_(halves),
        seal_(std::move(seal)),
        clock_(clock) {}

  // The collector, if `session` may deliver `office`'s lots to them. PERMISSION_DENIED for an
  // office out of the session's reach; FAILED_PRECONDITION naming the rule when the collector
  // is not a user censused for that office.
  absl::StatusOr<CensusEntry> StartDelivery(const PersonSession& session, const std::string& office,
                                            const std::string& collector_cf);
  absl::StatusOr<std::vector<LotSummary>> ListLots(const PersonSession& session,
                                                   const std::string& office,
                                                   const std::string& after, int limit);
  absl::StatusOr<LotAndCards> LotCards(const PersonSession& session, const std::string& lot_number);
  // `requested_by` names the caller's machine in the request journal.
  absl::StatusOr<Delivery> Deliver(const PersonSession& session, const std::string& requested_by,
                                   const DeliverOrder& order);
  // A recorded delivery of an office in the session's reach (a receipt's reprint).
  absl::StatusOr<Delivery> GetDelivery(const PersonSession& session, const std::string& protocol);
  // Its receipt (receipt.h), the same document however often it is printed.
  absl::StatusOr<std::string> Receipt(const PersonSession& session, const std::string& protocol);

  // At the comune (a session at one of its workstations): the holder must be a user censused
  // for it (FAILED_PRECONDITION), the card theirs and of the comune's lots (NOT_FOUND,
  // FAILED_PRECONDITION), delivered and not registered (FAILED_PRECONDITION); then ATTIVA, the
  // holder's second halves sealed into the outbox in the same transaction, and the form.
  absl::StatusOr<Registered> RegisterCard(const PersonSession& session,
                                          const std::string& requested_by,
                                          const RegisterOrder& order);
  // "Invio PIN/PUK": an ATTIVA card's second halves again, to the mailbox the holder's census
  // has now (after a correction); recorded, once per request id. Returns the address.
  absl::StatusOr<std::string> ResendHalves(const PersonSession& session,
                                           const std::string& requested_by,
                                           const std::string& card_number,
                                           const std::string& request_id);

 private:
  absl::Status CheckReach(const PersonSession& session, const std::string& office) const;
  // What a session may read: its reach, and a comune its own lots and deliveries (its
  // security administrator sees each card's state before registering it).
  absl::Status CheckReadReach(const PersonSession& session, const std::string& office) const;
  static absl::Status CheckRequestId(const std::string& request_id);
  // Who acts in `session`, as the census has them (the Ministry's central administration for
  // the bootstrap's machine); FAILED_PRECONDITION when they are no user of its office.
  absl::StatusOr<CensusEntry> SessionPerson(const PersonSession& session);
  // The comune (ISTAT) a session registers cards for: its own; PERMISSION_DENIED otherwise.
  absl::StatusOr<std::string> OwnComune(const PersonSession& session) const;
  // `card_number`, if it is of the comune's lots and `holder`'s.
  absl::StatusOr<DispatchCard> HoldersCard(const std::string& comune, const CensusEntry& holder,
                                           const std::string& card_number);
  // The card's second halves, released for `request_id` and sealed into a mail to `holder`.
  absl::StatusOr<QueuedMail> HalvesMailTo(const CensusEntry& holder, const std::string& card_number,
                                          const std::string& request_id);

  DispatchStore& store_;
  CensusDirectory& directory_;
  HalvesSource& halves_;
  SealMail seal_;
  const Clock& clock_;
};

}  // namespace tessera::dispatch
