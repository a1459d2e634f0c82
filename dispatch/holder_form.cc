#include "dispatch/holder_form.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "platform/clock.h"
#include "print/pdf_document.h"

namespace tessera::dispatch {

absl::StatusOr<std::string> HolderFormPdf(const Registration& r) {
  constexpr double kLeft = 20, kWidth = 170;
  const auto upper = [](const std::string& text) { return absl::AsciiStrToUpper(text); };
  const std::string date = PrintedDate(ItalianDate(r.at));
  print::PdfDocument pdf(210, 297);
  pdf.SetCreationDate(UtcText(r.at));
  pdf.Text(kLeft, 15, 10, "Ministero dell'Interno - ANPR - Smart card per operatori");
  pdf.Text(kLeft, 25, 15, absl::StrCat("Comune di ", r.office_name), /*bold=*/true);
  pdf.Text(kLeft, 35, 12, "Registrazione della smart card al titolare", /*bold=*/true);
  double y = 50;
  const auto row = [&](const std::string& label, const std::string& value) {
    pdf.Text(kLeft, y, 10, label);
    y += std::max(pdf.Text(82, y, 10, value, /*bold=*/true, kWidth - 62), 5.0) + 2;
  };
  row("Titolare", upper(r.holder.surname) + " " + upper(r.holder.name));
  row("Codice fiscale", r.holder.codice_fiscale);
  row("Carta N.", r.card.card_number);
  row("Identificativo Carta", r.card.subject_dn);
  row("Numero di serie del certificato", r.card.certificate_serial);
  row("Consegnata con Prot. N°", r.card.protocol);
  row("Registrata il", date);
  row("Registrata da",
      absl::StrCat(upper(r.registered_by.surname), " ", upper(r.registered_by.name), " (",
                   r.registered_by.codice_fiscale, ")"));
  if (absl::Status drawn = pdf.Barcode(kLeft, y + 4, 80, 12, r.card.card_number); !drawn.ok()) {
    return drawn;
  }
  y += 24;
  y += pdf.Text(
      kLeft, y, 10,
      "Il titolare dichiara di aver ricevuto la smart card sopra indicata e la busta sigillata "
      "con la prima metà del PIN, del PUK e della password; la seconda metà gli è inviata ora "
      "alla sua casella di posta personale. Si impegna a custodire la carta e i codici con "
      "diligenza, a non cederli ad altri e a denunciarne subito lo smarrimento o il furto.",
      false, kWidth);
  pdf.Text(kLeft, 250, 9, "Il titolare");
  pdf.Text(118, 250, 9, "L'amministratore della sicurezza");
  pdf.Line(kLeft, 270, 85, 270);
  pdf.Line(118, 270, kLeft + kWidth, 270);
  absl::StatusOr<Botan::secure_vector<uint8_t>> bytes = pdf.Finish();
  if (!bytes.ok()) return bytes.status();
  return std::string(bytes->begin(), bytes->end());
}

}  // namespace tessera::dispatch
