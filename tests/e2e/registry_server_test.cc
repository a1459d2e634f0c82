// tessera-registry as a real process: PostgreSQL, gRPC over mTLS on loopback, certificates
// from a real key ceremony. Reference data, a province's census imported whole, a bad file
// refused with every violation, a comune submitting its own census and nobody else's.
#include <botan/auto_rng.h>
#include <botan/ecdsa.h>
#include <botan/pkcs8.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cctype>
#include <chrono>
#include <map>
#include <set>

#include "absl/strings/str_replace.h"
#include "ca/certificate_builder.h"
#include "ca/profile.h"
#include "platform/clock.h"
#include "platform/pg.h"
#include "platform/rpc_client.h"
#include "proto/common.pb.h"
#include "proto/registry.grpc.pb.h"
#include "services/perso/registry_orders.h"
#include "services/registry/census_upload.h"
#include "tests/support/registry_calls.h"
#include "tests/support/run.h"
#include "tests/support/service_process.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_ceremony.h"
#include "tests/support/test_hsm.h"
#include "tests/support/test_pg.h"
#include "tests/support/test_pki.h"

namespace tessera {
namespace {

// The Ministry's operator the tests add (tessera registry ministry-operator add).
constexpr const char* kMinistryOperator = testing::kMinistryOperatorCf;

using Identity = testing::TlsIdentity;

std::string Source(const std::string& path) {
  return testing::ReadFileOrDie(std::string(TESSERA_SOURCE_DIR) + "/" + path);
}

class RegistryServerTest : public ::testing::Test {
 protected:
  // The PKI and tessera-ca are the suite's; each test gets its own registry database and its
  // own tessera-registry process, so no test depends on what another did before it.
  static void SetUpTestSuite() {
    dir_ = new testing::TempDir("tessera-e2e-registry");
    hierarchy_ = new testing::TestHierarchy(dir_->path().string(),
                                            {{"tessera-ca", {"localhost"}, {"127.0.0.1"}},
                                             {"tessera-registry", {"localhost"}, {"127.0.0.1"}},
                                             {"tessera-cli", {"localhost"}, {}},
                                             {"tessera-perso", {"localhost"}, {}}});
    auto& pg = testing::TestPg::Get();
    // tessera-ca serves the CRLs the registry checks every caller against.
    ca_conninfo_ = new std::string(pg.ConnInfo(pg.CreateDatabase()));
    ca_ = hierarchy_->StartCa(*ca_conninfo_, dir_->path().string()).release();
  }
  static void TearDownTestSuite() {
    EXPECT_EQ(ca_->Stop(), 0) << "tessera-ca did not shut down cleanly";
    delete ca_;
    delete hierarchy_;
    delete dir_;
    delete ca_conninfo_;
  }
  void SetUp() override {
    auto& pg = testing::TestPg::Get();
    registry_conninfo_ = new std::string(pg.ConnInfo(pg.CreateDatabase()));
    database_ = registry_conninfo_;  // tessera-registry's, for checking what it recorded
    reference_loaded_ = false;
    testing::WriteFile(dir_->File("registry.toml"),
                       "[grpc]\nlisten = \"127.0.0.1:0\"\nport_file = \"" +
                           dir_->File("registry-port") + "\"\n[tls]\ncertificate_chain = \"" +
                           Pki("tessera-registry.pem") + "\"\nprivate_key = \"" +
                           Pki("tessera-registry.key") + "\"\nclient_ca_bundle = \"" +
                           Pki("bundle.pem") + "\"\n[db]\nconninfo = \"" + *registry_conninfo_ +
                           "\"\n[registry]\nemail_rules = \"" + std::string(TESSERA_SOURCE_DIR) +
                           "/deploy/reference/personal_email.txt\"\n[revocation]\ncrl_url = \"" +
                           CrlUrl() + "\"\n" + hierarchy_->RegistrySessionToml());
    server_ = new testing::ServiceProcess("tessera-registry", dir_->File("registry.toml"),
                                          dir_->File("registry-port"), dir_->File("registry.log"));
  }
  void TearDown() override {
    EXPECT_EQ(server_->Stop(), 0) << "tessera-registry did not shut down cleanly";
    delete server_;
    server_ = nullptr;
    delete registry_conninfo_;
    registry_conninfo_ = database_ = nullptr;
  }

  static std::string Pki(const std::string& file) { return hierarchy_->Pki(file); }
  // Where the test's tessera-ca serves CRLs.
  static std::string CrlUrl() {
    std::string port = testing::ReadFileOrDie(dir_->File("http-port"));
    return "http://127.0.0.1:" + port.substr(0, port.find('\n')) + "/crl";
  }
  static Identity Service(const std::string& name) { return hierarchy_->ServiceIdentity(name); }
  // A certificate of `profile` for `subject`, from the hierarchy's issuing CA for it.
  static Identity Issue(const std::string& profile_name, const ca::SubjectData& subject) {
    return hierarchy_->Issue(profile_name, subject);
  }
  // A workstation certificate of comune `istat` (a prefettura: province code + "000").
  static Identity Workstation(const std::string& istat, int progressive) {
    return Issue("workstation", {.istat = istat, .progressive = progressive});
  }
  // An operator's card certificate (in a test, its key is in memory rather than on a card).
  static Identity Operator(const std::string& codice_fiscale) {
    return Issue("operator", {.codice_fiscale = codice_fiscale});
  }
  static std::shared_ptr<grpc::Channel> ChannelAs(const Identity& who) {
    return MtlsChannel("localhost:" + std::to_string(server_->port()),
                       testing::ReadFileOrDie(Pki("bundle.pem")), who.cert_pem, who.key_pem);
  }
  static std::unique_ptr<v1::Registry::Stub> As(const Identity& who) {
    return v1::Registry::NewStub(ChannelAs(who));
  }
  // The Ministry submits comune `istat`'s draft as it stands.
  static void SubmitDraft(v1::Registry::Stub& ministry, const std::string& istat) {
    grpc::Status status = testing::SubmitComuneDraft(ministry, istat);
    ASSERT_TRUE(status.ok()) << status.error_message();
  }
  // The Ministry imports deploy/sample/census_rieti.csv: every comune of Rieti has a draft.
  static void ImportSample(v1::Registry::Stub& ministry) {
    grpc::ClientContext context;
    v1::ImportCensusResponse response;
    grpc::Status status = registry_service::UploadCensusFile(
        ministry, context, Source("deploy/sample/census_rieti.csv"), testing::NewRequestId(),
        &response);
    ASSERT_TRUE(status.ok()) << status.error_message();
  }
  // The tessera command line with the Ministry's certificate, ready for a command.
  static std::string MinistryCli() {
    return std::string(TESSERA_BIN_DIR) +
           "/tessera --target localhost:" + std::to_string(server_->port()) + " --ca " +
           Pki("bundle.pem") + " --cert " + Pki("tessera-cli.pem") + " --key " +
           Pki("tessera-cli.key") + " ";
  }
  // GetCensus of comune `istat`: only how the call ended.
  static grpc::Status CensusStatus(v1::Registry::Stub& stub, const std::string& istat) {
    grpc::ClientContext context;
    v1::GetCensusRequest request;
    request.set_istat(istat);
    v1::Census census;
    return stub.GetCensus(&context, request, &census);
  }
  struct Fetched {
    grpc::Status status;
    v1::Census census;
  };
  // GetCensus of the prefettura of province `sigla`.
  static Fetched GetPrefettura(v1::Registry::Stub& stub, const std::string& sigla) {
    grpc::ClientContext context;
    v1::GetCensusRequest request;
    request.set_province_sigla(sigla);
    Fetched fetched;
    fetched.status = stub.GetCensus(&context, request, &fetched.census);
    return fetched;
  }
  static std::vector<v1::FieldViolation> Violations(const grpc::Status& status) {
    v1::BadRequest details;
    EXPECT_TRUE(details.ParseFromString(status.error_details()));
    return {details.violations().begin(), details.violations().end()};
  }
  // Ministry: the reference lists, and a declaration for every comune of the sample file.
  static void LoadReferenceAndDeclarations() {
    if (reference_loaded_) return;
    auto ministry = As(Service("tessera-cli"));
    grpc::ClientContext context;
    v1::LoadReferenceRequest request;
    request.set_request_id(testing::NewRequestId());
    request.set_comuni_csv(Source("deploy/reference/comuni.csv"));
    request.set_cadastral_codes_csv(Source("deploy/reference/codici_catastali.csv"));
    v1::LoadReferenceResponse loaded;
    grpc::Status status = ministry->LoadReference(&context, request, &loaded);
    ASSERT_TRUE(status.ok()) << status.error_message();
    EXPECT_EQ(loaded.comuni_added(), 7896u);
    grpc::Status declared = testing::DeclareRietiComuni(*ministry);
    ASSERT_TRUE(declared.ok()) << declared.error_message();
    reference_loaded_ = true;
  }

  static testing::TempDir* dir_;
  static testing::TestHierarchy* hierarchy_;
  static testing::ServiceProcess* server_;
  static testing::ServiceProcess* ca_;
  static std::string* ca_conninfo_;
  static std::string* registry_conninfo_;
  static std::string* database_;  // = registry_conninfo_
  static bool reference_loaded_;  // by this test, in its own database
};

testing::TempDir* RegistryServerTest::dir_ = nullptr;
std::string* RegistryServerTest::database_ = nullptr;
testing::TestHierarchy* RegistryServerTest::hierarchy_ = nullptr;
testing::ServiceProcess* RegistryServerTest::server_ = nullptr;
testing::ServiceProcess* RegistryServerTest::ca_ = nullptr;
std::string* RegistryServerTest::ca_conninfo_ = nullptr;
std::string* RegistryServerTest::registry_conninfo_ = nullptr;
bool RegistryServerTest::reference_loaded_ = false;

// The registry takes callers without a certificate (a comune's access code), so the TLS
// handshake does not insist on one; a certificate that is presented must still chain to the
// tessera CAs, whatever name it carries.
TEST_F(RegistryServerTest, ACertificateFromAnotherCaNamedTesseraCliIsRefused) {
  testing::TestPki other(
      testing::TestSoftHsm::Get().CreateToken(testing::TestSoftHsm::UniqueLabel("stranger")),
      "Stranger CA");
  testing::IssuedCert stranger = other.Issue("tessera-cli", "Servizi");
  grpc::ClientContext context;
  v1::ListCensusesRequest request;
  v1::ListCensusesResponse response;
  grpc::Status status =
      As({stranger.cert_pem, stranger.key_pem})->ListCensuses(&context, request, &response);
  EXPECT_NE(status.error_code(), grpc::StatusCode::OK);
  EXPECT_TRUE(status.error_code() == grpc::StatusCode::UNAVAILABLE ||
              status.error_code() == grpc::StatusCode::UNAUTHENTICATED)
      << status.error_code() << " " << status.error_message();
  EXPECT_EQ(response.censuses_size(), 0);
  // The real tessera-cli, for contrast, is let in.
  grpc::ClientContext allowed;
  EXPECT_TRUE(As(Service("tessera-cli"))->ListCensuses(&allowed, request, &response).ok());
}

TEST_F(RegistryServerTest, AProvinceCensusIsImportedWhole) {
  LoadReferenceAndDeclarations();
  auto ministry = As(Service("tessera-cli"));
  grpc::ClientContext context;
  v1::ImportCensusResponse response;
  grpc::Status status = registry_service::UploadCensusFile(*ministry, context,
                                                           Source("deploy/sample/census_rieti.csv"),
                                                           testing::NewRequestId(), &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(response.saved_istat_size(), 73);
}

TEST_F(RegistryServerTest, ABadFileIsRefusedWithEveryViolationAndKeepsNothing) {
  LoadReferenceAndDeclarations();
  std::string file = Source("deploy/sample/census_rieti.csv");
  // Break two rows: a PEC as personal e-mail on line 3, an impossible date on line 200.
  size_t line3 = 0;
  for (int i = 0; i < 2; ++i) line3 = file.find('\n', line3) + 1;
  const size_t at = file.rfind("@comune.it", file.find('\n', line3));  // the personal one
  file.replace(at, 10, "@pec.it");
  size_t line200 = 0;
  for (int i = 0; i < 199; ++i) line200 = file.find('\n', line200) + 1;
  const size_t date = file.find('/', line200) - 2;
  file.replace(date, 10, "31/02/1980");
  auto ministry = As(Service("tessera-cli"));
  // Every comune's census as it stands (owner -> revision): none of the 73 may change, not
  // only the two whose rows carry the errors.
  auto censuses = [&] {
    grpc::ClientContext c;
    v1::ListCensusesRequest list;
    list.set_page_size(1000);
    v1::ListCensusesResponse listed;
    EXPECT_TRUE(ministry->ListCensuses(&c, list, &listed).ok());
    std::map<std::string, uint32_t> revisions;
    for (const v1::CensusSummary& summary : listed.censuses()) {
      revisions[summary.istat()] = summary.revision();
    }
    return revisions;
  };
  // A first, good import: 73 drafts at revision 1.
  ASSERT_NO_FATAL_FAILURE(ImportSample(*ministry));
  const std::map<std::string, uint32_t> before = censuses();
  ASSERT_EQ(before.size(), 73u);
  grpc::ClientContext context;
  v1::ImportCensusResponse response;
  grpc::Status status = registry_service::UploadCensusFile(*ministry, context, file,
                                                           testing::NewRequestId(), &response);
  ASSERT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  const auto violations = Violations(status);
  ASSERT_EQ(violations.size(), 2u) << status.error_message();
  EXPECT_EQ(violations[0].row(), 3u);
  EXPECT_EQ(violations[0].field(), "email_personale");
  EXPECT_NE(violations[0].rule().find("is a PEC"), std::string::npos);
  EXPECT_EQ(violations[1].row(), 200u);
  EXPECT_EQ(violations[1].field(), "data_nascita");
  EXPECT_EQ(censuses(), before);  // no draft of any comune saved again

  // A file wrong on every line: the refusal still reaches the caller (message and detail stay
  // under the 8 KB a client accepts in trailers), the first violations listed, then how many
  // more.
  std::string every_line_wrong = Source("deploy/sample/census_rieti.csv");
  for (size_t at = 0; (at = every_line_wrong.find("@comune.it;", at)) != std::string::npos; ++at) {
    // the personal mailbox (nome.cognome.N@comune.it), not the comune's own
    if (std::isdigit(static_cast<unsigned char>(every_line_wrong[at - 1]))) {
      every_line_wrong.replace(at, 10, "@pec.it");
    }
  }
  grpc::ClientContext all_wrong;
  status = registry_service::UploadCensusFile(*ministry, all_wrong, every_line_wrong,
                                              testing::NewRequestId(), &response);
  ASSERT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << status.error_message();
  const auto listed = Violations(status);
  ASSERT_GE(listed.size(), 10u);
  for (size_t i = 0; i + 1 < listed.size(); ++i) EXPECT_EQ(listed[i].field(), "email_personale");
  EXPECT_EQ(listed.back().rule(),
            "and " + std::to_string(292 - (listed.size() - 1)) + " more violations, not listed");
  EXPECT_NE(status.error_message().find("more"), std::string::npos) << status.error_message();
  EXPECT_EQ(censuses(), before);
}

TEST_F(RegistryServerTest, AComuneSubmitsItsOwnCensusOnly) {
  LoadReferenceAndDeclarations();
  auto ministry = As(Service("tessera-cli"));
  ASSERT_NO_FATAL_FAILURE(ImportSample(*ministry));
  auto accumoli = As(Workstation("057001", 1));
  v1::Census draft;
  {
    grpc::ClientContext context;
    v1::GetCensusRequest request;
    request.set_istat("057001");
    grpc::Status status = accumoli->GetCensus(&context, request, &draft);
    ASSERT_TRUE(status.ok()) << status.error_message();
    EXPECT_FALSE(draft.submitted());
    EXPECT_EQ(draft.comune().users_size(), 4);
  }
  {
    grpc::Status status = CensusStatus(*accumoli, "057002");
    EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED);
    EXPECT_NE(status.error_message().find("a comune may act only on its own census"),
              std::string::npos);
  }
  {
    grpc::ClientContext context;
    v1::ImportCensusResponse response;
    EXPECT_EQ(registry_service::UploadCensusFile(*accumoli, context, "x", testing::NewRequestId(),
                                                 &response)
                  .error_code(),
              grpc::StatusCode::PERMISSION_DENIED);
  }
  // A submission with a broken rule is refused with the field named, and stores nothing.
  {
    v1::SubmitCensusRequest request;
    request.set_request_id(testing::NewRequestId());
    *request.mutable_census() = draft.comune();
    request.mutable_census()->set_workstations(9);
    grpc::ClientContext context;
    v1::SubmitCensusResponse response;
    grpc::Status status = accumoli->SubmitCensus(&context, request, &response);
    ASSERT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_EQ(Violations(status).at(0).field(), "workstations");
    EXPECT_EQ(status.error_message().rfind("workstations: at most 3", 0), 0)
        << "a census sent over gRPC has no file to speak of: " << status.error_message();
  }
  v1::SubmitCensusRequest request;
  request.set_request_id(testing::NewRequestId());
  *request.mutable_census() = draft.comune();
  grpc::ClientContext context;
  v1::SubmitCensusResponse response;
  grpc::Status status = accumoli->SubmitCensus(&context, request, &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_TRUE(response.census().submitted());
  ASSERT_EQ(response.card_numbers_size(), 4);
  EXPECT_EQ(response.card_numbers(0), "0570010000000001");
  ASSERT_EQ(response.workstation_common_ids_size(), 3);
  EXPECT_EQ(response.workstation_common_ids(0), "0570010099");
}

// The CLI as the Ministry uses it: load-reference is idempotent, a bad file prints a table of
// line, field and rule and exits 2, show prints the census.
TEST_F(RegistryServerTest, TheCommandLine) {
  LoadReferenceAndDeclarations();
  const std::string cli = MinistryCli();
  auto loaded = testing::RunCommand(cli + "registry load-reference --dir " +
                                    std::string(TESSERA_SOURCE_DIR) + "/deploy/reference");
  EXPECT_EQ(loaded.exit_code, 0) << loaded.output;
  EXPECT_NE(loaded.output.find("comuni: 0 added, 0 changed, 0 ceased"), std::string::npos)
      << loaded.output;

  std::string file = Source("deploy/sample/census_rieti.csv");
  const size_t line2 = file.find('\n') + 1;
  // Line 2's sex column: the 21st field.
  size_t at = line2;
  for (int i = 0; i < 20; ++i) at = file.find(';', at) + 1;
  file.replace(at, 1, "X");
  testing::WriteFile(dir_->File("bad.csv"), file);
  auto refused = testing::RunCommand(cli + "census import " + dir_->File("bad.csv"));
  EXPECT_EQ(refused.exit_code, 2) << refused.output;
  EXPECT_NE(refused.output.find("line   field"), std::string::npos) << refused.output;
  EXPECT_NE(refused.output.find("2      sesso"), std::string::npos) << refused.output;
  EXPECT_NE(refused.output.find("M or F"), std::string::npos) << refused.output;
  EXPECT_NE(refused.output.find("nothing was kept"), std::string::npos) << refused.output;

  // One comune's rows (no other test submits 057002, so this works in any order).
  const std::string sample = Source("deploy/sample/census_rieti.csv");
  std::string one = sample.substr(0, sample.find('\n') + 1);
  for (size_t at = 0; (at = sample.find("\n057002;", at)) != std::string::npos; ++at) {
    one += sample.substr(at + 1, sample.find('\n', at + 1) - at);
  }
  testing::WriteFile(dir_->File("one.csv"), one);
  auto imported = testing::RunCommand(cli + "census import " + dir_->File("one.csv"));
  EXPECT_NE(imported.output.find("1 comuni saved as drafts"), std::string::npos) << imported.output;
  EXPECT_EQ(imported.exit_code, 0) << imported.output;
  auto listed = testing::RunCommand(cli + "census list --state draft --page-size 1");
  EXPECT_EQ(listed.exit_code, 0) << listed.output;
  EXPECT_NE(listed.output.find("057002  Amatrice"), std::string::npos) << listed.output;
  EXPECT_NE(listed.output.find("more: --page-token"), std::string::npos) << listed.output;
  auto shown = testing::RunCommand(cli + "--json census show --istat 057002");
  EXPECT_EQ(shown.exit_code, 0) << shown.output;
  EXPECT_NE(shown.output.find("\"istat\":\"057002\""), std::string::npos) << shown.output;
}

TEST_F(RegistryServerTest, NoMessageIsLargerThanADraftAndAFileStopsAtItsLimit) {
  LoadReferenceAndDeclarations();
  // A 50 MB census document is refused by gRPC before any handler sees it.
  v1::SaveDraftRequest draft;
  draft.set_request_id(testing::NewRequestId());
  draft.mutable_census()->set_istat("057003");
  draft.mutable_census()->set_cap(std::string(50 << 20, '1'));
  grpc::ClientContext draft_context;
  v1::Census saved;
  EXPECT_EQ(As(Workstation("057003", 2))->SaveDraft(&draft_context, draft, &saved).error_code(),
            grpc::StatusCode::RESOURCE_EXHAUSTED);
  // A census file of 65 MiB travels in 1 MiB parts and is refused once past the 64 MiB limit.
  grpc::ClientContext import_context;
  v1::ImportCensusResponse response;
  grpc::Status status = registry_service::UploadCensusFile(
      *As(Service("tessera-cli")), import_context, std::string(65 << 20, 'x'),
      testing::NewRequestId(), &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_EQ(status.error_message(),
            "csv: more than 64 MiB; the registry takes census files up to registry.max_import_mb");
  // Nothing was kept, and the registry still answers.
  grpc::ClientContext get_context;
  v1::GetCensusRequest get;
  get.set_istat("057003");
  v1::Census census;
  EXPECT_EQ(As(Workstation("057003", 2))->GetCensus(&get_context, get, &census).error_code(),
            grpc::StatusCode::NOT_FOUND);
}

TEST_F(RegistryServerTest, AComuneSavesDraftsOfItsOwnCensus) {
  LoadReferenceAndDeclarations();
  auto comune = As(Workstation("057003", 2));
  auto get = [&](v1::Census* out) {
    grpc::ClientContext context;
    v1::GetCensusRequest request;
    request.set_istat("057003");
    return comune->GetCensus(&context, request, out);
  };
  v1::SaveDraftRequest request;
  request.set_request_id(testing::NewRequestId());
  v1::ComuneCensus& census = *request.mutable_census();
  census.set_istat("057003");
  // A draft may be incomplete, but not wrong: every value is checked when saved, every
  // violation named, nothing stored.
  census.set_cap("0210");
  census.set_workstations(4);  // declared 2: at most 3
  v1::CensusUser* mayor = census.add_users();
  mayor->set_codice_fiscale("BNCLRA75L62C746A");  // wrong check character
  mayor->add_profiles("sindaco_delegato");
  mayor->add_profiles("accesso_web");        // Sindaco/Delegato excludes every other profile
  mayor->set_email("laura.bianchi@pec.it");  // a PEC is no personal mailbox
  {
    grpc::ClientContext context;
    v1::Census refused;
    grpc::Status status = comune->SaveDraft(&context, request, &refused);
    ASSERT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << status.error_message();
    std::set<std::string> fields;
    for (const v1::FieldViolation& v : Violations(status)) fields.insert(v.field());
    EXPECT_EQ(fields, (std::set<std::string>{"cap", "workstations", "users[0].codice_fiscale",
                                             "users[0].profiles", "users[0].email"}))
        << status.error_message();
    v1::Census nothing;
    EXPECT_EQ(get(&nothing).error_code(), grpc::StatusCode::NOT_FOUND);
  }
  // Every date that is no date is named, not only the first.
  {
    v1::SaveDraftRequest dates;
    dates.set_request_id(testing::NewRequestId());
    dates.mutable_census()->set_istat("057003");
    dates.mutable_census()->add_users()->set_birth_date("1980-02-30");
    dates.mutable_census()->add_users()->set_birth_date("10/11/1983");
    grpc::ClientContext context;
    v1::Census refused;
    grpc::Status status = comune->SaveDraft(&context, dates, &refused);
    ASSERT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_NE(status.error_message().find("users[0].birth_date"), std::string::npos)
        << status.error_message();
    EXPECT_NE(status.error_message().find("users[1].birth_date"), std::string::npos)
        << status.error_message();
  }
  // Values as people type them are stored as tessera writes them.
  census.set_cap("02100");
  census.set_workstations(3);
  census.set_phone("0746-123456");
  mayor->set_codice_fiscale("bnclra 75l62 c746i");
  mayor->clear_profiles();
  mayor->add_profiles("sindaco_delegato");
  mayor->set_email("Laura.Bianchi@Gmail.com");
  mayor->set_sex("f");
  v1::Census first, second;
  {
    grpc::ClientContext context;
    grpc::Status status = comune->SaveDraft(&context, request, &first);
    ASSERT_TRUE(status.ok()) << status.error_message();
  }
  EXPECT_EQ(first.comune().phone(), "0746 123456");
  EXPECT_EQ(first.comune().users(0).codice_fiscale(), "BNCLRA75L62C746I");
  EXPECT_EQ(first.comune().users(0).email(), "laura.bianchi@gmail.com");
  EXPECT_EQ(first.comune().users(0).sex(), "F");
  census.set_address("Piazza del Comune 1");
  {  // new content under the same key: refused, nothing saved
    grpc::ClientContext context;
    v1::Census unused;
    grpc::Status status = comune->SaveDraft(&context, request, &unused);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::ALREADY_EXISTS) << status.error_message();
  }
  request.set_request_id(testing::NewRequestId());
  {
    grpc::ClientContext context;
    ASSERT_TRUE(comune->SaveDraft(&context, request, &second).ok());
  }
  EXPECT_EQ(second.revision(), first.revision() + 1);
  EXPECT_EQ(second.comune().address(), "Piazza del Comune 1");
  EXPECT_FALSE(second.submitted());
  {  // a retry (the answer was lost) is answered as the first call was, and saves nothing
    grpc::ClientContext context;
    v1::Census retried;
    ASSERT_TRUE(comune->SaveDraft(&context, request, &retried).ok());
    EXPECT_EQ(retried.revision(), second.revision());
    EXPECT_EQ(retried.saved_at_unix(), second.saved_at_unix());
  }
  {
    census.set_istat("057004");
    grpc::ClientContext context;
    v1::Census other;
    EXPECT_EQ(comune->SaveDraft(&context, request, &other).error_code(),
              grpc::StatusCode::PERMISSION_DENIED);
  }
  {
    census.set_istat("999999");
    grpc::ClientContext context;
    v1::Census unknown;
    grpc::Status status = As(Service("tessera-cli"))->SaveDraft(&context, request, &unknown);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_EQ(status.error_message(), "istat: '999999' is no comune in the reference list");
  }
}

// Seed 001 §3: a comune comes in at most two months before its switch-over, on every call
// (Italian dates); the Ministry is not held to it.
TEST_F(RegistryServerTest, AComuneIsHeldToItsCensusWindowOnEveryCall) {
  LoadReferenceAndDeclarations();
  auto ministry = As(Service("tessera-cli"));
  ASSERT_NO_FATAL_FAILURE(ImportSample(*ministry));
  auto declare = [&](int days_ahead) {
    const auto switch_over = std::chrono::floor<std::chrono::days>(
        std::chrono::system_clock::now() + std::chrono::hours(24 * days_ahead));
    grpc::ClientContext context;
    v1::SetDeclarationRequest request;
    request.set_request_id(testing::NewRequestId());
    request.set_istat("057059");
    request.set_declared_workstations(2);
    request.set_declared_employees(5);
    request.set_switch_over(IsoDate(std::chrono::year_month_day(switch_over)));
    v1::SetDeclarationResponse response;
    ASSERT_TRUE(ministry->SetDeclaration(&context, request, &response).ok());
  };
  ASSERT_NO_FATAL_FAILURE(declare(90));  // the window opens in about a month
  auto comune = As(Workstation("057059", 1));
  grpc::Status read = CensusStatus(*comune, "057059");
  EXPECT_EQ(read.error_code(), grpc::StatusCode::FAILED_PRECONDITION) << read.error_message();
  EXPECT_EQ(read.error_message().rfind("switch_over: the census opens two months before", 0), 0)
      << read.error_message();
  {
    v1::SaveDraftRequest request;
    request.set_request_id(testing::NewRequestId());
    request.mutable_census()->set_istat("057059");
    grpc::ClientContext context;
    v1::Census saved;
    EXPECT_EQ(comune->SaveDraft(&context, request, &saved).error_code(),
              grpc::StatusCode::FAILED_PRECONDITION);
  }
  {
    grpc::ClientContext context;
    v1::IssueAccessCodeRequest request;
    request.set_request_id(testing::NewRequestId());
    request.set_istat("057059");
    v1::IssueAccessCodeResponse response;
    grpc::Status status = ministry->IssueAccessCode(&context, request, &response);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
    EXPECT_NE(status.error_message().find("switch_over"), std::string::npos)
        << status.error_message();
  }
  EXPECT_TRUE(CensusStatus(*ministry, "057059").ok());  // the Ministry follows every comune
  ASSERT_NO_FATAL_FAILURE(declare(30));                 // the switch-over comes forward
  EXPECT_TRUE(CensusStatus(*comune, "057059").ok());
}

// A comune with no certificate yet: the Ministry issues a census access code, the comune calls
// without a client certificate and the code in its metadata, for its own census only; a new
// code revokes the old, submission revokes the last, and the code never reaches the log.
TEST_F(RegistryServerTest, AComuneWithoutACertificateUsesItsAccessCode) {
  LoadReferenceAndDeclarations();
  auto ministry = As(Service("tessera-cli"));
  ASSERT_NO_FATAL_FAILURE(ImportSample(*ministry));
  auto issue = [&](const std::string& istat) {
    grpc::ClientContext context;
    v1::IssueAccessCodeRequest request;
    request.set_request_id(testing::NewRequestId());
    request.set_istat(istat);
    v1::IssueAccessCodeResponse response;
    grpc::Status status = ministry->IssueAccessCode(&context, request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return response;
  };
  const std::string target = "localhost:" + std::to_string(server_->port());
  const std::string bundle = testing::ReadFileOrDie(Pki("bundle.pem"));
  auto with_credential = [&](const std::string& credential) {
    return v1::Registry::NewStub(CredentialChannel(target, bundle, credential));
  };

  const v1::IssueAccessCodeResponse first = issue("057005");
  EXPECT_EQ(first.access_code().substr(0, 7), "057005-");
  EXPECT_GT(first.expires_at_unix(),
            std::chrono::duration_cast<std::chrono::seconds>(
                std::chrono::system_clock::now().time_since_epoch() + std::chrono::days(89))
                .count());
  auto belmonte = with_credential("AccessCode " + first.access_code());
  EXPECT_TRUE(CensusStatus(*belmonte, "057005").ok());
  // Typed by a person: lower case and spaces are the same code.
  std::string typed = first.access_code();
  for (char& c : typed) c = c == '-' ? ' ' : static_cast<char>(std::tolower(c));
  EXPECT_TRUE(CensusStatus(*with_credential("AccessCode " + typed), "057005").ok());

  // Its own census only; nothing the Ministry does.
  grpc::Status other = CensusStatus(*belmonte, "057006");
  EXPECT_EQ(other.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_NE(other.error_message().find("a comune may act only on its own census"),
            std::string::npos);
  {
    grpc::ClientContext context;
    v1::ListCensusesRequest request;
    v1::ListCensusesResponse response;
    EXPECT_EQ(belmonte->ListCensuses(&context, request, &response).error_code(),
              grpc::StatusCode::PERMISSION_DENIED);
  }
  {
    grpc::ClientContext context;
    v1::IssueAccessCodeRequest request;
    request.set_request_id(testing::NewRequestId());
    request.set_istat("057006");
    v1::IssueAccessCodeResponse response;
    EXPECT_EQ(belmonte->IssueAccessCode(&context, request, &response).error_code(),
              grpc::StatusCode::PERMISSION_DENIED);
  }

  // Wrong, malformed or missing credentials: UNAUTHENTICATED, and the code is not echoed.
  std::string wrong = first.access_code();
  wrong.back() = wrong.back() == 'A' ? 'B' : 'A';
  grpc::Status refused = CensusStatus(*with_credential("AccessCode " + wrong), "057005");
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(refused.error_message().find(wrong.substr(7)), std::string::npos);
  EXPECT_EQ(CensusStatus(*with_credential("Bearer " + first.access_code()), "057005").error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(CensusStatus(*with_credential("AccessCode 057005-XYZ"), "057005").error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  grpc::Status anonymous = CensusStatus(*As({"", ""}), "057005");
  EXPECT_EQ(anonymous.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_NE(anonymous.error_message().find("no client certificate and no access code"),
            std::string::npos)
      << anonymous.error_message();
  // A code issued for another comune does not open this one, even when named as this one.
  const v1::IssueAccessCodeResponse borbona = issue("057006");
  std::string borrowed = borbona.access_code();
  borrowed.replace(0, 6, "057005");
  EXPECT_EQ(CensusStatus(*with_credential("AccessCode " + borrowed), "057005").error_code(),
            grpc::StatusCode::UNAUTHENTICATED);

  // Two codes on one connection: each call acts for the comune of its own code (the caller
  // is per call, not per connection).
  {
    auto shared = As({"", ""});
    auto get = [&](const std::string& code, const std::string& istat) {
      grpc::ClientContext context;
      context.AddMetadata("authorization", "AccessCode " + code);
      v1::GetCensusRequest request;
      request.set_istat(istat);
      v1::Census census;
      return shared->GetCensus(&context, request, &census).error_code();
    };
    EXPECT_EQ(get(first.access_code(), "057005"), grpc::StatusCode::OK);
    EXPECT_EQ(get(borbona.access_code(), "057006"), grpc::StatusCode::OK);
    EXPECT_EQ(get(borbona.access_code(), "057005"), grpc::StatusCode::PERMISSION_DENIED);
    EXPECT_EQ(get(first.access_code(), "057005"), grpc::StatusCode::OK);
  }

  // A new code revokes the old one.
  const v1::IssueAccessCodeResponse second = issue("057005");
  EXPECT_EQ(CensusStatus(*belmonte, "057005").error_code(), grpc::StatusCode::UNAUTHENTICATED);

  // With the command line, as the comune would: show its draft as JSON, save it back, submit.
  const std::string env = "TESSERA_ACCESS_CODE=" + testing::ShellQuote(second.access_code()) + " " +
                          std::string(TESSERA_BIN_DIR) + "/tessera --target " + target + " --ca " +
                          Pki("bundle.pem") + " ";
  auto shown = testing::RunCommand(env + "--json census show --istat 057005 > " +
                                   dir_->File("belmonte.json"));
  ASSERT_EQ(shown.exit_code, 0) << shown.output;
  // The code may come from a credential file instead (systemd's LoadCredential), never one
  // that others may read.
  const std::string code_file = dir_->File("belmonte.code");
  testing::WriteFile(code_file, second.access_code() + "\n");
  const std::string env_file = "TESSERA_ACCESS_CODE_FILE=" + code_file + " " +
                               std::string(TESSERA_BIN_DIR) + "/tessera --target " + target +
                               " --ca " + Pki("bundle.pem") + " ";
  chmod(code_file.c_str(), 0644);
  auto open_file = testing::RunCommand(env_file + "census save " + dir_->File("belmonte.json"));
  EXPECT_NE(open_file.exit_code, 0);
  EXPECT_NE(open_file.output.find("open to group or others"), std::string::npos)
      << open_file.output;
  chmod(code_file.c_str(), 0600);
  auto saved = testing::RunCommand(env_file + "census save " + dir_->File("belmonte.json"));
  EXPECT_EQ(saved.exit_code, 0) << saved.output;
  EXPECT_NE(saved.output.find("draft of 057005 saved: revision 2, 4 users"), std::string::npos)
      << saved.output;
  auto submitted = testing::RunCommand(env + "census submit --istat 057005");
  EXPECT_EQ(submitted.exit_code, 0) << submitted.output;
  EXPECT_NE(submitted.output.find("census of 057005 submitted: 4 card order(s)"), std::string::npos)
      << submitted.output;
  // Submitted: the census is closed and the code revoked; no new code for it.
  EXPECT_EQ(
      CensusStatus(*with_credential("AccessCode " + second.access_code()), "057005").error_code(),
      grpc::StatusCode::UNAUTHENTICATED);
  {
    grpc::ClientContext context;
    v1::IssueAccessCodeRequest request;
    request.set_request_id(testing::NewRequestId());
    request.set_istat("057005");
    v1::IssueAccessCodeResponse response;
    EXPECT_EQ(ministry->IssueAccessCode(&context, request, &response).error_code(),
              grpc::StatusCode::FAILED_PRECONDITION);
  }
  // A certificate and a code together: the CLI refuses to guess which to use.
  auto both = testing::RunCommand(env + "--cert " + Pki("tessera-cli.pem") + " --key " +
                                  Pki("tessera-cli.key") + " census show --istat 057006");
  EXPECT_NE(both.exit_code, 0);
  EXPECT_NE(both.output.find("use one or the other"), std::string::npos) << both.output;

  const std::string log_path = dir_->File("registry.log");
  const std::string log = testing::ReadFileOrDie(log_path);
  for (const std::string& code :
       {first.access_code(), second.access_code(), wrong, typed, borbona.access_code()}) {
    EXPECT_EQ(log.find(code.substr(7)), std::string::npos) << "an access code reached the log";
  }

  // The access log names a code's caller by the comune it opens, with no certificate serial;
  // a call the door refused names nobody.
  const auto by_code = testing::LogEvents(log_path, "rpc", "caller_kind", "access_code");
  ASSERT_FALSE(by_code.empty());
  for (const nlohmann::json& line : by_code) {
    EXPECT_TRUE(line["caller"] == "057005" || line["caller"] == "057006") << line;
    EXPECT_EQ(line["caller_serial"], "-") << line;
    EXPECT_NE(line["peer"], "-") << line;
  }
  const auto unauthenticated = testing::LogEvents(log_path, "rpc_unauthenticated", "method",
                                                  "/tessera.v1.Registry/GetCensus");
  ASSERT_FALSE(unauthenticated.empty());
  for (const nlohmann::json& line : unauthenticated) {
    EXPECT_EQ(line["caller"], "-") << line;
    EXPECT_EQ(line["status"], "UNAUTHENTICATED") << line;
  }

  // Who did what, in the database: the codes the Ministry issued and the census the comune
  // submitted with its code, each naming the call whose access-log line it can be found by.
  auto db = pg::Connection::Open(*database_);
  ASSERT_TRUE(db.ok()) << db.status();
  auto issued = (*db)->Exec(
      "SELECT office, issued_by_kind, issued_by, issued_by_serial, call_id FROM "
      "registry.access_code_issuances ORDER BY id");
  ASSERT_TRUE(issued.ok()) << issued.status();
  ASSERT_EQ(issued->rows(), 3);  // 057005, 057006, 057005 again
  EXPECT_EQ(issued->Text(0, 0), "057005");
  EXPECT_EQ(issued->Text(0, 1), "service");
  EXPECT_EQ(issued->Text(0, 2), "tessera-cli");
  const auto issuing_call =
      testing::LogEvents(log_path, "rpc", "call_id", std::string(issued->Text(0, 4)));
  ASSERT_EQ(issuing_call.size(), 1u);
  EXPECT_EQ(issuing_call[0]["method"], "/tessera.v1.Registry/IssueAccessCode");
  EXPECT_EQ(issuing_call[0]["caller_serial"], std::string(issued->Text(0, 3)));
  EXPECT_EQ(
      testing::LogEvents(log_path, "access_code_issued", "call_id", std::string(issued->Text(0, 4)))
          .size(),
      1u);
  auto census = (*db)->Exec(
      "SELECT submitted_by_kind, submitted_by, submitted_by_serial IS NULL, submitted_call_id "
      "FROM registry.censuses WHERE kind = 'comune' AND owner = '057005'");
  ASSERT_TRUE(census.ok() && census->rows() == 1);
  EXPECT_EQ(census->Text(0, 0), "access_code");
  EXPECT_EQ(census->Text(0, 1), "057005");
  EXPECT_TRUE(census->Bool(0, 2));
  const auto submitting_call =
      testing::LogEvents(log_path, "rpc", "call_id", std::string(census->Text(0, 3)));
  ASSERT_EQ(submitting_call.size(), 1u);
  EXPECT_EQ(submitting_call[0]["method"], "/tessera.v1.Registry/SubmitCensus");
  EXPECT_EQ(submitting_call[0]["caller_kind"], "access_code");
}

// The prefettura of Rieti: its census (people taken from Accumoli's, with prefettura
// profiles), refused while a rule fails, then submitted: every user gets a card numbered under
// the province (a person already carded by a comune keeps that one card).
TEST_F(RegistryServerTest, APrefetturaCensusesItsOwnPeople) {
  LoadReferenceAndDeclarations();
  auto ministry = As(Service("tessera-cli"));
  ASSERT_NO_FATAL_FAILURE(ImportSample(*ministry));
  v1::Census accumoli;
  {
    grpc::ClientContext context;
    v1::GetCensusRequest request;
    request.set_istat("057001");
    ASSERT_TRUE(ministry->GetCensus(&context, request, &accumoli).ok());
  }
  v1::PrefetturaCensus rieti;
  rieti.set_province_sigla("RI");
  rieti.set_province("Rieti");
  rieti.set_address("Piazza Cesare Battisti 1");
  rieti.set_cap("02100");
  rieti.set_phone("0746 2991");
  rieti.set_fax("0746 299666");
  rieti.set_email("prefettura.rieti@interno.it");
  rieti.set_pec("protocollo.prefri@pec.interno.it");
  rieti.set_prefect_surname("Bianchi");
  rieti.set_prefect_name("Lucia");
  rieti.set_workstations(2);
  const char* profiles[] = {"amministratore_sicurezza", "amministratore_postazioni_prefettura",
                            "operatore_monitoraggio_operazioni"};
  for (int i = 0; i < 3; ++i) {
    v1::CensusUser* user = rieti.add_users();
    *user = accumoli.comune().users(i + 1);  // not the Sindaco: one card each, different roles
    user->clear_profiles();
    user->add_profiles(profiles[i]);
  }

  // A draft by the Ministry, read back by sigla.
  {
    v1::SaveDraftRequest request;
    request.set_request_id(testing::NewRequestId());
    *request.mutable_prefettura() = rieti;
    grpc::ClientContext context;
    v1::Census saved;
    grpc::Status status = ministry->SaveDraft(&context, request, &saved);
    ASSERT_TRUE(status.ok()) << status.error_message();
    EXPECT_EQ(saved.owner(), "057");
    EXPECT_EQ(saved.prefettura().users_size(), 3);
  }
  // The same draft through the command line: shown as JSON, saved back.
  const std::string cli = MinistryCli();
  auto shown =
      testing::RunCommand(cli + "--json census show --province RI > " + dir_->File("rieti.json"));
  ASSERT_EQ(shown.exit_code, 0) << shown.output;
  auto saved = testing::RunCommand(cli + "census save " + dir_->File("rieti.json"));
  EXPECT_NE(saved.output.find("draft of 057 saved: revision 2, 3 users"), std::string::npos)
      << saved.output;
  // The prefettura's own workstation may read it; a comune's, or another province's, may not.
  auto prefettura = As(Workstation("057000", 1));
  auto [own, census] = GetPrefettura(*prefettura, "RI");
  ASSERT_TRUE(own.ok()) << own.error_message();
  EXPECT_EQ(census.prefettura().prefect_surname(), "Bianchi");
  EXPECT_EQ(GetPrefettura(*prefettura, "RM").status.error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  grpc::Status comune = GetPrefettura(*As(Workstation("057001", 1)), "RI").status;
  EXPECT_EQ(comune.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_NE(comune.error_message().find("province_sigla: a prefettura may act only on its own"),
            std::string::npos)
      << comune.error_message();
  EXPECT_EQ(GetPrefettura(*ministry, "XX").status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  {
    grpc::ClientContext context;
    v1::GetCensusRequest both;
    both.set_istat("057001");
    both.set_province_sigla("RI");
    v1::Census unused;
    EXPECT_EQ(ministry->GetCensus(&context, both, &unused).error_code(),
              grpc::StatusCode::INVALID_ARGUMENT);
  }

  // A prefettura without a certificate yet fills its census with an access code, scoped as
  // its workstations are (province code + 000).
  v1::IssueAccessCodeResponse code;
  {
    grpc::ClientContext context;
    v1::IssueAccessCodeRequest issue;
    issue.set_request_id(testing::NewRequestId());
    issue.set_province_sigla("RI");
    grpc::Status issued = ministry->IssueAccessCode(&context, issue, &code);
    ASSERT_TRUE(issued.ok()) << issued.error_message();
    EXPECT_EQ(code.access_code().substr(0, 7), "057000-");
  }
  auto by_code = v1::Registry::NewStub(CredentialChannel(
      "localhost:" + std::to_string(server_->port()), testing::ReadFileOrDie(Pki("bundle.pem")),
      "AccessCode " + code.access_code()));
  EXPECT_TRUE(GetPrefettura(*by_code, "RI").status.ok());
  EXPECT_EQ(GetPrefettura(*by_code, "RM").status.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(CensusStatus(*by_code, "057001").error_code(), grpc::StatusCode::PERMISSION_DENIED);

  // Six workstations and no Amministratore Postazioni: refused, every rule named.
  {
    v1::SubmitCensusRequest request;
    request.set_request_id(testing::NewRequestId());
    *request.mutable_prefettura() = rieti;
    request.mutable_prefettura()->set_workstations(6);
    request.mutable_prefettura()->mutable_users(1)->set_profiles(
        0, "operatore_monitoraggio_operazioni");
    grpc::ClientContext context;
    v1::SubmitCensusResponse response;
    grpc::Status status = prefettura->SubmitCensus(&context, request, &response);
    ASSERT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    std::set<std::string> fields;
    for (const v1::FieldViolation& v : Violations(status)) fields.insert(v.field());
    EXPECT_TRUE(fields.count("workstations")) << status.error_message();
    EXPECT_TRUE(fields.count("users")) << status.error_message();
  }
  v1::SubmitCensusRequest request;
  request.set_request_id(testing::NewRequestId());
  *request.mutable_prefettura() = rieti;
  grpc::ClientContext context;
  v1::SubmitCensusResponse response;
  grpc::Status status = prefettura->SubmitCensus(&context, request, &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_TRUE(response.census().submitted());
  ASSERT_EQ(response.card_numbers_size(), 3);
  EXPECT_EQ(response.card_numbers(0), "0570000000000001");
  ASSERT_EQ(response.workstation_common_ids_size(), 2);
  EXPECT_EQ(response.workstation_common_ids(0), "0570000001");
  EXPECT_EQ(response.workstation_common_ids(1), "0570000002");
  // Submission revokes the prefettura's code.
  EXPECT_EQ(GetPrefettura(*by_code, "RI").status.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  {
    grpc::ClientContext c;
    v1::ListCensusesRequest list;
    list.set_kind("prefettura");
    v1::ListCensusesResponse listed;
    ASSERT_TRUE(ministry->ListCensuses(&c, list, &listed).ok());
    ASSERT_EQ(listed.censuses_size(), 1);
    EXPECT_EQ(listed.censuses(0).istat(), "057");
    EXPECT_EQ(listed.censuses(0).name(), "Rieti");
    EXPECT_TRUE(listed.censuses(0).submitted());
  }
  auto text = testing::RunCommand(cli + "census show --province RI");
  EXPECT_NE(text.output.find("057 Prefettura di Rieti  SUBMITTED, revision 3, 2 workstations"),
            std::string::npos)
      << text.output;
}

// Paolo Costa is censused by Accumoli and by Amatrice (deploy/sample): one person with one
// card, each comune with its own mailbox for him; a census that names him with another identity
// is refused without learning what the others declared.
TEST_F(RegistryServerTest, OnePersonInTwoComuniHasOneCard) {
  LoadReferenceAndDeclarations();
  auto ministry = As(Service("tessera-cli"));
  ASSERT_NO_FATAL_FAILURE(ImportSample(*ministry));
  auto submit = [&](const v1::ComuneCensus& census) {
    v1::SubmitCensusRequest request;
    request.set_request_id(testing::NewRequestId());
    *request.mutable_census() = census;
    grpc::ClientContext context;
    v1::SubmitCensusResponse response;
    grpc::Status status = ministry->SubmitCensus(&context, request, &response);
    return std::make_pair(status, response);
  };
  auto draft = [&](const std::string& istat) {
    v1::Census census;
    grpc::ClientContext context;
    v1::GetCensusRequest request;
    request.set_istat(istat);
    EXPECT_TRUE(ministry->GetCensus(&context, request, &census).ok());
    return census.comune();
  };
  const std::string paolo = "CSTPLA83S10A241X";
  auto [accumoli_status, accumoli] = submit(draft("057001"));
  ASSERT_TRUE(accumoli_status.ok()) << accumoli_status.error_message();
  EXPECT_EQ(accumoli.card_numbers_size(), 4);
  EXPECT_EQ(accumoli.holders_with_a_card_already_size(), 0);

  // Another comune declaring him with another first name: refused, fields named, no values.
  v1::ComuneCensus antrodoco = draft("057003");
  v1::CensusUser* impostor = antrodoco.add_users();
  *impostor = draft("057002").users(4);
  ASSERT_EQ(impostor->codice_fiscale(), paolo);
  impostor->set_name("Paola");  // PLA as well: only the record tells them apart
  impostor->set_email("paola.costa@comune.it");
  auto [refused, unused] = submit(antrodoco);
  ASSERT_EQ(refused.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << refused.error_message();
  const auto violations = Violations(refused);
  ASSERT_EQ(violations.size(), 1u) << refused.error_message();
  EXPECT_EQ(violations[0].field(), "users[4].name");
  EXPECT_EQ(refused.error_message().find("Paolo"), std::string::npos) << refused.error_message();

  auto [amatrice_status, amatrice] = submit(draft("057002"));
  ASSERT_TRUE(amatrice_status.ok()) << amatrice_status.error_message();
  EXPECT_EQ(amatrice.card_numbers_size(), 4);  // five users, Paolo's card is Accumoli's
  ASSERT_EQ(amatrice.holders_with_a_card_already_size(), 1);
  EXPECT_EQ(amatrice.holders_with_a_card_already(0), paolo);

  auto db = pg::Connection::Open(*database_);
  ASSERT_TRUE(db.ok()) << db.status();
  auto mailboxes = (*db)->Exec(
      "SELECT c.owner, u.email FROM registry.census_users u JOIN registry.censuses c ON c.id = "
      "u.census_id WHERE u.codice_fiscale = $1 ORDER BY c.owner",
      {pg::Param(paolo)});
  ASSERT_TRUE(mailboxes.ok()) << mailboxes.status();
  ASSERT_EQ(mailboxes->rows(), 2);
  EXPECT_EQ(mailboxes->Text(0, 1), "paolo.costa.1@comune.it");
  EXPECT_EQ(mailboxes->Text(1, 1), "p.costa.amatrice@comune.it");
  auto cards = (*db)->Exec("SELECT count(*) FROM registry.card_orders WHERE codice_fiscale = $1",
                           {pg::Param(paolo)});
  ASSERT_TRUE(cards.ok());
  EXPECT_EQ(cards->Int(0, 0), 1);
}

// A code the Agenzia delle Entrate issued with a mismatch does not block a comune forever:
// the refusal names the part, the Ministry accepts that part for that code, with a reason.
TEST_F(RegistryServerTest, TheMinistryAcceptsACodeIssuedWithAMismatch) {
  LoadReferenceAndDeclarations();
  auto ministry = As(Service("tessera-cli"));
  ASSERT_NO_FATAL_FAILURE(ImportSample(*ministry));
  v1::ComuneCensus census;
  {
    v1::Census stored;
    grpc::ClientContext context;
    v1::GetCensusRequest request;
    request.set_istat("057012");
    ASSERT_TRUE(ministry->GetCensus(&context, request, &stored).ok());
    census = stored.comune();
  }
  census.mutable_users(1)->set_name("Zeno");  // the name the holder goes by now
  const std::string cf = census.users(1).codice_fiscale();
  auto submit = [&] {
    v1::SubmitCensusRequest request;
    request.set_request_id(testing::NewRequestId());
    *request.mutable_census() = census;
    grpc::ClientContext context;
    v1::SubmitCensusResponse response;
    return ministry->SubmitCensus(&context, request, &response);
  };
  grpc::Status refused = submit();
  ASSERT_EQ(refused.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  ASSERT_EQ(Violations(refused).size(), 1u) << refused.error_message();
  EXPECT_EQ(Violations(refused)[0].field(), "users[1].name");
  EXPECT_NE(refused.error_message().find("the Ministry can accept the mismatch"),
            std::string::npos);

  auto accept = [&](v1::Registry::Stub& who, const std::string& part) {
    grpc::ClientContext context;
    v1::AcceptCodeMismatchRequest request;
    request.set_codice_fiscale(cf);
    request.set_part(part);
    request.set_reason("nome cambiato dopo l'attribuzione del codice (sentenza 2019)");
    request.set_request_id("accept-" + part);
    v1::AcceptCodeMismatchResponse response;
    return who.AcceptCodeMismatch(&context, request, &response);
  };
  EXPECT_EQ(accept(*As(Workstation("057012", 1)), "name").error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(accept(*ministry, "nickname").error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  ASSERT_TRUE(accept(*ministry, "name").ok());
  grpc::Status submitted = submit();
  EXPECT_TRUE(submitted.ok()) << submitted.error_message();

  auto db = pg::Connection::Open(*database_);
  ASSERT_TRUE(db.ok()) << db.status();
  auto row = (*db)->Exec(
      "SELECT part, accepted_by FROM registry.accepted_code_mismatches WHERE codice_fiscale = $1",
      {pg::Param(cf)});
  ASSERT_TRUE(row.ok()) << row.status();
  ASSERT_EQ(row->rows(), 1);
  EXPECT_EQ(row->Text(0, 0), "name");
  EXPECT_EQ(row->Text(0, 1), "tessera-cli");
}

// Personalization daemons claim the orders: each order goes to one daemon, what a card needs
// comes with it, a daemon restarted under its name gets its own back, and only tessera-perso
// may claim.
TEST_F(RegistryServerTest, PersonalizationClaimsTheOrders) {
  LoadReferenceAndDeclarations();
  auto ministry = As(Service("tessera-cli"));
  ASSERT_NO_FATAL_FAILURE(ImportSample(*ministry));
  for (const char* istat : {"057010", "057011"}) {
    ASSERT_NO_FATAL_FAILURE(SubmitDraft(*ministry, istat));
  }
  auto claim = [](v1::Registry::Stub& stub, const std::string& worker, uint32_t limit) {
    grpc::ClientContext context;
    v1::ClaimOrdersRequest request;
    request.set_worker(worker);
    request.set_limit(limit);
    v1::ClaimOrdersResponse response;
    grpc::Status status = stub.ClaimOrders(&context, request, &response);
    return std::make_pair(status, response);
  };
  auto perso = As(Service("tessera-perso"));
  auto [first_status, first] = claim(*perso, "station-a:101", 5);
  ASSERT_TRUE(first_status.ok()) << first_status.error_message();
  auto [second_status, second] = claim(*perso, "station-b:202", 100);
  ASSERT_TRUE(second_status.ok()) << second_status.error_message();
  EXPECT_EQ(first.cards_size(), 5);
  EXPECT_EQ(first.cards_size() + second.cards_size(), 8);  // 4 users each, all card holders
  EXPECT_EQ(first.workstations_size() + second.workstations_size(), 6);
  std::set<std::string> cards;
  for (const auto* r : {&first, &second}) {
    for (const v1::CardOrder& o : r->cards()) {
      cards.insert(o.card_number());
      EXPECT_EQ(o.card_number().substr(0, 6), o.ordered_by());
      EXPECT_FALSE(o.surname().empty());
      EXPECT_EQ(o.codice_fiscale().size(), 16u);
    }
  }
  EXPECT_EQ(cards.size(), 8u);  // no order twice
  EXPECT_EQ(second.workstations(0).common_id().substr(0, 6), second.workstations(0).ordered_by());
  // station-a restarted: the same five orders, none of station-b's.
  auto [again_status, again] = claim(*perso, "station-a:101", 5);
  ASSERT_TRUE(again_status.ok());
  ASSERT_EQ(again.cards_size(), 5);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(again.cards(i).card_number(), first.cards(i).card_number());
  EXPECT_EQ(claim(*perso, "station-c:303", 10).second.cards_size(), 0);
  {  // A batch's reach: station-a's claim for 057011 takes back only its 057011 orders.
    grpc::ClientContext context;
    v1::ClaimOrdersRequest scoped;
    scoped.set_worker("station-a:101");
    scoped.set_limit(100);
    scoped.set_istat("057011");
    v1::ClaimOrdersResponse response;
    ASSERT_TRUE(perso->ClaimOrders(&context, scoped, &response).ok());
    EXPECT_GT(response.cards_size(), 0);
    EXPECT_LT(response.cards_size(), 5);
    for (const v1::CardOrder& o : response.cards()) {
      EXPECT_EQ(o.card_number().substr(0, 6), "057011");
    }
    grpc::ClientContext refused_context;
    scoped.set_province_sigla("RI");  // and a comune: at most one
    EXPECT_EQ(perso->ClaimOrders(&refused_context, scoped, &response).error_code(),
              grpc::StatusCode::INVALID_ARGUMENT);
  }

  // Bad requests change nothing; other callers may not claim at all.
  EXPECT_EQ(claim(*perso, "", 5).first.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(claim(*perso, "station a", 5).first.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  grpc::Status too_many = claim(*perso, "station-a:101", 1001).first;
  EXPECT_EQ(too_many.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(too_many.error_message(), "limit: 1 to 1000");
  EXPECT_EQ(claim(*ministry, "cli", 5).first.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(claim(*As(Workstation("057010", 1)), "pc", 5).first.error_code(),
            grpc::StatusCode::PERMISSION_DENIED);

  // What station-a made of its first two cards: one produced, one failed; each result says.
  v1::ReportOrdersRequest report;
  report.set_worker("station-a:101");
  v1::OrderOutcome* produced = report.add_outcomes();
  produced->set_card_number(first.cards(0).card_number());
  produced->set_certificate_serial("7ee37ace69c15ee0");
  v1::OrderOutcome* failed = report.add_outcomes();
  failed->set_card_number(first.cards(1).card_number());
  failed->set_failure("card removed during key generation");
  v1::OrderOutcome* not_its = report.add_outcomes();  // station-b holds this one
  not_its->set_card_number(second.cards(0).card_number());
  not_its->set_certificate_serial("7ee37ace69c15ee1");
  auto send = [&](v1::Registry::Stub& stub) {
    grpc::ClientContext context;
    v1::ReportOrdersResponse response;
    grpc::Status status = stub.ReportOrders(&context, report, &response);
    return std::make_pair(status, response);
  };
  for (bool retry : {false, true}) {
    auto [status, response] = send(*perso);
    ASSERT_TRUE(status.ok()) << status.error_message();
    ASSERT_EQ(response.results_size(), 3);
    EXPECT_EQ(response.results(0).code(), 0) << response.results(0).message();
    EXPECT_EQ(response.results(0).repeated(), retry);
    EXPECT_EQ(response.results(1).code(), 0) << response.results(1).message();
    EXPECT_EQ(response.results(2).code(), grpc::StatusCode::FAILED_PRECONDITION);
    EXPECT_NE(response.results(2).message().find("not held by tessera-perso/station-a:101"),
              std::string::npos)
        << response.results(2).message();
  }
  // Neither order comes back to a claim; nobody but personalization reports.
  auto [after_status, after] = claim(*perso, "station-a:101", 5);
  ASSERT_TRUE(after_status.ok());
  EXPECT_EQ(after.cards_size(), 3);
  EXPECT_EQ(send(*ministry).first.error_code(), grpc::StatusCode::PERMISSION_DENIED);
}

// The Ministry's operators (by the codice fiscale their cards name) may do what the Ministry
// does; any other operator may not.
TEST_F(RegistryServerTest, MinistryOperatorsActForTheMinistryWhileTheirRecordLasts) {
  LoadReferenceAndDeclarations();
  auto cli = As(Service("tessera-cli"));
  ASSERT_NO_FATAL_FAILURE(ImportSample(*cli));
  auto ministry_operator = As(Operator(kMinistryOperator));
  auto other_operator = As(Operator("BNCNNA90A41H501T"));
  auto list = [](v1::Registry::Stub& stub) {
    grpc::ClientContext context;
    v1::ListCensusesRequest request;
    request.set_page_size(1000);
    v1::ListCensusesResponse response;
    grpc::Status status = stub.ListCensuses(&context, request, &response);
    return std::make_pair(status, response.censuses_size());
  };
  auto remove = [&](const std::string& request_id) {
    grpc::ClientContext context;
    v1::RemoveMinistryOperatorRequest request;
    request.set_codice_fiscale(kMinistryOperator);
    request.set_reason("trasferito ad altro ufficio");
    request.set_request_id(request_id);
    v1::RemoveMinistryOperatorResponse response;
    return cli->RemoveMinistryOperator(&context, request, &response);
  };
  // A card alone is nobody at the Ministry: only the Ministry's record makes it so.
  EXPECT_EQ(list(*ministry_operator).first.error_code(), grpc::StatusCode::PERMISSION_DENIED);

  v1::AddMinistryOperatorResponse added;
  grpc::Status status = testing::AddMinistryOperator(*cli, &added);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_TRUE(added.card_number().starts_with("000000")) << added.card_number();
  EXPECT_TRUE(added.new_card());
  v1::AddMinistryOperatorResponse again;
  ASSERT_TRUE(testing::AddMinistryOperator(*cli, &again).ok());  // a retry
  EXPECT_TRUE(again.repeated());
  EXPECT_EQ(again.card_number(), added.card_number());

  auto [listed, count] = list(*ministry_operator);
  ASSERT_TRUE(listed.ok()) << listed.error_message();
  EXPECT_EQ(count, 73);
  EXPECT_TRUE(CensusStatus(*ministry_operator, "057042").ok());
  {
    grpc::ClientContext context;
    v1::IssueAccessCodeRequest request;
    request.set_request_id(testing::NewRequestId());
    request.set_istat("057042");
    v1::IssueAccessCodeResponse response;
    EXPECT_TRUE(ministry_operator->IssueAccessCode(&context, request, &response).ok());
  }
  {
    grpc::ClientContext context;
    v1::ListMinistryOperatorsResponse response;
    ASSERT_TRUE(ministry_operator->ListMinistryOperators(&context, {}, &response).ok());
    ASSERT_EQ(response.operators_size(), 1);
    EXPECT_EQ(response.operators(0).person().codice_fiscale(), kMinistryOperator);
    EXPECT_EQ(response.operators(0).card_number(), added.card_number());
  }
  EXPECT_EQ(list(*other_operator).first.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  grpc::Status scoped = CensusStatus(*other_operator, "057042");
  EXPECT_EQ(scoped.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_NE(scoped.error_message().find("a comune may act only on its own census"),
            std::string::npos)
      << scoped.error_message();
  // Nobody else names the Ministry's operators.
  {
    grpc::ClientContext context;
    v1::AddMinistryOperatorRequest request;
    v1::AddMinistryOperatorResponse response;
    EXPECT_EQ(other_operator->AddMinistryOperator(&context, request, &response).error_code(),
              grpc::StatusCode::PERMISSION_DENIED);
  }
  // Orders are personalization's, not the Ministry's.
  {
    grpc::ClientContext context;
    v1::ClaimOrdersRequest request;
    request.set_worker("x");
    request.set_limit(1);
    v1::ClaimOrdersResponse response;
    EXPECT_EQ(ministry_operator->ClaimOrders(&context, request, &response).error_code(),
              grpc::StatusCode::PERMISSION_DENIED);
  }

  // Removed: the same card is refused at once on this replica, and the change is on record.
  ASSERT_TRUE(remove("test-remove-ministry-operator").ok());
  EXPECT_TRUE(remove("test-remove-ministry-operator").ok());  // a retry
  EXPECT_EQ(remove("test-remove-again").error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(list(*ministry_operator).first.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  auto db = pg::Connection::Open(*database_);
  ASSERT_TRUE(db.ok()) << db.status();
  auto changes = (*db)->Exec(
      "SELECT change, changed_by_kind, changed_by, reason FROM "
      "registry.ministry_operator_changes ORDER BY id");
  ASSERT_TRUE(changes.ok()) << changes.status();
  ASSERT_EQ(changes->rows(), 2);
  EXPECT_EQ(changes->Text(0, 0), "added");
  EXPECT_EQ(changes->Text(0, 2), "tessera-cli");
  EXPECT_EQ(changes->Text(1, 0), "removed");
  EXPECT_EQ(changes->Text(1, 3), "trasferito ad altro ufficio");
  // The record is append-only.
  EXPECT_FALSE((*db)->Exec("DELETE FROM registry.ministry_operator_changes").ok());
}

// Whoever the Ministry names must be a real person: every wrong field is named, nothing kept.
TEST_F(RegistryServerTest, AMinistryOperatorIsCheckedLikeACensusUser) {
  LoadReferenceAndDeclarations();
  auto cli = As(Service("tessera-cli"));
  grpc::ClientContext context;
  v1::AddMinistryOperatorRequest request;
  v1::CensusUser& p = *request.mutable_operator_();
  p = testing::RossiMario();
  p.set_codice_fiscale("RSSMRA85T10H501A");  // wrong check character
  p.set_email("mario.rossi@pec.it");         // a PEC is no personal mailbox
  request.set_reason("prova");
  request.set_request_id("test-bad-operator");
  v1::AddMinistryOperatorResponse response;
  grpc::Status status = cli->AddMinistryOperator(&context, request, &response);
  ASSERT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  v1::BadRequest details;
  ASSERT_TRUE(details.ParseFromString(status.error_details()));
  std::set<std::string> fields;
  for (const auto& v : details.violations()) fields.insert(v.field());
  EXPECT_EQ(fields, (std::set<std::string>{"operator.codice_fiscale", "operator.email"}))
      << status.error_message();
  auto db = pg::Connection::Open(*database_);
  ASSERT_TRUE(db.ok()) << db.status();
  auto kept = (*db)->Exec(
      "SELECT count(*) FROM registry.ministry_operator_changes WHERE request_id = "
      "'test-bad-operator'");
  ASSERT_TRUE(kept.ok()) << kept.status();
  EXPECT_EQ(kept->Int(0, 0), 0);
}

TEST_F(RegistryServerTest, OtherServicesMayNotLoadReferenceData) {
  auto perso = As(Service("tessera-perso"));
  grpc::ClientContext context;
  v1::LoadReferenceRequest request;
  request.set_request_id(testing::NewRequestId());
  v1::LoadReferenceResponse response;
  EXPECT_EQ(perso->LoadReference(&context, request, &response).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
}

// Secrets this run used (the CA token's PIN, an access code, a workstation bundle's password)
// are nowhere in clear: not in either service's log, not in a pg_dump of either database, not
// in tessera-ca's environment.
TEST_F(RegistryServerTest, SecretsAreInNoLogDumpOrEnvironment) {
  LoadReferenceAndDeclarations();
  auto ministry = As(Service("tessera-cli"));
  grpc::ClientContext context;
  v1::IssueAccessCodeRequest request;
  request.set_request_id(testing::NewRequestId());
  request.set_istat("057010");
  v1::IssueAccessCodeResponse issued;
  ASSERT_TRUE(ministry->IssueAccessCode(&context, request, &issued).ok());
  const std::string code = issued.access_code();
  auto comune = v1::Registry::NewStub(
      CredentialChannel("localhost:" + std::to_string(server_->port()),
                        testing::ReadFileOrDie(Pki("bundle.pem")), "AccessCode " + code));
  CensusStatus(*comune, "057010");
  CensusStatus(*comune, "057011");  // refused: another comune's census
  const std::string wrong = code.substr(0, code.size() - 5) + "ZZZZZ";
  CensusStatus(*v1::Registry::NewStub(CredentialChannel(
                   "localhost:" + std::to_string(server_->port()),
                   testing::ReadFileOrDie(Pki("bundle.pem")), "AccessCode " + wrong)),
               "057010");
  // A workstation bundle: its password is a secret too.
  testing::CommandResult bundle = testing::RunCommand(
      std::string(TESSERA_BIN_DIR) + "/tessera --target localhost:" + std::to_string(ca_->port()) +
      " --ca " + Pki("bundle.pem") + " --cert " + Pki("tessera-cli.pem") + " --key " +
      Pki("tessera-cli.key") + " ca bundle --istat 057010 --progressive 1 --out " +
      dir_->File("ws.p12"));
  ASSERT_EQ(bundle.exit_code, 0) << bundle.output;
  std::string password = testing::ReadFileOrDie(dir_->File("ws.p12.pass"));
  password.erase(password.find_last_not_of('\n') + 1);
  ASSERT_GE(password.size(), 16u);

  const std::vector<std::pair<std::string, std::string>> secrets = {
      {"the CA token's PIN", testing::kTestCaPin},
      {"the access code", code},
      {"the access code without dashes", absl::StrReplaceAll(code, {{"-", ""}})},
      {"a wrong access code", wrong},
      {"the bundle password", password}};
  std::vector<std::pair<std::string, std::string>> places = {
      {"ca.log", testing::ReadFileOrDie(dir_->File("ca.log"))},
      {"registry.log", testing::ReadFileOrDie(dir_->File("registry.log"))},
      {"tessera-ca's environment",
       testing::ReadFileOrDie("/proc/" + std::to_string(ca_->pid()) + "/environ")}};
  for (const std::string* conninfo : {ca_conninfo_, registry_conninfo_}) {
    testing::CommandResult dump =
        testing::RunCommand("pg_dump --data-only " + testing::ShellQuote(*conninfo));
    ASSERT_EQ(dump.exit_code, 0) << dump.output.substr(0, 500);
    ASSERT_GT(dump.output.size(), 1000u);
    places.emplace_back("pg_dump of " + *conninfo, dump.output);
  }
  for (const auto& [what, secret] : secrets) {
    for (const auto& [where, text] : places) {
      EXPECT_EQ(text.find(secret), std::string::npos) << what << " found in " << where;
    }
  }
}

// The daemon's own client (services/perso/registry_orders.h) over the same door: what it
// claims it reports, and what it reported is not claimed again.
TEST_F(RegistryServerTest, ThePersonalizationClientClaimsAndReportsThroughTheRegistry) {
  LoadReferenceAndDeclarations();
  auto ministry = As(Service("tessera-cli"));
  ASSERT_NO_FATAL_FAILURE(ImportSample(*ministry));
  ASSERT_NO_FATAL_FAILURE(SubmitDraft(*ministry, "057012"));
  // A batch reaching another comune finds nothing of 057012's.
  perso_service::RegistryOrders elsewhere(ChannelAs(Service("tessera-perso")), "station-x:7",
                                          {.istat = "057001"});
  auto nothing = elsewhere.Claim(100);
  ASSERT_TRUE(nothing.ok()) << nothing.status();
  EXPECT_TRUE(nothing->cards.empty() && nothing->workstations.empty());
  perso_service::RegistryOrders orders(ChannelAs(Service("tessera-perso")), "station-z:9",
                                       {.province_sigla = "RI"});
  auto work = orders.Claim(100);
  ASSERT_TRUE(work.ok()) << work.status();
  ASSERT_GE(work->cards.size(), 2u);
  ASSERT_FALSE(work->workstations.empty());
  EXPECT_EQ(work->cards[0].card_number.substr(0, 6), "057012");
  EXPECT_EQ(work->cards[0].codice_fiscale.size(), 16u);
  const std::vector<personalization::Outcome> outcomes = {
      {true, work->cards[0].card_number, "5eed01", ""},
      {true, work->cards[1].card_number, "", "card removed during key generation"},
      {false, work->workstations[0], "5eed02", ""}};
  for (int round = 0; round < 2; ++round) {  // the second is a retry: the same answers
    auto reported = orders.Report(outcomes);
    ASSERT_TRUE(reported.ok()) << reported.status();
    ASSERT_EQ(reported->size(), 3u);
    for (const absl::Status& status : *reported) EXPECT_TRUE(status.ok()) << status;
  }
  auto left = orders.Claim(100);
  ASSERT_TRUE(left.ok());
  EXPECT_EQ(left->cards.size(), work->cards.size() - 2);
  EXPECT_EQ(left->workstations.size(), work->workstations.size() - 1);
  // Another worker may not report what this one holds.
  ASSERT_FALSE(left->cards.empty());
  perso_service::RegistryOrders other(ChannelAs(Service("tessera-perso")), "station-y:8");
  auto refused = other.Report(
      std::vector<personalization::Outcome>{{true, left->cards[0].card_number, "5eed03", ""}});
  ASSERT_TRUE(refused.ok());
  EXPECT_EQ((*refused)[0].code(), absl::StatusCode::kFailedPrecondition) << (*refused)[0];
}

}  // namespace
}  // namespace tessera
