// Service identities through the CA, with real processes: the ceremony's service certificates
// here live 20 days (a profiles file with validity_days = 20), so tessera-registry warns at
// start-up and in health; `tessera ca renew-service` renews its certificate with a new key,
// and the running registry presents the new one to new connections without a restart. Only
// the Ministry's CLI may renew, and only names the profile lists.
#include <botan/data_src.h>
#include <botan/x509cert.h>
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "platform/principal.h"
#include "platform/rpc_client.h"
#include "proto/ca.grpc.pb.h"
#include "proto/registry.grpc.pb.h"
#include "tests/support/run.h"
#include "tests/support/service_process.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_ceremony.h"
#include "tests/support/test_pg.h"

namespace tessera {
namespace {

using testing::RunCommand;

class ServiceRenewalTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new testing::TempDir("tessera-e2e-renewal");
    std::string profiles =
        testing::ReadFileOrDie(std::string(TESSERA_SOURCE_DIR) + "/deploy/ca/profiles.toml");
    const size_t at = profiles.find("validity_months = 12");
    profiles.replace(at, std::string("validity_months = 12").size(), "validity_days = 20");
    testing::WriteFile(dir_->File("profiles.toml"), profiles);
    const int http_port = testing::FreeLoopbackPort();
    const std::string http = "127.0.0.1:" + std::to_string(http_port);
    hierarchy_ = new testing::TestHierarchy(dir_->path().string(),
                                            {{"tessera-ca", {"localhost"}, {"127.0.0.1"}},
                                             {"tessera-registry", {"localhost"}, {"127.0.0.1"}},
                                             {"tessera-cli", {"localhost"}, {}}},
                                            "http://" + http, hsm::KeyAlgorithm::kEcP256,
                                            dir_->File("profiles.toml"));
    auto& pg = testing::TestPg::Get();
    const std::string conninfo = pg.ConnInfo(pg.CreateDatabase());
    ca_ = hierarchy_->StartCa(conninfo, dir_->path().string(), http).release();
    hierarchy_->WriteRegistryConfig(dir_->File("registry.toml"), conninfo, dir_->path().string());
    registry_ =
        new testing::ServiceProcess("tessera-registry", dir_->File("registry.toml"),
                                    dir_->File("registry-port"), dir_->File("registry.log"));
  }
  static void TearDownTestSuite() {
    EXPECT_EQ(registry_->Stop(), 0);
    EXPECT_EQ(ca_->Stop(), 0);
    delete registry_;
    delete ca_;
    delete hierarchy_;
    delete dir_;
  }

  static std::string Pki(const std::string& file) { return hierarchy_->Pki(file); }
  // The tessera CLI as the Ministry, aimed at `port`.
  static std::string Cli(int port) {
    return std::string(TESSERA_BIN_DIR) + "/tessera --target localhost:" + std::to_string(port) +
           " --ca " + Pki("bundle.pem") + " --cert " + Pki("tessera-cli.pem") + " --key " +
           Pki("tessera-cli.key") + " ";
  }
  // The serial of the certificate tessera-registry presents to a new TLS connection.
  static std::string PresentedSerial() {
    testing::CommandResult shown = RunCommand(
        "echo | openssl s_client -connect 127.0.0.1:" + std::to_string(registry_->port()) +
        " -cert " + Pki("tessera-cli.pem") + " -key " + Pki("tessera-cli.key") +
        " 2>/dev/null | openssl x509 -noout -serial");
    return shown.output;
  }
  static std::string FileSerial(const std::string& file) {
    return RunCommand("openssl x509 -noout -serial -in " + Pki(file)).output;
  }

  static testing::TempDir* dir_;
  static testing::TestHierarchy* hierarchy_;
  static testing::ServiceProcess* ca_;
  static testing::ServiceProcess* registry_;
};

testing::TempDir* ServiceRenewalTest::dir_ = nullptr;
testing::TestHierarchy* ServiceRenewalTest::hierarchy_ = nullptr;
testing::ServiceProcess* ServiceRenewalTest::ca_ = nullptr;
testing::ServiceProcess* ServiceRenewalTest::registry_ = nullptr;

TEST_F(ServiceRenewalTest, AnExpiringCertificateIsRenewedWithoutARestart) {
  // Under 30 days left: a warning at start-up and in health, while still serving.
  EXPECT_NE(testing::ReadFileOrDie(dir_->File("registry.log")).find("tls_certificate_expiring"),
            std::string::npos);
  testing::CommandResult health = RunCommand(Cli(registry_->port()) + "health");
  EXPECT_EQ(health.exit_code, 0) << health.output;
  EXPECT_NE(health.output.find("SERVING"), std::string::npos) << health.output;
  EXPECT_NE(health.output.find("warning: its TLS certificate expires within 30 days"),
            std::string::npos)
      << health.output;

  const std::string before = PresentedSerial();
  ASSERT_EQ(before, FileSerial("tessera-registry.pem"));
  const std::string old_key = testing::ReadFileOrDie(Pki("tessera-registry.key"));
  testing::CommandResult renewed =
      RunCommand(Cli(ca_->port()) + "ca renew-service --service tessera-registry --dir " + Pki(""));
  ASSERT_EQ(renewed.exit_code, 0) << renewed.output;
  EXPECT_NE(renewed.output.find("renewed tessera-registry"), std::string::npos);
  EXPECT_NE(testing::ReadFileOrDie(Pki("tessera-registry.key")), old_key) << "a new key";
  const std::string after = FileSerial("tessera-registry.pem");
  ASSERT_NE(after, before);
  // Same names as before, issued by the operators CA, on tessera-ca's record.
  const std::string text =
      RunCommand("openssl x509 -noout -text -in " + Pki("tessera-registry.pem")).output;
  EXPECT_NE(text.find("DNS:localhost, IP Address:127.0.0.1"), std::string::npos) << text;
  EXPECT_EQ(
      RunCommand("openssl verify -CAfile " + Pki("bundle.pem") + " " + Pki("tessera-registry.pem"))
          .exit_code,
      0);

  // The running registry takes it up (tls.reload_seconds = 1 here), without a restart.
  std::string presented;
  for (int attempt = 0; attempt < 50 && (presented = PresentedSerial()) != after; ++attempt) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  EXPECT_EQ(presented, after);
  testing::CommandResult listed = RunCommand(Cli(registry_->port()) + "census list");
  EXPECT_EQ(listed.exit_code, 0) << listed.output;
}

TEST_F(ServiceRenewalTest, OnlyTheMinistryCliRenewsAndOnlyListedNames) {
  // tessera-perso is not in the profile's renewable_services: nobody mints it on request.
  testing::CommandResult perso = RunCommand(
      Cli(ca_->port()) + "ca renew-service --service tessera-perso --dns localhost --dir " +
      dir_->File("elsewhere"));
  EXPECT_NE(perso.exit_code, 0);
  EXPECT_NE(perso.output.find("not in the service profile's renewable_services"), std::string::npos)
      << perso.output;
  // Another service may not renew, not even itself.
  testing::CommandResult as_registry = RunCommand(
      std::string(TESSERA_BIN_DIR) + "/tessera --target localhost:" + std::to_string(ca_->port()) +
      " --ca " + Pki("bundle.pem") + " --cert " + Pki("tessera-registry.pem") + " --key " +
      Pki("tessera-registry.key") +
      " ca renew-service --service tessera-registry --dns localhost --dir " +
      dir_->File("elsewhere"));
  EXPECT_NE(as_registry.exit_code, 0);
  EXPECT_NE(as_registry.output.find("may not call it"), std::string::npos) << as_registry.output;
}

}  // namespace
}  // namespace tessera
