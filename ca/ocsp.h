// OCSP (RFC 6960) encoding for tessera-ca's responder: parsing requests and building signed
// BasicOCSPResponses. Botan 2 parses responses but cannot parse requests or build responses,
// so both directions are encoded here with Botan's DER tools.
#pragma once

#include <botan/pk_keys.h>
#include <botan/x509cert.h>

#include <chrono>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace tessera::ca {

struct OcspCertId {
  std::string hash_oid;  // of issuerNameHash / issuerKeyHash: SHA-1 or SHA-256
  std::vector<uint8_t> issuer_name_hash;
  std::vector<uint8_t> issuer_key_hash;
  std::string serial;  // lower-case hex
};

struct OcspRequestData {
  std::vector<OcspCertId> certificates;
  std::optional<std::vector<uint8_t>> nonce;  // id-pkix-ocsp-nonce value, echoed back
};

// INVALID_ARGUMENT for anything that is not a well-formed OCSPRequest (the responder answers
// malformedRequest). At most `max_certificates` entries.
absl::StatusOr<OcspRequestData> ParseOcspRequest(std::span<const uint8_t> der,
                                                 size_t max_certificates = 16);

enum class OcspCertStatus { kGood, kRevoked, kUnknown };

struct OcspSingleResponse {
  OcspCertId id;
  OcspCertStatus status = OcspCertStatus::kUnknown;
  std::chrono::system_clock::time_point revoked_at;  // when revoked
  int reason = 0;                                    // when revoked; 0 is not written
};

struct OcspResponseTimes {
  std::chrono::system_clock::time_point produced_at;
  std::chrono::system_clock::time_point this_update;
  std::chrono::system_clock::time_point next_update;
};

// A successful OCSPResponse carrying a BasicOCSPResponse signed by the delegated responder,
// its certificate included, responderID byKey.
absl::StatusOr<std::vector<uint8_t>> SignOcspResponse(
    const std::vector<OcspSingleResponse>& responses, const OcspResponseTimes& times,
    const std::optional<std::vector<uint8_t>>& nonce, const Botan::X509_Certificate& responder,
    const Botan::Private_Key& responder_key);

// OCSPResponseStatus values without responseBytes.
enum class OcspError {
  kMalformedRequest = 1,
  kInternalError = 2,
  kTryLater = 3,
  kUnauthorized = 6
};
std::vector<uint8_t> OcspErrorResponse(OcspError error);

}  // namespace tessera::ca
