#include "mail/smtp.h"

#include <curl/curl.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <mutex>

#include "absl/strings/str_cat.h"

namespace tessera::mail {
namespace {

struct Upload {
  const std::string* data;
  size_t offset = 0;
};

size_t ReadUpload(char* buffer, size_t size, size_t count, void* user) {
  auto* upload = static_cast<Upload*>(user);
  const size_t room = size * count;
  const size_t left = upload->data->size() - upload->offset;
  const size_t n = std::min(room, left);
  std::memcpy(buffer, upload->data->data() + upload->offset, n);
  upload->offset += n;
  return n;
}

void GlobalInit() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

}  // namespace

absl::Status SmtpTransport::Send(const std::string& from, const std::string& to,
                                 const std::string& composed) {
  GlobalInit();
  std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> curl(curl_easy_init(), &curl_easy_cleanup);
  if (curl == nullptr) return absl::UnavailableError("smtp: curl_easy_init failed");
  CURL* c = curl.get();
  const std::string mail_from = absl::StrCat("<", from, ">");
  const std::string rcpt = absl::StrCat("<", to, ">");
  std::unique_ptr<curl_slist, decltype(&curl_slist_free_all)> recipients(
      curl_slist_append(nullptr, rcpt.c_str()), &curl_slist_free_all);
  Upload upload{.data = &composed};
  char error[CURL_ERROR_SIZE] = {0};
  curl_easy_setopt(c, CURLOPT_URL, settings_.relay.c_str());
  curl_easy_setopt(c, CURLOPT_MAIL_FROM, mail_from.c_str());
  curl_easy_setopt(c, CURLOPT_MAIL_RCPT, recipients.get());
  curl_easy_setopt(c, CURLOPT_READFUNCTION, &ReadUpload);
  curl_easy_setopt(c, CURLOPT_READDATA, &upload);
  curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, error);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_TIMEOUT, static_cast<long>(settings_.timeout.count()));
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 10L);
  switch (settings_.tls) {
    case SmtpSettings::Tls::kOff:
      curl_easy_setopt(c, CURLOPT_USE_SSL, static_cast<long>(CURLUSESSL_NONE));
      break;
    case SmtpSettings::Tls::kWhenOffered:
      curl_easy_setopt(c, CURLOPT_USE_SSL, static_cast<long>(CURLUSESSL_TRY));
      break;
    case SmtpSettings::Tls::kRequired:
      curl_easy_setopt(c, CURLOPT_USE_SSL, static_cast<long>(CURLUSESSL_ALL));
      break;
  }
  if (!settings_.ca_file.empty()) curl_easy_setopt(c, CURLOPT_CAINFO, settings_.ca_file.c_str());
  const std::string password(settings_.password.view());
  if (!settings_.username.empty()) {
    curl_easy_setopt(c, CURLOPT_USERNAME, settings_.username.c_str());
    curl_easy_setopt(c, CURLOPT_PASSWORD, password.c_str());
  }
  const CURLcode result = curl_easy_perform(c);
  long code = 0;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
  if (result == CURLE_OK) return absl::OkStatus();
  const std::string why = absl::StrCat("smtp ", settings_.relay, ": ", curl_easy_strerror(result),
                                       error[0] != '\0' ? absl::StrCat(" (", error, ")") : "",
                                       code != 0 ? absl::StrCat(", answer ", code) : "");
  // A definite refusal is final; anything else (no answer, 4xx, a cut connection) may pass later.
  if (code >= 500 && code < 600) return absl::FailedPreconditionError(why);
  if (result == CURLE_LOGIN_DENIED) return absl::FailedPreconditionError(why);
  return absl::UnavailableError(why);
}

}  // namespace tessera::mail
