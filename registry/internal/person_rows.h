// The rows a census submission and the Ministry's own operators both write, inside the caller's
// transaction: the person (one per PersonKey, whatever spelling of the code), and card orders
// (one live card per person).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "platform/pg.h"
#include "registry/census.h"
#include "registry/census_rules.h"

namespace tessera::registry::internal {

// The person `user` names, recorded from `user` if no code with the same PersonKey is on
// record yet. The returned identity is the record's: compare it with DisagreementsWithRecord.
absl::StatusOr<PersonIdentity> RecordPerson(pg::Connection& conn, const CensusUser& user,
                                            const pg::Param& when);

// The person's live card (not ended), if any.
struct LiveCard {
  std::string card_number;
  std::optional<int64_t> census_id;  // nullopt: ordered by the Ministry
};
absl::StatusOr<std::optional<LiveCard>> FindLiveCard(pg::Connection& conn,
                                                     const std::string& codice_fiscale);

// A new card order for the person, numbered <prefix><10-digit progressive> from the prefix's
// counter (numbers only grow: none is reused). `census_id` nullopt: a Ministry order, prefix
// kMinistryCardPrefix.
absl::StatusOr<std::string> OrderCard(pg::Connection& conn, const std::string& prefix,
                                      const std::string& codice_fiscale,
                                      std::optional<int64_t> census_id, const pg::Param& when);

inline constexpr char kMinistryCardPrefix[] = "000000";

}  // namespace tessera::registry::internal
