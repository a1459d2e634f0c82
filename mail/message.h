// A mail as tessera sends it: plain UTF-8 text to one recipient, in RFC 5322 form with MIME
// headers, its Message-ID fixed when the mail was queued (a resend after a crash is then
// recognisably the same message).
#pragma once

#include <chrono>
#include <string>

namespace tessera::mail {

struct Message {
  std::string from;       // "tessera@anpr.example"
  std::string from_name;  // "ANPR - Ministero dell'Interno" ("" for none)
  std::string to;
  std::string subject;     // UTF-8
  std::string body;        // UTF-8 text, lines ending in "\n"
  std::string message_id;  // "<…@…>"
  std::chrono::system_clock::time_point date;
};

// The message as sent over SMTP: CRLF line ends, a non-ASCII subject or name RFC 2047
// encoded, the body quoted-printable (lines never longer than 76 characters, a leading "."
// and trailing spaces safe).
std::string Compose(const Message& message);

// Whether `address` looks like one mailbox (local@domain, no spaces, brackets, commas or line
// ends): what tessera refuses to hand to SMTP otherwise.
bool IsSingleMailbox(const std::string& address);

}  // namespace tessera::mail
