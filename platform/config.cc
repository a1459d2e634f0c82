#include "platform/config.h"

#include <toml++/toml.h>

#include <cctype>
#include <cstdlib>
#include <sstream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "platform/files.h"

namespace tessera {
namespace {

const char* EnvValue(const std::string& key) { return std::getenv(Config::EnvName(key).c_str()); }

}  // namespace

std::string Config::EnvName(const std::string& key) {
  std::string name = "TESSERA_";
  for (char c : key) {
    name.push_back(std::isalnum(static_cast<unsigned char>(c))
                       ? static_cast<char>(std::toupper(static_cast<unsigned char>(c)))
                       : '_');
  }
  return name;
}

absl::StatusOr<Config> Config::Parse(const std::string& text, const std::string& source_name) {
  try {
    toml::table table = toml::parse(text, source_name);
    return Config(std::make_shared<const toml::table>(std::move(table)), source_name);
  } catch (const toml::parse_error& error) {
    std::ostringstream where;
    where << error.source().begin;
    return absl::InvalidArgumentError(
        absl::StrCat(source_name, ":", where.str(), ": ", std::string(error.description())));
  }
}

absl::StatusOr<Config> Config::LoadFile(const std::string& path) {
  absl::StatusOr<std::string> text = ReadFile(path);
  if (!text.ok())
    return absl::NotFoundError(absl::StrCat("config file: ", text.status().message()));
  return Parse(*text, path);
}

bool Config::Has(const std::string& key) const {
  return EnvValue(key) != nullptr || table_->at_path(key).node() != nullptr;
}

absl::StatusOr<std::string> Config::String(const std::string& key) const {
  if (const char* env = EnvValue(key)) return std::string(env);
  toml::node_view<const toml::node> node = table_->at_path(key);
  if (!node) return absl::NotFoundError(absl::StrCat(source_, ": ", key, " is required"));
  if (std::optional<std::string> value = node.value<std::string>(); value && node.is_string()) {
    return *value;
  }
  return absl::InvalidArgumentError(absl::StrCat(source_, ": ", key, " must be a string"));
}

absl::StatusOr<std::string> Config::StringOr(const std::string& key,
                                             const std::string& fallback) const {
  absl::StatusOr<std::string> value = String(key);
  if (absl::IsNotFound(value.status())) return fallback;
  return value;
}

absl::StatusOr<int64_t> Config::Int(const std::string& key) const {
  if (const char* env = EnvValue(key)) {
    int64_t value = 0;
    if (!absl::SimpleAtoi(env, &value)) {
      return absl::InvalidArgumentError(absl::StrCat(EnvName(key), " must be an integer"));
    }
    return value;
  }
  toml::node_view<const toml::node> node = table_->at_path(key);
  if (!node) return absl::NotFoundError(absl::StrCat(source_, ": ", key, " is required"));
  if (!node.is_integer()) {
    return absl::InvalidArgumentError(absl::StrCat(source_, ": ", key, " must be an integer"));
  }
  return *node.value<int64_t>();
}

absl::StatusOr<int64_t> Config::IntOr(const std::string& key, int64_t fallback) const {
  absl::StatusOr<int64_t> value = Int(key);
  if (absl::IsNotFound(value.status())) return fallback;
  return value;
}

absl::StatusOr<bool> Config::Bool(const std::string& key) const {
  if (const char* env = EnvValue(key)) {
    std::string v = env;
    if (v == "true" || v == "1") return true;
    if (v == "false" || v == "0") return false;
    return absl::InvalidArgumentError(absl::StrCat(EnvName(key), " must be true or false"));
  }
  toml::node_view<const toml::node> node = table_->at_path(key);
  if (!node) return absl::NotFoundError(absl::StrCat(source_, ": ", key, " is required"));
  if (!node.is_boolean()) {
    return absl::InvalidArgumentError(absl::StrCat(source_, ": ", key, " must be true or false"));
  }
  return *node.value<bool>();
}

absl::StatusOr<bool> Config::BoolOr(const std::string& key, bool fallback) const {
  absl::StatusOr<bool> value = Bool(key);
  if (absl::IsNotFound(value.status())) return fallback;
  return value;
}

}  // namespace tessera
