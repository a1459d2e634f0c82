// Builds and signs a CRL (RFC 5280 §5) for an issuing CA: v2, thisUpdate/nextUpdate, every
// revoked certificate with its recorded revocation date and reason code, and the CRL
// extensions authorityKeyIdentifier and cRLNumber. The TBSCertList is encoded here (Botan's
// CRL_Entry stamps "now" as the revocation date) and signed with the issuer's key.
#pragma once

#include <botan/pk_keys.h>
#include <botan/x509cert.h>

#include <chrono>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace tessera::ca {

struct RevokedEntry {
  std::string serial;  // lower-case hex
  std::chrono::system_clock::time_point revoked_at;
  int reason = 0;  // RFC 5280 CRLReason; 0 is written without a reasonCode extension
};

struct CrlContent {
  uint64_t number = 0;  // cRLNumber, strictly increasing per issuer
  std::chrono::system_clock::time_point this_update;
  std::chrono::system_clock::time_point next_update;
  std::vector<RevokedEntry> entries;
};

absl::StatusOr<std::vector<uint8_t>> SignCrl(const CrlContent& content,
                                             const Botan::X509_Certificate& issuer,
                                             const Botan::Private_Key& issuer_key);

}  // namespace tessera::ca
