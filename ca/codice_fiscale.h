// The Italian codice fiscale of a person: structure, month letter, day, birthplace code,
// omocodia and check character. The CA checks the CN of every operator certificate with it;
// the census adds the consistency checks against name, birth date, sex and place.
#pragma once

#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace tessera::ca {

// Upper case, spaces and dashes dropped: the only form tessera stores.
std::string NormalizeCodiceFiscale(std::string_view raw);

// The check character for the first 15 characters, as written (omocodia letters in place).
char CodiceFiscaleCheckCharacter(std::string_view first15);

// OK if `cf` (already normalized) is a well-formed codice fiscale; otherwise
// INVALID_ARGUMENT whose message names the rule, e.g. "check character is 'U', expected 'S'".
absl::Status ValidateCodiceFiscale(std::string_view cf);

}  // namespace tessera::ca
