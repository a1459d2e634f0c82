// A real SMTP server for tests: Debian's python3-aiosmtpd on loopback (smtp_sink.py), writing
// each message it accepts to a directory; recipients named refuse-…, later-… and cut-… get a
// 550, a 451 and a connection cut after the data.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

namespace tessera::testing {

class SmtpSink {
 public:
  // Listens on `port` (0: a free one), writing into `dir`; returns once it accepts connections.
  SmtpSink(const std::string& dir, int port = 0);
  ~SmtpSink();
  SmtpSink(const SmtpSink&) = delete;
  SmtpSink& operator=(const SmtpSink&) = delete;

  int port() const { return port_; }
  std::string relay() const { return "smtp://127.0.0.1:" + std::to_string(port_); }
  // Every message received so far, in order, as received (CRLF line ends).
  std::vector<std::string> Messages() const;
  void Stop();

 private:
  std::string dir_;
  int port_ = 0;
  pid_t pid_ = -1;
};

// The value of header `name` in a message ("" if absent).
std::string MailHeader(const std::string& message, const std::string& name);
// The body of a quoted-printable message, decoded, with "\n" line ends.
std::string MailBody(const std::string& message);

}  // namespace tessera::testing
