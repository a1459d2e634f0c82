#include "access/session_token.h"

#include <botan/auto_rng.h>
#include <botan/base64.h>
#include <botan/pubkey.h>
#include <jwt.h>

#include <cstdlib>
#include <memory>
#include <nlohmann/json.hpp>
#include <span>

#include "absl/strings/str_cat.h"

namespace tessera::access {
namespace {

std::string Base64Url(std::span<const uint8_t> bytes) {
  std::string text = Botan::base64_encode(bytes.data(), bytes.size());
  while (!text.empty() && text.back() == '=') text.pop_back();
  for (char& c : text) {
    if (c == '+') c = '-';
    if (c == '/') c = '_';
  }
  return text;
}

std::string Base64Url(const std::string& text) {
  return Base64Url(
      std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(text.data()), text.size()));
}

int64_t Seconds(std::chrono::system_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

absl::Status Refused(const std::string& why) {
  return absl::UnauthenticatedError(absl::StrCat("session token: ", why));
}

}  // namespace

absl::StatusOr<std::string> SignSession(const SessionClaims& claims, const Botan::Private_Key& key,
                                        const std::string& key_id) {
  if (key.algo_name() != "ECDSA" || key.key_length() != 256) {
    return absl::InvalidArgumentError(absl::StrCat(
        "session signing key: ES256 needs EC P-256, not ", key.algo_name(), " ", key.key_length()));
  }
  const nlohmann::json header = {{"alg", "ES256"}, {"typ", "JWT"}, {"kid", key_id}};
  const nlohmann::json payload = {{"iss", kSessionIssuer},
                                  {"jti", claims.session_id},
                                  {"sub", claims.person},
                                  {"office", claims.office},
                                  {"profiles", claims.profiles},
                                  {"cnf", {{"x5t#S256", claims.workstation_sha256}}},
                                  {"iat", Seconds(claims.issued_at)},
                                  {"exp", Seconds(claims.expires_at)}};
  const std::string signed_part = Base64Url(header.dump()) + "." + Base64Url(payload.dump());
  std::vector<uint8_t> signature;
  try {
    Botan::AutoSeeded_RNG rng;
    // IEEE 1363 form, r || s: the form JWS uses (RFC 7518 §3.4), not DER.
    Botan::PK_Signer signer(key, rng, "EMSA1(SHA-256)", Botan::IEEE_1363);
    signature = signer.sign_message(reinterpret_cast<const uint8_t*>(signed_part.data()),
                                    signed_part.size(), rng);
  } catch (const std::exception& e) {
    return absl::UnavailableError(absl::StrCat("session token not signed: ", e.what()));
  }
  return signed_part + "." + Base64Url(signature);
}

absl::StatusOr<SessionClaims> VerifySession(const std::string& token,
                                            const std::string& public_key_pem,
                                            std::chrono::system_clock::time_point now) {
  jwt_t* raw = nullptr;
  const int rc =
      jwt_decode(&raw, token.c_str(), reinterpret_cast<const unsigned char*>(public_key_pem.data()),
                 static_cast<int>(public_key_pem.size()));
  std::unique_ptr<jwt_t, decltype(&jwt_free)> jwt(raw, &jwt_free);
  if (rc != 0 || jwt == nullptr) return Refused("malformed, or its signature does not verify");
  // libjwt verified with whatever algorithm the header names; only ES256 is ours.
  if (jwt_get_alg(jwt.get()) != JWT_ALG_ES256) return Refused("not signed with ES256");
  std::unique_ptr<char, decltype(&std::free)> grants(jwt_get_grants_json(jwt.get(), nullptr),
                                                     &std::free);
  if (grants == nullptr) return Refused("no claims");
  const nlohmann::json payload = nlohmann::json::parse(grants.get(), nullptr, false);
  if (!payload.is_object()) return Refused("claims are not a JSON object");
  SessionClaims claims;
  try {
    if (payload.at("iss").get<std::string>() != kSessionIssuer) {
      return Refused("issued by another than " + std::string(kSessionIssuer));
    }
    claims.session_id = payload.at("jti").get<std::string>();
    claims.person = payload.at("sub").get<std::string>();
    claims.office = payload.at("office").get<std::string>();
    claims.profiles = payload.at("profiles").get<std::vector<std::string>>();
    claims.workstation_sha256 = payload.at("cnf").at("x5t#S256").get<std::string>();
    claims.issued_at = std::chrono::system_clock::time_point(
        std::chrono::seconds(payload.at("iat").get<int64_t>()));
    claims.expires_at = std::chrono::system_clock::time_point(
        std::chrono::seconds(payload.at("exp").get<int64_t>()));
  } catch (const nlohmann::json::exception& e) {
    return Refused(absl::StrCat("a claim is missing or of the wrong type (", e.what(), ")"));
  }
  if (claims.session_id.empty() || claims.person.empty() || claims.workstation_sha256.empty()) {
    return Refused("jti, sub and cnf.x5t#S256 are required");
  }
  if (now >= claims.expires_at) return Refused("expired");
  if (claims.issued_at > now + std::chrono::seconds(60)) return Refused("issued in the future");
  return claims;
}

}  // namespace tessera::access
