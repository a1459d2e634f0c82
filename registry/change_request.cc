#include "registry/change_request.h"

#include <botan/hash.h>

#include "platform/request_id.h"

namespace tessera::registry {

absl::Status CheckChangeRequest(const ChangeRequest& change) {
  if (change.reason.empty() || change.reason.size() > 500) {
    return absl::InvalidArgumentError("reason: 1 to 500 characters, recorded with the change");
  }
  return CheckRequestId(change.request_id);
}

std::array<uint8_t, 32> RequestFingerprint(std::string_view call,
                                           std::initializer_list<std::string_view> parts) {
  auto sha256 = Botan::HashFunction::create_or_throw("SHA-256");
  auto add = [&](std::string_view text) {
    const uint64_t size = text.size();
    for (int shift = 56; shift >= 0; shift -= 8)
      sha256->update(static_cast<uint8_t>(size >> shift));
    sha256->update(reinterpret_cast<const uint8_t*>(text.data()), text.size());
  };
  add(call);
  for (std::string_view part : parts) add(part);
  std::array<uint8_t, 32> digest;
  sha256->final(digest.data());
  return digest;
}

}  // namespace tessera::registry
