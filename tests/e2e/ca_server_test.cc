// tessera-ca as a real process after a real key ceremony: PostgreSQL, SoftHSM tokens, gRPC
// over mTLS on loopback. Who gets in, who may call what, and issuance end to end.
#include <botan/data_src.h>
#include <botan/x509_crl.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "platform/files.h"
#include "platform/pg.h"
#include "platform/principal.h"
#include "platform/rpc_client.h"
#include "proto/ca.grpc.pb.h"
#include "tests/support/run.h"
#include "tests/support/service_process.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_ceremony.h"
#include "tests/support/test_hsm.h"
#include "tests/support/test_pg.h"
#include "tests/support/test_pki.h"

namespace tessera {
namespace {

using testing::RunCommand;
using testing::TestSoftHsm;

constexpr char kHealthCheck[] = "/grpc.health.v1.Health/Check";
constexpr char kReflection[] = "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo";
const std::string kServing("\x08\x01", 2);  // HealthCheckResponse{status: SERVING}

using Identity = testing::TlsIdentity;

class CaServerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new testing::TempDir("tessera-e2e");
    // The port the certificates' CRL and OCSP URLs name is the one tessera-ca listens on.
    http_ = new std::string("127.0.0.1:" + std::to_string(testing::FreeLoopbackPort()));
    const std::string& http = *http_;
    hierarchy_ = new testing::TestHierarchy(dir_->path().string(),
                                            {{"tessera-ca", {"localhost"}, {"127.0.0.1"}},
                                             {"tessera-cli", {"localhost"}, {}},
                                             {"tessera-registry", {"localhost"}, {}},
                                             {"tessera-perso", {"localhost"}, {}}},
                                            "http://" + http);
    auto& pg = testing::TestPg::Get();
    database_ = new std::string(pg.ConnInfo(pg.CreateDatabase()));
    server_ = hierarchy_->StartCa(*database_, dir_->path().string(), http).release();
  }

  static void TearDownTestSuite() {
    EXPECT_EQ(server_->Stop(), 0) << "tessera-ca did not shut down cleanly";
    delete server_;
    delete hierarchy_;
    delete dir_;
    delete database_;
    delete http_;
  }

  static std::string Pki(const std::string& file) { return hierarchy_->Pki(file); }
  static std::string Log() { return dir_->File("ca.log"); }
  static Identity Service(const std::string& name) { return hierarchy_->ServiceIdentity(name); }
  static std::shared_ptr<grpc::Channel> ChannelAs(const Identity* who) {
    const std::string target = "localhost:" + std::to_string(server_->port());
    const std::string roots = testing::ReadFileOrDie(Pki("bundle.pem"));
    return who == nullptr ? MtlsChannel(target, roots)
                          : MtlsChannel(target, roots, who->cert_pem, who->key_pem);
  }
  static std::unique_ptr<v1::CertificateAuthority::Stub> Ca(const Identity& who) {
    return v1::CertificateAuthority::NewStub(ChannelAs(&who));
  }

  // The tessera CLI, connecting as the tessera-cli service certificate.
  static std::string Cli() {
    return std::string(TESSERA_BIN_DIR) +
           "/tessera --target localhost:" + std::to_string(server_->port()) + " --ca " +
           Pki("bundle.pem") + " --cert " + Pki("tessera-cli.pem") + " --key " +
           Pki("tessera-cli.key") + " ";
  }

  static testing::KeyAndCsr NewCsr() { return testing::NewKeyAndCsr(); }

  static grpc::Status Issue(const Identity& who, const v1::IssueCertificateRequest& request,
                            v1::Certificate* out) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    return Ca(who)->IssueCertificate(&context, request, out);
  }

  // A certificate issued through tessera-ca itself for a fresh key, usable as a TLS client.
  static Identity IssuedIdentity(const std::string& profile, const v1::SubjectData& subject,
                                 const std::string& issuer_pem) {
    testing::KeyAndCsr fresh = NewCsr();
    v1::IssueCertificateRequest request;
    request.set_request_id("id-" + std::to_string(counter_++));
    request.set_profile(profile);
    request.set_csr_der(fresh.csr_der);
    *request.mutable_subject() = subject;
    v1::Certificate cert;
    grpc::Status status = Issue(Service("tessera-cli"), request, &cert);
    if (!status.ok()) throw std::runtime_error(status.error_message());
    Botan::X509_Certificate parsed(reinterpret_cast<const uint8_t*>(cert.der().data()),
                                   cert.der().size());
    return {parsed.PEM_encode() + testing::ReadFileOrDie(Pki(issuer_pem)), fresh.key_pem};
  }
  // A workstation certificate of comune 058091.
  static Identity Workstation() {
    v1::SubjectData subject;
    subject.set_istat("058091");
    subject.set_progressive(counter_);
    return IssuedIdentity("workstation", subject, "workstations.pem");
  }
  // An operator's card certificate (its key in memory, as no card is needed here).
  static Identity OperatorCard(const std::string& codice_fiscale) {
    v1::SubjectData subject;
    subject.set_codice_fiscale(codice_fiscale);
    return IssuedIdentity("operator", subject, "operators.pem");
  }
  // The serial of an identity's certificate, as tessera records it.
  static std::string SerialOf(const Identity& who) {
    Botan::DataSource_Memory pem(who.cert_pem);
    return SerialHex(Botan::X509_Certificate(pem).serial_number());
  }
  static grpc::Status GetCertificate(const Identity& who, const std::string& serial,
                                     v1::Certificate* out = nullptr) {
    grpc::ClientContext context;
    v1::GetCertificateRequest request;
    request.set_serial(serial);
    v1::Certificate ignored;
    return Ca(who)->GetCertificate(&context, request, out != nullptr ? out : &ignored);
  }
  static v1::ListCertificatesResponse List(const Identity& who, const std::string& profile = "") {
    grpc::ClientContext context;
    v1::ListCertificatesRequest request;
    request.set_page_size(1000);
    request.set_profile(profile);
    v1::ListCertificatesResponse response;
    grpc::Status status = Ca(who)->ListCertificates(&context, request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return response;
  }

  static testing::TempDir* dir_;
  static testing::TestHierarchy* hierarchy_;
  static testing::ServiceProcess* server_;
  static std::string* database_;  // tessera-ca's, for checking what it recorded
  static std::string* http_;      // its HTTP endpoint, the one the certificates name
  static int counter_;
};

testing::TempDir* CaServerTest::dir_;
std::string* CaServerTest::database_;
std::string* CaServerTest::http_;
testing::TestHierarchy* CaServerTest::hierarchy_;
testing::ServiceProcess* CaServerTest::server_;
int CaServerTest::counter_ = 1;

TEST_F(CaServerTest, HealthIsServingForAGoodClientCertificate) {
  Identity cli = Service("tessera-cli");
  auto reply = RawUnaryCall(ChannelAs(&cli), kHealthCheck, "");
  ASSERT_TRUE(reply.status.ok()) << reply.status.error_message();
  EXPECT_EQ(reply.body, kServing);
  Identity workstation = Workstation();
  auto health = CheckHealth(ChannelAs(&workstation));
  ASSERT_TRUE(health.ok()) << health.status();
  EXPECT_EQ(*health, "SERVING");
}

TEST_F(CaServerTest, NoClientCertificateFailsTheHandshake) {
  auto reply = RawUnaryCall(ChannelAs(nullptr), kHealthCheck, "");
  EXPECT_EQ(reply.status.error_code(), grpc::StatusCode::UNAVAILABLE)
      << reply.status.error_message();
}

TEST_F(CaServerTest, ACertificateFromAnotherCaFailsTheHandshake) {
  testing::TestPki other(TestSoftHsm::Get().CreateToken(TestSoftHsm::UniqueLabel("stranger")),
                         "Stranger CA");
  testing::IssuedCert stranger = other.Issue("tessera-cli", "Servizi");
  Identity identity{stranger.cert_pem, stranger.key_pem};
  auto reply = RawUnaryCall(ChannelAs(&identity), kHealthCheck, "");
  EXPECT_EQ(reply.status.error_code(), grpc::StatusCode::UNAVAILABLE)
      << reply.status.error_message();
}

TEST_F(CaServerTest, AValidCertificateNotAllowedToCallIsDenied) {
  Identity workstation = Workstation();
  auto reflection = RawUnaryCall(ChannelAs(&workstation), kReflection, "");
  EXPECT_EQ(reflection.status.error_code(), grpc::StatusCode::PERMISSION_DENIED)
      << reflection.status.error_message();
  EXPECT_NE(reflection.status.error_message().find("workstation certificate may not call"),
            std::string::npos);

  // A service that is not personalization or the CLI may not issue.
  v1::IssueCertificateRequest request;
  request.set_request_id("denied-1");
  request.set_profile("operator");
  request.set_csr_der(NewCsr().csr_der);
  request.mutable_subject()->set_codice_fiscale("RSSMRA85T10A562S");
  v1::Certificate cert;
  grpc::Status denied = Issue(Service("tessera-registry"), request, &cert);
  EXPECT_EQ(denied.error_code(), grpc::StatusCode::PERMISSION_DENIED) << denied.error_message();
  denied = Issue(workstation, request, &cert);
  EXPECT_EQ(denied.error_code(), grpc::StatusCode::PERMISSION_DENIED) << denied.error_message();

  // The chain is public to every tessera certificate.
  grpc::ClientContext context;
  v1::GetCaChainResponse chain;
  EXPECT_TRUE(Ca(workstation)->GetCaChain(&context, {}, &chain).ok());
  EXPECT_EQ(chain.issuing_der().size(), 2u);
}

// Personalization may ask for card certificates only; workstations come as bundles.
TEST_F(CaServerTest, PersonalizationRequestsOperatorCertificatesOnly) {
  v1::IssueCertificateRequest request;
  request.set_request_id("perso-1");
  request.set_profile("operator");
  request.set_csr_der(NewCsr().csr_der);
  request.mutable_subject()->set_codice_fiscale("RSSMRA85T10A562S");
  v1::Certificate cert;
  grpc::Status status = Issue(Service("tessera-perso"), request, &cert);
  ASSERT_TRUE(status.ok()) << status.error_message();

  request.set_request_id("perso-2");
  request.set_profile("workstation");
  request.set_csr_der(NewCsr().csr_der);
  request.clear_subject();
  request.mutable_subject()->set_istat("058093");
  request.mutable_subject()->set_progressive(1);
  status = Issue(Service("tessera-perso"), request, &cert);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED) << status.error_message();
  EXPECT_EQ(status.error_message(), "profile: 'tessera-perso' may not request 'workstation'");
}

TEST_F(CaServerTest, AnRpcMissingFromThePolicyTableIsDenied) {
  Identity cli = Service("tessera-cli");
  auto reply = RawUnaryCall(ChannelAs(&cli), "/tessera.v1.CertificateAuthority/Unlisted", "");
  EXPECT_EQ(reply.status.error_code(), grpc::StatusCode::PERMISSION_DENIED)
      << reply.status.error_message();
  EXPECT_NE(reply.status.error_message().find("not in this service's policy table"),
            std::string::npos);
}

TEST_F(CaServerTest, ReflectionListsTheServicesToAServiceCertificate) {
  Identity cli = Service("tessera-cli");
  // ServerReflectionRequest{list_services: ""}: field 7, empty string.
  auto reply = RawUnaryCall(ChannelAs(&cli), kReflection, std::string("\x3a\x00", 2));
  ASSERT_TRUE(reply.status.ok()) << reply.status.error_message();
  EXPECT_NE(reply.body.find("tessera.v1.CertificateAuthority"), std::string::npos);
}

TEST_F(CaServerTest, IssuesAnOperatorCertificateOverGrpcIdempotently) {
  v1::IssueCertificateRequest request;
  request.set_request_id("op-1");
  request.set_profile("operator");
  request.set_csr_der(NewCsr().csr_der);
  request.mutable_subject()->set_codice_fiscale("RSSMRA85T10A562S");
  v1::Certificate first, second;
  grpc::Status status = Issue(Service("tessera-cli"), request, &first);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(first.state(), v1::Certificate::ISSUED);
  EXPECT_EQ(first.issuer(), "operators");
  EXPECT_EQ(first.subject(),
            "CN=RSSMRA85T10A562S,OU=Operatori,OU=Anagrafe Nazionale Popolazione Residente,"
            "O=Ministero dell'Interno,C=IT");
  ASSERT_TRUE(Issue(Service("tessera-cli"), request, &second).ok());
  EXPECT_EQ(second.serial(), first.serial());
  EXPECT_EQ(second.der(), first.der());

  Botan::X509_Certificate cert(reinterpret_cast<const uint8_t*>(first.der().data()),
                               first.der().size());
  testing::WriteFile(dir_->File("op.pem"), cert.PEM_encode());
  auto verified = RunCommand("openssl verify -x509_strict -CAfile " + Pki("root.pem") +
                             " -untrusted " + Pki("operators.pem") + " " + dir_->File("op.pem"));
  EXPECT_EQ(verified.exit_code, 0) << verified.output;

  grpc::ClientContext context;
  v1::GetCertificateRequest get;
  get.set_serial(first.serial());
  v1::Certificate fetched;
  ASSERT_TRUE(Ca(Service("tessera-registry"))->GetCertificate(&context, get, &fetched).ok());
  EXPECT_EQ(fetched.der(), first.der());
}

// The token signs, the commit of the certificate fails, and tessera-ca is stopped and started
// again, a new process on the same database: the retry under the same request_id completes the
// intent the first process committed (its serial), and only one certificate exists.
TEST_F(CaServerTest, AFailedCommitAfterTheTokenSignedIsCompletedAfterARestart) {
  auto db = pg::Connection::Open(*database_);
  ASSERT_TRUE(db.ok()) << db.status();
  // The "death" between signature and commit: the certificate's UPDATE fails.
  ASSERT_TRUE(
      (*db)
          ->ExecScript("CREATE OR REPLACE FUNCTION public.tessera_injected_failure() RETURNS "
                       "trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'injected "
                       "failure'; END $$; CREATE TRIGGER tessera_injected_failure BEFORE "
                       "UPDATE ON ca.certificates FOR EACH ROW EXECUTE FUNCTION "
                       "public.tessera_injected_failure();")
          .ok());
  v1::IssueCertificateRequest request;
  request.set_request_id("restart-1");
  request.set_profile("operator");
  request.set_csr_der(NewCsr().csr_der);
  request.mutable_subject()->set_codice_fiscale("RSSMRA85T10A562S");
  v1::Certificate lost;
  ASSERT_FALSE(Issue(Service("tessera-cli"), request, &lost).ok());
  auto intent =
      (*db)->Exec("SELECT serial, state FROM ca.certificates WHERE request_id = 'restart-1'");
  ASSERT_TRUE(intent.ok()) << intent.status();
  ASSERT_EQ(intent->rows(), 1);
  EXPECT_EQ(intent->Text(0, 1), "INTENT");
  const std::string serial(intent->Text(0, 0));

  EXPECT_EQ(server_->Stop(), 0);
  delete server_;
  ASSERT_TRUE((*db)->ExecScript("DROP TRIGGER tessera_injected_failure ON ca.certificates").ok());
  server_ = hierarchy_->StartCa(*database_, dir_->path().string(), *http_).release();

  v1::Certificate done;
  grpc::Status status = Issue(Service("tessera-cli"), request, &done);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(done.serial(), serial);
  EXPECT_EQ(done.state(), v1::Certificate::ISSUED);
  auto rows = (*db)->Exec("SELECT count(*) FROM ca.certificates WHERE request_id = 'restart-1'");
  ASSERT_TRUE(rows.ok());
  EXPECT_EQ(rows->Int(0, 0), 1);
  Botan::X509_Certificate cert(reinterpret_cast<const uint8_t*>(done.der().data()),
                               done.der().size());
  testing::WriteFile(dir_->File("restart.pem"), cert.PEM_encode());
  auto verified =
      RunCommand("openssl verify -x509_strict -CAfile " + Pki("root.pem") + " -untrusted " +
                 Pki("operators.pem") + " " + dir_->File("restart.pem"));
  EXPECT_EQ(verified.exit_code, 0) << verified.output;
}

TEST_F(CaServerTest, IssuesABatchInOneCallWithOneResultPerRequest) {
  v1::IssueCertificatesRequest batch;
  for (int i = 0; i < 12; ++i) {
    v1::IssueCertificateRequest* one = batch.add_requests();
    one->set_request_id("batch-" + std::to_string(i));
    one->set_profile("operator");
    one->set_csr_der(NewCsr().csr_der);
    one->mutable_subject()->set_codice_fiscale("RSSMRA85T10A562S");
  }
  batch.mutable_requests(5)->mutable_subject()->set_codice_fiscale("RSSMRA85T10A562X");
  auto issue = [&](const Identity& who, v1::IssueCertificatesResponse* out) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
    return Ca(who)->IssueCertificates(&context, batch, out);
  };
  v1::IssueCertificatesResponse first, again;
  grpc::Status status = issue(Service("tessera-perso"), &first);
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_EQ(first.results_size(), 12);
  EXPECT_EQ(first.results(5).code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(first.results(5).message(),
            "subject.codice_fiscale: check character is 'X', expected 'S'");
  for (int i = 0; i < 12; ++i) {
    if (i == 5) continue;
    ASSERT_EQ(first.results(i).code(), 0) << i << ": " << first.results(i).message();
    const v1::Certificate& cert = first.results(i).certificate();
    EXPECT_EQ(cert.state(), v1::Certificate::ISSUED);
    Botan::X509_Certificate parsed(reinterpret_cast<const uint8_t*>(cert.der().data()),
                                   cert.der().size());
    testing::WriteFile(dir_->File("batch.pem"), parsed.PEM_encode());
    auto verified =
        RunCommand("openssl verify -x509_strict -CAfile " + Pki("root.pem") + " -untrusted " +
                   Pki("operators.pem") + " " + dir_->File("batch.pem"));
    EXPECT_EQ(verified.exit_code, 0) << verified.output;
  }
  // The same batch again is a retry: the same certificates, nothing signed anew.
  ASSERT_TRUE(issue(Service("tessera-perso"), &again).ok());
  for (int i = 0; i < 12; ++i) {
    EXPECT_EQ(again.results(i).certificate().der(), first.results(i).certificate().der()) << i;
  }

  // Refused whole: a request_id twice, an empty batch, more than 100, a profile the caller
  // may not request, a caller that may not issue.
  v1::IssueCertificatesResponse refused;
  batch.mutable_requests(1)->set_request_id("batch-0");
  status = issue(Service("tessera-perso"), &refused);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(status.error_message(),
            "requests[1].request_id: 'batch-0' is also requests[0]'s, once per batch");
  batch.clear_requests();
  EXPECT_EQ(issue(Service("tessera-perso"), &refused).error_message(),
            "requests: 0 in the batch, 1 to 100");
  for (int i = 0; i < 101; ++i) {
    v1::IssueCertificateRequest* one = batch.add_requests();
    one->set_request_id("many-" + std::to_string(i));
    one->set_profile("operator");
  }
  EXPECT_EQ(issue(Service("tessera-perso"), &refused).error_message(),
            "requests: 101 in the batch, 1 to 100");
  batch.mutable_requests(3)->set_profile("workstation");
  EXPECT_EQ(issue(Service("tessera-perso"), &refused).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(issue(Service("tessera-registry"), &refused).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
}

TEST_F(CaServerTest, RevokesOverGrpcForAllowedCallersOnly) {
  v1::IssueCertificateRequest request;
  request.set_request_id("to-revoke");
  request.set_profile("operator");
  request.set_csr_der(NewCsr().csr_der);
  request.mutable_subject()->set_codice_fiscale("RSSMRA85T10A562S");
  v1::Certificate issued;
  ASSERT_TRUE(Issue(Service("tessera-cli"), request, &issued).ok());

  v1::RevokeCertificateRequest revoke;
  revoke.set_request_id("revoke-1");
  revoke.set_serial(issued.serial());
  revoke.set_reason(1);
  v1::Certificate revoked;
  {
    grpc::ClientContext context;
    Identity workstation = Workstation();
    EXPECT_EQ(Ca(workstation)->RevokeCertificate(&context, revoke, &revoked).error_code(),
              grpc::StatusCode::PERMISSION_DENIED);
  }
  {
    grpc::ClientContext context;
    grpc::Status status =
        Ca(Service("tessera-registry"))->RevokeCertificate(&context, revoke, &revoked);
    ASSERT_TRUE(status.ok()) << status.error_message();
  }
  EXPECT_TRUE(revoked.revoked());
  EXPECT_EQ(revoked.revocation_reason(), 1);
  {
    grpc::ClientContext context;
    revoke.set_reason(7);  // removeFromCRL-style codes are not for leaves
    revoke.set_request_id("revoke-2");
    grpc::Status status = Ca(Service("tessera-cli"))->RevokeCertificate(&context, revoke, &revoked);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << status.error_message();
  }
}

// Downloads with Python's urllib (an HTTP client we did not write); "" on any failure.
std::string HttpGet(const std::string& url, const std::string& file) {
  auto result = RunCommand(
      "python3 -c 'import sys, urllib.request; "
      "open(sys.argv[2], \"wb\").write(urllib.request.urlopen(sys.argv[1]).read())' " +
      url + " " + file);
  return result.exit_code == 0 ? testing::ReadFileOrDie(file) : "";
}

TEST_F(CaServerTest, CrlsAndCaCertificatesAreServedOverHttpAndFollowRevocations) {
  std::string http_port = testing::ReadFileOrDie(dir_->File("http-port"));
  http_port.erase(http_port.find_last_not_of("\n") + 1);
  const std::string url = "http://127.0.0.1:" + http_port;

  // CA certificates, byte for byte what the ceremony wrote.
  std::string operators = HttpGet(url + "/ca/operators.crt", dir_->File("operators.der"));
  ASSERT_FALSE(operators.empty());
  Botan::X509_Certificate served(reinterpret_cast<const uint8_t*>(operators.data()),
                                 operators.size());
  EXPECT_EQ(served.PEM_encode(), testing::ReadFileOrDie(Pki("operators.pem")));
  EXPECT_EQ(HttpGet(url + "/ca/nope.crt", dir_->File("nope")), "");
  // The root's CRL the ceremony signed, where the issuing CAs' distribution point says.
  const std::string root_crl = HttpGet(url + "/crl/root.crl", dir_->File("root.crl"));
  EXPECT_EQ(root_crl, testing::ReadFileOrDie(Pki("root.crl")));

  // Issue, revoke, and wait for the publisher to sign a CRL that lists it.
  testing::KeyAndCsr fresh = NewCsr();
  v1::IssueCertificateRequest request;
  request.set_request_id("crl-1");
  request.set_profile("operator");
  request.set_csr_der(fresh.csr_der);
  request.mutable_subject()->set_codice_fiscale("RSSMRA85T10A562S");
  v1::Certificate issued;
  ASSERT_TRUE(Issue(Service("tessera-cli"), request, &issued).ok());
  Botan::X509_Certificate leaf(reinterpret_cast<const uint8_t*>(issued.der().data()),
                               issued.der().size());
  testing::WriteFile(dir_->File("leaf.pem"), leaf.PEM_encode());
  v1::RevokeCertificateRequest revoke;
  revoke.set_request_id("crl-revoke-1");
  revoke.set_serial(issued.serial());
  revoke.set_reason(1);
  v1::Certificate revoked;
  {
    grpc::ClientContext context;
    ASSERT_TRUE(Ca(Service("tessera-cli"))->RevokeCertificate(&context, revoke, &revoked).ok());
  }
  std::string crl;
  for (int attempt = 0; attempt < 100; ++attempt) {
    crl = HttpGet(url + "/crl/operators.crl", dir_->File("operators.crl"));
    if (!crl.empty() &&
        Botan::X509_CRL(std::vector<uint8_t>(crl.begin(), crl.end())).is_revoked(leaf)) {
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_FALSE(crl.empty());
  auto text = RunCommand("openssl crl -inform DER -in " + dir_->File("operators.crl") +
                         " -CAfile " + Pki("bundle.pem") + " -noout -verify -text");
  EXPECT_NE(text.output.find("verify OK"), std::string::npos) << text.output;
  EXPECT_NE(text.output.find("Key Compromise"), std::string::npos) << text.output;
  Botan::X509_CRL parsed(std::vector<uint8_t>(crl.begin(), crl.end()));
  testing::WriteFile(dir_->File("operators-crl.pem"), parsed.PEM_encode());
  auto check = RunCommand("openssl verify -crl_check -CAfile " + Pki("root.pem") + " -untrusted " +
                          Pki("operators.pem") + " -CRLfile " + dir_->File("operators-crl.pem") +
                          " " + dir_->File("leaf.pem"));
  EXPECT_NE(check.exit_code, 0);
  EXPECT_NE(check.output.find("certificate revoked"), std::string::npos) << check.output;
}

TEST_F(CaServerTest, OcspAnswersGoodRevokedUnknownAndMalformed) {
  std::string http_port = testing::ReadFileOrDie(dir_->File("http-port"));
  http_port.erase(http_port.find_last_not_of("\n") + 1);
  const std::string url = "http://127.0.0.1:" + http_port + "/ocsp";

  v1::IssueCertificateRequest request;
  request.set_request_id("ocsp-1");
  request.set_profile("operator");
  request.set_csr_der(NewCsr().csr_der);
  request.mutable_subject()->set_codice_fiscale("RSSMRA85T10A562S");
  v1::Certificate issued;
  ASSERT_TRUE(Issue(Service("tessera-cli"), request, &issued).ok());
  Botan::X509_Certificate leaf(reinterpret_cast<const uint8_t*>(issued.der().data()),
                               issued.der().size());
  testing::WriteFile(dir_->File("ocsp-leaf.pem"), leaf.PEM_encode());
  const std::string ask = "openssl ocsp -issuer " + Pki("operators.pem") + " -CAfile " +
                          Pki("bundle.pem") + " -url " + url + " ";

  auto good = RunCommand(ask + "-cert " + dir_->File("ocsp-leaf.pem"));
  EXPECT_NE(good.output.find("Response verify OK"), std::string::npos) << good.output;
  EXPECT_NE(good.output.find("ocsp-leaf.pem: good"), std::string::npos) << good.output;
  // Answers are signed ahead of the request, so they carry no nonce; openssl says so and
  // verifies them all the same.
  EXPECT_NE(good.output.find("WARNING: no nonce in response"), std::string::npos) << good.output;

  v1::RevokeCertificateRequest revoke;
  revoke.set_request_id("ocsp-revoke-1");
  revoke.set_serial(issued.serial());
  revoke.set_reason(1);
  v1::Certificate revoked;
  {
    grpc::ClientContext context;
    ASSERT_TRUE(Ca(Service("tessera-cli"))->RevokeCertificate(&context, revoke, &revoked).ok());
  }
  // The cached "good" is dropped at the revocation: the very next answer says revoked.
  auto now_revoked = RunCommand(ask + "-cert " + dir_->File("ocsp-leaf.pem"));
  EXPECT_NE(now_revoked.output.find("Response verify OK"), std::string::npos) << now_revoked.output;
  EXPECT_NE(now_revoked.output.find("ocsp-leaf.pem: revoked"), std::string::npos)
      << now_revoked.output;
  EXPECT_NE(now_revoked.output.find("Reason: keyCompromise"), std::string::npos)
      << now_revoked.output;

  // A serial tessera-ca never issued: unauthorized, unsigned (RFC 5019 §2.2.3).
  auto unknown = RunCommand(ask + "-serial 0x1234567890abcdef1234");
  EXPECT_NE(unknown.output.find("Responder Error: unauthorized (6)"), std::string::npos)
      << unknown.output;

  // GET /ocsp/<base64>, as RFC 6960 appendix A allows.
  auto made =
      RunCommand("openssl ocsp -issuer " + Pki("operators.pem") + " -cert " +
                 dir_->File("ocsp-leaf.pem") + " -no_nonce -reqout " + dir_->File("req.der"));
  ASSERT_EQ(made.exit_code, 0) << made.output;
  auto fetched = RunCommand(
      "python3 -c 'import base64, sys, urllib.parse, urllib.request; "
      "req = base64.b64encode(open(sys.argv[2], \"rb\").read()).decode(); "
      "open(sys.argv[3], \"wb\").write(urllib.request.urlopen(sys.argv[1] + \"/\" + "
      "urllib.parse.quote(req, safe=\"\")).read())' " +
      url + " " + dir_->File("req.der") + " " + dir_->File("resp.der"));
  ASSERT_EQ(fetched.exit_code, 0) << fetched.output;
  auto via_get = RunCommand("openssl ocsp -respin " + dir_->File("resp.der") + " -issuer " +
                            Pki("operators.pem") + " -CAfile " + Pki("bundle.pem") + " -cert " +
                            dir_->File("ocsp-leaf.pem"));
  EXPECT_NE(via_get.output.find("ocsp-leaf.pem: revoked"), std::string::npos) << via_get.output;

  // Garbage gets malformedRequest (OCSPResponse { responseStatus 1 }), and the server lives on.
  auto garbage = RunCommand(
      "python3 -c 'import sys, urllib.request; "
      "r = urllib.request.urlopen(urllib.request.Request(sys.argv[1], data=b\"not ocsp\", "
      "headers={\"Content-Type\": \"application/ocsp-request\"})); "
      "sys.stdout.write(r.read().hex())' " +
      url);
  EXPECT_EQ(garbage.output, "30030a0101") << garbage.output;
  auto still = RunCommand(ask + "-cert " + dir_->File("ocsp-leaf.pem"));
  EXPECT_NE(still.output.find("Response verify OK"), std::string::npos) << still.output;
}

TEST_F(CaServerTest, TheCliFetchesTheCurrentCrl) {
  auto fetched = RunCommand(Cli() + "ca crl --issuer operators --format pem --out " +
                            dir_->File("cli.crl.pem") + " --json");
  ASSERT_EQ(fetched.exit_code, 0) << fetched.output;
  const nlohmann::json reply = nlohmann::json::parse(fetched.output);
  EXPECT_GE(reply["crl_number"].get<int>(), 1);
  auto verified = RunCommand("openssl crl -in " + dir_->File("cli.crl.pem") + " -CAfile " +
                             Pki("bundle.pem") + " -noout -verify -crlnumber");
  EXPECT_EQ(verified.exit_code, 0) << verified.output;
  EXPECT_NE(verified.output.find("verify OK"), std::string::npos) << verified.output;

  // --out -: the PEM alone on stdout (for a pipe), the report on stderr.
  auto piped = RunCommand("(" + Cli() + "ca crl --issuer operators --format pem --out - > " +
                          dir_->File("stdout.crl.pem") + ")");
  ASSERT_EQ(piped.exit_code, 0) << piped.output;
  EXPECT_NE(piped.output.find("CRL of operators: number"), std::string::npos) << piped.output;
  const std::string printed = testing::ReadFileOrDie(dir_->File("stdout.crl.pem"));
  EXPECT_TRUE(printed.starts_with("-----BEGIN X509 CRL-----")) << printed;
  EXPECT_TRUE(printed.ends_with("-----END X509 CRL-----\n")) << printed;
  auto piped_verified = RunCommand("openssl crl -in " + dir_->File("stdout.crl.pem") + " -CAfile " +
                                   Pki("bundle.pem") + " -noout -verify");
  EXPECT_EQ(piped_verified.exit_code, 0) << piped_verified.output;

  auto unknown = RunCommand(Cli() + "ca crl --issuer nope");
  EXPECT_EQ(unknown.exit_code, 1) << unknown.output;
  EXPECT_NE(unknown.output.find("issuer: no issuing CA 'nope' (held: operators, workstations)"),
            std::string::npos)
      << unknown.output;

  // CRLs are public: a workstation may ask too.
  Identity workstation = Workstation();
  grpc::ClientContext context;
  v1::GetCrlRequest request;
  request.set_issuer("workstations");
  v1::Crl crl;
  grpc::Status status = Ca(workstation)->GetCrl(&context, request, &crl);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_LT(crl.this_update_unix(), crl.next_update_unix());
}

// The CLI asks for a workstation bundle; openssl and NSS open the file with the password it
// wrote beside it (printed only when asked); the registry may download it again, a
// workstation may do neither.
TEST_F(CaServerTest, WorkstationBundlesThroughTheCliAndThePolicy) {
  const std::string cli = Cli();
  auto issued =
      RunCommand(cli + "ca bundle --istat 058092 --progressive 1 --out " + dir_->File("ws.p12") +
                 " --password-out " + dir_->File("ws.pass") + " --json");
  ASSERT_EQ(issued.exit_code, 0) << issued.output;
  const nlohmann::json reply = nlohmann::json::parse(issued.output);
  const std::string serial = reply["certificate"]["serial"];
  EXPECT_EQ(reply["certificate"]["profile"], "workstation");
  EXPECT_FALSE(reply.contains("password")) << "the password went to --password-out";

  // Without --password-out, the password goes beside the file, never to the screen.
  auto beside =
      RunCommand(cli + "ca bundle --istat 058092 --progressive 2 --out " + dir_->File("ws2.p12"));
  ASSERT_EQ(beside.exit_code, 0) << beside.output;
  const std::string password = testing::ReadFileOrDie(dir_->File("ws2.p12.pass"));
  EXPECT_EQ(password.size(), 17u) << "16 characters and a newline";
  EXPECT_EQ(beside.output.find(password.substr(0, 16)), std::string::npos) << beside.output;
  EXPECT_NE(beside.output.find("password written to " + dir_->File("ws2.p12.pass")),
            std::string::npos)
      << beside.output;
  auto nss2 =
      RunCommand("pk12util -l " + dir_->File("ws2.p12") + " -w " + dir_->File("ws2.p12.pass"));
  EXPECT_EQ(nss2.exit_code, 0) << nss2.output;

  auto nss = RunCommand("pk12util -l " + dir_->File("ws.p12") + " -w " + dir_->File("ws.pass"));
  EXPECT_EQ(nss.exit_code, 0) << nss.output;
  EXPECT_NE(nss.output.find("0580920001"), std::string::npos) << nss.output;
  auto openssl = RunCommand("openssl pkcs12 -in " + dir_->File("ws.p12") +
                            " -passin file:" + dir_->File("ws.pass") + " -nokeys -clcerts -out " +
                            dir_->File("ws.pem") + " && openssl verify -x509_strict -CAfile " +
                            Pki("root.pem") + " -untrusted " + Pki("workstations.pem") + " " +
                            dir_->File("ws.pem"));
  EXPECT_EQ(openssl.exit_code, 0) << openssl.output;

  // A second bundle for the same workstation is refused while the first is live.
  auto again =
      RunCommand(cli + "ca bundle --istat 058092 --progressive 1 --out " + dir_->File("ws1.p12"));
  EXPECT_EQ(again.exit_code, 1) << again.output;
  EXPECT_NE(again.output.find("is live; revoke it"), std::string::npos) << again.output;
  EXPECT_NE(again.output.find(serial), std::string::npos) << again.output;

  // The registry downloads it again for the ALP: same file, same password.
  v1::GetWorkstationBundleRequest get;
  get.set_serial(serial);
  v1::WorkstationBundle fetched;
  {
    grpc::ClientContext context;
    grpc::Status status =
        Ca(Service("tessera-registry"))->GetWorkstationBundle(&context, get, &fetched);
    ASSERT_TRUE(status.ok()) << status.error_message();
  }
  EXPECT_EQ(fetched.pkcs12(), testing::ReadFileOrDie(dir_->File("ws.p12")));
  EXPECT_EQ(fetched.password() + "\n", testing::ReadFileOrDie(dir_->File("ws.pass")));

  // ca bundle-get through the CLI: by default the password goes to <out>.pass, both files
  // mode 0600, and is not printed; --show-password prints it and writes no password file.
  auto got =
      RunCommand(cli + "ca bundle-get --serial " + serial + " --out " + dir_->File("get.p12"));
  ASSERT_EQ(got.exit_code, 0) << got.output;
  EXPECT_EQ(got.output.find(fetched.password()), std::string::npos) << got.output;
  EXPECT_NE(got.output.find("password written to " + dir_->File("get.p12.pass")), std::string::npos)
      << got.output;
  EXPECT_EQ(testing::ReadFileOrDie(dir_->File("get.p12.pass")), fetched.password() + "\n");
  EXPECT_EQ(testing::ReadFileOrDie(dir_->File("get.p12")), fetched.pkcs12());
  for (const char* file : {"get.p12", "get.p12.pass", "ws.p12", "ws.pass"}) {
    EXPECT_EQ(std::filesystem::status(dir_->File(file)).permissions(),
              std::filesystem::perms::owner_read | std::filesystem::perms::owner_write)
        << file;
  }
  auto shown = RunCommand(cli + "ca bundle-get --serial " + serial + " --out " +
                          dir_->File("shown.p12") + " --show-password --json");
  ASSERT_EQ(shown.exit_code, 0) << shown.output;
  const nlohmann::json shown_reply = nlohmann::json::parse(shown.output);
  EXPECT_EQ(shown_reply["password"], fetched.password());
  EXPECT_FALSE(shown_reply.contains("password_file"));
  EXPECT_FALSE(std::filesystem::exists(dir_->File("shown.p12.pass")));
  // With the file on stdout the password needs a file of its own: refused before any bundle.
  auto piped =
      RunCommand("(" + cli + "ca bundle --istat 058092 --progressive 3 --out - > /dev/null)");
  EXPECT_EQ(piped.exit_code, 2) << piped.output;
  EXPECT_NE(piped.output.find("--password-out"), std::string::npos) << piped.output;

  // Keys and passwords are not for workstations, nor issuance for the registry's reads.
  Identity workstation = Workstation();
  {
    grpc::ClientContext context;
    EXPECT_EQ(Ca(workstation)->GetWorkstationBundle(&context, get, &fetched).error_code(),
              grpc::StatusCode::PERMISSION_DENIED);
  }
  {
    grpc::ClientContext context;
    v1::IssueWorkstationBundleRequest request;
    request.set_request_id("ws-denied");
    request.set_istat("058092");
    request.set_progressive(2);
    EXPECT_EQ(Ca(workstation)->IssueWorkstationBundle(&context, request, &fetched).error_code(),
              grpc::StatusCode::PERMISSION_DENIED);
  }
  {
    grpc::ClientContext context;
    v1::IssueWorkstationBundleRequest request;
    request.set_request_id("ws-bad");
    request.set_istat("58092");
    request.set_progressive(2);
    grpc::Status status =
        Ca(Service("tessera-registry"))->IssueWorkstationBundle(&context, request, &fetched);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << status.error_message();
    EXPECT_EQ(status.error_message().rfind("istat:", 0), 0u) << status.error_message();
  }
}

// The access log: one line per call, allowed or refused — "rpc" for a call that reached its
// handler (whatever it answered), "rpc_denied" for one the door refused — with the method,
// the caller's kind, name and certificate serial, the peer, the status and the duration.
TEST_F(CaServerTest, EveryCallLeavesOneAccessLogLine) {
  Identity workstation = Workstation();
  const std::string serial = SerialOf(workstation);
  Identity card = OperatorCard("RSSMRA85T10A562S");
  {
    grpc::ClientContext context;
    v1::GetCaChainResponse chain;
    ASSERT_TRUE(Ca(workstation)->GetCaChain(&context, {}, &chain).ok());
  }
  EXPECT_EQ(GetCertificate(workstation, SerialOf(card)).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);  // the handler's scope refuses
  EXPECT_EQ(RawUnaryCall(ChannelAs(&workstation), kReflection, "").status.error_code(),
            grpc::StatusCode::PERMISSION_DENIED);  // the door refuses

  auto check_common = [&](const nlohmann::json& line) {
    EXPECT_EQ(line["caller_kind"], "workstation") << line;
    EXPECT_EQ(line["caller"].get<std::string>().substr(0, 6), "058091") << line;
    EXPECT_EQ(line["caller"].get<std::string>().size(), 10u) << line;
    EXPECT_EQ(line["call_id"].get<std::string>().size(), 16u) << line;
    EXPECT_GE(std::stod(line["ms"].get<std::string>()), 0.0) << line;
  };
  const std::vector<nlohmann::json> served =
      testing::LogEvents(Log(), "rpc", "caller_serial", serial);
  ASSERT_EQ(served.size(), 2u) << "one line per dispatched call";
  EXPECT_EQ(served[0]["method"], "/tessera.v1.CertificateAuthority/GetCaChain");
  EXPECT_EQ(served[0]["status"], "OK");
  EXPECT_EQ(served[1]["method"], "/tessera.v1.CertificateAuthority/GetCertificate");
  EXPECT_EQ(served[1]["status"], "PERMISSION_DENIED");
  for (const nlohmann::json& line : served) {
    check_common(line);
    EXPECT_TRUE(line["peer"].get<std::string>().starts_with("ipv4:127.0.0.1:") ||
                line["peer"].get<std::string>().starts_with("ipv6:"))
        << line;
  }
  EXPECT_NE(served[0]["call_id"], served[1]["call_id"]);
  const std::vector<nlohmann::json> denied =
      testing::LogEvents(Log(), "rpc_denied", "caller_serial", serial);
  ASSERT_EQ(denied.size(), 1u) << "the door's refusal is the call's one line";
  check_common(denied[0]);
  EXPECT_EQ(denied[0]["method"], kReflection);
  EXPECT_EQ(denied[0]["status"], "PERMISSION_DENIED");
  EXPECT_EQ(denied[0]["peer"], "-") << "gRPC shows the door no address";
  EXPECT_NE(denied[0]["reason"].get<std::string>().find("a workstation certificate may not call"),
            std::string::npos);

  // An issuance: its audit row names the caller and the call, and the call's access-log line
  // and the act's "signed" line carry the same call id.
  v1::IssueCertificateRequest request;
  request.set_request_id("logged-issue");
  request.set_profile("operator");
  request.set_csr_der(NewCsr().csr_der);
  request.mutable_subject()->set_codice_fiscale("RSSMRA85T10A562S");
  v1::Certificate issued;
  ASSERT_TRUE(Issue(Service("tessera-cli"), request, &issued).ok());
  auto db = pg::Connection::Open(*database_);
  ASSERT_TRUE(db.ok()) << db.status();
  auto row = (*db)->Exec(
      "SELECT requested_by_kind, requested_by, requested_by_serial, requested_call_id FROM "
      "ca.certificates WHERE serial = $1",
      {pg::Param(issued.serial())});
  ASSERT_TRUE(row.ok() && row->rows() == 1);
  EXPECT_EQ(row->Text(0, 0), "service");
  EXPECT_EQ(row->Text(0, 1), "tessera-cli");
  EXPECT_EQ(std::string(row->Text(0, 2)), SerialOf(Service("tessera-cli")));
  const std::string call_id(row->Text(0, 3));
  const auto line = testing::LogEvents(Log(), "rpc", "call_id", call_id);
  ASSERT_EQ(line.size(), 1u) << call_id;
  EXPECT_EQ(line[0]["method"], "/tessera.v1.CertificateAuthority/IssueCertificate");
  EXPECT_EQ(line[0]["caller"], "tessera-cli");
  EXPECT_EQ(line[0]["caller_serial"], std::string(row->Text(0, 2)));
  const auto signed_line = testing::LogEvents(Log(), "signed", "call_id", call_id);
  ASSERT_EQ(signed_line.size(), 1u);
  EXPECT_EQ(signed_line[0]["serial"], issued.serial());
  EXPECT_EQ(signed_line[0]["caller"], "tessera-cli");
}

// Scoped reads: a workstation sees its own comune's workstation certificates and no operator
// card (no national list of codici fiscali); an operator card sees only itself; services
// see everything.
TEST_F(CaServerTest, AWorkstationReadsOnlyItsComunesWorkstationsAndACardOnlyItself) {
  Identity mine = Workstation();
  Identity neighbour = Workstation();  // the same comune, 058091
  v1::SubjectData elsewhere_subject;
  elsewhere_subject.set_istat("058093");
  elsewhere_subject.set_progressive(7);
  const std::string elsewhere =
      SerialOf(IssuedIdentity("workstation", elsewhere_subject, "workstations.pem"));
  Identity card = OperatorCard("RSSMRA85T10A562S");

  const v1::ListCertificatesResponse listed = List(mine);
  std::set<std::string> serials;
  for (const v1::Certificate& c : listed.certificates()) {
    serials.insert(c.serial());
    EXPECT_TRUE(c.profile() == "workstation" || c.profile() == "comune_server") << c.subject();
    EXPECT_TRUE(c.subject().starts_with("CN=058091")) << c.subject();
  }
  EXPECT_TRUE(serials.contains(SerialOf(mine)));
  EXPECT_TRUE(serials.contains(SerialOf(neighbour)));
  EXPECT_FALSE(serials.contains(elsewhere));
  EXPECT_FALSE(serials.contains(SerialOf(card)));
  EXPECT_EQ(List(mine, "operator").certificates_size(), 0) << "never an operator certificate";
  EXPECT_GT(List(Service("tessera-cli"), "operator").certificates_size(), 0);

  EXPECT_TRUE(GetCertificate(mine, SerialOf(neighbour)).ok());
  grpc::Status other_comune = GetCertificate(mine, elsewhere);
  EXPECT_EQ(other_comune.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_NE(other_comune.error_message().find("comune-workstations"), std::string::npos)
      << other_comune.error_message();
  EXPECT_EQ(GetCertificate(mine, SerialOf(card)).error_code(), grpc::StatusCode::PERMISSION_DENIED);

  const v1::ListCertificatesResponse own = List(card);
  ASSERT_EQ(own.certificates_size(), 1);
  EXPECT_EQ(own.certificates(0).serial(), SerialOf(card));
  grpc::Status not_own = GetCertificate(card, elsewhere);
  EXPECT_EQ(not_own.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_NE(not_own.error_message().find("own-certificate"), std::string::npos)
      << not_own.error_message();
  EXPECT_TRUE(GetCertificate(Service("tessera-registry"), elsewhere).ok());
}

TEST_F(CaServerTest, BadRequestsGetInvalidArgumentNamingTheField) {
  v1::IssueCertificateRequest request;
  request.set_request_id("bad-1");
  request.set_profile("operator");
  request.set_csr_der(NewCsr().csr_der);
  request.mutable_subject()->set_codice_fiscale("RSSMRA85T10A562X");
  v1::Certificate cert;
  grpc::Status status = Issue(Service("tessera-cli"), request, &cert);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(status.error_message(), "subject.codice_fiscale: check character is 'X', expected 'S'");

  request.set_csr_der("not der");
  status = Issue(Service("tessera-cli"), request, &cert);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(status.error_message(), "csr: not a DER-encoded PKCS#10 request");

  request.set_csr_der(std::string(2 << 20, '0'));  // beyond the server's 1 MiB limit
  status = Issue(Service("tessera-cli"), request, &cert);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << status.error_message();
}

// Independent check with openssl s_client: TLS 1.3 and 1.2 are accepted, 1.1 is refused.
TEST_F(CaServerTest, OnlyTls12AndNewerAreNegotiated) {
  const std::string base =
      "echo | openssl s_client -connect 127.0.0.1:" + std::to_string(server_->port()) +
      " -CAfile " + Pki("bundle.pem") + " -cert " + Pki("tessera-cli.pem") + " -key " +
      Pki("tessera-cli.key") + " -verify_return_error -alpn h2 ";
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
  testing::WriteFile(dir.File("missing.toml"), "[grpc]\nlisten = \"127.0.0.1:0\"\n");
  auto missing = RunCommand(binary + " --config " + dir.File("missing.toml"));
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_NE(missing.output.find("tls.certificate_chain is required"), std::string::npos)
      << missing.output;

  testing::WriteFile(dir.File("typo.toml"), "[grpc]\nlisten = 9443\n");
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
