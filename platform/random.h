// The random generator for the calling thread: an AutoSeeded_RNG (HMAC_DRBG over SHA-512,
// seeded from the kernel) created on first use and kept. Instantiating one per call seeded a
// fresh DRBG from getrandom three times per certificate, a measurable share of issuance; a
// kept DRBG reseeds itself on Botan's schedule and after fork (Botan checks the pid).
// Thread-local, so no lock is shared between issuing threads.
#pragma once

#include <botan/rng.h>

#include <cstddef>
#include <string_view>

#include "platform/secret.h"

namespace tessera {

Botan::RandomNumberGenerator& ThreadRng();

// `length` characters drawn uniformly from `alphabet` (1..256 characters) by the CSPRNG: bytes at
// or above the largest multiple of the alphabet's size are drawn again, so no character is
// likelier than another.
Secret RandomText(size_t length, std::string_view alphabet);

// Letters and digits a person cannot mistake for one another on a printed sheet or in a mail
// (no 0 O o, 1 I l, 5 S, 2 Z, 8 B): for secrets people type.
inline constexpr std::string_view kReadableAlphabet =
    "ACDEFGHJKLMNPQRTUVWXYabcdefghijkmnpqrstuvwxyz34679";

}  // namespace tessera
