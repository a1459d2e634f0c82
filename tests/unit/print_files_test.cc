// A lot's print files read back with poppler's pdftotext and pdfinfo: every card on its page,
// in order, and on the envelope sheets the envelope halves and nothing of the mail halves.
#include "personalization/print_files.h"

#include <gtest/gtest.h>

#include <string>

#include "personalization/credentials.h"
#include "platform/files.h"
#include "tests/support/run.h"
#include "tests/support/temp_dir.h"

namespace tessera::personalization {
namespace {

using std::chrono::year;
using testing::RunCommand;

// The PDF's text, page by page (pdftotext separates pages with a form feed).
std::vector<std::string> Pages(const testing::TempDir& dir, std::string_view pdf) {
  const std::string path = dir.File("file.pdf");
  EXPECT_TRUE(WriteFile(path, pdf).ok());
  auto text = RunCommand("pdftotext -layout " + path + " -");
  EXPECT_EQ(text.exit_code, 0) << text.output;
  std::vector<std::string> pages;
  size_t start = 0;
  for (size_t ff = text.output.find('\f'); ff != std::string::npos;
       ff = text.output.find('\f', start)) {
    pages.push_back(text.output.substr(start, ff - start));
    start = ff + 1;
  }
  return pages;
}

TEST(PrintFiles, EveryCardFaceOnItsOwnPageInOrder) {
  testing::TempDir dir("tessera-print");
  const std::vector<CardFace> faces = {
      {"0570010000000001", "ROSSI", "MARIO", year(2032) / 12 / 1},
      {"0570010000000002", "BIANCHI", "ANNA MARIA", year(2032) / 12 / 2},
      {"0570010000000003", "D'ANGELO", "LUCA", year(2032) / 12 / 3}};
  auto pdf = CardFacesPdf(faces);
  ASSERT_TRUE(pdf.ok()) << pdf.status();
  const std::vector<std::string> pages = Pages(dir, *pdf);
  ASSERT_EQ(pages.size(), faces.size());
  for (size_t i = 0; i < faces.size(); ++i) {
    EXPECT_NE(pages[i].find(faces[i].surname), std::string::npos) << pages[i];
    EXPECT_NE(pages[i].find(faces[i].name), std::string::npos) << pages[i];
    EXPECT_NE(pages[i].find(faces[i].card_number), std::string::npos) << pages[i];
  }
  EXPECT_NE(pages[1].find("Scadenza 02/12/2032"), std::string::npos) << pages[1];
  // ID-1 size: 242.65 x 153.01 points.
  auto info = RunCommand("pdfinfo " + dir.File("file.pdf"));
  EXPECT_NE(info.output.find("242.646 x 153.014 pts"), std::string::npos) << info.output;
  EXPECT_EQ(CardFacesPdf({}).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(PrintFiles, EnvelopesCarryTheEnvelopeHalvesOnly) {
  testing::TempDir dir("tessera-print");
  // A 4-digit mail half could appear in the file by chance (inside a card number, or equal to
  // an envelope half): draw again until none does, so that finding one means the file leaks it.
  std::vector<CardCredentials> credentials;
  for (bool clash = true; clash;) {
    credentials.clear();
    std::string printed;  // every run of digits the file prints
    for (int i = 1; i <= 3; ++i) {
      credentials.push_back(NewCardCredentials());
      printed += " 057001000000000" + std::to_string(i);
      for (Credential k : {Credential::kPin, Credential::kPuk}) {
        printed += " " + std::string(Split(credentials.back().Get(k)).envelope.view());
      }
    }
    clash = false;
    for (const CardCredentials& c : credentials) {
      for (Credential k : {Credential::kPin, Credential::kPuk}) {
        clash = clash || printed.find(Split(c.Get(k)).mail.view()) != std::string::npos;
      }
    }
  }
  std::vector<EnvelopeSheet> sheets;
  for (int i = 1; i <= 3; ++i) {
    const CardCredentials& c = credentials[i - 1];
    sheets.push_back({"057001000000000" + std::to_string(i), "ROSSI MARIO", "ACCUMOLI (RI)",
                      Split(c.pin).envelope, Split(c.puk).envelope, Split(c.password).envelope});
  }
  auto pdf = EnvelopesPdf(sheets);
  ASSERT_TRUE(pdf.ok()) << pdf.status();
  const std::vector<std::string> pages = Pages(dir, pdf->view());
  ASSERT_EQ(pages.size(), sheets.size());
  for (size_t i = 0; i < sheets.size(); ++i) {
    const std::string& page = pages[i];
    EXPECT_NE(page.find(sheets[i].card_number), std::string::npos) << page;
    EXPECT_NE(page.find("ACCUMOLI (RI)"), std::string::npos) << page;
    for (Credential c : {Credential::kPin, Credential::kPuk, Credential::kPassword}) {
      const Halves halves = Split(credentials[i].Get(c));
      EXPECT_NE(page.find(halves.envelope.view()), std::string::npos) << page;
      // Neither the mail half nor the whole secret is anywhere in the file.
      EXPECT_EQ(page.find(credentials[i].Get(c).view()), std::string::npos) << page;
    }
  }
  // Nor is a mail half anywhere in the file's text.
  const std::string text = RunCommand("pdftotext " + dir.File("file.pdf") + " -").output;
  for (const CardCredentials& c : credentials) {
    for (Credential k : {Credential::kPin, Credential::kPuk, Credential::kPassword}) {
      EXPECT_EQ(text.find(Split(c.Get(k)).mail.view()), std::string::npos);
    }
  }
}

}  // namespace
}  // namespace tessera::personalization
