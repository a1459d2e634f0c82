// The census office: what tessera-registry does with censuses, between the gRPC handlers and
// the stores. It validates against the reference data (kept in memory, reloaded when a new
// edition is loaded) and the comuni's declarations, and refuses with every error at once.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "mail/personal_email.h"
#include "platform/clock.h"
#include "platform/secret.h"
#include "registry/access_code.h"
#include "registry/access_code_throttle.h"
#include "registry/census.h"
#include "registry/census_import.h"
#include "registry/census_rules.h"
#include "registry/census_store.h"
#include "registry/code_mismatches.h"
#include "registry/ministry_operators.h"
#include "registry/order_queue.h"
#include "registry/reference_store.h"

namespace tessera::registry {

// A refusal with every violation (field or line/column, and rule): INVALID_ARGUMENT.
struct Refusal {
  std::vector<Violation> violations;
};

// The stores the office works on, one per aggregate (PostgreSQL's: PgRegistryStores).
struct RegistryStores {
  ReferenceStore& reference;
  DeclarationStore& declarations;
  CensusStore& censuses;
  AccessCodeStore& access_codes;
  OrderQueue& orders;
  MinistryOperatorStore& ministry;
  CodeMismatchStore& mismatches;
};

// Every call that changes something takes the caller's Request (actor and request_id); the
// office fills in its fingerprint, and the store records it with the change, so a retry is
// answered as the first call was (change_request.h).
class CensusOffice {
 public:
  CensusOffice(RegistryStores stores, const mail::PersonalEmailRules& email_rules,
               const Clock& clock, AccessCodeLimits access_code_limits = {})
      : stores_(stores),
        email_rules_(email_rules),
        clock_(clock),
        access_code_throttle_(access_code_limits) {}

  // Loads a new edition of the reference lists (files' text) and refreshes the in-memory index.
  absl::StatusOr<ReferenceLoadReport> LoadReference(std::string_view comuni_csv,
                                                    std::string_view codes_csv, Request request);

  absl::Status SetDeclaration(const std::string& istat, const ComuneDeclaration& declaration,
                              Request request);

  // A draft may be incomplete, but every value it holds is normalized and checked when saved
  // (Stage::kDraft): INVALID_ARGUMENT with every violation in `refusal` and nothing stored if
  // one fails. A comune needs its declaration on record (FAILED_PRECONDITION).
  absl::StatusOr<CensusRecord> SaveDraft(ComuneCensus census, Request request, Refusal& refusal);
  absl::StatusOr<CensusRecord> SavePrefetturaDraft(PrefetturaCensus census, Request request,
                                                   Refusal& refusal);
  // The province code of the prefettura of `sigla`; INVALID_ARGUMENT naming `field` if none.
  absl::StatusOr<std::string> ProvinceCode(const std::string& sigla, std::string_view field);
  absl::StatusOr<CensusRecord> Get(CensusKind kind, const std::string& owner);
  // How a comune or prefettura ("comune:057001", "prefettura:057") is named and reached, from
  // its census (submitted or draft): INVALID_ARGUMENT naming the field for another office,
  // NOT_FOUND without a census.
  struct Contact {
    std::string name;     // "Prefettura di Rieti", "Comune di Accumoli"
    std::string address;  // "Piazza Cesare Battisti 1, 02100 Rieti"
    std::string email;
    std::string pec;
  };
  absl::StatusOr<Contact> ContactOf(const std::string& office);
  absl::StatusOr<std::vector<CensusSummary>> List(const CensusFilter& filter) {
    return stores_.censuses.List(filter);
  }

  // Whether the comune's census is open today (Italian date): from two months before its
  // switch-over (seed 001 §3). FAILED_PRECONDITION "switch_over: the census opens … on
  // YYYY-MM-DD" if not yet, or if the comune has no declaration. Every call a comune makes
  // (drafts, reads, submission, with its certificate or its access code) is held to it; so is
  // issuing the comune an access code.
  absl::Status CheckCensusOpen(const std::string& istat);

  // A new census access code for the office (a comune's ISTAT code, or a prefettura's
  // province code + "000"), replacing any earlier one, valid for kAccessCodeValidity, issued
  // by the request's actor (recorded with it). The code is returned once and only its digest
  // is kept, so a retry of the request is ALREADY_EXISTS (AccessCodeStore::Put).
  // FAILED_PRECONDITION once the census is submitted, or before a comune's window opens.
  struct IssuedAccessCode {
    Secret code;
    std::chrono::system_clock::time_point expires_at;
  };
  absl::StatusOr<IssuedAccessCode> IssueAccessCode(const std::string& office, Request request);
  // The office whose current, unexpired code `typed` is; UNAUTHENTICATED otherwise (without
  // saying which of wrong, expired or revoked, nor echoing the code); RESOURCE_EXHAUSTED when
  // too many wrong codes are being tried (AccessCodeThrottle).
  absl::StatusOr<std::string> CheckAccessCode(std::string_view typed);

  // Validates the comune's census with every rule and submits it, as the request's actor
  // (recorded with the submission). INVALID_ARGUMENT with the violations in `refusal` (and a
  // message listing them) if any rule fails; nothing stored.
  absl::StatusOr<SubmitResult> SubmitComune(ComuneCensus census, Request request, Refusal& refusal);
  absl::StatusOr<SubmitResult> SubmitPrefettura(PrefetturaCensus census, Request request,
                                                Refusal& refusal);

  // The Ministry's own operators (ministry_operators.h). `person` is checked and normalized as
  // a census user is, and must have no profiles; violations go to `refusal` on
  // "operator.<field>".
  absl::StatusOr<MinistryOperatorStore::Added> AddMinistryOperator(CensusUser person,
                                                                   const ChangeRequest& change,
                                                                   const Actor& actor,
                                                                   Refusal& refusal);
  absl::Status RemoveMinistryOperator(const std::string& codice_fiscale,
                                      const ChangeRequest& change, const Actor& actor);
  absl::StatusOr<std::vector<MinistryOperator>> ListMinistryOperators() {
    return stores_.ministry.List();
  }
  // Whether the card certificate naming `codice_fiscale` acts for the Ministry. Answers are
  // kept kMinistryAnswerLife (a removal made through another replica takes that long here;
  // through this one, no time); a failed lookup is "no".
  bool IsMinistryOperator(const std::string& codice_fiscale);
  static constexpr std::chrono::seconds kMinistryAnswerLife{5};

  // The Ministry accepts that `codice_fiscale` does not match its holder's `part` (the Agenzia
  // delle Entrate issued it so): censuses naming it are no longer refused for that part.
  // Returns whether this was a retry (code_mismatches.h).
  absl::StatusOr<bool> AcceptCodeMismatch(const std::string& codice_fiscale,
                                          const std::string& part, const ChangeRequest& change,
                                          const Actor& actor);

  // Orders for a personalization daemon (OrderQueue), claimed for
  // "<caller>/<worker>": INVALID_ARGUMENT naming the field for a worker that is not 1 to 64
  // letters, digits and . _ : -, a limit outside 1..1000, a lease outside 60..86400 s, both a
  // province and a comune, an unknown one, or a listed order that is no card number or common
  // id (at most 1000 listed).
  struct Claim {
    std::string caller;          // the daemon's service name
    std::string worker;          // names the daemon (host:pid), so a restart resumes its claims
    uint32_t limit = 0;          // orders of each kind
    uint32_t lease_seconds = 0;  // 0: kDefaultLease
    // A batch's reach: a province's orders (its comuni's and its prefettura's), a comune's,
    // or only those listed; nothing given: any order.
    std::string province_sigla;
    std::string istat;
    std::vector<std::string> orders;
  };
  static constexpr std::chrono::seconds kDefaultLease{900};
  struct ClaimedOrders {
    std::vector<CardOrder> cards;
    std::vector<WorkstationOrder> workstations;
    int64_t open_orders = 0;  // within the claim's reach after it (OrderQueue::CountOpenOrders)
  };
  absl::StatusOr<ClaimedOrders> ClaimOrders(const Claim& claim);

  // What a personalization daemon made of orders it claimed (OrderQueue::Report), reported as
  // "<caller>/<worker>": INVALID_ARGUMENT for a worker ClaimOrders would refuse, or for none
  // or more than 1000 outcomes. Each outcome is checked on its own (a card number is 16
  // digits, a workstation's common id 10; exactly one of a certificate serial, lower-case hex
  // of at most 40 digits, or a failure of 1 to 500 characters) and gets its own result, in
  // order: true for a retry of an outcome on record.
  struct Report {
    std::string caller;  // the daemon's service name
    std::string worker;  // as it claimed the orders
    std::vector<OrderOutcome> outcomes;
  };
  absl::StatusOr<std::vector<absl::StatusOr<bool>>> ReportOutcomes(const Report& report);

  // A whole file: every error with its line and column, or every census saved as a draft, in
  // one transaction.
  absl::StatusOr<std::vector<std::string>> Import(std::string_view file, Request request,
                                                  Refusal& refusal);

 private:
  absl::StatusOr<std::shared_ptr<const ReferenceIndex>> Index();
  std::chrono::year_month_day Today() const;
  // FAILED_PRECONDITION if the comune has no monitoring sheet on record.
  absl::StatusOr<ComuneDeclaration> DeclarationOf(const std::string& istat);
  // The mismatches the Ministry accepted, as they stand now.
  absl::StatusOr<std::shared_ptr<const AcceptedMismatches>> Accepted();
  // Checks births against `index` and codes against Accepted() (both kept alive by the
  // validator).
  absl::StatusOr<CensusValidator> Validator(std::shared_ptr<const ReferenceIndex> index);

  void ForgetMinistryOperators();

  RegistryStores stores_;
  const mail::PersonalEmailRules& email_rules_;
  const Clock& clock_;
  std::mutex mutex_;
  std::shared_ptr<const ReferenceIndex> index_;  // null until first needed or after a load
  AccessCodeThrottle access_code_throttle_;
  std::mutex ministry_mutex_;
  // codice fiscale -> (is a Ministry operator, when asked)
  std::map<std::string, std::pair<bool, Clock::TimePoint>> ministry_answers_;
};

}  // namespace tessera::registry
