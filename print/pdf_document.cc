#include "print/pdf_document.h"

#include <cairo-pdf.h>
#include <cairo.h>
#include <pango/pangocairo.h>
#include <zint.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace tessera::print {
namespace {

constexpr double kPointsPerMm = 72.0 / 25.4;

cairo_status_t Append(void* closure, const unsigned char* data, unsigned int length) {
  auto* out = static_cast<Botan::secure_vector<uint8_t>*>(closure);
  out->insert(out->end(), data, data + length);
  return CAIRO_STATUS_SUCCESS;
}

}  // namespace

PdfDocument::PdfDocument(double width_mm, double height_mm)
    : pdf_(std::make_unique<Botan::secure_vector<uint8_t>>()) {
  surface_ = cairo_pdf_surface_create_for_stream(Append, pdf_.get(), width_mm * kPointsPerMm,
                                                 height_mm * kPointsPerMm);
  cairo_pdf_surface_set_metadata(surface_, CAIRO_PDF_METADATA_CREATOR, "tessera");
  cr_ = cairo_create(surface_);
}

PdfDocument::~PdfDocument() {
  if (cr_ != nullptr) cairo_destroy(cr_);
  if (surface_ != nullptr) cairo_surface_destroy(surface_);
}

namespace {

using Layout = std::unique_ptr<PangoLayout, decltype(&g_object_unref)>;

Layout LayOut(cairo_t* cr, double points, std::string_view text, bool bold, double width_mm) {
  Layout layout(pango_cairo_create_layout(cr), g_object_unref);
  std::unique_ptr<PangoFontDescription, decltype(&pango_font_description_free)> font(
      pango_font_description_from_string(
          absl::StrFormat("DejaVu Sans %s %.1f", bold ? "Bold" : "", points).c_str()),
      pango_font_description_free);
  pango_layout_set_font_description(layout.get(), font.get());
  if (width_mm > 0) {
    pango_layout_set_width(layout.get(), static_cast<int>(width_mm * kPointsPerMm * PANGO_SCALE));
    pango_layout_set_wrap(layout.get(), PANGO_WRAP_WORD_CHAR);
  }
  pango_layout_set_text(layout.get(), text.data(), static_cast<int>(text.size()));
  return layout;
}

double HeightMm(PangoLayout* layout) {
  int width = 0, height = 0;
  pango_layout_get_size(layout, &width, &height);
  return static_cast<double>(height) / PANGO_SCALE / kPointsPerMm;
}

}  // namespace

double PdfDocument::Text(double x_mm, double y_mm, double points, std::string_view text, bool bold,
                         double width_mm) {
  Layout layout = LayOut(cr_, points, text, bold, width_mm);
  cairo_move_to(cr_, x_mm * kPointsPerMm, y_mm * kPointsPerMm);
  pango_cairo_show_layout(cr_, layout.get());
  return HeightMm(layout.get());
}

double PdfDocument::TextHeight(double points, std::string_view text, bool bold, double width_mm) {
  return HeightMm(LayOut(cr_, points, text, bold, width_mm).get());
}

void PdfDocument::Line(double x1_mm, double y1_mm, double x2_mm, double y2_mm, double width_mm) {
  cairo_set_line_width(cr_, width_mm * kPointsPerMm);
  cairo_move_to(cr_, x1_mm * kPointsPerMm, y1_mm * kPointsPerMm);
  cairo_line_to(cr_, x2_mm * kPointsPerMm, y2_mm * kPointsPerMm);
  cairo_stroke(cr_);
}

absl::Status PdfDocument::Barcode(double x_mm, double y_mm, double width_mm, double height_mm,
                                  std::string_view data) {
  return Symbol(BARCODE_CODE128, x_mm, y_mm, width_mm, height_mm, data);
}

absl::Status PdfDocument::QrCode(double x_mm, double y_mm, double side_mm, std::string_view data) {
  return Symbol(BARCODE_QRCODE, x_mm, y_mm, side_mm, side_mm, data);
}

absl::Status PdfDocument::Symbol(int symbology, double x_mm, double y_mm, double width_mm,
                                 double height_mm, std::string_view data) {
  std::unique_ptr<zint_symbol, decltype(&ZBarcode_Delete)> symbol(ZBarcode_Create(),
                                                                  ZBarcode_Delete);
  symbol->symbology = symbology;
  symbol->show_hrt = 0;  // the text is printed beside it
  if (ZBarcode_Encode(symbol.get(), reinterpret_cast<const unsigned char*>(data.data()),
                      static_cast<int>(data.size())) >= ZINT_ERROR ||
      ZBarcode_Buffer_Vector(symbol.get(), 0) >= ZINT_ERROR) {
    return absl::InternalError(absl::StrCat("barcode: ", symbol->errtxt));
  }
  const double sx = width_mm * kPointsPerMm / symbol->vector->width;
  const double sy = height_mm * kPointsPerMm / symbol->vector->height;
  for (const zint_vector_rect* r = symbol->vector->rectangles; r != nullptr; r = r->next) {
    if (r->colour != -1) continue;  // the background stays the paper's
    cairo_rectangle(cr_, x_mm * kPointsPerMm + r->x * sx, y_mm * kPointsPerMm + r->y * sy,
                    r->width * sx, r->height * sy);
  }
  cairo_fill(cr_);
  return absl::OkStatus();
}

void PdfDocument::NextPage() { cairo_show_page(cr_); }

void PdfDocument::SetCreationDate(const std::string& rfc3339) {
  cairo_pdf_surface_set_metadata(surface_, CAIRO_PDF_METADATA_CREATE_DATE, rfc3339.c_str());
}

absl::StatusOr<Botan::secure_vector<uint8_t>> PdfDocument::Finish() {
  cairo_destroy(cr_);
  cr_ = nullptr;
  cairo_surface_finish(surface_);
  const cairo_status_t status = cairo_surface_status(surface_);
  cairo_surface_destroy(surface_);
  surface_ = nullptr;
  if (status != CAIRO_STATUS_SUCCESS) {
    return absl::InternalError(absl::StrCat("PDF: ", cairo_status_to_string(status)));
  }
  return std::move(*pdf_);
}

}  // namespace tessera::print
