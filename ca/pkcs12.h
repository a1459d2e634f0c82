// PKCS#12 files for the workstation certificates the process hands out with their keys.
// Botan has no PKCS#12 writer; OpenSSL's PKCS12_create does this one job (and only this one).
#pragma once

#include <botan/secmem.h>

#include <span>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "platform/secret.h"

namespace tessera::ca {

struct Pkcs12Contents {
  Botan::secure_vector<uint8_t> private_key_pkcs8;  // PrivateKeyInfo, DER
  std::vector<uint8_t> certificate_der;
  std::vector<std::vector<uint8_t>> chain_der;  // issuing CA, then root
  std::string friendly_name;                    // what an import dialog shows, e.g. the CN
};

// Key and certificates encrypted with PBES2 (PBKDF2-HMAC-SHA256, AES-256-CBC), integrity by
// an HMAC-SHA256 MAC: what OpenSSL 3, NSS and Windows 10+ open, with no RC2 or 3DES inside.
absl::StatusOr<Botan::secure_vector<uint8_t>> CreatePkcs12(const Pkcs12Contents& contents,
                                                           const Secret& password);

// A password for a PKCS#12 file: `length` characters drawn uniformly (no modulo bias) from an
// alphabet without look-alikes (0/O, 1/l/I), so an operator can type it from a printout.
// 16 characters carry about 93 bits.
Secret RandomPassword(size_t length = 16);

}  // namespace tessera::ca
