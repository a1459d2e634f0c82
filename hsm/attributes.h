// An attribute template that owns the bytes its CK_ATTRIBUTE entries point at, so a
// template can be built in a few lines and passed to any C_* call.
#pragma once

#include <cstdint>
#include <deque>
#include <span>
#include <string_view>
#include <vector>

#include "hsm/pkcs11.h"

namespace tessera::hsm {

class Attributes {
 public:
  Attributes() = default;
  Attributes(const Attributes&) = delete;  // entries point into storage_
  Attributes& operator=(const Attributes&) = delete;
  Attributes(Attributes&&) = default;
  Attributes& operator=(Attributes&&) = default;

  Attributes& Bool(CK_ATTRIBUTE_TYPE type, bool value);
  Attributes& Ulong(CK_ATTRIBUTE_TYPE type, CK_ULONG value);
  Attributes& Bytes(CK_ATTRIBUTE_TYPE type, std::span<const uint8_t> value);
  Attributes& Text(CK_ATTRIBUTE_TYPE type, std::string_view value);

  CK_ATTRIBUTE* data() { return entries_.data(); }
  CK_ULONG size() const { return entries_.size(); }

 private:
  Attributes& Add(CK_ATTRIBUTE_TYPE type, std::vector<uint8_t> bytes);

  std::deque<std::vector<uint8_t>> storage_;  // deque: growing keeps element addresses
  std::vector<CK_ATTRIBUTE> entries_;
};

}  // namespace tessera::hsm
