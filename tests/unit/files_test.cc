// Where WriteFile and WriteSecretFile put their bytes: atomically onto new and regular files,
// through devices, FIFOs and sockets (never replacing them), "-" to stdout, and a secret never
// through a symlink.
#include "platform/files.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <future>
#include <string>
#include <vector>

#include "tests/support/temp_dir.h"

namespace tessera {
namespace {

namespace fs = std::filesystem;

class FilesTest : public ::testing::Test {
 protected:
  std::string Read(const std::string& path) { return testing::ReadFileOrDie(path); }
  mode_t Mode(const std::string& path) {
    struct stat st;
    EXPECT_EQ(::lstat(path.c_str(), &st), 0) << path;
    return st.st_mode;
  }
  std::vector<std::string> Names() {
    std::vector<std::string> names;
    for (const auto& entry : fs::directory_iterator(dir_.path())) {
      names.push_back(entry.path().filename().string());
    }
    std::sort(names.begin(), names.end());
    return names;
  }
  // Everything read from `fd` until the writer closes it.
  static std::string ReadAll(int fd) {
    std::string text;
    char buffer[4096];
    for (ssize_t n; (n = ::read(fd, buffer, sizeof buffer)) > 0;) text.append(buffer, n);
    return text;
  }
  // Runs `write` with fd 1 pointing at a fresh file, and returns what reached it.
  template <typename F>
  std::string CaptureStdout(F write) {
    const std::string captured = dir_.File("captured");
    std::fflush(stdout);
    const int saved = ::dup(STDOUT_FILENO);
    const int file = ::open(captured.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    ::dup2(file, STDOUT_FILENO);
    ::close(file);
    write();
    std::fflush(stdout);
    ::dup2(saved, STDOUT_FILENO);
    ::close(saved);
    std::string text = Read(captured);
    fs::remove(captured);
    return text;
  }

  testing::TempDir dir_{"tessera-files"};
};

TEST_F(FilesTest, ANewFileHasExactlyTheModeAsked) {
  const mode_t umask_before = ::umask(077);  // narrower than the mode asked
  ASSERT_TRUE(WriteFile(dir_.File("cert.pem"), "cert", 0644).ok());
  ASSERT_TRUE(WriteSecretFile(dir_.File("key.pem"), "key").ok());
  ::umask(umask_before);
  EXPECT_EQ(Mode(dir_.File("cert.pem")), S_IFREG | 0644);
  EXPECT_EQ(Mode(dir_.File("key.pem")), S_IFREG | 0600);
  EXPECT_EQ(Read(dir_.File("cert.pem")), "cert");
  EXPECT_EQ(Read(dir_.File("key.pem")), "key");
  EXPECT_EQ(Names(), (std::vector<std::string>{"cert.pem", "key.pem"})) << "no temporary left";
}

// A reader that opened the old file keeps reading all of the old file: the new content is a
// new inode renamed into place, never the old file truncated and rewritten.
TEST_F(FilesTest, ARegularFileIsReplacedAtomically) {
  const std::string path = dir_.File("crl.pem");
  ASSERT_TRUE(WriteFile(path, "old content", 0644).ok());
  const int reader = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  ASSERT_GE(reader, 0);
  ASSERT_TRUE(WriteFile(path, "new", 0640).ok());
  EXPECT_EQ(Read(path), "new");
  EXPECT_EQ(Mode(path), S_IFREG | 0640);
  EXPECT_EQ(ReadAll(reader), "old content");
  ::close(reader);
  ASSERT_TRUE(WriteSecretFile(path, "secret").ok());
  EXPECT_EQ(Mode(path), S_IFREG | 0600);
  EXPECT_EQ(Names(), std::vector<std::string>{"crl.pem"}) << "no temporary left";
}

// The temporary name is random and opened exclusively: what another user placed at the old
// fixed name "<path>.tmp" (here a symlink to a victim file) is neither followed nor reused.
TEST_F(FilesTest, ThePredictableTemporaryNameIsNotUsed) {
  ASSERT_TRUE(WriteFile(dir_.File("victim"), "keep me", 0644).ok());
  fs::create_symlink(dir_.File("victim"), dir_.File("out.pem.tmp"));
  ASSERT_TRUE(WriteFile(dir_.File("out.pem"), "content", 0644).ok());
  EXPECT_EQ(Read(dir_.File("victim")), "keep me");
  EXPECT_EQ(Read(dir_.File("out.pem")), "content");
  EXPECT_TRUE(fs::is_symlink(dir_.File("out.pem.tmp")));
}

TEST_F(FilesTest, ASecretIsNeverWrittenThroughASymlink) {
  ASSERT_TRUE(WriteFile(dir_.File("target"), "original", 0644).ok());
  fs::create_symlink(dir_.File("target"), dir_.File("key.pem"));
  fs::create_symlink(dir_.File("nowhere"), dir_.File("dangling.pem"));
  for (const char* name : {"key.pem", "dangling.pem"}) {
    absl::Status written = WriteSecretFile(dir_.File(name), "secret key");
    EXPECT_EQ(written.code(), absl::StatusCode::kFailedPrecondition) << written;
    EXPECT_NE(written.message().find("symlink"), absl::string_view::npos) << written;
    EXPECT_TRUE(fs::is_symlink(dir_.File(name))) << name;
  }
  EXPECT_EQ(Read(dir_.File("target")), "original");
  EXPECT_FALSE(fs::exists(dir_.File("nowhere")));
  EXPECT_EQ(Names(), (std::vector<std::string>{"dangling.pem", "key.pem", "target"}));
}

// A certificate may go through a symlink: the file it points to is replaced, the link stays.
TEST_F(FilesTest, AnOrdinaryFileReplacesASymlinksTarget) {
  fs::create_directory(dir_.File("real"));
  ASSERT_TRUE(WriteFile(dir_.File("real/cert.pem"), "old", 0644).ok());
  fs::create_symlink(dir_.File("real/cert.pem"), dir_.File("cert.pem"));
  ASSERT_TRUE(WriteFile(dir_.File("cert.pem"), "new", 0644).ok());
  EXPECT_TRUE(fs::is_symlink(dir_.File("cert.pem")));
  EXPECT_EQ(Read(dir_.File("real/cert.pem")), "new");
  fs::create_symlink(dir_.File("nowhere"), dir_.File("broken"));
  EXPECT_EQ(WriteFile(dir_.File("broken"), "x").code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_FALSE(fs::exists(dir_.File("nowhere")));
}

TEST_F(FilesTest, AFifoIsWrittenThrough) {
  const std::string fifo = dir_.File("fifo");
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  std::future<std::string> read = std::async(std::launch::async, [&] {
    const int fd = ::open(fifo.c_str(), O_RDONLY | O_CLOEXEC);
    std::string text = ReadAll(fd);
    ::close(fd);
    return text;
  });
  ASSERT_TRUE(WriteFile(fifo, "through the pipe").ok());
  EXPECT_EQ(read.get(), "through the pipe");
  EXPECT_TRUE(S_ISFIFO(Mode(fifo)));
  EXPECT_EQ(WriteSecretFile(fifo, "secret").code(), absl::StatusCode::kFailedPrecondition);
}

TEST_F(FilesTest, AUnixSocketIsWrittenThrough) {
  const std::string path = dir_.File("sock");
  const int listener = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un address = {.sun_family = AF_UNIX, .sun_path = {}};
  ASSERT_LT(path.size(), sizeof address.sun_path);
  path.copy(address.sun_path, path.size());
  ASSERT_EQ(::bind(listener, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
  ASSERT_EQ(::listen(listener, 1), 0);
  std::future<std::string> read = std::async(std::launch::async, [&] {
    const int fd = ::accept(listener, nullptr, nullptr);
    std::string text = ReadAll(fd);
    ::close(fd);
    return text;
  });
  ASSERT_TRUE(WriteFile(path, "through the socket").ok());
  EXPECT_EQ(read.get(), "through the socket");
  EXPECT_TRUE(S_ISSOCK(Mode(path)));
  ::close(listener);
}

// `--out /dev/null` run as root replaced /dev/null with a regular file. A copy of the device
// node in the temporary directory stands in for it.
TEST_F(FilesTest, ACharacterDeviceIsWrittenThroughAndStaysADevice) {
  const std::string null = dir_.File("null");
  if (::mknod(null.c_str(), S_IFCHR | 0666, makedev(1, 3)) != 0) {
    GTEST_SKIP() << "mknod needs root: " << std::strerror(errno);
  }
  ASSERT_TRUE(WriteFile(null, "discarded").ok());
  EXPECT_TRUE(S_ISCHR(Mode(null)));
  struct stat st;
  ASSERT_EQ(::stat(null.c_str(), &st), 0);
  EXPECT_EQ(st.st_rdev, makedev(1, 3));
  EXPECT_EQ(WriteSecretFile(null, "secret").code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(S_ISCHR(Mode(null)));
  EXPECT_EQ(Names(), std::vector<std::string>{"null"});
}

TEST_F(FilesTest, ADashIsStandardOutputForSecretsToo) {
  EXPECT_EQ(CaptureStdout([] {
              std::printf("before ");  // stdio's buffer goes out first
              EXPECT_TRUE(WriteFile("-", "-----BEGIN X509 CRL-----\n").ok());
              EXPECT_TRUE(WriteSecretFile("-", "password\n").ok());
            }),
            "before -----BEGIN X509 CRL-----\npassword\n");
  EXPECT_FALSE(fs::exists("-"));
  EXPECT_EQ(Names(), std::vector<std::string>{});
}

// /dev/stdout is a symlink to /proc/self/fd/1: what fd 1 is (here a file, as with `> file`)
// gets the bytes; the link is not replaced. A secret refuses it (use "-").
TEST_F(FilesTest, DevStdoutIsWrittenThroughFdOne) {
  fs::create_symlink("/proc/self/fd/1", dir_.File("stdout"));
  EXPECT_EQ(CaptureStdout([&] {
              EXPECT_TRUE(WriteFile(dir_.File("stdout"), "to fd 1").ok());
              EXPECT_EQ(WriteSecretFile(dir_.File("stdout"), "secret").code(),
                        absl::StatusCode::kFailedPrecondition);
            }),
            "to fd 1");
  EXPECT_TRUE(fs::is_symlink(dir_.File("stdout")));
}

TEST_F(FilesTest, ADirectoryIsRefused) {
  fs::create_directory(dir_.File("dir"));
  EXPECT_EQ(WriteFile(dir_.File("dir"), "x").code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(WriteSecretFile(dir_.File("dir"), "x").code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(WriteFile(dir_.File("missing/file"), "x").code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(Names(), std::vector<std::string>{"dir"});
}

}  // namespace
}  // namespace tessera
