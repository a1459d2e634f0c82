#include "hsm/softhsm_store.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <system_error>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace tessera::hsm {
namespace fs = std::filesystem;

namespace {

// SoftHSM derives a token's serial from the UUID naming its directory:
// uuid.substr(19, 4) + uuid.substr(24) (object_store/ObjectStore.cpp).
std::string SerialOfDirectory(const std::string& name) {
  if (name.size() != 36 || name[8] != '-' || name[23] != '-') return "";
  return name.substr(19, 4) + name.substr(24);
}

absl::Status Failed(const std::string& what, const fs::path& path, const std::error_code& error) {
  return absl::UnavailableError(absl::StrCat(what, " ", path.string(), ": ", error.message()));
}

}  // namespace

bool IsSoftHsm(const TokenInfo& token) { return token.manufacturer == "SoftHSM project"; }

absl::StatusOr<std::string> SoftHsmTokenDirectory() {
  const char* env = std::getenv("SOFTHSM2_CONF");
  const std::string conf = env != nullptr ? env : "/etc/softhsm/softhsm2.conf";
  std::ifstream in(conf);
  if (!in)
    return absl::NotFoundError(absl::StrCat("SoftHSM configuration ", conf, " cannot be read"));
  std::string line;
  while (std::getline(in, line)) {
    absl::string_view text = absl::StripAsciiWhitespace(line);
    if (!absl::ConsumePrefix(&text, "directories.tokendir")) continue;
    text = absl::StripLeadingAsciiWhitespace(text);
    if (!absl::ConsumePrefix(&text, "=")) continue;
    text = absl::StripAsciiWhitespace(text);
    if (!text.empty()) return std::string(text);
  }
  return absl::NotFoundError(absl::StrCat(conf, " names no directories.tokendir"));
}

absl::StatusOr<std::string> FindSoftHsmToken(const std::string& token_directory,
                                             const std::string& serial) {
  std::error_code error;
  for (const fs::directory_entry& entry : fs::directory_iterator(token_directory, error)) {
    if (entry.is_directory() && SerialOfDirectory(entry.path().filename()) == serial) {
      return entry.path().string();
    }
  }
  if (error) return Failed("reading", token_directory, error);
  return absl::NotFoundError(
      absl::StrCat("no token with serial ", serial, " in ", token_directory));
}

absl::Status MoveSoftHsmToken(const std::string& token_directory, const std::string& serial,
                              const std::string& destination, const std::string& name) {
  absl::StatusOr<std::string> token = FindSoftHsmToken(token_directory, serial);
  if (!token.ok()) return token.status();
  const fs::path found = *token;
  std::error_code error;
  fs::create_directories(destination, error);
  if (error) return Failed("creating", destination, error);
  const fs::path target = fs::path(destination) / name;
  fs::rename(found, target, error);
  if (error != std::errc::cross_device_link) {
    return error ? Failed("moving the token to", target, error) : absl::OkStatus();
  }
  // Another file system: copy beside the target, rename into place, then remove the original;
  // a crash midway leaves the token in the live store, and the next move starts over.
  const fs::path partial = target.string() + ".partial";
  fs::remove_all(partial, error);
  fs::copy(found, partial, fs::copy_options::recursive, error);
  if (error) return Failed("copying the token to", partial, error);
  fs::rename(partial, target, error);
  if (error) return Failed("moving the token to", target, error);
  fs::remove_all(found, error);
  if (error) return Failed("removing", found, error);
  return absl::OkStatus();
}

}  // namespace tessera::hsm
