#include "registry/access_code.h"

#include <botan/hash.h>

#include "platform/random.h"

namespace tessera::registry {
namespace {

constexpr std::string_view kCrockford = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
constexpr size_t kOfficeDigits = 6;
constexpr size_t kSecretChars = 25;  // 125 bits
constexpr size_t kGroup = 5;

AccessCodeDigest Digest(std::string_view canonical) {
  std::unique_ptr<Botan::HashFunction> sha256 = Botan::HashFunction::create_or_throw("SHA-256");
  sha256->update(reinterpret_cast<const uint8_t*>(canonical.data()), canonical.size());
  AccessCodeDigest digest;
  sha256->final(digest.data());
  return digest;
}

// The character as Crockford base 32 reads it, or 0 if it is none.
char Canonical(char c) {
  if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  if (c == 'O') return '0';
  if (c == 'I' || c == 'L') return '1';
  return kCrockford.find(c) == std::string_view::npos ? 0 : c;
}

}  // namespace

Secret NewAccessCode(const std::string& office) {
  Botan::secure_vector<uint8_t> random = ThreadRng().random_vec(kSecretChars);
  std::string code = office;
  for (size_t i = 0; i < kSecretChars; ++i) {
    if (i % kGroup == 0) code += '-';
    code += kCrockford[random[i] & 31];  // 32 symbols: the low 5 bits of each byte, unbiased
  }
  Secret secret(code);
  std::fill(code.begin(), code.end(), '\0');
  return secret;
}

absl::StatusOr<AccessCode> ParseAccessCode(std::string_view typed) {
  std::string canonical;
  canonical.reserve(kOfficeDigits + kSecretChars);
  for (char c : typed) {
    if (c == '-' || c == ' ') continue;
    const char k = Canonical(c);
    if (k == 0) {
      return absl::UnauthenticatedError(
          "access code: only digits and the letters of Crockford base 32 (no I, L, O or U)");
    }
    if (canonical.size() == kOfficeDigits + kSecretChars) {
      return absl::UnauthenticatedError("access code: too long (office code + 25 characters)");
    }
    canonical += k;
  }
  if (canonical.size() != kOfficeDigits + kSecretChars) {
    return absl::UnauthenticatedError("access code: too short (office code + 25 characters)");
  }
  for (size_t i = 0; i < kOfficeDigits; ++i) {
    if (canonical[i] < '0' || canonical[i] > '9') {
      return absl::UnauthenticatedError(
          "access code: must start with the 6-digit code of the comune or prefettura");
    }
  }
  AccessCode code{canonical.substr(0, kOfficeDigits), Digest(canonical)};
  std::fill(canonical.begin(), canonical.end(), '\0');
  return code;
}

}  // namespace tessera::registry
