#include "hsm/attributes.h"

#include <cstring>

namespace tessera::hsm {

Attributes& Attributes::Add(CK_ATTRIBUTE_TYPE type, std::vector<uint8_t> bytes) {
  storage_.push_back(std::move(bytes));
  std::vector<uint8_t>& stored = storage_.back();
  entries_.push_back(CK_ATTRIBUTE{type, stored.empty() ? nullptr : stored.data(),
                                  static_cast<CK_ULONG>(stored.size())});
  return *this;
}

Attributes& Attributes::Bool(CK_ATTRIBUTE_TYPE type, bool value) {
  CK_BBOOL b = value ? CK_TRUE : CK_FALSE;
  return Add(type, {b});
}

Attributes& Attributes::Ulong(CK_ATTRIBUTE_TYPE type, CK_ULONG value) {
  std::vector<uint8_t> bytes(sizeof value);
  std::memcpy(bytes.data(), &value, sizeof value);
  return Add(type, std::move(bytes));
}

Attributes& Attributes::Bytes(CK_ATTRIBUTE_TYPE type, std::span<const uint8_t> value) {
  return Add(type, std::vector<uint8_t>(value.begin(), value.end()));
}

Attributes& Attributes::Text(CK_ATTRIBUTE_TYPE type, std::string_view value) {
  return Add(type, std::vector<uint8_t>(value.begin(), value.end()));
}

}  // namespace tessera::hsm
