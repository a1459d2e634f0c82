// tessera-ca as a real process, gRPC over mTLS on loopback: who gets in, who does not.
#include <gtest/gtest.h>

#include <memory>

#include "platform/rpc_client.h"
#include "tests/support/run.h"
#include "tests/support/service_process.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_hsm.h"
#include "tests/support/test_pki.h"

namespace tessera {
namespace {

using testing::IssuedCert;
using testing::RunCommand;
using testing::TestSoftHsm;
using testing::WriteFile;

constexpr char kHealthCheck[] = "/grpc.health.v1.Health/Check";
constexpr char kReflection[] = "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo";
// HealthCheckResponse{status: SERVING}: field 1, varint 1.
const std::string kServing("\x08\x01", 2);

class CaServerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new testing::TempDir("tessera-e2e");
    auto& softhsm = TestSoftHsm::Get();
    pki_ = new testing::TestPki(softhsm.CreateToken(TestSoftHsm::UniqueLabel("e2e-ca")),
                                "Tessera E2E CA");
    other_pki_ = new testing::TestPki(softhsm.CreateToken(TestSoftHsm::UniqueLabel("stranger")),
                                      "Stranger CA");
    IssuedCert server = pki_->Issue("tessera-ca", "Servizi");
    service_ = new IssuedCert(pki_->Issue("tessera-registry", "Servizi"));
    workstation_ = new IssuedCert(pki_->Issue("0580010001", "Postazioni"));
    stranger_ = new IssuedCert(other_pki_->Issue("tessera-registry", "Servizi"));

    WriteFile(dir_->File("server.pem"), server.cert_pem + pki_->ca_pem());
    WriteFile(dir_->File("server.key"), server.key_pem);
    WriteFile(dir_->File("ca.pem"), pki_->ca_pem());
    WriteFile(dir_->File("service.pem"), service_->cert_pem);
    WriteFile(dir_->File("service.key"), service_->key_pem);
    WriteFile(dir_->File("ca.toml"), "[grpc]\nlisten = \"127.0.0.1:0\"\nport_file = \"" +
                                         dir_->File("port") + "\"\n[tls]\ncertificate_chain = \"" +
                                         dir_->File("server.pem") + "\"\nprivate_key = \"" +
                                         dir_->File("server.key") + "\"\nclient_ca_bundle = \"" +
                                         dir_->File("ca.pem") + "\"\n");
    server_ = new testing::ServiceProcess("tessera-ca", dir_->File("ca.toml"), dir_->File("port"),
                                          dir_->File("ca.log"));
  }

  static void TearDownTestSuite() {
    EXPECT_EQ(server_->Stop(), 0) << "tessera-ca did not shut down cleanly";
    delete server_;
    delete stranger_;
    delete workstation_;
    delete service_;
    delete other_pki_;
    delete pki_;
    delete dir_;
  }

  static std::shared_ptr<grpc::Channel> ChannelAs(const IssuedCert* client) {
    const std::string target = "localhost:" + std::to_string(server_->port());
    return client == nullptr
               ? MtlsChannel(target, pki_->ca_pem())
               : MtlsChannel(target, pki_->ca_pem(), client->cert_pem, client->key_pem);
  }

  static testing::TempDir* dir_;
  static testing::TestPki* pki_;
  static testing::TestPki* other_pki_;
  static IssuedCert* service_;
  static IssuedCert* workstation_;
  static IssuedCert* stranger_;
  static testing::ServiceProcess* server_;
};

testing::TempDir* CaServerTest::dir_;
testing::TestPki* CaServerTest::pki_;
testing::TestPki* CaServerTest::other_pki_;
IssuedCert* CaServerTest::service_;
IssuedCert* CaServerTest::workstation_;
IssuedCert* CaServerTest::stranger_;
testing::ServiceProcess* CaServerTest::server_;

TEST_F(CaServerTest, HealthIsServingForAGoodClientCertificate) {
  for (const IssuedCert* client : {service_, workstation_}) {
    auto reply = RawUnaryCall(ChannelAs(client), kHealthCheck, "");
    ASSERT_TRUE(reply.status.ok()) << reply.status.error_message();
    EXPECT_EQ(reply.body, kServing);
    auto health = CheckHealth(ChannelAs(client));
    ASSERT_TRUE(health.ok()) << health.status();
    EXPECT_EQ(*health, "SERVING");
  }
}

TEST_F(CaServerTest, NoClientCertificateFailsTheHandshake) {
  auto reply = RawUnaryCall(ChannelAs(nullptr), kHealthCheck, "");
  EXPECT_EQ(reply.status.error_code(), grpc::StatusCode::UNAVAILABLE)
      << reply.status.error_message();
}

TEST_F(CaServerTest, ACertificateFromAnotherCaFailsTheHandshake) {
  auto reply = RawUnaryCall(ChannelAs(stranger_), kHealthCheck, "");
  EXPECT_EQ(reply.status.error_code(), grpc::StatusCode::UNAVAILABLE)
      << reply.status.error_message();
}

TEST_F(CaServerTest, AValidCertificateNotAllowedToCallIsDenied) {
  auto reply = RawUnaryCall(ChannelAs(workstation_), kReflection, "");
  EXPECT_EQ(reply.status.error_code(), grpc::StatusCode::PERMISSION_DENIED)
      << reply.status.error_message();
  EXPECT_NE(reply.status.error_message().find("workstation certificate may not call"),
            std::string::npos)
      << reply.status.error_message();
}

TEST_F(CaServerTest, AnRpcMissingFromThePolicyTableIsDenied) {
  auto reply = RawUnaryCall(ChannelAs(service_), "/tessera.v1.CertificateAuthority/Unlisted", "");
  EXPECT_EQ(reply.status.error_code(), grpc::StatusCode::PERMISSION_DENIED)
      << reply.status.error_message();
  EXPECT_NE(reply.status.error_message().find("not in this service's policy table"),
            std::string::npos);
}

TEST_F(CaServerTest, ReflectionListsTheServicesToAServiceCertificate) {
  // ServerReflectionRequest{list_services: ""}: field 7, empty string.
  auto reply = RawUnaryCall(ChannelAs(service_), kReflection, std::string("\x3a\x00", 2));
  ASSERT_TRUE(reply.status.ok()) << reply.status.error_message();
  EXPECT_NE(reply.body.find("grpc.health.v1.Health"), std::string::npos);
}

// Independent check with openssl s_client: TLS 1.3 and 1.2 are accepted, 1.1 is refused.
TEST_F(CaServerTest, OnlyTls12AndNewerAreNegotiated) {
  const std::string base =
      "echo | openssl s_client -connect 127.0.0.1:" + std::to_string(server_->port()) +
      " -CAfile " + dir_->File("ca.pem") + " -cert " + dir_->File("service.pem") + " -key " +
      dir_->File("service.key") + " -verify_return_error -alpn h2 ";
  auto tls13 = RunCommand(base + "-tls1_3");
  EXPECT_NE(tls13.output.find("New, TLSv1.3,"), std::string::npos) << tls13.output;
  auto tls12 = RunCommand(base + "-tls1_2");
  EXPECT_NE(tls12.output.find("New, TLSv1.2,"), std::string::npos) << tls12.output;
  auto tls11 = RunCommand(base + "-tls1_1 -cipher DEFAULT@SECLEVEL=0");
  EXPECT_NE(tls11.exit_code, 0) << tls11.output;
  EXPECT_EQ(tls11.output.find("New, TLSv1.1,"), std::string::npos) << tls11.output;
}

TEST(CaServerConfig, ABadConfigStopsStartUpWithAnErrorNamingTheKey) {
  testing::TempDir dir("tessera-badconfig");
  const std::string binary = std::string(TESSERA_BIN_DIR) + "/tessera-ca";
  WriteFile(dir.File("missing.toml"), "[grpc]\nlisten = \"127.0.0.1:0\"\n");
  auto missing = RunCommand(binary + " --config " + dir.File("missing.toml"));
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_NE(missing.output.find("tls.certificate_chain is required"), std::string::npos)
      << missing.output;

  WriteFile(dir.File("typo.toml"), "[grpc]\nlisten = 9443\n");
  auto typed = RunCommand(binary + " --config " + dir.File("typo.toml"));
  EXPECT_EQ(typed.exit_code, 1);
  EXPECT_NE(typed.output.find("grpc.listen must be a string"), std::string::npos) << typed.output;

  auto absent = RunCommand(binary + " --config " + dir.File("nope.toml"));
  EXPECT_EQ(absent.exit_code, 1);
  EXPECT_NE(absent.output.find("cannot read"), std::string::npos) << absent.output;

  auto usage = RunCommand(binary + " --bogus");
  EXPECT_EQ(usage.exit_code, 2);
  EXPECT_NE(usage.output.find("usage: tessera-ca"), std::string::npos) << usage.output;
}

}  // namespace
}  // namespace tessera
