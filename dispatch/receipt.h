// The receipt of a delivery (seed 001 §5.6): one PDF with two copies of the same page, "copia
// per la Prefettura" (signed by the collector and kept) and "copia per il Comune". Each names
// the prefettura and its address, the protocol number (also as a QR code, for the archive's
// scanner) and the operation's date, the prefettura's operator, the collector and the comune,
// then a table of the cards: Codice Fiscale | Cognome | Nome | Identificativo Carta (the card
// certificate's subject). A reprint by protocol number is the same document.
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "dispatch/lots.h"

namespace tessera::dispatch {

// How an office is named and reached: a receipt's heading names where the delivery was made.
struct OfficeContact {
  std::string name;     // "Prefettura di Rieti", "Ministero dell'Interno"
  std::string address;  // "Piazza Cesare Battisti 1, 02100 Rieti"
  std::string pec;      // its certified mailbox ("" if unknown)
};

absl::StatusOr<std::string> ReceiptPdf(const Delivery& delivery, const OfficeContact& place);

}  // namespace tessera::dispatch
