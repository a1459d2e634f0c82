#include "access/daily_password.h"

#include <argon2.h>

#include "absl/strings/str_cat.h"
#include "platform/random.h"

namespace tessera::access {
namespace {

// OWASP's Argon2id floor (2023): 19 MiB, 2 passes, 1 lane.
constexpr uint32_t kPasses = 2;
constexpr uint32_t kMemoryKiB = 19456;
constexpr uint32_t kLanes = 1;
constexpr size_t kSaltBytes = 16;
constexpr size_t kHashBytes = 32;

}  // namespace

absl::StatusOr<DailyPassword> NewDailyPassword(Clock::TimePoint now) {
  DailyPassword made{.password = RandomText(kDailyPasswordLength, kReadableAlphabet),
                     .expires_at = EndOfItalianDay(now)};
  const Botan::secure_vector<uint8_t> salt = ThreadRng().random_vec(kSaltBytes);
  std::string encoded(
      argon2_encodedlen(kPasses, kMemoryKiB, kLanes, kSaltBytes, kHashBytes, Argon2_id), '\0');
  const int rc =
      argon2id_hash_encoded(kPasses, kMemoryKiB, kLanes, made.password.data(), made.password.size(),
                            salt.data(), salt.size(), kHashBytes, encoded.data(), encoded.size());
  if (rc != ARGON2_OK) {
    return absl::InternalError(absl::StrCat("argon2id: ", argon2_error_message(rc)));
  }
  if (const size_t end = encoded.find('\0'); end != std::string::npos) encoded.resize(end);
  made.hash = std::move(encoded);
  return made;
}

bool PasswordMatches(const std::string& hash, const Secret& candidate) {
  if (hash.rfind("$argon2id$", 0) != 0) return false;  // only what NewDailyPassword stores
  return argon2id_verify(hash.c_str(), candidate.data(), candidate.size()) == ARGON2_OK;
}

}  // namespace tessera::access
