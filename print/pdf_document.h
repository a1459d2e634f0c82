// A PDF of pages of one size, drawn with cairo, text laid out by pango (DejaVu Sans), barcodes
// and QR codes by zint: what every printed thing of tessera is made with (card faces, envelope
// sheets, delivery receipts, holder forms). The bytes are kept in memory Botan wipes when it is
// freed, since some of these documents hold secrets (envelope halves).
#pragma once

#include <botan/secmem.h>

#include <memory>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

typedef struct _cairo_surface cairo_surface_t;
typedef struct _cairo cairo_t;

namespace tessera::print {

class PdfDocument {
 public:
  PdfDocument(double width_mm, double height_mm);
  ~PdfDocument();
  PdfDocument(const PdfDocument&) = delete;
  PdfDocument& operator=(const PdfDocument&) = delete;

  // `text` at (x, y) mm, its top-left corner, in DejaVu Sans of `points`; wrapped at
  // `width_mm` if not 0. Returns the height it took, in mm.
  double Text(double x_mm, double y_mm, double points, std::string_view text, bool bold = false,
              double width_mm = 0);
  // The height `text` would take, in mm, as Text lays it out (nothing drawn).
  double TextHeight(double points, std::string_view text, bool bold = false, double width_mm = 0);
  // A line from (x1, y1) to (x2, y2) mm, `width_mm` thick.
  void Line(double x1_mm, double y1_mm, double x2_mm, double y2_mm, double width_mm = 0.3);
  // A Code 128 barcode of `data` filling the box at (x, y) mm.
  absl::Status Barcode(double x_mm, double y_mm, double width_mm, double height_mm,
                       std::string_view data);
  // A QR code of `data`, `side_mm` square, its top-left corner at (x, y) mm.
  absl::Status QrCode(double x_mm, double y_mm, double side_mm, std::string_view data);

  void NextPage();
  // The document's creation date in its metadata (RFC 3339, "2026-12-03T10:15:00Z"): a
  // document made again from the same record is then the same bytes (otherwise: now).
  void SetCreationDate(const std::string& rfc3339);

  // The finished PDF; INTERNAL if cairo failed on the way. The document is spent.
  absl::StatusOr<Botan::secure_vector<uint8_t>> Finish();

 private:
  absl::Status Symbol(int symbology, double x_mm, double y_mm, double width_mm, double height_mm,
                      std::string_view data);

  // Where cairo writes: a member, so its address holds for the surface's life.
  std::unique_ptr<Botan::secure_vector<uint8_t>> pdf_;
  cairo_surface_t* surface_ = nullptr;
  cairo_t* cr_ = nullptr;
};

}  // namespace tessera::print
