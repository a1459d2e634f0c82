#include "platform/files.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace tessera {
namespace {

absl::Status Unavailable(const std::string& path, int error) {
  return absl::UnavailableError(absl::StrCat("cannot write ", path, ": ", std::strerror(error)));
}

// Closes on every path out of a function.
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  // close() reports deferred write errors (NFS), so the last close is checked.
  int Close() {
    const int result = ::close(fd_);
    fd_ = -1;
    return result;
  }

 private:
  int fd_;
};

// Returns 0 or an errno.
int WriteAll(int fd, std::string_view content) {
  for (size_t done = 0; done < content.size();) {
    const ssize_t n = ::write(fd, content.data() + done, content.size() - done);
    if (n > 0) {
      done += static_cast<size_t>(n);
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      pollfd wait = {.fd = fd, .events = POLLOUT, .revents = 0};  // an inherited O_NONBLOCK
      ::poll(&wait, 1, -1);
    } else {
      return n < 0 ? errno : EIO;
    }
  }
  return 0;
}

absl::Status WriteToStdout(std::string_view content) {
  std::fflush(stdout);  // whatever stdio holds goes first
  if (int error = WriteAll(STDOUT_FILENO, content); error != 0) {
    return Unavailable("standard output", error);
  }
  return absl::OkStatus();
}

// A device, FIFO or socket is written as it is: no O_CREAT, no O_TRUNC, no rename.
absl::Status WriteThrough(const std::string& path, std::string_view content) {
  Fd fd(::open(path.c_str(), O_WRONLY | O_NOCTTY | O_CLOEXEC));
  if (fd.get() < 0) return Unavailable(path, errno);
  // The path may have been swapped for a regular file since it was looked at: writing over
  // the start of that file without truncating would leave a mix of old and new.
  struct stat st;
  if (::fstat(fd.get(), &st) != 0) return Unavailable(path, errno);
  if (S_ISREG(st.st_mode) || S_ISDIR(st.st_mode)) {
    return absl::AbortedError(absl::StrCat("cannot write ", path, ": it changed while written"));
  }
  if (int error = WriteAll(fd.get(), content); error != 0) return Unavailable(path, error);
  if (fd.Close() != 0) return Unavailable(path, errno);
  return absl::OkStatus();
}

// A listening Unix socket at a path: connected to and written as a stream.
absl::Status WriteToSocket(const std::string& path, std::string_view content) {
  sockaddr_un address = {.sun_family = AF_UNIX, .sun_path = {}};
  if (path.size() >= sizeof address.sun_path) return Unavailable(path, ENAMETOOLONG);
  std::memcpy(address.sun_path, path.data(), path.size());
  Fd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (fd.get() < 0) return Unavailable(path, errno);
  if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0) {
    return Unavailable(path, errno);
  }
  if (int error = WriteAll(fd.get(), content); error != 0) return Unavailable(path, error);
  if (fd.Close() != 0) return Unavailable(path, errno);
  return absl::OkStatus();
}

// A temporary file with a random name beside `path`, renamed over it.
absl::Status WriteAtomically(const std::string& path, std::string_view content, mode_t mode) {
  const std::filesystem::path target(path);
  std::filesystem::path dir = target.parent_path();
  if (dir.empty()) dir = ".";
  uint64_t random = 0;
  if (::getrandom(&random, sizeof random, 0) != sizeof random) return Unavailable(path, errno);
  const std::string tmp =
      (dir / absl::StrFormat(".%s.%016x.tmp", target.filename().string(), random)).string();
  // O_EXCL with O_NOFOLLOW: a name someone else created (file or symlink) is never opened.
  Fd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode));
  if (fd.get() < 0) return Unavailable(path, errno);
  int error = 0;
  if (::fchmod(fd.get(), mode) != 0) error = errno;  // the umask may have narrowed it
  if (error == 0) error = WriteAll(fd.get(), content);
  if (error == 0 && ::fsync(fd.get()) != 0) error = errno;
  if (fd.Close() != 0 && error == 0) error = errno;
  if (error == 0 && std::rename(tmp.c_str(), path.c_str()) != 0) error = errno;
  if (error != 0) {
    ::unlink(tmp.c_str());
    return Unavailable(path, error);
  }
  // The rename itself is durable only once the directory is.
  Fd dir_fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (dir_fd.get() < 0 || ::fsync(dir_fd.get()) != 0) return Unavailable(path, errno);
  return absl::OkStatus();
}

bool IsStdout(const struct stat& st) {
  struct stat out;
  return ::fstat(STDOUT_FILENO, &out) == 0 && out.st_dev == st.st_dev && out.st_ino == st.st_ino;
}

absl::Status Refuse(const std::string& path, const std::string& why) {
  return absl::FailedPreconditionError(absl::StrCat("will not write ", path, ": ", why));
}

absl::Status Write(const std::string& path, std::string_view content, mode_t mode, bool secret) {
  if (path == "-") return WriteToStdout(content);
  struct stat link;
  if (::lstat(path.c_str(), &link) != 0) {
    if (errno == ENOENT) return WriteAtomically(path, content, mode);
    return Unavailable(path, errno);
  }
  if (secret) {
    if (S_ISLNK(link.st_mode)) {
      return Refuse(path, "it is a symlink, and a secret is never written through one");
    }
    if (!S_ISREG(link.st_mode)) {
      return Refuse(path, "a secret goes only to a regular file or to '-' (standard output)");
    }
    return WriteAtomically(path, content, mode);
  }
  if (S_ISREG(link.st_mode)) return WriteAtomically(path, content, mode);
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) {
    return Refuse(path, absl::StrCat("a symlink to nothing (", std::strerror(errno), ")"));
  }
  // /dev/stdout, /dev/fd/1 or another name of what fd 1 is: written through fd 1, so `> file`,
  // `>> file` and pipes get the content as the shell set them up.
  if (IsStdout(st)) return WriteToStdout(content);
  if (S_ISCHR(st.st_mode) || S_ISFIFO(st.st_mode)) return WriteThrough(path, content);
  if (S_ISSOCK(st.st_mode)) return WriteToSocket(path, content);
  if (!S_ISREG(st.st_mode)) {
    return Refuse(path, "not a regular file, character device, FIFO or socket");
  }
  // A symlink to a regular file: its target is replaced and the link stays.
  char resolved[PATH_MAX];
  if (::realpath(path.c_str(), resolved) == nullptr) return Unavailable(path, errno);
  return WriteAtomically(resolved, content, mode);
}

}  // namespace

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    return absl::NotFoundError(absl::StrCat("cannot read ", path, ": ", std::strerror(errno)));
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

absl::Status WriteFile(const std::string& path, std::string_view content, mode_t mode) {
  return Write(path, content, mode, /*secret=*/false);
}

absl::Status WriteSecretFile(const std::string& path, std::string_view content) {
  return Write(path, content, 0600, /*secret=*/true);
}

absl::Status MakePrivateDirectory(const std::string& path) {
  std::error_code error;
  if (!std::filesystem::exists(path, error)) {
    std::filesystem::create_directories(path, error);
    if (error) return absl::InternalError(absl::StrCat(path, ": ", error.message()));
    std::filesystem::permissions(path, std::filesystem::perms::owner_all,
                                 std::filesystem::perm_options::replace, error);
    if (error) return absl::InternalError(absl::StrCat(path, ": ", error.message()));
    return absl::OkStatus();
  }
  const std::filesystem::file_status status = std::filesystem::symlink_status(path, error);
  if (error) return absl::InternalError(absl::StrCat(path, ": ", error.message()));
  if (status.type() != std::filesystem::file_type::directory) {
    return absl::FailedPreconditionError(absl::StrCat(path, ": not a directory"));
  }
  const auto others = std::filesystem::perms::group_all | std::filesystem::perms::others_all;
  if ((status.permissions() & others) != std::filesystem::perms::none) {
    return absl::FailedPreconditionError(absl::StrCat(
        path, ": group or others may enter it (mode ",
        absl::StrFormat("%04o", static_cast<unsigned>(status.permissions())), "); make it 0700"));
  }
  return absl::OkStatus();
}

}  // namespace tessera
