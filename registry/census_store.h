// Censuses in PostgreSQL: drafts saved any number of times, the final submission that turns a
// validated census into people, profiles and orders in one transaction, and the order queues
// personalization claims from.
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "platform/actor.h"
#include "platform/pg_pool.h"
#include "registry/access_code.h"
#include "registry/census.h"
#include "registry/census_rules.h"

namespace tessera::registry {

struct CensusRecord {
  int64_t id = 0;
  CensusKind kind = CensusKind::kComune;
  std::string owner;  // ISTAT code, or province code for a prefettura
  bool submitted = false;
  std::string document;  // JSON (census_json.h)
  int revision = 0;      // saves so far
  std::chrono::system_clock::time_point saved_at;
  std::optional<std::chrono::system_clock::time_point> submitted_at;
};

// One line of a census listing.
struct CensusSummary {
  std::string owner;
  std::string name;
  bool submitted = false;
  int revision = 0;
  int users = 0;
  std::chrono::system_clock::time_point saved_at;
};

struct CensusFilter {
  CensusKind kind = CensusKind::kComune;
  std::optional<bool> submitted;  // nullopt: both
  std::string page_token;         // the last owner of the previous page
  int page_size = 100;            // 1..1000
};

// The orderer a Ministry card order names (CardOrder::ordered_by).
inline constexpr char kMinistryOrderer[] = "ministero";

struct CardOrder {
  // 16 digits: the ordering comune's ISTAT code (a prefettura: province code + "000"; the
  // Ministry: "000000") + a 10-digit progressive
  std::string card_number;
  std::string codice_fiscale;  // the person's code as first recorded
  int64_t census_id = 0;       // 0 for a Ministry order
  std::string surname, name;   // the holder, as the card's face prints them
  std::string ordered_by;      // owner of the census that ordered it, or kMinistryOrderer
};

struct WorkstationOrder {
  std::string owner;  // ISTAT code (a prefettura: province code + "000")
  int progressive = 0;
  int64_t census_id = 0;
  std::string ordered_by;  // owner of the census that ordered it

  std::string CommonId() const;  // owner + 4-digit progressive, the certificate's CN
};

struct SubmitResult {
  CensusRecord census;
  std::vector<CardOrder> card_orders;  // the cards this census ordered
  std::vector<WorkstationOrder> workstation_orders;
  // Codici fiscali of this census's holders who already have a live card (another census or
  // the Ministry ordered it): they get no second card.
  std::vector<std::string> holders_with_a_card_already;
  bool repeated = false;  // submitted before with this document: nothing new happened
};

class PgCensusStore {
 public:
  explicit PgCensusStore(pg::ConnectionPool& pool) : pool_(pool) {}

  absl::Status SetDeclaration(const std::string& istat, const ComuneDeclaration& declaration);
  absl::StatusOr<std::optional<ComuneDeclaration>> GetDeclaration(const std::string& istat);
  // The declarations of all these comuni that have one, in one query (a national file).
  absl::StatusOr<std::map<std::string, ComuneDeclaration>> GetDeclarations(
      const std::vector<std::string>& istat);

  // Saves `document` as the census's draft (creating it). FAILED_PRECONDITION once submitted.
  absl::StatusOr<CensusRecord> SaveDraft(CensusKind kind, const std::string& owner,
                                         const std::string& document,
                                         std::chrono::system_clock::time_point now);
  // Censuses by owner, keyset-paged.
  absl::StatusOr<std::vector<CensusSummary>> List(const CensusFilter& filter);

  // Saves every census as its comune's draft in one transaction: all or none. A comune whose
  // census is already submitted fails the whole call (FAILED_PRECONDITION naming it).
  absl::Status SaveDrafts(const std::vector<ComuneCensus>& censuses,
                          std::chrono::system_clock::time_point now);

  // NOT_FOUND if the owner has no census yet.
  absl::StatusOr<CensusRecord> Get(CensusKind kind, const std::string& owner);

  // Submits a comune census the caller has validated (and normalized), in one transaction:
  // the census becomes SUBMITTED with this document; each user is a person (one row per
  // identity::PersonKey across comuni, recorded by the first census naming them) with this
  // comune's profiles and personal mailbox; every card holder without a live card gets a card
  // order numbered from this comune's counter; the workstation orders are the comune's server
  // (0099) and workstations 0001.. for the rest. If a user's identity disagrees with the
  // person on record (DisagreementsWithRecord), the call is INVALID_ARGUMENT with nothing
  // stored, and every disagreement goes to `disagreements` if given. Submitting the same document
  // again returns the same result; a different one is FAILED_PRECONDITION (changes go through the
  // security console). `actor` is recorded as the census's submitter (submitted_by_*), in the same
  // transaction.
  absl::StatusOr<SubmitResult> SubmitComune(const ComuneCensus& census,
                                            std::chrono::system_clock::time_point now,
                                            const Actor& actor,
                                            std::vector<Violation>* disagreements = nullptr);

  // The same for a prefettura (owner: its province code): every user gets a card, numbered
  // <province code>000<10-digit progressive>; workstations 0001.. under <province code>000.
  absl::StatusOr<SubmitResult> SubmitPrefettura(const std::string& province_code,
                                                const PrefetturaCensus& census,
                                                std::chrono::system_clock::time_point now,
                                                const Actor& actor,
                                                std::vector<Violation>* disagreements = nullptr);

  // Records the digest of the office's new census access code (`office`: a comune's ISTAT
  // code, or a prefettura's province code + "000"), replacing (revoking) any earlier one, and
  // who issued it (registry.access_code_issuances), in one transaction. FAILED_PRECONDITION
  // once its census is submitted; NOT_FOUND for an office not in the reference list.
  absl::Status PutAccessCode(const std::string& office, const AccessCodeDigest& digest,
                             std::chrono::system_clock::time_point issued_at,
                             std::chrono::system_clock::time_point expires_at, const Actor& actor);
  // Whether `code` is the comune's current code, unexpired at `now`, for a census still open
  // (submission revokes the code). Digests are compared in constant time.
  absl::StatusOr<bool> AccessCodeIsValid(const AccessCode& code,
                                         std::chrono::system_clock::time_point now);

  // Up to `limit` orders claimed for `worker` until now + `lease` (FOR UPDATE SKIP LOCKED:
  // several personalization daemons share the queue without taking the same order): first
  // those `worker` already holds (a restarted daemon resumes them), then unclaimed ones and
  // ones whose lease ran out (their daemon died), oldest first. Returned by card number /
  // common id.
  absl::StatusOr<std::vector<CardOrder>> ClaimCardOrders(const std::string& worker, int limit,
                                                         std::chrono::seconds lease,
                                                         std::chrono::system_clock::time_point now);
  absl::StatusOr<std::vector<WorkstationOrder>> ClaimWorkstationOrders(
      const std::string& worker, int limit, std::chrono::seconds lease,
      std::chrono::system_clock::time_point now);

 private:
  // What both kinds of census turn into on submission.
  struct Submission {
    CensusKind kind;
    std::string owner;
    std::string document;
    const std::vector<CensusUser>* users;
    std::string card_prefix;        // 6 digits
    std::string workstation_owner;  // 6 digits
    std::vector<int> workstation_progressives;
    const Actor* actor;
  };
  absl::StatusOr<SubmitResult> Submit(const Submission& submission,
                                      std::chrono::system_clock::time_point now,
                                      std::vector<Violation>* disagreements);

  pg::ConnectionPool& pool_;
};

}  // namespace tessera::registry
