// A lot's print files (docs/process.md, "Producing a card"; seed 001 §5.3): the card faces for
// the card printer, and the envelope sheets for the PIN-mailer printer. The envelope file is the
// only place the envelope halves exist in clear: it is built in memory that is wiped when freed,
// and written 0600 (WriteSecretFile) into the spool until the print is confirmed.
#pragma once

#include <chrono>
#include <span>
#include <string>

#include "absl/status/statusor.h"
#include "platform/secret.h"

namespace tessera::personalization {

struct CardFace {
  std::string card_number;  // 16 digits, printed and as a Code 128 barcode
  std::string surname, name;
  std::chrono::year_month_day expires{};  // the card certificate's notAfter (six years)
};

// One page per card, the size of the card (ID-1, 85.60 × 53.98 mm), in the order given.
absl::StatusOr<std::string> CardFacesPdf(std::span<const CardFace> faces);

struct EnvelopeSheet {
  std::string card_number;
  std::string holder;                        // "ROSSI MARIO"
  std::string comune;                        // "ACCUMOLI (RI)"
  Secret pin_half, puk_half, password_half;  // the envelope halves, and nothing else
};

// One A4 sheet per card, in the order given: the card number (and its barcode, to match the
// sheet with the card), the holder and the comune, then the three envelope halves.
absl::StatusOr<Secret> EnvelopesPdf(std::span<const EnvelopeSheet> sheets);

}  // namespace tessera::personalization
