// SoftHSM for tests: a private token directory and SOFTHSM2_CONF per test process (never the
// system's), and helpers to create tokens with a label, SO PIN and user PIN.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "hsm/module.h"
#include "hsm/token.h"
#include "tests/support/temp_dir.h"

namespace tessera::testing {

inline constexpr char kTestSoPin[] = "87654321";
inline constexpr char kTestUserPin[] = "12345678";

// Test-name suffix for tests parameterized by key algorithm: "EcP256", "Rsa2048", "Rsa3072".
std::string KeyAlgorithmTestName(const ::testing::TestParamInfo<hsm::KeyAlgorithm>& info);

class TestSoftHsm {
 public:
  // The process-wide instance; sets SOFTHSM2_CONF before the module is first loaded.
  static TestSoftHsm& Get();

  const std::string& module_path() const { return module_path_; }
  std::string conf_path() const { return dir_.File("softhsm2.conf"); }
  std::shared_ptr<hsm::Module> module() const { return module_; }

  // Initializes a token and returns it logged in with the user PIN.
  std::shared_ptr<hsm::Token> CreateToken(const std::string& label,
                                          const std::string& so_pin = kTestSoPin,
                                          const std::string& user_pin = kTestUserPin);
  // A SoftHSM token store of its own in `dir` (softhsm2.conf naming dir/tokens), as another
  // machine's, holding a copy of this store's token `label` (a vault whose sealing key two
  // stations share, as they would share a network HSM): the path of its softhsm2.conf, for a
  // process's SOFTHSM2_CONF.
  std::string StoreWithCopyOf(const std::string& dir, const std::string& label);
  // A label no other test in this process has used.
  static std::string UniqueLabel(const std::string& prefix);

 private:
  TestSoftHsm();
  TempDir dir_{"tessera-softhsm"};
  std::string module_path_;
  std::shared_ptr<hsm::Module> module_;
};

}  // namespace tessera::testing
