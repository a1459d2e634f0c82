// Checks a PKCS#10 request before anything else happens: size, DER, signature algorithm
// (ECDSA or RSA with SHA-256/384/512, or RSASSA-PSS with them; never MD5 or SHA-1), signature,
// key type and size. The CA takes only the public key from it; the subject comes from checked data.
#pragma once

#include <botan/pk_keys.h>

#include <cstdint>
#include <memory>
#include <span>

#include "absl/status/statusor.h"

namespace tessera::ca {

inline constexpr size_t kMaxCsrBytes = 16 * 1024;

// INVALID_ARGUMENT naming the rule ("csr: RSA key of 1024 bits, at least 2048", "csr: signature
// algorithm sha1WithRSAEncryption is too weak; use SHA-256 or stronger").
absl::StatusOr<std::unique_ptr<Botan::Public_Key>> CheckCsr(std::span<const uint8_t> der);

}  // namespace tessera::ca
