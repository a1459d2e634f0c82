#include "personalization/print_files.h"

#include <cairo-pdf.h>
#include <cairo.h>
#include <pango/pangocairo.h>
#include <zint.h>

#include <cstdio>
#include <memory>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace tessera::personalization {
namespace {

constexpr double kPointsPerMm = 72.0 / 25.4;

// Where cairo writes the PDF: a buffer that Botan wipes when it is freed, since an envelope
// file holds the envelope halves.
cairo_status_t Append(void* closure, const unsigned char* data, unsigned int length) {
  auto* out = static_cast<Botan::secure_vector<uint8_t>*>(closure);
  out->insert(out->end(), data, data + length);
  return CAIRO_STATUS_SUCCESS;
}

// A PDF of pages of one size, drawn with cairo, text laid out by pango.
class Document {
 public:
  Document(double width_mm, double height_mm)
      : surface_(cairo_pdf_surface_create_for_stream(Append, &pdf_, width_mm * kPointsPerMm,
                                                     height_mm * kPointsPerMm),
                 cairo_surface_destroy),
        cr_(cairo_create(surface_.get()), cairo_destroy) {
    cairo_pdf_surface_set_metadata(surface_.get(), CAIRO_PDF_METADATA_CREATOR, "tessera");
  }

  // `text` at (x, y) mm, its top-left corner, in DejaVu Sans of `points`.
  void Text(double x_mm, double y_mm, double points, std::string_view text, bool bold = false) {
    std::unique_ptr<PangoLayout, decltype(&g_object_unref)> layout(
        pango_cairo_create_layout(cr_.get()), g_object_unref);
    std::unique_ptr<PangoFontDescription, decltype(&pango_font_description_free)> font(
        pango_font_description_from_string(
            absl::StrFormat("DejaVu Sans %s %.1f", bold ? "Bold" : "", points).c_str()),
        pango_font_description_free);
    pango_layout_set_font_description(layout.get(), font.get());
    pango_layout_set_text(layout.get(), text.data(), static_cast<int>(text.size()));
    cairo_move_to(cr_.get(), x_mm * kPointsPerMm, y_mm * kPointsPerMm);
    pango_cairo_show_layout(cr_.get(), layout.get());
  }

  // A Code 128 barcode of `data` filling the box at (x, y) mm.
  absl::Status Barcode(double x_mm, double y_mm, double width_mm, double height_mm,
                       std::string_view data) {
    std::unique_ptr<zint_symbol, decltype(&ZBarcode_Delete)> symbol(ZBarcode_Create(),
                                                                    ZBarcode_Delete);
    symbol->symbology = BARCODE_CODE128;
    symbol->show_hrt = 0;  // the number is printed as text beside it
    if (ZBarcode_Encode(symbol.get(), reinterpret_cast<const unsigned char*>(data.data()),
                        static_cast<int>(data.size())) >= ZINT_ERROR ||
        ZBarcode_Buffer_Vector(symbol.get(), 0) >= ZINT_ERROR) {
      return absl::InternalError(absl::StrCat("barcode: ", symbol->errtxt));
    }
    const double sx = width_mm * kPointsPerMm / symbol->vector->width;
    const double sy = height_mm * kPointsPerMm / symbol->vector->height;
    for (const zint_vector_rect* r = symbol->vector->rectangles; r != nullptr; r = r->next) {
      if (r->colour != -1) continue;  // the background stays the paper's
      cairo_rectangle(cr_.get(), x_mm * kPointsPerMm + r->x * sx, y_mm * kPointsPerMm + r->y * sy,
                      r->width * sx, r->height * sy);
    }
    cairo_fill(cr_.get());
    return absl::OkStatus();
  }

  void NextPage() { cairo_show_page(cr_.get()); }

  // The finished PDF; INTERNAL if cairo failed on the way.
  absl::StatusOr<Botan::secure_vector<uint8_t>> Finish() {
    cr_.reset();
    cairo_surface_finish(surface_.get());
    if (cairo_surface_status(surface_.get()) != CAIRO_STATUS_SUCCESS) {
      return absl::InternalError(
          absl::StrCat("PDF: ", cairo_status_to_string(cairo_surface_status(surface_.get()))));
    }
    surface_.reset();
    return std::move(pdf_);
  }

 private:
  Botan::secure_vector<uint8_t> pdf_;
  std::unique_ptr<cairo_surface_t, decltype(&cairo_surface_destroy)> surface_;
  std::unique_ptr<cairo_t, decltype(&cairo_destroy)> cr_;
};

std::string ItalianDate(std::chrono::year_month_day date) {
  return absl::StrFormat("%02u/%02u/%04d", static_cast<unsigned>(date.day()),
                         static_cast<unsigned>(date.month()), static_cast<int>(date.year()));
}

}  // namespace

absl::StatusOr<std::string> CardFacesPdf(std::span<const CardFace> faces) {
  if (faces.empty()) return absl::InvalidArgumentError("card faces: none to print");
  Document document(85.60, 53.98);
  for (size_t i = 0; i < faces.size(); ++i) {
    const CardFace& face = faces[i];
    if (i > 0) document.NextPage();
    document.Text(6, 5, 7, "Ministero dell'Interno - ANPR");
    document.Text(6, 14, 11, face.surname, /*bold=*/true);
    document.Text(6, 21, 11, face.name);
    document.Text(6, 31, 8, absl::StrCat("N. ", face.card_number));
    document.Text(6, 36, 8, absl::StrCat("Scadenza ", ItalianDate(face.expires)));
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
  Document document(210, 297);
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
