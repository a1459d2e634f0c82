#include "personalization/workstation_bundles.h"

#include <string>

namespace tessera::personalization {

absl::StatusOr<WorkstationId> ParseCommonId(std::string_view common_id) {
  if (common_id.size() != 10 || common_id.find_first_not_of("0123456789") != std::string::npos ||
      common_id.substr(6) == "0000") {
    return absl::InvalidArgumentError(
        "workstation_common_id: 10 digits, an office code and a progressive 0001..9999");
  }
  return WorkstationId{std::string(common_id.substr(0, 6)),
                       static_cast<uint32_t>(std::stoul(std::string(common_id.substr(6))))};
}

}  // namespace tessera::personalization
