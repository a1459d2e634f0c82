// Where the reference lists live (PostgreSQL: pg_stores.h): loading a new edition, and reading
// it whole for the in-memory ReferenceIndex the census is checked against.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "registry/change_request.h"
#include "registry/reference_data.h"

namespace tessera::registry {

// What a load changed. Loading the same edition twice changes nothing.
struct ReferenceLoadReport {
  int provinces_added = 0, provinces_changed = 0, provinces_ceased = 0;
  int comuni_added = 0, comuni_changed = 0, comuni_ceased = 0;
  int cadastral_codes = 0;  // rows in the birthplace list after the load
};

class ReferenceStore {
 public:
  virtual ~ReferenceStore() = default;

  // All at once: provinces and comuni upserted (a comune no longer listed is marked ceased,
  // never deleted; one listed again is live again), the birthplace list replaced. A retry of
  // `request` returns the first call's report.
  virtual absl::StatusOr<ReferenceLoadReport> Load(const ReferenceData& data,
                                                   std::chrono::system_clock::time_point now,
                                                   const Request& request) = 0;

  // Live comuni and every cadastral code, for a ReferenceIndex.
  virtual absl::StatusOr<ReferenceData> ReadAll() = 0;
};

}  // namespace tessera::registry
