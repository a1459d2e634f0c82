#include "platform/process.h"

#include <fcntl.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace tessera {
namespace {

// A credential is a PIN, password or code: a line, never a large file.
constexpr size_t kMaxCredentialBytes = 4096;

// Overwrites the value where getenv() found it, then drops the variable.
void Wipe(const char* name) {
  if (char* value = std::getenv(name); value != nullptr) explicit_bzero(value, std::strlen(value));
  ::unsetenv(name);
}

absl::StatusOr<Secret> ReadCredentialFile(const std::string& variable, const std::string& path) {
  const std::string where = absl::StrCat(variable, ": ", path);
  const int fd = ::open(path.c_str(), O_RDONLY | O_NOCTTY | O_CLOEXEC);
  if (fd < 0) {
    return absl::FailedPreconditionError(absl::StrCat(where, ": ", std::strerror(errno)));
  }
  struct stat st;
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return absl::FailedPreconditionError(absl::StrCat(where, ": not a regular file"));
  }
  if ((st.st_mode & 077) != 0) {
    ::close(fd);
    return absl::FailedPreconditionError(absl::StrFormat(
        "%s: open to group or others (mode %04o); make it 0600 or 0400", where, st.st_mode & 0777));
  }
  Botan::secure_vector<uint8_t> bytes(kMaxCredentialBytes);
  size_t size = 0;
  while (size < bytes.size()) {
    const ssize_t n = ::read(fd, bytes.data() + size, bytes.size() - size);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int error = errno;
      ::close(fd);
      return absl::FailedPreconditionError(absl::StrCat(where, ": ", std::strerror(error)));
    }
    if (n == 0) break;
    size += static_cast<size_t>(n);
  }
  ::close(fd);
  // The first line, without its line ending.
  size_t end = 0;
  while (end < size && bytes[end] != '\n') ++end;
  if (end == size && size == bytes.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat(where, ": longer than ", kMaxCredentialBytes, " bytes"));
  }
  if (end > 0 && bytes[end - 1] == '\r') --end;
  bytes.resize(end);  // secure_vector wipes what it frees
  if (bytes.empty()) return absl::InvalidArgumentError(absl::StrCat(where, ": empty"));
  return Secret(std::move(bytes));
}

}  // namespace

absl::Status HardenProcess() {
  if (::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0) {
    return absl::InternalError(absl::StrCat("prctl(PR_SET_DUMPABLE): ", std::strerror(errno)));
  }
  const rlimit no_core = {.rlim_cur = 0, .rlim_max = 0};
  if (::setrlimit(RLIMIT_CORE, &no_core) != 0) {
    return absl::InternalError(absl::StrCat("setrlimit(RLIMIT_CORE): ", std::strerror(errno)));
  }
  return absl::OkStatus();
}

std::string HostName(const std::string& otherwise) {
  char name[256] = {};
  if (gethostname(name, sizeof name - 1) != 0 || name[0] == '\0') return otherwise;
  return name;
}

absl::StatusOr<Secret> TakeSecretFromEnv(const char* name) {
  const std::string file_variable = absl::StrCat(name, "_FILE");
  const char* value = std::getenv(name);
  const char* file = std::getenv(file_variable.c_str());
  const bool has_value = value != nullptr && *value != '\0';
  const bool has_file = file != nullptr && *file != '\0';
  if (has_value && has_file) {
    Wipe(name);
    return absl::InvalidArgumentError(
        absl::StrCat(name, " and ", file_variable, " are both set: use one"));
  }
  if (has_file) return ReadCredentialFile(file_variable, file);
  if (!has_value) {
    ::unsetenv(name);  // set but empty
    return absl::NotFoundError(absl::StrCat(name, " (or ", file_variable, ") is not set"));
  }
  Secret secret{std::string_view(value)};
  Wipe(name);
  return secret;
}

}  // namespace tessera
