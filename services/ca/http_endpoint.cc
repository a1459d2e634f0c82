#include "services/ca/http_endpoint.h"

#include <arpa/inet.h>
#include <botan/base64.h>
#include <microhttpd.h>
#include <netdb.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <mutex>
#include <string_view>

#include "absl/strings/str_cat.h"
#include "platform/log.h"

namespace tessera::ca_service {

enum class Route { kCrl, kCaCertificate, kOcspPost, kOcspGet };

struct CaHttpEndpoint::Request {
  Route route;
  std::string name;  // CA name, or the base64 of a GET OCSP request
  std::string body;  // POST: the OCSP request as it arrives
  // A first OCSP request waits for a worker: the connection is suspended until `answer`.
  std::mutex mutex;
  bool suspended = false;
  ca::OcspResponder::Answer answer;
};

namespace {

using Request = CaHttpEndpoint::Request;

constexpr char kOcspResponseType[] = "application/ocsp-response";

// Names are what the ceremony allows for CAs: lower case and dashes.
bool ValidName(std::string_view name) {
  if (name.empty() || name.size() > 63 || name[0] < 'a' || name[0] > 'z') return false;
  for (char c : name) {
    if ((c < 'a' || c > 'z') && c != '-') return false;
  }
  return true;
}

// "/crl/operators.crl" with prefix "/crl/" and suffix ".crl" -> "operators".
std::optional<std::string> NameIn(std::string_view url, std::string_view prefix,
                                  std::string_view suffix) {
  if (url.size() <= prefix.size() + suffix.size() || url.substr(0, prefix.size()) != prefix ||
      url.substr(url.size() - suffix.size()) != suffix) {
    return std::nullopt;
  }
  std::string_view name = url.substr(prefix.size(), url.size() - prefix.size() - suffix.size());
  if (!ValidName(name)) return std::nullopt;
  return std::string(name);
}

// IMF-fixdate (RFC 9110 §5.6.7), what Last-Modified and If-Modified-Since carry.
std::string HttpDate(std::chrono::system_clock::time_point t) {
  const std::time_t seconds = std::chrono::system_clock::to_time_t(t);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  static constexpr const char* kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  char text[40];
  std::snprintf(text, sizeof text, "%s, %02d %s %04d %02d:%02d:%02d GMT", kDays[utc.tm_wday],
                utc.tm_mday, kMonths[utc.tm_mon], utc.tm_year + 1900, utc.tm_hour, utc.tm_min,
                utc.tm_sec);
  return text;
}

std::optional<std::chrono::system_clock::time_point> ParseHttpDate(const char* text) {
  std::tm utc{};
  const char* end = strptime(text, "%a, %d %b %Y %H:%M:%S GMT", &utc);
  if (end == nullptr || *end != '\0') return std::nullopt;
  return std::chrono::system_clock::from_time_t(timegm(&utc));
}

using Headers = std::vector<std::pair<const char*, std::string>>;

MHD_Result Send(MHD_Connection* connection, unsigned status, std::string_view body,
                const char* content_type, const Headers& headers = {}) {
  MHD_Response* response = MHD_create_response_from_buffer(
      body.size(), const_cast<char*>(body.data()), MHD_RESPMEM_MUST_COPY);
  if (response == nullptr) return MHD_NO;
  if (content_type != nullptr) {
    MHD_add_response_header(response, MHD_HTTP_HEADER_CONTENT_TYPE, content_type);
  }
  for (const auto& [name, value] : headers) MHD_add_response_header(response, name, value.c_str());
  const MHD_Result queued = MHD_queue_response(connection, status, response);
  MHD_destroy_response(response);
  return queued;
}

MHD_Result SendOcsp(MHD_Connection* connection, const ca::OcspResponder::Answer& answer) {
  return Send(connection, MHD_HTTP_OK,
              std::string_view(reinterpret_cast<const char*>(answer->data()), answer->size()),
              kOcspResponseType);
}

MHD_Result SendCrl(MHD_Connection* connection, CaHttpEndpoint& endpoint, const std::string& name) {
  std::shared_ptr<const ca::CachedCrl> crl = endpoint.crls().Get(name);
  if (crl == nullptr) {
    // The root's comes from the key ceremony: none until it has written one. An issuing CA's
    // is missing only until the first read of the store succeeds.
    if (name == "root") return Send(connection, MHD_HTTP_NOT_FOUND, "", nullptr);
    return Send(connection, MHD_HTTP_SERVICE_UNAVAILABLE, "", nullptr, {{"Retry-After", "5"}});
  }
  const auto now = std::chrono::system_clock::now();
  // Caches may keep it until nextUpdate, not longer.
  const auto left =
      std::chrono::duration_cast<std::chrono::seconds>(crl->next_update - now).count();
  const Headers headers = {
      {MHD_HTTP_HEADER_ETAG, crl->etag},
      {MHD_HTTP_HEADER_LAST_MODIFIED, HttpDate(crl->this_update)},
      {MHD_HTTP_HEADER_CACHE_CONTROL, absl::StrCat("public, max-age=", std::max<long>(0, left))}};
  // If-None-Match wins over If-Modified-Since when both are sent (RFC 9110 §13.2.2).
  if (const char* match =
          MHD_lookup_connection_value(connection, MHD_HEADER_KIND, MHD_HTTP_HEADER_IF_NONE_MATCH)) {
    const std::string_view tags(match);
    if (tags.find(crl->etag) != std::string_view::npos || tags == "*") {
      return Send(connection, MHD_HTTP_NOT_MODIFIED, "", nullptr, headers);
    }
  } else if (const char* since = MHD_lookup_connection_value(connection, MHD_HEADER_KIND,
                                                             MHD_HTTP_HEADER_IF_MODIFIED_SINCE)) {
    const auto when = ParseHttpDate(since);
    if (when.has_value() && *when >= std::chrono::floor<std::chrono::seconds>(crl->this_update)) {
      return Send(connection, MHD_HTTP_NOT_MODIFIED, "", nullptr, headers);
    }
  }
  return Send(connection, MHD_HTTP_OK, crl->der, "application/pkix-crl", headers);
}

// The one answer libmicrohttpd 0.9.75 cannot give: it queues responses only before a body is
// read or after all of it, so a body that outgrows the limit while it arrives (chunked) would
// otherwise be read to its end. This writes the 413 on the socket itself (it is small and
// nothing else is being sent on the connection) and the caller then closes the connection.
void RefuseWhileReading(MHD_Connection* connection) {
  static constexpr char kRefusal[] =
      "HTTP/1.1 413 Content Too Large\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
  const MHD_ConnectionInfo* info =
      MHD_get_connection_info(connection, MHD_CONNECTION_INFO_CONNECTION_FD);
  if (info != nullptr) {
    (void)send(info->connect_fd, kRefusal, sizeof kRefusal - 1, MSG_NOSIGNAL | MSG_DONTWAIT);
  }
}

// Where an OCSP request ends up: an answer from memory now, or the connection suspended until
// a worker has signed one.
MHD_Result AnswerOcsp(MHD_Connection* connection, CaHttpEndpoint& endpoint, Request& request,
                      std::span<const uint8_t> der) {
  ca::OcspResponder::Lookup lookup = endpoint.ocsp().Find(der);
  if (lookup.answer != nullptr) return SendOcsp(connection, lookup.answer);
  const bool queued = endpoint.ocsp().Resolve(
      lookup.miss, [connection, &request](ca::OcspResponder::Answer answer) {
        std::lock_guard lock(request.mutex);
        request.answer = std::move(answer);
        if (request.suspended) MHD_resume_connection(connection);
      });
  if (!queued) return SendOcsp(connection, endpoint.ocsp().TryLaterAnswer());
  std::lock_guard lock(request.mutex);
  if (request.answer != nullptr) return SendOcsp(connection, request.answer);  // already done
  request.suspended = true;
  MHD_suspend_connection(connection);
  return MHD_YES;
}

MHD_Result Handle(void* cls, MHD_Connection* connection, const char* url_text, const char* method,
                  const char* /*version*/, const char* upload_data, size_t* upload_data_size,
                  void** context) {
  auto& endpoint = *static_cast<CaHttpEndpoint*>(cls);
  auto* request = static_cast<Request*>(*context);
  // libmicrohttpd starts its threads itself: each lowers its own priority on its first request.
  static thread_local bool niced = false;
  if (!niced) {
    setpriority(PRIO_PROCESS, static_cast<id_t>(gettid()), endpoint.nice());
    niced = true;
  }

  if (request == nullptr) {  // headers only so far: route, and refuse what is refused anyway
    const std::string_view url(url_text);
    const std::string_view verb(method);
    const bool get = verb == MHD_HTTP_METHOD_GET || verb == MHD_HTTP_METHOD_HEAD;
    const bool post = verb == MHD_HTTP_METHOD_POST;
    auto routed = std::make_unique<Request>();
    const char* allowed = "GET, HEAD";
    bool method_ok = get;
    if (url == "/ocsp" || url == "/ocsp/") {
      routed->route = Route::kOcspPost;
      allowed = "POST";
      method_ok = post;
    } else if (url.substr(0, 6) == "/ocsp/") {
      routed->route = Route::kOcspGet;
      routed->name = std::string(url.substr(6));
    } else if (auto name = NameIn(url, "/crl/", ".crl")) {
      routed->route = Route::kCrl;
      routed->name = *std::move(name);
    } else if (auto name = NameIn(url, "/ca/", ".crt")) {
      routed->route = Route::kCaCertificate;
      routed->name = *std::move(name);
    } else {
      return Send(connection, MHD_HTTP_NOT_FOUND, "", nullptr);
    }
    if (!method_ok) {
      return Send(connection, MHD_HTTP_METHOD_NOT_ALLOWED, "", nullptr,
                  {{MHD_HTTP_HEADER_ALLOW, allowed}});
    }
    if (routed->route == Route::kOcspPost) {
      // A declared length over the limit is refused before a byte of the body is read.
      const char* length =
          MHD_lookup_connection_value(connection, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
      if (length != nullptr &&
          std::strtoull(length, nullptr, 10) > CaHttpEndpoint::kMaxRequestBody) {
        return Send(connection, MHD_HTTP_CONTENT_TOO_LARGE, "", nullptr);
      }
    }
    *context = routed.release();
    return MHD_YES;
  }

  if (*upload_data_size > 0) {  // a piece of the body
    if (request->route != Route::kOcspPost ||
        request->body.size() + *upload_data_size > CaHttpEndpoint::kMaxRequestBody) {
      RefuseWhileReading(connection);
      return MHD_NO;  // closes the connection: the rest of the body is never read
    }
    request->body.append(upload_data, *upload_data_size);
    *upload_data_size = 0;
    return MHD_YES;
  }

  // The whole request is in (or a worker has just answered it).
  {
    std::lock_guard lock(request->mutex);
    if (request->answer != nullptr) return SendOcsp(connection, request->answer);
  }
  switch (request->route) {
    case Route::kOcspPost:
      return AnswerOcsp(
          connection, endpoint, *request,
          {reinterpret_cast<const uint8_t*>(request->body.data()), request->body.size()});
    case Route::kOcspGet: {
      std::vector<uint8_t> der;
      if (request->name.size() <= CaHttpEndpoint::kMaxRequestBody * 4 / 3 + 4) {
        try {
          Botan::secure_vector<uint8_t> decoded = Botan::base64_decode(request->name);
          der.assign(decoded.begin(), decoded.end());
        } catch (const std::exception&) {
          der.clear();  // not base64: answered as malformedRequest
        }
      }
      return AnswerOcsp(connection, endpoint, *request, der);
    }
    case Route::kCrl:
      if (!endpoint.crls().Serves(request->name)) {
        return Send(connection, MHD_HTTP_NOT_FOUND, "", nullptr);
      }
      return SendCrl(connection, endpoint, request->name);
    case Route::kCaCertificate: {
      auto it = endpoint.certificates().find(request->name);
      if (it == endpoint.certificates().end()) {
        return Send(connection, MHD_HTTP_NOT_FOUND, "", nullptr);
      }
      return Send(connection, MHD_HTTP_OK, it->second, "application/pkix-cert",
                  {{MHD_HTTP_HEADER_CACHE_CONTROL, "public, max-age=86400"}});
    }
  }
  return MHD_NO;
}

void Completed(void* /*cls*/, MHD_Connection* /*connection*/, void** context,
               MHD_RequestTerminationCode /*why*/) {
  delete static_cast<Request*>(*context);
  *context = nullptr;
}

// libmicrohttpd's own messages (a refused connection over a limit, a client's protocol
// error): debug level, as anyone on the network can cause them.
void Log(void* /*cls*/, const char* format, va_list args) {
  char text[512];
  std::vsnprintf(text, sizeof text, format, args);
  std::string message(text);
  while (!message.empty() && message.back() == '\n') message.pop_back();
  LogEvent(spdlog::level::debug, "http_server", {{"message", message}});
}

}  // namespace

CaHttpEndpoint::CaHttpEndpoint(ca::CrlCache& crls, std::map<std::string, std::string> certificates,
                               ca::OcspResponder& ocsp, HttpLimits limits)
    : crls_(crls), certificates_(std::move(certificates)), ocsp_(ocsp), limits_(limits) {}

absl::StatusOr<int> CaHttpEndpoint::Start(const std::string& host, int port) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE;
  addrinfo* found = nullptr;
  if (getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &found) != 0 ||
      found == nullptr) {
    return absl::InvalidArgumentError("http.listen: cannot resolve host '" + host + "'");
  }
  sockaddr_storage address{};
  std::memcpy(&address, found->ai_addr, found->ai_addrlen);
  const bool ipv6 = found->ai_family == AF_INET6;
  freeaddrinfo(found);

  unsigned flags = MHD_USE_EPOLL_INTERNAL_THREAD | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG;
  if (ipv6) flags |= MHD_USE_IPv6;
  daemon_ = MHD_start_daemon(
      flags, 0, nullptr, nullptr, &Handle, this,  //
      MHD_OPTION_SOCK_ADDR, reinterpret_cast<sockaddr*>(&address), MHD_OPTION_THREAD_POOL_SIZE,
      static_cast<unsigned>(std::max(1, limits_.threads)), MHD_OPTION_CONNECTION_LIMIT,
      limits_.max_connections, MHD_OPTION_PER_IP_CONNECTION_LIMIT, limits_.per_ip_connections,
      MHD_OPTION_CONNECTION_TIMEOUT, limits_.idle_timeout_seconds,
      MHD_OPTION_CONNECTION_MEMORY_LIMIT, limits_.connection_memory, MHD_OPTION_LISTEN_BACKLOG_SIZE,
      limits_.listen_backlog, MHD_OPTION_NOTIFY_COMPLETED, &Completed, nullptr,
      MHD_OPTION_EXTERNAL_LOGGER, &Log, nullptr, MHD_OPTION_END);
  if (daemon_ == nullptr) {
    return absl::UnavailableError(absl::StrCat("http: cannot listen on ", host, ":", port));
  }
  const MHD_DaemonInfo* info = MHD_get_daemon_info(daemon_, MHD_DAEMON_INFO_BIND_PORT);
  return info != nullptr && info->port != 0 ? static_cast<int>(info->port) : port;
}

void CaHttpEndpoint::Stop() {
  if (daemon_ == nullptr) return;
  // Suspended requests must be resumed before libmicrohttpd stops: stopping the responder
  // answers each one (tryLater for those still queued).
  ocsp_.Stop();
  MHD_stop_daemon(daemon_);
  daemon_ = nullptr;
}

}  // namespace tessera::ca_service
