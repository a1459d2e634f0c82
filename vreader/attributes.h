// Objects on the card are attribute maps: type -> the exact bytes PKCS#11 hands over
// (CK_BBOOL one byte, CK_ULONG native). Matching and reading follow PKCS#11 to the letter.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <vector>

#include "hsm/pkcs11.h"

namespace tessera::vreader {

using Bytes = std::vector<uint8_t>;
using Attrs = std::map<CK_ATTRIBUTE_TYPE, Bytes>;

// The private key's secret (PKCS#8 DER) in the card's memory. Never readable, never matched.
inline constexpr CK_ATTRIBUTE_TYPE kCardSecret = CKA_VENDOR_DEFINED | 0x7E55E4A;

Bytes BoolBytes(bool value);
Bytes UlongBytes(CK_ULONG value);
std::optional<bool> GetBool(const Attrs& attrs, CK_ATTRIBUTE_TYPE type);
std::optional<CK_ULONG> GetUlong(const Attrs& attrs, CK_ATTRIBUTE_TYPE type);

// Copies a caller's template, checking sizes of the boolean and ulong attributes we know and
// refusing duplicates and the card's secret.
CK_RV ParseTemplate(const CK_ATTRIBUTE* tmpl, CK_ULONG count, Attrs& out);

// Every attribute of `match` present in `attrs` with exactly the same bytes.
bool Matches(const Attrs& attrs, const Attrs& match);

// C_GetAttributeValue on one object: length queries, CKR_ATTRIBUTE_SENSITIVE for a private
// key's secret parts, CKR_ATTRIBUTE_TYPE_INVALID for absent ones, CKR_BUFFER_TOO_SMALL.
CK_RV ReadAttributes(const Attrs& attrs, CK_ATTRIBUTE* tmpl, CK_ULONG count);

}  // namespace tessera::vreader
