// A zip file made in memory (libzip), for what an office downloads in one go: its workstation
// certificates with a text file of their passwords (seed 000, "Scarica tutti").
#pragma once

#include <chrono>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace tessera::archive {

struct ZipEntry {
  std::string name;               // path inside the archive, UTF-8, '/' separated
  std::span<const uint8_t> data;  // read while ZipFile runs only
};

// The archive of `entries`, in their order, each stamped `modified` (so the same entries at
// the same time give the same bytes). INVALID_ARGUMENT for an empty or repeated name.
absl::StatusOr<std::vector<uint8_t>> ZipFile(const std::vector<ZipEntry>& entries,
                                             std::chrono::system_clock::time_point modified);

}  // namespace tessera::archive
