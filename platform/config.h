// Configuration from a TOML file, with environment overrides: the key "grpc.listen" is
// overridden by TESSERA_GRPC_LISTEN. Missing keys and wrong types are errors that name the
// key, so a service refuses to start on a bad file rather than guess.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"

namespace toml {
inline namespace v3 {
class table;
}
}  // namespace toml

namespace tessera {

class Config {
 public:
  static absl::StatusOr<Config> LoadFile(const std::string& path);
  static absl::StatusOr<Config> Parse(const std::string& text, const std::string& source_name);

  absl::StatusOr<std::string> String(const std::string& key) const;
  // The *Or forms return `fallback` when the key is absent, and still fail on a wrong type.
  absl::StatusOr<std::string> StringOr(const std::string& key, const std::string& fallback) const;
  absl::StatusOr<int64_t> Int(const std::string& key) const;
  absl::StatusOr<int64_t> IntOr(const std::string& key, int64_t fallback) const;
  absl::StatusOr<bool> Bool(const std::string& key) const;
  absl::StatusOr<bool> BoolOr(const std::string& key, bool fallback) const;
  bool Has(const std::string& key) const;

  // "grpc.listen" -> "TESSERA_GRPC_LISTEN".
  static std::string EnvName(const std::string& key);
  const std::string& source() const { return source_; }

 private:
  Config(std::shared_ptr<const toml::table> table, std::string source)
      : table_(std::move(table)), source_(std::move(source)) {}

  std::shared_ptr<const toml::table> table_;
  std::string source_;
};

}  // namespace tessera
