// Checks a PKCS#10 request before anything else happens: size, DER, signature, key type and
// size. The CA takes only the public key from it; the subject comes from checked data.
#pragma once

#include <botan/pk_keys.h>

#include <cstdint>
#include <memory>
#include <span>

#include "absl/status/statusor.h"

namespace tessera::ca {

inline constexpr size_t kMaxCsrBytes = 16 * 1024;

// INVALID_ARGUMENT naming the rule ("csr: RSA key of 1024 bits, at least 2048").
absl::StatusOr<std::unique_ptr<Botan::Public_Key>> CheckCsr(std::span<const uint8_t> der);

}  // namespace tessera::ca
