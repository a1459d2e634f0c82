// Censuses as JSON documents: how a draft is kept between saves (any state, even invalid)
// and how the CLI prints one. Dates are ISO 8601 (YYYY-MM-DD, platform/clock.h).
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "registry/census.h"

namespace tessera::registry {

std::string ComuneCensusToJson(const ComuneCensus& census);
// INVALID_ARGUMENT naming the member that is missing or of the wrong type.
absl::StatusOr<ComuneCensus> ComuneCensusFromJson(const std::string& json);

std::string PrefetturaCensusToJson(const PrefetturaCensus& census);
absl::StatusOr<PrefetturaCensus> PrefetturaCensusFromJson(const std::string& json);

}  // namespace tessera::registry
