#include "services/ca/http_endpoint.h"

#include <botan/base64.h>

#include <chrono>

#include "platform/log.h"

namespace tessera::ca_service {

CaHttpEndpoint::CaHttpEndpoint(ca::CrlStore& crls, std::map<std::string, std::string> certificates,
                               ca::OcspResponder& ocsp)
    : crls_(crls), certificates_(std::move(certificates)) {
  // OCSP requests are small: refuse large bodies before reading them.
  server_.set_payload_max_length(kMaxOcspRequestBytes);
  auto answer = [&ocsp](std::span<const uint8_t> request, httplib::Response& response) {
    std::vector<uint8_t> der = ocsp.Respond(request);
    response.set_content(std::string(der.begin(), der.end()), "application/ocsp-response");
  };
  server_.Post("/ocsp", [answer](const httplib::Request& request, httplib::Response& response) {
    answer({reinterpret_cast<const uint8_t*>(request.body.data()), request.body.size()}, response);
  });
  server_.Get(
      R"(/ocsp/(.+))", [answer](const httplib::Request& request, httplib::Response& response) {
        std::vector<uint8_t> der;
        try {
          Botan::secure_vector<uint8_t> decoded = Botan::base64_decode(request.matches[1].str());
          der.assign(decoded.begin(), decoded.end());
        } catch (const std::exception&) {
          der.clear();  // not base64: answered as malformedRequest
        }
        answer(der, response);
      });
  server_.Get(R"(/crl/([a-z][a-z-]{0,62})\.crl)", [this](const httplib::Request& request,
                                                         httplib::Response& response) {
    const std::string issuer = request.matches[1];
    if (issuer == "root" || !certificates_.contains(issuer)) {
      response.status = 404;
      return;
    }
    absl::StatusOr<ca::CrlState> state = crls_.State(issuer);
    if (!state.ok() || state->der.empty()) {
      response.status = 503;  // the publisher has not signed one yet, or the database is down
      response.set_header("Retry-After", "5");
      return;
    }
    // Caches may keep it until nextUpdate, not longer.
    const auto left = std::chrono::duration_cast<std::chrono::seconds>(
                          state->next_update.value_or(std::chrono::system_clock::now()) -
                          std::chrono::system_clock::now())
                          .count();
    response.set_header("Cache-Control",
                        "public, max-age=" + std::to_string(std::max<long>(0, left)));
    response.set_content(std::string(state->der.begin(), state->der.end()), "application/pkix-crl");
  });
  server_.Get(R"(/ca/([a-z][a-z-]{0,62})\.crt)",
              [this](const httplib::Request& request, httplib::Response& response) {
                auto it = certificates_.find(request.matches[1]);
                if (it == certificates_.end()) {
                  response.status = 404;
                  return;
                }
                response.set_header("Cache-Control", "public, max-age=86400");
                response.set_content(it->second, "application/pkix-cert");
              });
}

absl::StatusOr<int> CaHttpEndpoint::Start(const std::string& host, int port) {
  const int bound =
      port == 0 ? server_.bind_to_any_port(host) : (server_.bind_to_port(host, port) ? port : -1);
  if (bound <= 0) {
    return absl::UnavailableError("http: cannot listen on " + host + ":" + std::to_string(port));
  }
  thread_ = std::thread([this] { server_.listen_after_bind(); });
  return bound;
}

void CaHttpEndpoint::Stop() {
  if (thread_.joinable()) {
    server_.stop();
    thread_.join();
  }
}

}  // namespace tessera::ca_service
