// Where censuses live: the comuni's declarations, drafts saved any number of times, and the
// submission that turns a validated census into people, profiles and orders at once. The
// interfaces here are what CensusOffice needs; PostgreSQL implements them (pg_stores.h), and
// unit tests use in-memory ones.
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "absl/status/statusor.h"
#include "platform/actor.h"
#include "registry/census.h"
#include "registry/census_rules.h"
#include "registry/change_request.h"
#include "registry/order_queue.h"

namespace tessera::registry {

// A census as kept: a comune's or a prefettura's, as last saved.
using CensusDocument = std::variant<ComuneCensus, PrefetturaCensus>;
CensusKind KindOf(const CensusDocument& census);

struct CensusRecord {
  int64_t id = 0;
  std::string owner;  // ISTAT code, or province code for a prefettura
  bool submitted = false;
  CensusDocument census;
  int revision = 0;  // saves so far
  std::chrono::system_clock::time_point saved_at;
  std::optional<std::chrono::system_clock::time_point> submitted_at;

  CensusKind kind() const { return KindOf(census); }
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

// What a validated census orders when it is submitted (SubmissionOf): a card for each card
// holder without a live card, numbered under `card_prefix`, and these workstations.
struct Submission {
  CensusDocument census;
  std::string owner;              // ISTAT code, or province code
  std::string card_prefix;        // 6 digits: the office code (OfficeCode)
  std::string workstation_owner;  // 6 digits: the office code
  std::vector<int> workstation_progressives;

  CensusKind kind() const { return KindOf(census); }
  const std::vector<CensusUser>& users() const;
};

// A comune orders its server (0099) and workstations 0001.. for the rest of `workstations`
// (99 is never a workstation); a prefettura (its province code) workstations 0001.. under
// <province code>000, and its cards are numbered there too.
Submission SubmissionOf(const ComuneCensus& census);
Submission SubmissionOf(const std::string& province_code, const PrefetturaCensus& census);

struct SubmitResult {
  CensusRecord census;
  std::vector<CardOrder> card_orders;  // the cards this census ordered
  std::vector<WorkstationOrder> workstation_orders;
  // Codici fiscali of this census's holders who already have a live card (another census or
  // the Ministry ordered it): they get no second card.
  std::vector<std::string> holders_with_a_card_already;
  bool repeated = false;  // submitted before with this document: nothing new happened
};

// The largest census draft stored (its JSON form): a comune's census with a few hundred users
// is some tens of KiB; anything near this is not a census.
inline constexpr size_t kMaxDraftBytes = 2 << 20;

// Each comune's monitoring sheet (ComuneDeclaration), by ISTAT code.
class DeclarationStore {
 public:
  virtual ~DeclarationStore() = default;
  // Records or replaces the comune's declaration (a retry of `request` changes nothing).
  virtual absl::Status Set(const std::string& istat, const ComuneDeclaration& declaration,
                           std::chrono::system_clock::time_point now, const Request& request) = 0;
  virtual absl::StatusOr<std::optional<ComuneDeclaration>> Get(const std::string& istat) = 0;
  // The declarations of all these comuni that have one, at once (a national file).
  virtual absl::StatusOr<std::map<std::string, ComuneDeclaration>> GetMany(
      const std::vector<std::string>& istat) = 0;
};

class CensusStore {
 public:
  virtual ~CensusStore() = default;

  // Saves the census as its owner's draft (creating it). FAILED_PRECONDITION once submitted;
  // INVALID_ARGUMENT above kMaxDraftBytes. A retry of `request` saves nothing and returns the
  // record as the first call saved it.
  virtual absl::StatusOr<CensusRecord> SaveDraft(const std::string& owner,
                                                 const CensusDocument& census,
                                                 std::chrono::system_clock::time_point now,
                                                 const Request& request) = 0;
  // Saves every census as its comune's draft: all or none. A comune whose census is already
  // submitted fails the whole call (FAILED_PRECONDITION naming it). A retry saves nothing.
  virtual absl::Status SaveDrafts(const std::vector<ComuneCensus>& censuses,
                                  std::chrono::system_clock::time_point now,
                                  const Request& request) = 0;
  // NOT_FOUND if the owner has no census yet.
  virtual absl::StatusOr<CensusRecord> Get(CensusKind kind, const std::string& owner) = 0;
  // Censuses by owner, keyset-paged.
  virtual absl::StatusOr<std::vector<CensusSummary>> List(const CensusFilter& filter) = 0;

  // Submits a census the caller has validated (and normalized), all at once: the census
  // becomes submitted with this content; each user is a person (one per identity::PersonKey
  // across comuni, recorded by the first census naming them) with this office's profiles and
  // personal mailbox; every card holder without a live card gets a card order numbered from
  // the prefix's counter; the workstations are ordered; the office's access code is revoked.
  // If a user's identity disagrees with the person on record (DisagreementsWithRecord), the
  // call is INVALID_ARGUMENT with nothing stored, and every disagreement goes to
  // `disagreements` if given. Submitting the same content again returns the same result
  // (`repeated`); different content is FAILED_PRECONDITION (changes go through the security
  // console). The request's actor is recorded as the submitter.
  virtual absl::StatusOr<SubmitResult> Submit(const Submission& submission,
                                              std::chrono::system_clock::time_point now,
                                              const Request& request,
                                              std::vector<Violation>* disagreements = nullptr) = 0;
};

}  // namespace tessera::registry
