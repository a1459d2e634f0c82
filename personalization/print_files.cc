#include "personalization/print_files.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "platform/clock.h"
#include "print/pdf_document.h"

namespace tessera::personalization {

absl::StatusOr<std::string> CardFacesPdf(std::span<const CardFace> faces) {
  if (faces.empty()) return absl::InvalidArgumentError("card faces: none to print");
  print::PdfDocument document(85.60, 53.98);
  for (size_t i = 0; i < faces.size(); ++i) {
    const CardFace& face = faces[i];
    if (i > 0) document.NextPage();
    document.Text(6, 5, 7, "Ministero dell'Interno - ANPR");
    document.Text(6, 14, 11, face.surname, /*bold=*/true);
    document.Text(6, 21, 11, face.name);
    document.Text(6, 31, 8, absl::StrCat("N. ", face.card_number));
    document.Text(6, 36, 8, absl::StrCat("Scadenza ", PrintedDate(face.expires)));
    if (absl::Status drawn = document.Barcode(6, 43, 60, 7, face.card_number); !drawn.ok()) {
      return drawn;
    }
  }
  absl::StatusOr<Botan::secure_vector<uint8_t>> pdf = document.Finish();
  if (!pdf.ok()) return pdf.status();
  return std::string(pdf->begin(), pdf->end());
}

absl::StatusOr<Secret> EnvelopesPdf(std::span<const EnvelopeSheet> sheets) {
  if (sheets.empty()) return absl::InvalidArgumentError("envelopes: none to print");
  print::PdfDocument document(210, 297);
  for (size_t i = 0; i < sheets.size(); ++i) {
    const EnvelopeSheet& sheet = sheets[i];
    if (i > 0) document.NextPage();
    document.Text(20, 20, 10, "Ministero dell'Interno - ANPR - Smart card per operatori");
    document.Text(20, 32, 12, absl::StrCat("Carta N. ", sheet.card_number), /*bold=*/true);
    if (absl::Status drawn = document.Barcode(20, 40, 80, 12, sheet.card_number); !drawn.ok()) {
      return drawn;
    }
    document.Text(20, 58, 11, absl::StrCat("Titolare: ", sheet.holder));
    document.Text(20, 65, 11, absl::StrCat("Comune: ", sheet.comune));
    document.Text(20, 80, 10,
                  "Prima metà dei codici. La seconda metà arriverà alla sua casella di posta "
                  "personale alla registrazione della carta.");
    // Each half drawn straight from its Secret: no other copy of it is made.
    document.Text(20, 92, 12, "PIN (prima metà):");
    document.Text(100, 92, 12, sheet.pin_half.view(), /*bold=*/true);
    document.Text(20, 100, 12, "PUK (prima metà):");
    document.Text(100, 100, 12, sheet.puk_half.view(), /*bold=*/true);
    document.Text(20, 108, 12, "Password di accesso (prima metà):");
    document.Text(100, 108, 12, sheet.password_half.view(), /*bold=*/true);
  }
  absl::StatusOr<Botan::secure_vector<uint8_t>> pdf = document.Finish();
  if (!pdf.ok()) return pdf.status();
  return Secret(*std::move(pdf));
}

}  // namespace tessera::personalization
