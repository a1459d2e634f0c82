// Census access codes: how a comune or a prefettura that has no certificate yet reaches its
// own census. The Ministry issues one per office (a new one revokes the old; a later issue has
// the outbox send it to the office's PEC); the office's client sends it in every call's
// "authorization" metadata instead of a client certificate, and may then act on its own census
// only.
//
// A code reads "057001-7KQ2M-X9T4R-ABCDE-FGHJK-MNPQR": the office's code (a comune's ISTAT
// code, or a prefettura's province code + "000", as its workstations are numbered), then 125
// random bits as 25 Crockford base-32 characters in groups of five (no I, L, O or U, so it can
// be read over the phone). Only its SHA-256 digest is stored: with 125 bits of entropy a plain
// digest resists guessing as well as a slow password hash would, and costs a microsecond.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "platform/secret.h"
#include "registry/census.h"
#include "registry/change_request.h"

namespace tessera::registry {

// How long a code stays valid: a census window (two months before the switch-over) and a
// margin. The Ministry issues a new one when it lapses.
inline constexpr std::chrono::days kAccessCodeValidity{90};

using AccessCodeDigest = std::array<uint8_t, 32>;

struct AccessCode {
  std::string office;         // 6 digits: a comune's ISTAT code, or province code + "000"
  AccessCodeDigest digest{};  // SHA-256 of the canonical code, office code included
};

// A fresh code for the office (6 digits), formatted as it will be typed.
Secret NewAccessCode(const std::string& office);

// Reads a code as a person types it: case, spaces and dashes do not matter, O reads as 0 and
// I or L as 1. UNAUTHENTICATED (the caller's credential is malformed) naming what is wrong,
// never echoing the code.
absl::StatusOr<AccessCode> ParseAccessCode(std::string_view typed);

// The current code of each office, as a digest.
class AccessCodeStore {
 public:
  virtual ~AccessCodeStore() = default;
  // Records the digest of the office's new code, replacing (revoking) any earlier one, and who
  // issued it (the request's actor), at once. FAILED_PRECONDITION once its census is
  // submitted; NOT_FOUND for an office not in the reference list. A code is shown once, so a
  // retry of `request` cannot be answered as the first call was: it is ALREADY_EXISTS, saying
  // so, and changes nothing.
  virtual absl::Status Put(const std::string& office, const AccessCodeDigest& digest,
                           std::chrono::system_clock::time_point issued_at,
                           std::chrono::system_clock::time_point expires_at,
                           const Request& request) = 0;
  // Whether `code` is its office's current code, unexpired at `now`, for a census still open
  // (submission revokes the code). Digests are compared in constant time.
  virtual absl::StatusOr<bool> IsValid(const AccessCode& code,
                                       std::chrono::system_clock::time_point now) = 0;
};

}  // namespace tessera::registry
