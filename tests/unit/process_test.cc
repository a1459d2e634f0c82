// HardenProcess and TakeSecretFromEnv: no core dumps, and a secret gone from the environment,
// from /proc/self/environ (checked in a re-executed copy of this binary, since only a variable
// present at exec lives in that area) and from the environment of children.
#include "platform/process.h"

#include <gtest/gtest.h>
#include <spawn.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "absl/strings/str_format.h"
#include "tests/support/temp_dir.h"

extern char** environ;

namespace tessera {
namespace {

constexpr char kChildMode[] = "TESSERA_PROCESS_TEST_CHILD";
constexpr char kVariable[] = "TESSERA_PROCESS_TEST_SECRET";

std::string ProcSelfEnviron() { return testing::ReadFileOrDie("/proc/self/environ"); }

// In the re-executed binary, before any test runs: the secret, set at exec, is taken and must
// be gone from /proc/self/environ, getenv and a child's environment. Exit code 0 means all
// held; another says which check failed.
int RunChild() {
  const char* set = std::getenv(kVariable);
  if (set == nullptr) return 10;
  const std::string value = set;
  if (ProcSelfEnviron().find(value) == std::string::npos) return 10;  // there to begin with
  absl::StatusOr<Secret> secret = TakeSecretFromEnv(kVariable);
  if (!secret.ok() || secret->view() != value) return 11;
  if (ProcSelfEnviron().find(value) != std::string::npos) return 12;
  if (std::getenv(kVariable) != nullptr) return 13;
  const std::string child = absl::StrFormat("test -z \"${%s+set}\"", kVariable);
  if (std::system(child.c_str()) != 0) return 14;
  return 0;
}

[[maybe_unused]] const bool kChildRan = [] {
  if (std::getenv(kChildMode) != nullptr) std::_Exit(RunChild());
  return false;
}();

std::string RandomText() {
  uint64_t random = 0;
  EXPECT_EQ(getrandom(&random, sizeof random, 0), static_cast<ssize_t>(sizeof random));
  return absl::StrFormat("pin-%016x", random);
}

TEST(ProcessTest, HardenProcessStopsCoreDumps) {
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {  // in a child, so this test process keeps its limits
    if (!HardenProcess().ok()) std::_Exit(1);
    if (prctl(PR_GET_DUMPABLE, 0, 0, 0, 0) != 0) std::_Exit(2);
    rlimit core;
    if (getrlimit(RLIMIT_CORE, &core) != 0 || core.rlim_cur != 0 || core.rlim_max != 0) {
      std::_Exit(3);
    }
    std::_Exit(0);
  }
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
}

TEST(ProcessTest, ASecretSetAtExecIsGoneFromProcSelfEnviron) {
  const std::string value = RandomText();
  const std::string mode = std::string(kChildMode) + "=1";
  const std::string variable = std::string(kVariable) + "=" + value;
  std::vector<char*> env = {const_cast<char*>(mode.c_str()), const_cast<char*>(variable.c_str()),
                            const_cast<char*>("PATH=/usr/bin:/bin")};
  env.push_back(nullptr);
  char* argv[] = {const_cast<char*>("process_test_child"), nullptr};
  pid_t pid = 0;
  ASSERT_EQ(posix_spawn(&pid, "/proc/self/exe", nullptr, nullptr, argv, env.data()), 0);
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0) << "10: not in environ at start, 11: not taken, 12: still in "
                                       "/proc/self/environ, 13: getenv, 14: a child sees it";
}

class TakeSecretTest : public ::testing::Test {
 protected:
  void TearDown() override {
    unsetenv(kVariable);
    unsetenv(file_variable_.c_str());
  }
  std::string File(const std::string& content, mode_t mode) {
    const std::string path = dir_.File("credential");
    testing::WriteFile(path, content);
    EXPECT_EQ(chmod(path.c_str(), mode), 0);
    setenv(file_variable_.c_str(), path.c_str(), 1);
    return path;
  }
  const std::string file_variable_ = std::string(kVariable) + "_FILE";
  testing::TempDir dir_{"tessera-process"};
};

TEST_F(TakeSecretTest, TakesTheVariableOnce) {
  setenv(kVariable, "4721", 1);
  absl::StatusOr<Secret> secret = TakeSecretFromEnv(kVariable);
  ASSERT_TRUE(secret.ok()) << secret.status();
  EXPECT_EQ(secret->view(), "4721");
  EXPECT_EQ(std::getenv(kVariable), nullptr);
  absl::StatusOr<Secret> again = TakeSecretFromEnv(kVariable);
  EXPECT_EQ(again.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(again.status().message(),
            "TESSERA_PROCESS_TEST_SECRET (or TESSERA_PROCESS_TEST_SECRET_FILE) is not set");
  setenv(kVariable, "", 1);
  EXPECT_EQ(TakeSecretFromEnv(kVariable).status().code(), absl::StatusCode::kNotFound);
}

TEST_F(TakeSecretTest, ReadsTheFirstLineOfACredentialFile) {
  File("s3cret\r\nsecond line\n", 0600);
  absl::StatusOr<Secret> secret = TakeSecretFromEnv(kVariable);
  ASSERT_TRUE(secret.ok()) << secret.status();
  EXPECT_EQ(secret->view(), "s3cret");
  File("no newline", 0400);
  secret = TakeSecretFromEnv(kVariable);
  ASSERT_TRUE(secret.ok()) << secret.status();
  EXPECT_EQ(secret->view(), "no newline");
}

TEST_F(TakeSecretTest, RefusesACredentialFileOthersMayRead) {
  const std::string path = File("s3cret\n", 0640);
  absl::StatusOr<Secret> secret = TakeSecretFromEnv(kVariable);
  EXPECT_EQ(secret.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(secret.status().message(),
            "TESSERA_PROCESS_TEST_SECRET_FILE: " + path +
                ": open to group or others (mode 0640); make it 0600 or 0400");
  File("s3cret\n", 0604);
  EXPECT_EQ(TakeSecretFromEnv(kVariable).status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST_F(TakeSecretTest, RefusesAnEmptyMissingOrAmbiguousSecret) {
  File("\nsecond line\n", 0600);
  EXPECT_EQ(TakeSecretFromEnv(kVariable).status().code(), absl::StatusCode::kInvalidArgument);
  setenv(file_variable_.c_str(), dir_.File("missing").c_str(), 1);
  absl::StatusOr<Secret> missing = TakeSecretFromEnv(kVariable);
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(missing.status().message().find("No such file"), absl::string_view::npos);
  File("s3cret\n", 0600);
  setenv(kVariable, "4721", 1);
  absl::StatusOr<Secret> both = TakeSecretFromEnv(kVariable);
  EXPECT_EQ(both.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(both.status().message(),
            "TESSERA_PROCESS_TEST_SECRET and TESSERA_PROCESS_TEST_SECRET_FILE are both set: use "
            "one");
  EXPECT_EQ(std::getenv(kVariable), nullptr) << "the value is wiped even when refused";
}

}  // namespace
}  // namespace tessera
