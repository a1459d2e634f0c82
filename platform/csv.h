// A reader for CSV as spreadsheet programs save it (RFC 4180 and what Italian office suites
// add): UTF-8 with or without a byte-order mark, ';' or ',' between fields (told from the
// header line), fields in double quotes may hold separators, line breaks and doubled quotes,
// lines end in LF or CRLF. It reads the whole text, so every error carries its line.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace tessera::csv {

struct Row {
  int line = 0;  // 1-based line where the row starts (the header is line 1)
  std::vector<std::string> fields;
};

struct Table {
  char separator = ',';
  std::vector<std::string> header;
  std::vector<Row> rows;  // every row has as many fields as the header
};

struct Limits {
  size_t max_bytes = 64 << 20;  // refuse larger input before reading a byte of it
  size_t max_rows = 1'000'000;
  size_t max_field_bytes = 4096;
};

// INVALID_ARGUMENT naming the line (and field) and the rule: not UTF-8, a quote left open at
// the end of the text (a truncated file), a stray quote inside an unquoted field, a row with
// a different number of fields than the header, an empty header name or a repeated one, a
// field or a file over the limits. Blank lines are skipped.
absl::StatusOr<Table> Parse(std::string_view text, const Limits& limits = {});

// `header` must be exactly `expected`, in order: else INVALID_ARGUMENT listing both.
absl::Status CheckHeader(const Table& table, const std::vector<std::string>& expected);

}  // namespace tessera::csv
