// Reading and writing whole files with errors as statuses. Writes are atomic (a temporary
// file renamed into place) and the file has its final mode from the moment it exists, so a
// key file is never readable by others, not even briefly, and a reader never sees half of it.
#pragma once

#include <sys/types.h>

#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace tessera {

absl::StatusOr<std::string> ReadFile(const std::string& path);
absl::Status WriteFile(const std::string& path, std::string_view content, mode_t mode = 0644);

}  // namespace tessera
