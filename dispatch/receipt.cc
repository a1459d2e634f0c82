#include "dispatch/receipt.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "platform/clock.h"
#include "print/pdf_document.h"

namespace tessera::dispatch {
namespace {

// A4, in mm.
constexpr double kWidth = 210, kHeight = 297, kLeft = 18, kRight = 192;
// The table's columns: Codice Fiscale, Cognome, Nome, Identificativo Carta.
constexpr double kColumns[] = {kLeft, 59, 89, 117};
constexpr double kTableBottom = 250;  // below it: the signatures
constexpr double kRowPoints = 8;

std::string Upper(const std::string& text) { return absl::AsciiStrToUpper(text); }

// The operator as the receipt names them: a person, or the Ministry's central administration.
std::string OperatorOf(const Delivery& d) {
  return absl::StrCat(Upper(d.operator_person.surname), " ", Upper(d.operator_person.name),
                      d.operator_person.codice_fiscale.empty()
                          ? ""
                          : " (" + d.operator_person.codice_fiscale + ")");
}

// What the operator declares above the table.
std::string Declaration(const Delivery& d) {
  return absl::StrCat(
      d.operator_person.codice_fiscale.empty()
          ? std::string("Il Ministero dell'Interno, amministrazione centrale")
          : absl::StrCat("Il sottoscritto ", OperatorOf(d),
                         ", in qualità di operatore di prefettura per i servizi dell'ANAGRAFE "
                         "Nazionale della popolazione residente,"),
      " consegna a ", Upper(d.collector.surname), " ", Upper(d.collector.name), " (codice fiscale ",
      d.collector.codice_fiscale, "), per il Comune di ", d.office_name,
      ", le smart card per operatori ANPR elencate di seguito (", d.cards.size(), " in tutto).");
}

// Where a page's text begins below the heading, and the gaps to the table's titles and rule.
constexpr double kTextTop = 52, kTitlesGap = 5, kRuleGap = 5, kBelowRule = 1.5;

// What stands above a page's table: the declaration on the first page, "(segue)" after.
std::string Preamble(const Delivery& d, bool continued) {
  return continued ? "(segue)" : Declaration(d);
}

// Where a page's table starts: below the heading and its preamble.
double TableTop(print::PdfDocument& pdf, const Delivery& d, bool continued) {
  return kTextTop + pdf.TextHeight(10, Preamble(d, continued), false, kRight - kLeft) + kTitlesGap +
         kRuleGap + kBelowRule;
}

// The heading of a copy's page, down to the table's titles and rule; where the table starts.
absl::StatusOr<double> Heading(print::PdfDocument& pdf, const Delivery& d,
                               const OfficeContact& place, const std::string& copy,
                               bool continued) {
  pdf.Text(kLeft, 12, 9, copy, /*bold=*/true);
  pdf.Text(kLeft, 22, 15, place.name, /*bold=*/true);
  pdf.Text(kLeft, 30, 10, place.address);
  if (absl::Status drawn = pdf.QrCode(kRight - 26, 12, 26, d.protocol); !drawn.ok()) return drawn;
  pdf.Text(kLeft, 40, 11, absl::StrCat("Prot. N° ", d.protocol), /*bold=*/true);
  pdf.Text(100, 40, 11, absl::StrCat("Data Operazione: ", PrintedDate(ItalianDate(d.at))));
  pdf.Text(kLeft, kTextTop, 10, Preamble(d, continued), false, kRight - kLeft);
  const double top = TableTop(pdf, d, continued);
  const double rule = top - kBelowRule;
  const char* titles[] = {"Codice Fiscale", "Cognome", "Nome", "Identificativo Carta"};
  for (int c = 0; c < 4; ++c) pdf.Text(kColumns[c], rule - kRuleGap, 8.5, titles[c], true);
  pdf.Line(kLeft, rule, kRight, rule);
  return top;
}

void Signatures(print::PdfDocument& pdf, int page, int pages) {
  pdf.Text(kLeft, 258, 9, "L'operatore di prefettura");
  pdf.Text(118, 258, 9, "Il sindaco o il delegato che ritira");
  pdf.Line(kLeft, 276, 85, 276);
  pdf.Text(kLeft, 277, 7.5, "firma");
  pdf.Line(118, 276, kRight, 276);
  pdf.Text(118, 277, 7.5, "firma");
  pdf.Text(kRight - 22, 288, 7.5, absl::StrFormat("pagina %d di %d", page, pages));
}

// A card's row in the table: as tall as its subject, wrapped in its column, and a gap.
double RowHeight(print::PdfDocument& pdf, const DispatchCard& card) {
  return std::max(pdf.TextHeight(kRowPoints, card.subject_dn, false, kRight - kColumns[3]), 4.5) +
         2;
}

// How a copy's table is laid out: each card's row height, and the cards [from, to) of each
// page (as Copy draws them; both copies are laid out alike).
struct TableLayout {
  std::vector<double> rows;
  std::vector<std::pair<size_t, size_t>> pages;
};

TableLayout LayOutTable(print::PdfDocument& pdf, const Delivery& d) {
  TableLayout layout;
  for (const DispatchCard& card : d.cards) layout.rows.push_back(RowHeight(pdf, card));
  size_t from = 0;
  do {
    double y = TableTop(pdf, d, !layout.pages.empty());
    size_t to = from;
    while (to < d.cards.size() && (to == from || y + layout.rows[to] <= kTableBottom)) {
      y += layout.rows[to++];
    }
    layout.pages.emplace_back(from, to);
    from = to;
  } while (from < d.cards.size());
  return layout;
}

// One copy: as many pages as the table needs.
absl::Status Copy(print::PdfDocument& pdf, const Delivery& d, const OfficeContact& place,
                  const TableLayout& layout, const std::string& copy, bool first_in_document) {
  const size_t pages = layout.pages.size();
  for (size_t page = 0; page < pages; ++page) {
    if (!(first_in_document && page == 0)) pdf.NextPage();
    absl::StatusOr<double> y = Heading(pdf, d, place, copy, page > 0);
    if (!y.ok()) return y.status();
    for (size_t i = layout.pages[page].first; i < layout.pages[page].second; ++i) {
      const DispatchCard& card = d.cards[i];
      // One size for the whole row: its cells share a baseline.
      pdf.Text(kColumns[0], *y, kRowPoints, card.codice_fiscale);
      pdf.Text(kColumns[1], *y, kRowPoints, Upper(card.surname), false,
               kColumns[2] - kColumns[1] - 2);
      pdf.Text(kColumns[2], *y, kRowPoints, Upper(card.name), false, kColumns[3] - kColumns[2] - 2);
      pdf.Text(kColumns[3], *y, kRowPoints, card.subject_dn, false, kRight - kColumns[3]);
      *y += layout.rows[i];
      pdf.Line(kLeft, *y - 1, kRight, *y - 1, 0.1);
    }
    Signatures(pdf, static_cast<int>(page) + 1, static_cast<int>(pages));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::string> ReceiptPdf(const Delivery& delivery, const OfficeContact& place) {
  print::PdfDocument pdf(kWidth, kHeight);
  pdf.SetCreationDate(UtcText(delivery.at));  // a reprint is the same document
  const TableLayout layout = LayOutTable(pdf, delivery);
  if (absl::Status s = Copy(pdf, delivery, place, layout,
                            "COPIA PER LA PREFETTURA (da firmare e trattenere agli atti)", true);
      !s.ok()) {
    return s;
  }
  if (absl::Status s = Copy(pdf, delivery, place, layout, "COPIA PER IL COMUNE", false); !s.ok()) {
    return s;
  }
  absl::StatusOr<Botan::secure_vector<uint8_t>> bytes = pdf.Finish();
  if (!bytes.ok()) return bytes.status();
  return std::string(bytes->begin(), bytes->end());
}

}  // namespace tessera::dispatch
