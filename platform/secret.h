// A secret (PIN, PUK, password, session token) held in memory that is wiped on release.
// Printing one shows "***", so a secret cannot reach a log line by accident.
#pragma once

#include <botan/secmem.h>

#include <cstdint>
#include <ostream>
#include <string_view>

namespace tessera {

class Secret {
 public:
  Secret() = default;
  explicit Secret(std::string_view text) : bytes_(text.begin(), text.end()) {}
  explicit Secret(Botan::secure_vector<uint8_t> bytes) : bytes_(std::move(bytes)) {}

  const Botan::secure_vector<uint8_t>& bytes() const { return bytes_; }
  const uint8_t* data() const { return bytes_.data(); }
  size_t size() const { return bytes_.size(); }
  bool empty() const { return bytes_.empty(); }
  // The secret as text, for the few places that must hand it on (e.g. a PIN to C_Login).
  std::string_view view() const {
    return {reinterpret_cast<const char*>(bytes_.data()), bytes_.size()};
  }

  friend std::ostream& operator<<(std::ostream& os, const Secret&) { return os << "***"; }

 private:
  Botan::secure_vector<uint8_t> bytes_;
};

}  // namespace tessera
