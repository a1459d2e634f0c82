// The CSV reader with what spreadsheet programs write and what goes wrong with such files.
#include "platform/csv.h"

#include <gtest/gtest.h>

namespace tessera::csv {
namespace {

std::string ErrorOf(std::string_view text, const Limits& limits = {}) {
  auto table = Parse(text, limits);
  EXPECT_FALSE(table.ok());
  if (table.ok()) return "";
  EXPECT_EQ(table.status().code(), absl::StatusCode::kInvalidArgument);
  return std::string(table.status().message());
}

TEST(Csv, SemicolonsWithBomCrlfAndQuotedFields) {
  auto table = Parse(
      "\xEF\xBB\xBFnome;cognome;note\r\n"
      "Mario;Rossi;\"via Roma; 1\"\r\n"
      "\r\n"
      "Anna;\"D'Angelo \"\"Nina\"\"\";\"two\r\nlines\"\r\n");
  ASSERT_TRUE(table.ok()) << table.status();
  EXPECT_EQ(table->separator, ';');
  EXPECT_EQ(table->header, (std::vector<std::string>{"nome", "cognome", "note"}));
  ASSERT_EQ(table->rows.size(), 2u);
  EXPECT_EQ(table->rows[0].line, 2);
  EXPECT_EQ(table->rows[0].fields[2], "via Roma; 1");
  EXPECT_EQ(table->rows[1].line, 4);
  EXPECT_EQ(table->rows[1].fields[1], "D'Angelo \"Nina\"");
  EXPECT_EQ(table->rows[1].fields[2], "two\r\nlines");
}

TEST(Csv, CommasAndEmptyFieldsAndNoFinalNewline) {
  auto table = Parse("a,b,c\n1,,3\n,,");
  ASSERT_TRUE(table.ok()) << table.status();
  EXPECT_EQ(table->separator, ',');
  ASSERT_EQ(table->rows.size(), 2u);
  EXPECT_EQ(table->rows[0].fields, (std::vector<std::string>{"1", "", "3"}));
  EXPECT_EQ(table->rows[1].fields, (std::vector<std::string>{"", "", ""}));
}

TEST(Csv, BrokenFilesNameTheLine) {
  EXPECT_EQ(ErrorOf("a;b\n1;\"open\n"),
            "line 2: a quoted field is not closed (is the file truncated?)");
  EXPECT_EQ(ErrorOf("a;b\n1;2;3\n"),
            "line 2: 3 fields, the header has 2 (is a ';' inside a value without quotes?)");
  EXPECT_EQ(ErrorOf("a;b\n1;x\"y\n"), "line 2: field 2: a quote inside an unquoted field");
  EXPECT_EQ(ErrorOf("a;b\n1;\"x\"y\n"), "line 2: field 2: text after the closing quote");
  EXPECT_EQ(ErrorOf("a;b\nRoss\xe8;1\n"), "line 2: not UTF-8 (save the file as \"CSV UTF-8\")");
  EXPECT_EQ(ErrorOf("a;b\n\xC0\xAF;1\n"), "line 2: not UTF-8 (save the file as \"CSV UTF-8\")");
  // Workbooks sent as they are: named, with what to do.
  EXPECT_EQ(ErrorOf(std::string("PK\x03\x04\x14\x00\x06\x00", 8) + "[Content_Types].xml"),
            "file: an XLSX workbook (or another ZIP file), not CSV: save it as \"CSV UTF-8\" from "
            "the spreadsheet program, or convert it with xlsx2csv -d ';'");
  EXPECT_NE(ErrorOf("\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1").find("an XLS workbook"), std::string::npos);
  EXPECT_EQ(ErrorOf("a;;b\n"), "line 1: column 2 has no name");
  EXPECT_EQ(ErrorOf("a;a\n"), "line 1: column 'a' appears twice");
  EXPECT_EQ(ErrorOf(""), "file: empty, not even a header");
}

TEST(Csv, LimitsAreEnforced) {
  EXPECT_EQ(ErrorOf(std::string(100, 'x'), {.max_bytes = 99}), "file: 100 bytes, at most 99");
  EXPECT_EQ(ErrorOf("a\n1\n2\n3\n", {.max_rows = 2}), "line 4: more than 2 rows");
  EXPECT_EQ(ErrorOf("a;b\n1;12345\n", {.max_field_bytes = 4}), "line 2: field 2 is over 4 bytes");
}

TEST(Csv, HeaderMustBeExactlyTheExpectedColumns) {
  auto table = Parse("nome;cognome\n");
  ASSERT_TRUE(table.ok());
  EXPECT_TRUE(CheckHeader(*table, {"nome", "cognome"}).ok());
  EXPECT_EQ(CheckHeader(*table, {"cognome", "nome"}).message(),
            "header: the columns are nome;cognome; expected cognome;nome");
}

}  // namespace
}  // namespace tessera::csv
