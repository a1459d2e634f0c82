// Delivers composed messages to an SMTP relay with libcurl: STARTTLS when the relay offers it
// (or required, by configuration), optional credentials, one connection per message.
#pragma once

#include <chrono>
#include <string>

#include "absl/status/status.h"
#include "platform/secret.h"

namespace tessera::mail {

struct SmtpSettings {
  std::string relay;  // "smtp://host:port" (or "smtps://host:port", TLS from the start)
  enum class Tls { kOff, kWhenOffered, kRequired } tls = Tls::kWhenOffered;
  std::string ca_file;   // CA bundle the relay's certificate is checked with; "" for the system's
  std::string username;  // "" for none
  Secret password;
  std::chrono::seconds timeout{30};
};

class SmtpTransport {
 public:
  explicit SmtpTransport(SmtpSettings settings) : settings_(std::move(settings)) {}
  virtual ~SmtpTransport() = default;

  // OK once the relay accepted the message (250 after DATA). UNAVAILABLE when it may work
  // later (no connection, a 4xx answer, a connection closed mid-message, a timeout);
  // FAILED_PRECONDITION when it will not (a 5xx answer: recipient or sender refused, refused
  // credentials). The message says which.
  virtual absl::Status Send(const std::string& from, const std::string& to,
                            const std::string& composed);

 private:
  SmtpSettings settings_;
};

}  // namespace tessera::mail
