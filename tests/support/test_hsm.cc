#include "tests/support/test_hsm.h"

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <stdexcept>

#include "hsm/softhsm_store.h"
#include "tests/support/run.h"

namespace tessera::testing {

TestSoftHsm& TestSoftHsm::Get() {
  static TestSoftHsm instance;
  return instance;
}

TestSoftHsm::TestSoftHsm() {
  const std::string script = std::string(TESSERA_SOURCE_DIR) + "/tests/scripts/softhsm-env.sh";
  CommandResult made = RunCommand(ShellQuote(script) + " " + ShellQuote(dir_.path().string()));
  if (made.exit_code != 0) throw std::runtime_error("softhsm-env.sh failed: " + made.output);
  setenv("SOFTHSM2_CONF", conf_path().c_str(), 1);
  const char* module = std::getenv("TESSERA_PKCS11_MODULE");
  module_path_ = module != nullptr ? module : "/usr/lib/softhsm/libsofthsm2.so";
  auto loaded = hsm::Module::Load(module_path_);
  if (!loaded.ok()) throw std::runtime_error(std::string(loaded.status().message()));
  module_ = *loaded;
}

std::shared_ptr<hsm::Token> TestSoftHsm::CreateToken(const std::string& label,
                                                     const std::string& so_pin,
                                                     const std::string& user_pin) {
  auto info = module_->InitToken(label, Secret(so_pin), Secret(user_pin));
  if (!info.ok()) throw std::runtime_error(std::string(info.status().message()));
  auto token = hsm::Token::Login(module_, label, Secret(user_pin));
  if (!token.ok()) throw std::runtime_error(std::string(token.status().message()));
  return *token;
}

std::string TestSoftHsm::StoreWithCopyOf(const std::string& dir, const std::string& label) {
  const std::string script = std::string(TESSERA_SOURCE_DIR) + "/tests/scripts/softhsm-env.sh";
  CommandResult made = RunCommand(ShellQuote(script) + " " + ShellQuote(dir));
  if (made.exit_code != 0) throw std::runtime_error("softhsm-env.sh failed: " + made.output);
  auto token = module_->FindTokenByLabel(label);
  if (!token.ok()) throw std::runtime_error(std::string(token.status().message()));
  auto found = hsm::FindSoftHsmToken(dir_.File("tokens"), token->serial);
  if (!found.ok()) throw std::runtime_error(std::string(found.status().message()));
  std::filesystem::copy(
      *found, std::filesystem::path(dir) / "tokens" / std::filesystem::path(*found).filename(),
      std::filesystem::copy_options::recursive);
  return dir + "/softhsm2.conf";
}

std::string KeyAlgorithmTestName(const ::testing::TestParamInfo<hsm::KeyAlgorithm>& info) {
  switch (info.param) {
    case hsm::KeyAlgorithm::kEcP256:
      return "EcP256";
    case hsm::KeyAlgorithm::kRsa2048:
      return "Rsa2048";
    case hsm::KeyAlgorithm::kRsa3072:
      return "Rsa3072";
  }
  return "Unknown";
}

std::string TestSoftHsm::UniqueLabel(const std::string& prefix) {
  static std::atomic<int> counter{0};
  return prefix + "-" + std::to_string(counter++);
}

}  // namespace tessera::testing
