#include "mail/message.h"

#include <botan/base64.h>

#include <ctime>

#include "absl/strings/str_cat.h"

namespace tessera::mail {
namespace {

bool IsAscii(const std::string& text) {
  for (unsigned char c : text) {
    if (c >= 0x80 || c == '\r' || c == '\n') return false;
  }
  return true;
}

// RFC 2047 "encoded-word" for a header text that is not plain ASCII.
std::string HeaderText(const std::string& text) {
  if (IsAscii(text)) return text;
  return absl::StrCat(
      "=?UTF-8?B?",
      Botan::base64_encode(reinterpret_cast<const uint8_t*>(text.data()), text.size()), "?=");
}

// RFC 2045 quoted-printable, CRLF line ends, soft breaks at 76 characters.
std::string QuotedPrintable(const std::string& body) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  size_t column = 0;
  auto put = [&](const std::string& piece) {
    if (column + piece.size() > 75) {
      out += "=\r\n";
      column = 0;
    }
    out += piece;
    column += piece.size();
  };
  for (size_t i = 0; i < body.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(body[i]);
    if (c == '\n') {
      out += "\r\n";
      column = 0;
      continue;
    }
    const bool line_end_follows = i + 1 == body.size() || body[i + 1] == '\n';
    const bool safe = (c >= 33 && c <= 126 && c != '=') ||
                      (c == ' ' && !line_end_follows);  // trailing spaces are encoded
    // A "." alone at a line's start could end the SMTP data: encoded too.
    if (safe && !(c == '.' && column == 0)) {
      put(std::string(1, static_cast<char>(c)));
    } else if (c != '\r') {
      put(std::string{'=', kHex[c >> 4], kHex[c & 15]});
    }
  }
  if (column > 0) out += "\r\n";
  return out;
}

std::string RfcDate(std::chrono::system_clock::time_point at) {
  const std::time_t t = std::chrono::system_clock::to_time_t(at);
  std::tm utc{};
  gmtime_r(&t, &utc);
  char text[64];
  std::strftime(text, sizeof(text), "%a, %d %b %Y %H:%M:%S +0000", &utc);
  return text;
}

}  // namespace

std::string Compose(const Message& message) {
  std::string from = absl::StrCat("<", message.from, ">");
  if (!message.from_name.empty()) {
    from = absl::StrCat(IsAscii(message.from_name) ? absl::StrCat("\"", message.from_name, "\"")
                                                   : HeaderText(message.from_name),
                        " ", from);
  }
  return absl::StrCat("Date: ", RfcDate(message.date), "\r\nFrom: ", from, "\r\nTo: <", message.to,
                      ">\r\nSubject: ", HeaderText(message.subject),
                      "\r\nMessage-ID: ", message.message_id,
                      "\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=UTF-8\r\n"
                      "Content-Transfer-Encoding: quoted-printable\r\n\r\n",
                      QuotedPrintable(message.body));
}

bool IsSingleMailbox(const std::string& address) {
  const size_t at = address.find('@');
  if (at == std::string::npos || at == 0 || at + 1 >= address.size() ||
      address.find('@', at + 1) != std::string::npos || address.size() > 254) {
    return false;
  }
  for (unsigned char c : address) {
    if (c <= ' ' || c >= 0x7f || c == '<' || c == '>' || c == ',' || c == ';' || c == '"' ||
        c == '(' || c == ')' || c == '\\') {
      return false;
    }
  }
  return true;
}

}  // namespace tessera::mail
