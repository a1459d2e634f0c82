// What a call that changes the registry carries besides its content.
//
// Every such call has the caller's idempotency key (request_id, platform/request_id.h), so a
// retry after a lost answer does the work once. The Ministry's recorded changes (a Ministry
// operator added or removed, a codice fiscale mismatch accepted) also say why (ChangeRequest);
// the census calls (declarations, reference lists, drafts, imports, submissions, access codes)
// are recorded by key in registry.requests (Request).
#pragma once

#include <array>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "platform/actor.h"

namespace tessera::registry {

struct ChangeRequest {
  std::string reason;      // 1..500 characters, recorded with the change
  std::string request_id;  // CheckRequestId
};

// INVALID_ARGUMENT naming the field that is out of range.
absl::Status CheckChangeRequest(const ChangeRequest& change);

// A census call as its store records it, in the same transaction as the change: who asked,
// their key, and a digest of what they asked. A retry (same caller, key and digest) answers as
// the first call did and changes nothing; the caller's key used for something else is
// ALREADY_EXISTS, whatever it was used for.
struct Request {
  Actor actor;
  std::string request_id;                 // CheckRequestId
  std::array<uint8_t, 32> fingerprint{};  // RequestFingerprint
};

// SHA-256 of the call's name and its content, each part length-prefixed (so no two different
// requests share a digest by moving text from one part to the next).
std::array<uint8_t, 32> RequestFingerprint(std::string_view call,
                                           std::initializer_list<std::string_view> parts);

}  // namespace tessera::registry
