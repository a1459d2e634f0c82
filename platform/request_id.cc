#include "platform/request_id.h"

#include <regex>

namespace tessera {

absl::Status CheckRequestId(const std::string& id) {
  static const std::regex kId("[A-Za-z0-9._:-]{1,128}");
  if (!std::regex_match(id, kId)) {
    return absl::InvalidArgumentError("request_id: 1 to 128 of A-Z a-z 0-9 . _ : -");
  }
  return absl::OkStatus();
}

}  // namespace tessera
