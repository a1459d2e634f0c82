// The form a holder signs when their card is registered to them at the comune (seed 001 §6.3,
// "il sistema stampa un modulo che il titolare firma"): the comune, the holder and their card
// (number, Identificativo Carta, certificate serial), who registered it and when, the holder's
// declaration, two signature lines. Made again from the record, it is the same document.
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "dispatch/lots.h"

namespace tessera::dispatch {

absl::StatusOr<std::string> HolderFormPdf(const Registration& registration);

}  // namespace tessera::dispatch
