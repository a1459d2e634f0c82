// Revocation at the door, with real processes: tessera-ca and tessera-registry after a real
// key ceremony, gRPC over mTLS on loopback. A certificate revoked at tessera-ca opens nothing:
// at tessera-ca from the next call (its own records), at tessera-registry once it has fetched
// the new CRL (refresh every second here; every 10 s by default). And a certificate whose kind
// its issuing CA does not certify is nobody.
#include <botan/auto_rng.h>
#include <botan/ecdsa.h>
#include <botan/pkcs8.h>
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "ca/certificate_builder.h"
#include "ca/profile.h"
#include "platform/principal.h"
#include "platform/rpc_client.h"
#include "proto/ca.grpc.pb.h"
#include "proto/registry.grpc.pb.h"
#include "tests/support/registry_calls.h"
#include "tests/support/run.h"
#include "tests/support/service_process.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_ceremony.h"
#include "tests/support/test_pg.h"
#include "tests/support/test_pki.h"

namespace tessera {
namespace {

using Identity = testing::TlsIdentity;
using std::chrono::steady_clock;

constexpr const char* kMinistryOperator = testing::kMinistryOperatorCf;

class RevocationTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new testing::TempDir("tessera-e2e-revocation");
    hierarchy_ = new testing::TestHierarchy(dir_->path().string(),
                                            {{"tessera-ca", {"localhost"}, {"127.0.0.1"}},
                                             {"tessera-registry", {"localhost"}, {"127.0.0.1"}},
                                             {"tessera-cli", {"localhost"}, {}}});
    auto& pg = testing::TestPg::Get();
    const std::string conninfo = pg.ConnInfo(pg.CreateDatabase());
    ca_ = hierarchy_->StartCa(conninfo, dir_->path().string()).release();
    hierarchy_->WriteRegistryConfig(dir_->File("registry.toml"), conninfo, dir_->path().string());
    registry_ =
        new testing::ServiceProcess("tessera-registry", dir_->File("registry.toml"),
                                    dir_->File("registry-port"), dir_->File("registry.log"));
  }
  static void TearDownTestSuite() {
    EXPECT_EQ(registry_->Stop(), 0) << "tessera-registry did not shut down cleanly";
    EXPECT_EQ(ca_->Stop(), 0) << "tessera-ca did not shut down cleanly";
    delete registry_;
    delete ca_;
    delete hierarchy_;
    delete dir_;
  }

  static std::string Pki(const std::string& file) { return hierarchy_->Pki(file); }
  static std::shared_ptr<grpc::Channel> Channel(int port, const Identity& who) {
    return MtlsChannel("localhost:" + std::to_string(port),
                       testing::ReadFileOrDie(Pki("bundle.pem")), who.cert_pem, who.key_pem);
  }
  static std::unique_ptr<v1::CertificateAuthority::Stub> Ca(const Identity& who) {
    return v1::CertificateAuthority::NewStub(Channel(ca_->port(), who));
  }
  static std::unique_ptr<v1::Registry::Stub> Registry(const Identity& who) {
    return v1::Registry::NewStub(Channel(registry_->port(), who));
  }
  static Identity Service(const std::string& name) { return hierarchy_->ServiceIdentity(name); }

  struct Issued {
    Identity identity;
    std::string serial;
  };
  // A certificate issued through tessera-ca (so on its records), usable as a TLS client.
  static Issued IssueThroughCa(const std::string& profile, const std::string& request_id,
                               const std::function<void(v1::SubjectData*)>& subject,
                               const std::string& ca_pem_file) {
    const testing::KeyAndCsr fresh = testing::NewKeyAndCsr();
    v1::IssueCertificateRequest request;
    request.set_request_id(request_id);
    request.set_profile(profile);
    request.set_csr_der(fresh.csr_der);
    subject(request.mutable_subject());
    grpc::ClientContext context;
    v1::Certificate cert;
    grpc::Status status = Ca(Service("tessera-cli"))->IssueCertificate(&context, request, &cert);
    if (!status.ok()) {
      ADD_FAILURE() << "issue: " << status.error_message();
      return {};
    }
    Botan::X509_Certificate parsed(reinterpret_cast<const uint8_t*>(cert.der().data()),
                                   cert.der().size());
    return {{parsed.PEM_encode() + testing::ReadFileOrDie(Pki(ca_pem_file)), fresh.key_pem},
            cert.serial()};
  }
  static grpc::Status Revoke(const std::string& serial, int reason,
                             const Identity& as = Service("tessera-cli")) {
    grpc::ClientContext context;
    v1::RevokeCertificateRequest request;
    request.set_request_id("revoke-" + serial);
    request.set_serial(serial);
    request.set_reason(reason);
    v1::Certificate revoked;
    return Ca(as)->RevokeCertificate(&context, request, &revoked);
  }
  static grpc::Status CaChain(const Identity& who) {
    grpc::ClientContext context;
    v1::GetCaChainRequest request;
    v1::GetCaChainResponse chain;
    return Ca(who)->GetCaChain(&context, request, &chain);
  }
  static grpc::Status GetCensus(const Identity& who, const std::string& istat) {
    grpc::ClientContext context;
    v1::GetCensusRequest request;
    request.set_istat(istat);
    v1::Census census;
    return Registry(who)->GetCensus(&context, request, &census);
  }
  static grpc::Status ListCensuses(const Identity& who) {
    grpc::ClientContext context;
    v1::ListCensusesRequest request;
    v1::ListCensusesResponse response;
    return Registry(who)->ListCensuses(&context, request, &response);
  }
  // Calls `call` until it is refused as revoked (UNAUTHENTICATED) or `limit` passes; returns
  // how long that took.
  static std::chrono::milliseconds UntilRevoked(const std::function<grpc::Status()>& call,
                                                std::chrono::seconds limit) {
    const auto start = steady_clock::now();
    for (;;) {
      grpc::Status status = call();
      if (status.error_code() == grpc::StatusCode::UNAUTHENTICATED) {
        EXPECT_NE(status.error_message().find("revoked"), std::string::npos)
            << status.error_message();
        break;
      }
      if (steady_clock::now() - start > limit) {
        ADD_FAILURE() << "still let in after " << limit.count() << " s: " << status.error_code()
                      << " " << status.error_message();
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return std::chrono::duration_cast<std::chrono::milliseconds>(steady_clock::now() - start);
  }

  static testing::TempDir* dir_;
  static testing::TestHierarchy* hierarchy_;
  static testing::ServiceProcess* ca_;
  static testing::ServiceProcess* registry_;
};

testing::TempDir* RevocationTest::dir_ = nullptr;
testing::TestHierarchy* RevocationTest::hierarchy_ = nullptr;
testing::ServiceProcess* RevocationTest::ca_ = nullptr;
testing::ServiceProcess* RevocationTest::registry_ = nullptr;

TEST_F(RevocationTest, ARevokedWorkstationIsRefusedEverywhere) {
  Issued workstation = IssueThroughCa(
      "workstation", "ws-057001-1",
      [](v1::SubjectData* s) {
        s->set_istat("057001");
        s->set_progressive(1);
      },
      "workstations.pem");
  // Its own census: past the door (there is no census yet, so NOT_FOUND or the like).
  grpc::Status before = GetCensus(workstation.identity, "057001");
  ASSERT_NE(before.error_code(), grpc::StatusCode::UNAUTHENTICATED) << before.error_message();
  ASSERT_NE(before.error_code(), grpc::StatusCode::PERMISSION_DENIED) << before.error_message();
  ASSERT_TRUE(CaChain(workstation.identity).ok());

  // One channel stays open across the revocation: the connection outlives the certificate.
  auto open_channel = Registry(workstation.identity);
  ASSERT_TRUE(Revoke(workstation.serial, 1).ok());  // keyCompromise

  grpc::Status at_ca = CaChain(workstation.identity);
  EXPECT_EQ(at_ca.error_code(), grpc::StatusCode::UNAUTHENTICATED) << at_ca.error_message();
  // One line per call in tessera-ca's access log: the call before the revocation reached
  // its handler ("rpc"), the one after was refused at the door ("rpc_unauthenticated"), each
  // naming the certificate that was presented.
  const std::string ca_log = dir_->File("ca.log");
  const auto served = testing::LogEvents(ca_log, "rpc", "caller_serial", workstation.serial);
  ASSERT_EQ(served.size(), 1u);
  EXPECT_EQ(served[0]["status"], "OK");
  const auto refused_at_ca =
      testing::LogEvents(ca_log, "rpc_unauthenticated", "caller_serial", workstation.serial);
  ASSERT_EQ(refused_at_ca.size(), 1u);
  EXPECT_EQ(refused_at_ca[0]["method"], "/tessera.v1.CertificateAuthority/GetCaChain");
  EXPECT_EQ(refused_at_ca[0]["caller_kind"], "workstation");
  EXPECT_EQ(refused_at_ca[0]["caller"], "0570010001");
  EXPECT_EQ(refused_at_ca[0]["status"], "UNAUTHENTICATED");
  EXPECT_NE(refused_at_ca[0]["reason"].get<std::string>().find("revoked"), std::string::npos);
  EXPECT_FALSE(refused_at_ca[0]["ms"].get<std::string>().empty());
  // Who revoked it is on record too.
  const auto revoked_line = testing::LogEvents(ca_log, "revoked", "serial", workstation.serial);
  ASSERT_EQ(revoked_line.size(), 1u);
  EXPECT_EQ(revoked_line[0]["caller"], "tessera-cli");
  EXPECT_EQ(revoked_line[0]["caller_kind"], "service");
  const auto delay = UntilRevoked(
      [&] {
        grpc::ClientContext context;
        v1::GetCensusRequest request;
        request.set_istat("057001");
        v1::Census census;
        return open_channel->GetCensus(&context, request, &census);
      },
      std::chrono::seconds(20));
  RecordProperty("registry_refusal_ms", static_cast<int>(delay.count()));
  std::printf("revoked workstation refused by tessera-registry after %lld ms\n",
              static_cast<long long>(delay.count()));
  EXPECT_NE(GetCensus(workstation.identity, "057001").error_code(), grpc::StatusCode::OK);
  // The refusals are in the registry's log, naming the reason.
  EXPECT_NE(testing::ReadFileOrDie(dir_->File("registry.log")).find("client certificate: revoked"),
            std::string::npos);
}

TEST_F(RevocationTest, ARevokedMinistryOperatorCardLosesMinistryRights) {
  auto ministry = Registry(Service("tessera-cli"));
  ASSERT_TRUE(testing::LoadReferenceLists(*ministry).ok());
  grpc::Status added = testing::AddMinistryOperator(*ministry);
  ASSERT_TRUE(added.ok()) << added.error_message();
  Issued card = IssueThroughCa(
      "operator", "card-ministry",
      [](v1::SubjectData* s) { s->set_codice_fiscale(kMinistryOperator); }, "operators.pem");
  grpc::Status before = ListCensuses(card.identity);
  ASSERT_TRUE(before.ok()) << before.error_message();
  ASSERT_TRUE(Revoke(card.serial, 3).ok());  // affiliationChanged: the operator left
  UntilRevoked([&] { return ListCensuses(card.identity); }, std::chrono::seconds(20));
  EXPECT_EQ(CaChain(card.identity).error_code(), grpc::StatusCode::UNAUTHENTICATED);
}

TEST_F(RevocationTest, TheCliCertificateRevokedIsRefused) {
  const Identity cli = Service("tessera-cli");
  ASSERT_TRUE(ListCensuses(cli).ok());
  // The ceremony's certificate is on tessera-ca's record, so it can be revoked (by another
  // service allowed to revoke: the CLI's own key may be the one that leaked).
  Botan::X509_Certificate cert(reinterpret_cast<const uint8_t*>(cli.cert_pem.data()),
                               cli.cert_pem.size());
  const std::string serial = SerialHex(cert.serial_number());
  grpc::Status revoked = Revoke(serial, 1, Service("tessera-registry"));
  ASSERT_TRUE(revoked.ok()) << revoked.error_message();
  grpc::Status at_ca = CaChain(cli);
  EXPECT_EQ(at_ca.error_code(), grpc::StatusCode::UNAUTHENTICATED) << at_ca.error_message();
  UntilRevoked([&] { return ListCensuses(cli); }, std::chrono::seconds(20));
  // The command line says so too.
  testing::CommandResult run =
      testing::RunCommand(std::string(TESSERA_BIN_DIR) +
                          "/tessera --target localhost:" + std::to_string(registry_->port()) +
                          " --ca " + Pki("bundle.pem") + " --cert " + Pki("tessera-cli.pem") +
                          " --key " + Pki("tessera-cli.key") + " census list");
  EXPECT_NE(run.exit_code, 0);
  EXPECT_NE(run.output.find("revoked"), std::string::npos) << run.output;
}

TEST_F(RevocationTest, AnOperatorCertificateFromTheWorkstationsCaIsNobody) {
  // Made with the workstations CA's key, as a compromised workstation enrolment path might.
  const Identity forged =
      hierarchy_->Issue("operator", {.codice_fiscale = kMinistryOperator}, "workstations");
  for (grpc::Status status : {ListCensuses(forged), CaChain(forged)}) {
    EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAUTHENTICATED) << status.error_message();
    EXPECT_NE(status.error_message().find("does not certify operators"), std::string::npos)
        << status.error_message();
  }
}

}  // namespace
}  // namespace tessera
