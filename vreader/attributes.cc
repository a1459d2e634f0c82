#include "vreader/attributes.h"

#include <algorithm>
#include <cstring>

namespace tessera::vreader {
namespace {

bool IsBool(CK_ATTRIBUTE_TYPE type) {
  switch (type) {
    case CKA_TOKEN:
    case CKA_PRIVATE:
    case CKA_MODIFIABLE:
    case CKA_COPYABLE:
    case CKA_DESTROYABLE:
    case CKA_SENSITIVE:
    case CKA_EXTRACTABLE:
    case CKA_SIGN:
    case CKA_VERIFY:
    case CKA_ENCRYPT:
    case CKA_DECRYPT:
    case CKA_WRAP:
    case CKA_UNWRAP:
    case CKA_DERIVE:
    case CKA_SIGN_RECOVER:
    case CKA_VERIFY_RECOVER:
    case CKA_TRUSTED:
    case CKA_LOCAL:
    case CKA_ALWAYS_SENSITIVE:
    case CKA_NEVER_EXTRACTABLE:
    case CKA_ALWAYS_AUTHENTICATE:
    case CKA_WRAP_WITH_TRUSTED:
      return true;
    default:
      return false;
  }
}

bool IsUlong(CK_ATTRIBUTE_TYPE type) {
  switch (type) {
    case CKA_CLASS:
    case CKA_KEY_TYPE:
    case CKA_CERTIFICATE_TYPE:
    case CKA_MODULUS_BITS:
    case CKA_CERTIFICATE_CATEGORY:
    case CKA_KEY_GEN_MECHANISM:
    case CKA_VALUE_LEN:
      return true;
    default:
      return false;
  }
}

// What a sensitive private key never shows (PKCS#11 §4.9: secret parts of private keys).
bool IsSecretPart(CK_ATTRIBUTE_TYPE type) {
  switch (type) {
    case CKA_VALUE:
    case CKA_PRIVATE_EXPONENT:
    case CKA_PRIME_1:
    case CKA_PRIME_2:
    case CKA_EXPONENT_1:
    case CKA_EXPONENT_2:
    case CKA_COEFFICIENT:
      return true;
    default:
      return false;
  }
}

}  // namespace

Bytes BoolBytes(bool value) { return Bytes{static_cast<uint8_t>(value ? CK_TRUE : CK_FALSE)}; }

Bytes UlongBytes(CK_ULONG value) {
  Bytes bytes(sizeof value);
  std::memcpy(bytes.data(), &value, sizeof value);
  return bytes;
}

std::optional<bool> GetBool(const Attrs& attrs, CK_ATTRIBUTE_TYPE type) {
  auto it = attrs.find(type);
  if (it == attrs.end() || it->second.size() != 1) return std::nullopt;
  return it->second[0] != CK_FALSE;
}

std::optional<CK_ULONG> GetUlong(const Attrs& attrs, CK_ATTRIBUTE_TYPE type) {
  auto it = attrs.find(type);
  if (it == attrs.end() || it->second.size() != sizeof(CK_ULONG)) return std::nullopt;
  CK_ULONG value = 0;
  std::memcpy(&value, it->second.data(), sizeof value);
  return value;
}

CK_RV ParseTemplate(const CK_ATTRIBUTE* tmpl, CK_ULONG count, Attrs& out) {
  if (tmpl == nullptr && count > 0) return CKR_ARGUMENTS_BAD;
  for (CK_ULONG i = 0; i < count; ++i) {
    const CK_ATTRIBUTE& a = tmpl[i];
    if (a.pValue == nullptr && a.ulValueLen > 0) return CKR_ATTRIBUTE_VALUE_INVALID;
    if (a.type == kCardSecret) return CKR_ATTRIBUTE_TYPE_INVALID;
    if (IsBool(a.type) && a.ulValueLen != sizeof(CK_BBOOL)) return CKR_ATTRIBUTE_VALUE_INVALID;
    if (IsUlong(a.type) && a.ulValueLen != sizeof(CK_ULONG)) return CKR_ATTRIBUTE_VALUE_INVALID;
    const auto* bytes = static_cast<const uint8_t*>(a.pValue);
    if (!out.emplace(a.type, Bytes(bytes, bytes + a.ulValueLen)).second) {
      return CKR_TEMPLATE_INCONSISTENT;
    }
  }
  return CKR_OK;
}

bool Matches(const Attrs& attrs, const Attrs& match) {
  return std::all_of(match.begin(), match.end(), [&](const auto& wanted) {
    auto it = attrs.find(wanted.first);
    return it != attrs.end() && it->second == wanted.second;
  });
}

CK_RV ReadAttributes(const Attrs& attrs, CK_ATTRIBUTE* tmpl, CK_ULONG count) {
  if (tmpl == nullptr && count > 0) return CKR_ARGUMENTS_BAD;
  const bool private_key = GetUlong(attrs, CKA_CLASS) == CKO_PRIVATE_KEY;
  CK_RV rv = CKR_OK;
  // Every entry is answered even after an error, as PKCS#11 asks.
  for (CK_ULONG i = 0; i < count; ++i) {
    CK_ATTRIBUTE& a = tmpl[i];
    auto it = attrs.find(a.type);
    if (private_key && IsSecretPart(a.type)) {
      a.ulValueLen = CK_UNAVAILABLE_INFORMATION;
      rv = CKR_ATTRIBUTE_SENSITIVE;
    } else if (it == attrs.end() || a.type == kCardSecret) {
      a.ulValueLen = CK_UNAVAILABLE_INFORMATION;
      rv = CKR_ATTRIBUTE_TYPE_INVALID;
    } else if (a.pValue == nullptr) {
      a.ulValueLen = it->second.size();
    } else if (a.ulValueLen < it->second.size()) {
      a.ulValueLen = CK_UNAVAILABLE_INFORMATION;
      rv = CKR_BUFFER_TOO_SMALL;
    } else {
      std::copy(it->second.begin(), it->second.end(), static_cast<uint8_t*>(a.pValue));
      a.ulValueLen = it->second.size();
    }
  }
  return rv;
}

}  // namespace tessera::vreader
