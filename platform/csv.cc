#include "platform/csv.h"

#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace tessera::csv {
namespace {

absl::Status Error(int line, std::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat("line ", line, ": ", std::string(what)));
}

// The 1-based line of the first invalid UTF-8 sequence, or 0 if the text is valid UTF-8
// (no overlong forms, no surrogates, nothing above U+10FFFF).
int FirstInvalidUtf8Line(std::string_view text) {
  int line = 1;
  for (size_t i = 0; i < text.size();) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    if (c == '\n') ++line;
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t length = 0;
    uint32_t code_point = 0;
    if ((c & 0xE0) == 0xC0) {
      length = 2;
      code_point = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      length = 3;
      code_point = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      length = 4;
      code_point = c & 0x07;
    } else {
      return line;
    }
    if (i + length > text.size()) return line;
    for (size_t k = 1; k < length; ++k) {
      const unsigned char next = static_cast<unsigned char>(text[i + k]);
      if ((next & 0xC0) != 0x80) return line;
      code_point = (code_point << 6) | (next & 0x3F);
    }
    static constexpr uint32_t kSmallest[] = {0, 0, 0x80, 0x800, 0x10000};
    if (code_point < kSmallest[length] || code_point > 0x10FFFF ||
        (code_point >= 0xD800 && code_point <= 0xDFFF)) {
      return line;
    }
    i += length;
  }
  return 0;
}

}  // namespace

absl::StatusOr<Table> Parse(std::string_view text, const Limits& limits) {
  if (text.size() > limits.max_bytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("file: ", text.size(), " bytes, at most ", limits.max_bytes));
  }
  // A workbook sent instead of its CSV export: say so, rather than "not UTF-8 on line 1".
  if (text.starts_with(std::string_view("PK\x03\x04", 4))) {
    return absl::InvalidArgumentError(
        "file: an XLSX workbook (or another ZIP file), not CSV: save it as \"CSV UTF-8\" from "
        "the spreadsheet program, or convert it with xlsx2csv -d ';'");
  }
  if (text.starts_with("\xD0\xCF\x11\xE0")) {
    return absl::InvalidArgumentError(
        "file: an XLS workbook (Excel 97-2003), not CSV: save it as \"CSV UTF-8\" from the "
        "spreadsheet program");
  }
  if (text.starts_with("\xEF\xBB\xBF")) text.remove_prefix(3);
  if (int line = FirstInvalidUtf8Line(text); line != 0) {
    return Error(line, "not UTF-8 (save the file as \"CSV UTF-8\")");
  }
  Table table;
  // The separator is whichever of ';' and ',' the header line (outside quotes) has more of.
  {
    int semicolons = 0, commas = 0;
    bool quoted = false;
    for (char c : text) {
      if (c == '"') quoted = !quoted;
      if (!quoted && c == '\n') break;
      if (!quoted && c == ';') ++semicolons;
      if (!quoted && c == ',') ++commas;
    }
    table.separator = semicolons > commas ? ';' : ',';
  }

  std::vector<std::vector<std::string>> records;
  std::vector<int> record_lines;
  std::vector<std::string> record;
  std::string field;
  int line = 1;
  int record_line = 1;
  bool in_quotes = false;
  bool field_was_quoted = false;
  bool record_has_content = false;
  auto end_field = [&]() -> absl::Status {
    if (field.size() > limits.max_field_bytes) {
      return Error(record_line, absl::StrCat("field ", record.size() + 1, " is over ",
                                             limits.max_field_bytes, " bytes"));
    }
    record.push_back(std::move(field));
    field.clear();
    field_was_quoted = false;
    return absl::OkStatus();
  };
  auto end_record = [&]() -> absl::Status {
    if (record_has_content) {
      if (absl::Status st = end_field(); !st.ok()) return st;
      if (records.size() >= limits.max_rows + 1) {
        return Error(record_line, absl::StrCat("more than ", limits.max_rows, " rows"));
      }
      records.push_back(std::move(record));
      record_lines.push_back(record_line);
    }
    record.clear();
    field.clear();
    field_was_quoted = false;
    record_has_content = false;
    return absl::OkStatus();
  };
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_quotes) {
      if (c == '"') {
        if (i + 1 < text.size() && text[i + 1] == '"') {
          field.push_back('"');
          ++i;
        } else {
          in_quotes = false;
        }
      } else {
        if (c == '\n') ++line;
        field.push_back(c);
      }
      continue;
    }
    if (c == '"') {
      if (!field.empty() || field_was_quoted) {
        return Error(
            line, absl::StrCat("field ", record.size() + 1, ": a quote inside an unquoted field"));
      }
      in_quotes = true;
      field_was_quoted = true;
      record_has_content = true;
    } else if (c == table.separator) {
      record_has_content = true;
      if (absl::Status st = end_field(); !st.ok()) return st;
    } else if (c == '\n' || c == '\r') {
      if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') ++i;
      if (absl::Status st = end_record(); !st.ok()) return st;
      ++line;
      record_line = line;
    } else {
      if (field_was_quoted) {
        return Error(line,
                     absl::StrCat("field ", record.size() + 1, ": text after the closing quote"));
      }
      field.push_back(c);
      record_has_content = true;
    }
  }
  if (in_quotes) {
    return Error(record_line, "a quoted field is not closed (is the file truncated?)");
  }
  if (absl::Status st = end_record(); !st.ok()) return st;

  if (records.empty()) return absl::InvalidArgumentError("file: empty, not even a header");
  table.header = std::move(records.front());
  std::set<std::string> names;
  for (size_t k = 0; k < table.header.size(); ++k) {
    if (table.header[k].empty()) return Error(1, absl::StrCat("column ", k + 1, " has no name"));
    if (!names.insert(table.header[k]).second) {
      return Error(1, absl::StrCat("column '", table.header[k], "' appears twice"));
    }
  }
  for (size_t r = 1; r < records.size(); ++r) {
    if (records[r].size() != table.header.size()) {
      return Error(record_lines[r],
                   absl::StrCat(records[r].size(), " fields, the header has ", table.header.size(),
                                " (is a '", std::string(1, table.separator),
                                "' inside a value without quotes?)"));
    }
    table.rows.push_back({record_lines[r], std::move(records[r])});
  }
  return table;
}

absl::Status CheckHeader(const Table& table, const std::vector<std::string>& expected) {
  if (table.header == expected) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat(
      "header: the columns are ", absl::StrJoin(table.header, std::string(1, table.separator)),
      "; expected ", absl::StrJoin(expected, std::string(1, table.separator))));
}

}  // namespace tessera::csv
