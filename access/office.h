// The office a person acts for in a session: the comune or prefettura whose machine they
// logged in from, or the Ministry. A machine's office is read from its certificate: a
// workstation's CN is its owner's code (a comune's ISTAT code, or a prefettura's province code +
// "000") and a 4-digit progressive; the Ministry's machines hold the CLI's service certificate.
#pragma once

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "platform/principal.h"

namespace tessera::access {

// The service certificate whose holder is a Ministry machine (the Ministry's CLI).
inline constexpr char kMinistryMachine[] = "tessera-cli";
// The profile a Ministry operator's session carries (from the Ministry's records, never a
// census).
inline constexpr char kMinistryOperatorProfile[] = "operatore_ministero";

struct Office {
  enum class Kind { kComune, kPrefettura, kMinistero };
  Kind kind = Kind::kMinistero;
  std::string code;  // ISTAT code (comune), province code (prefettura), "" (Ministero)

  // "comune:057001", "prefettura:057", "ministero".
  std::string Text() const;
  // "comune", "prefettura" or "ministero": how Text() begins, and (but for the Ministry, which
  // has none) the kind of the office's census.
  std::string_view KindName() const;
  // A census's owner: the ISTAT code, or the province code.
  const std::string& census_owner() const { return code; }
  bool operator==(const Office&) const = default;
};

// INVALID_ARGUMENT unless `text` is what Office::Text() writes.
absl::StatusOr<Office> ParseOffice(std::string_view text);

// The office of the machine `caller` is (its certificate, not its session). PERMISSION_DENIED
// for a caller that is no office's machine (another service, an operator card, an access code).
absl::StatusOr<Office> OfficeOfMachine(const Principal& caller);

// Whether the office `actor` works in covers comune `istat`: the comune itself, or the
// prefettura of its province (the first three digits of the ISTAT code), or the Ministry.
bool Covers(const Office& actor, std::string_view istat);

}  // namespace tessera::access
