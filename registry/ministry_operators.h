// The Ministry's own operators, as records only the Ministry writes (registry.ministry_operators).
// Ministry rights on tessera come from a live record here and never from a census: a comune
// naming the same person gives them profiles in that comune, nothing more. Every change is
// kept with who made it, why, and the request it came in (ministry_operator_changes).
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "platform/actor.h"
#include "registry/census.h"
#include "registry/census_rules.h"
#include "registry/change_request.h"

namespace tessera::registry {

struct MinistryOperator {
  PersonIdentity person;
  std::string email;  // personal mailbox, for the card's second halves
  std::chrono::system_clock::time_point added_at;
  std::string card_number;  // the live card, "" if none
};

class MinistryOperatorStore {
 public:
  virtual ~MinistryOperatorStore() = default;

  struct Added {
    std::string codice_fiscale;  // as on record
    std::string card_number;     // the operator's card, ordered by the Ministry
    bool new_card = false;       // false: their live Ministry card from an earlier time stays
    bool repeated = false;       // a retry of an earlier request: nothing changed
  };
  // Records `person` (checked and normalized by the caller) as a Ministry operator and orders
  // their card under the Ministry's prefix, in one transaction. A person already on record
  // must agree with it (else INVALID_ARGUMENT, nothing stored, each disagreement in
  // `disagreements` if given).
  // FAILED_PRECONDITION: already an operator; holds a live card a census ordered (it must end
  // first: a Ministry operator's card is the Ministry's). ALREADY_EXISTS: request_id used for
  // another change.
  virtual absl::StatusOr<Added> Add(const CensusUser& person, const ChangeRequest& change,
                                    std::chrono::system_clock::time_point now, const Actor& actor,
                                    std::vector<Violation>* disagreements = nullptr) = 0;
  // Ends the record (the card stays live until the security console ends it; it carries no
  // Ministry right once the record is gone). NOT_FOUND if they are no Ministry operator.
  // Returns whether this was a retry.
  virtual absl::StatusOr<bool> Remove(const std::string& codice_fiscale,
                                      const ChangeRequest& change,
                                      std::chrono::system_clock::time_point now,
                                      const Actor& actor) = 0;
  // Every current operator, by surname and name.
  virtual absl::StatusOr<std::vector<MinistryOperator>> List() = 0;
  // Whether any spelling of `codice_fiscale` (identity::PersonKey) is a current operator.
  virtual absl::StatusOr<bool> IsOperator(const std::string& codice_fiscale) = 0;
};

}  // namespace tessera::registry
