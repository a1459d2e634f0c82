// tessera-perso as a process, with tessera-ca and tessera-registry over mTLS, SoftHSM cards and
// PostgreSQL: a Ministry batch of one comune's orders becomes proved cards (pkcs11-tool and
// openssl verify agree) and workstation bundles, each order reported to the registry once;
// the batch says how far it is and why a reader waits; bad requests are refused with the field.
#include <botan/x509cert.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <filesystem>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <random>
#include <set>
#include <thread>

#include "hsm/secret_sealer.h"
#include "personalization/credentials.h"
#include "personalization/pg_card_journal.h"
#include "platform/clock.h"
#include "platform/pg_pool.h"
#include "platform/rpc_client.h"
#include "proto/perso.grpc.pb.h"
#include "proto/registry.grpc.pb.h"
#include "services/registry/census_upload.h"
#include "tests/support/registry_calls.h"
#include "tests/support/run.h"
#include "tests/support/service_process.h"
#include "tests/support/test_ceremony.h"
#include "tests/support/test_hsm.h"
#include "tests/support/test_pg.h"

namespace tessera {
namespace {

using testing::TestSoftHsm;

constexpr char kComune[] = "057012";  // a comune of the sample census (Rieti)

// How many times `what` stands in `text`.
size_t Occurrences(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = 0; (at = text.find(what, at)) != std::string::npos; at += what.size()) ++n;
  return n;
}

// `p11` (a pkcs11-tool command naming its module, and a SOFTHSM2_CONF if need be) logs in to
// card `number` with `pin` and lists its objects: one private key and one certificate.
void ExpectOneKeyPairAndCertificate(const std::string& p11, const std::string& number,
                                    const Secret& pin) {
  auto objects = testing::RunCommand(p11 + " --token-label " + number + " --login --pin " +
                                     std::string(pin.view()) + " -O");
  ASSERT_EQ(objects.exit_code, 0) << number << objects.output;
  EXPECT_EQ(Occurrences(objects.output, "Private Key Object"), 1u) << number << objects.output;
  EXPECT_EQ(Occurrences(objects.output, "Certificate Object"), 1u) << number << objects.output;
}

class CardLine;

// The text column of every row of `sql` on database `conninfo` (a test's look at what a service
// recorded).
std::vector<std::string> Column(const std::string& conninfo, const std::string& sql) {
  pg::ConnectionPool pool(conninfo, 1);
  auto conn = pool.Acquire();
  if (!conn.ok()) {
    ADD_FAILURE() << conn.status();
    return {""};
  }
  auto r = (*conn)->Exec(sql);
  if (!r.ok()) {
    ADD_FAILURE() << r.status();
    return {""};
  }
  std::vector<std::string> values;
  for (int row = 0; row < r->rows(); ++row) values.emplace_back(r->Text(row, 0));
  return values;
}

class PersoBatchTest : public ::testing::Test {
 protected:
  friend class CardLine;
  static void SetUpTestSuite() {
    ca_ = new testing::RunningCa("tessera-e2e-batch",
                                 {{"tessera-ca", {"localhost"}, {"127.0.0.1"}},
                                  {"tessera-registry", {"localhost"}, {"127.0.0.1"}},
                                  {"tessera-perso", {"localhost"}, {"127.0.0.1"}},
                                  {"tessera-cli", {"localhost"}, {}},
                                  {"tessera-dispatch", {"localhost"}, {}}});
    const std::string run = ca_->dir().path().string();
    testing::TestPg& pg = testing::TestPg::Get();
    registry_conninfo_ = new std::string(pg.ConnInfo(pg.CreateDatabase()));
    ca_->hierarchy().WriteRegistryConfig(ca_->dir().File("registry.toml"), *registry_conninfo_,
                                         run);
    registry_ = new testing::ServiceProcess("tessera-registry", ca_->dir().File("registry.toml"),
                                            ca_->dir().File("registry-port"),
                                            ca_->dir().File("registry.log"));
    CensusOfTheSample();

    // The vault: the token whose AES key seals the halves, shared with this test process so
    // that it can open them.
    vault_label_ = new std::string(TestSoftHsm::UniqueLabel("vault"));
    auto vault = TestSoftHsm::Get().CreateToken(*vault_label_);
    auto sealer = hsm::SecretSealer::Open(vault, "card-halves", /*create_if_missing=*/true);
    if (!sealer.ok()) throw std::runtime_error(sealer.status().ToString());
    sealer_ = new hsm::SecretSealer(*std::move(sealer));

    perso_conninfo_ = new std::string(pg.ConnInfo(pg.CreateDatabase()));
    station_ = new testing::PersoStation{.conninfo = *perso_conninfo_,
                                         .port_file = ca_->dir().File("perso-port"),
                                         .spool = ca_->dir().File("spool"),
                                         .archive = ca_->dir().File("archive"),
                                         .cards_module = TestSoftHsm::Get().module_path(),
                                         .vault_module = TestSoftHsm::Get().module_path(),
                                         .vault_label = *vault_label_};
    WriteStation(*station_);
    setenv("TESSERA_VAULT_PIN", testing::kTestUserPin, 1);
    StartPerso("perso.log");
  }
  // perso.toml for `station`.
  static void WriteStation(const testing::PersoStation& station) {
    ca_->hierarchy().WritePersoConfig(ca_->dir().File("perso.toml"), station,
                                      ca_->dir().path().string(), ca_->server().port(),
                                      registry_->port());
  }
  // tessera-perso (again), its log in `log`.
  static void StartPerso(const std::string& log) {
    perso_ = new testing::ServiceProcess("tessera-perso", ca_->dir().File("perso.toml"),
                                         ca_->dir().File("perso-port"), ca_->dir().File(log));
  }
  static void TearDownTestSuite() {
    if (perso_ != nullptr) {
      EXPECT_EQ(perso_->Stop(), 0) << "tessera-perso did not shut down cleanly";
    }
    if (registry_ != nullptr) {
      EXPECT_EQ(registry_->Stop(), 0) << "tessera-registry did not shut down cleanly";
    }
    delete perso_;
    delete registry_;
    delete sealer_;
    delete station_;
    delete vault_label_;
    delete perso_conninfo_;
    delete registry_conninfo_;
    delete ca_;
  }

  void SetUp() override {
    if (perso_ == nullptr) GTEST_FAIL() << "the suite's services did not start";
  }

  static std::string Pki(const std::string& file) { return ca_->hierarchy().Pki(file); }
  // Card `number`'s credentials, opened from its journal with the vault's key.
  static absl::StatusOr<personalization::CardCredentials> CredentialsOf(const std::string& number) {
    pg::ConnectionPool pool(*perso_conninfo_, 1);
    SystemClock clock;
    personalization::PgCardJournal journal(pool, clock);
    absl::StatusOr<std::optional<personalization::CardRecord>> record = journal.Load(number);
    if (!record.ok()) return record.status();
    if (!record->has_value()) return absl::NotFoundError(number + " has no journal");
    return personalization::OpenCredentials(*sealer_, number, (*record)->envelope, (*record)->mail);
  }
  static std::shared_ptr<grpc::Channel> ChannelAs(const std::string& service, int port) {
    const testing::TlsIdentity who = ca_->hierarchy().ServiceIdentity(service);
    return MtlsChannel("localhost:" + std::to_string(port),
                       testing::ReadFileOrDie(Pki("bundle.pem")), who.cert_pem, who.key_pem);
  }
  static std::unique_ptr<v1::Personalization::Stub> Perso(const std::string& as = "tessera-cli") {
    return v1::Personalization::NewStub(ChannelAs(as, perso_->port()));
  }

  // The Ministry loads the reference lists, declares Rieti's comuni, imports the sample census
  // and submits comune kComune's: its persons' cards and its workstations are ordered.
  static void CensusOfTheSample() {
    auto ministry = v1::Registry::NewStub(ChannelAs("tessera-cli", registry_->port()));
    grpc::Status loaded = testing::LoadReferenceLists(*ministry);
    if (!loaded.ok()) throw std::runtime_error("LoadReference: " + loaded.error_message());
    if (grpc::Status s = testing::DeclareRietiComuni(*ministry); !s.ok()) {
      throw std::runtime_error("SetDeclaration: " + s.error_message());
    }
    grpc::ClientContext import;
    v1::ImportCensusResponse imported;
    grpc::Status s = registry_service::UploadCensusFile(
        *ministry, import,
        testing::ReadFileOrDie(std::string(TESSERA_SOURCE_DIR) + "/deploy/sample/census_rieti.csv"),
        testing::NewRequestId(), &imported);
    if (!s.ok()) throw std::runtime_error("ImportCensus: " + s.error_message());
    if (s = testing::SubmitComuneDraft(*ministry, kComune); !s.ok()) {
      throw std::runtime_error("submitting " + std::string(kComune) + ": " + s.error_message());
    }
  }

  static v1::Batch Create(const v1::BatchReach& reach, const std::string& request_id) {
    auto perso = Perso();
    grpc::ClientContext context;
    v1::CreateBatchRequest request;
    request.set_name("prova " + request_id);
    *request.mutable_reach() = reach;
    request.set_request_id(request_id);
    v1::Batch batch;
    grpc::Status status = perso->CreateBatch(&context, request, &batch);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return batch;
  }
  static grpc::Status Act(const std::string& rpc, int64_t id, const std::string& request_id,
                          v1::Batch* batch) {
    auto perso = Perso();
    grpc::ClientContext context;
    v1::BatchChange change;
    change.set_id(id);
    change.set_request_id(request_id);
    if (rpc == "run") return perso->RunBatch(&context, change, batch);
    if (rpc == "pause") return perso->PauseBatch(&context, change, batch);
    return perso->CancelBatch(&context, change, batch);
  }
  // WatchBatch until `done` says so or `seconds` pass: every update seen, in order.
  static std::vector<v1::Batch> Watch(int64_t id, const std::function<bool(const v1::Batch&)>& done,
                                      int seconds) {
    auto perso = Perso();
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(seconds));
    v1::WatchBatchRequest request;
    request.set_id(id);
    request.set_interval_ms(200);
    auto reader = perso->WatchBatch(&context, request);
    std::vector<v1::Batch> seen;
    v1::Batch update;
    while (reader->Read(&update)) {
      seen.push_back(update);
      if (done(update)) {
        context.TryCancel();
        break;
      }
    }
    reader->Finish();
    return seen;
  }
  // The batch as WatchBatch last showed it, once finished or when `seconds` passed (its state
  // then says so; an empty Batch if the stream showed nothing).
  static v1::Batch WatchUntilFinished(int64_t id, int seconds) {
    const std::vector<v1::Batch> seen = Watch(
        id, [](const v1::Batch& b) { return b.state() == v1::BATCH_FINISHED; }, seconds);
    return seen.empty() ? v1::Batch() : seen.back();
  }

  // Every other comune of Rieti submits its census: the province's orders (a few hundred
  // cards and workstations) wait for personalization.
  static void SubmitTheRestOfRieti() {
    auto ministry = v1::Registry::NewStub(ChannelAs("tessera-cli", registry_->port()));
    for (int n = 1; n <= 73; ++n) {
      char istat[8];
      std::snprintf(istat, sizeof istat, "057%03d", n);
      v1::Census draft;
      grpc::ClientContext get;
      v1::GetCensusRequest which;
      which.set_istat(istat);
      if (!ministry->GetCensus(&get, which, &draft).ok() || !draft.has_comune() ||
          draft.submitted()) {
        continue;  // a gap in Rieti's numbering, or 057012 submitted before
      }
      v1::SubmitCensusRequest submit;
      submit.set_request_id(testing::NewRequestId());
      *submit.mutable_census() = draft.comune();
      grpc::ClientContext context;
      v1::SubmitCensusResponse submitted;
      grpc::Status status = ministry->SubmitCensus(&context, submit, &submitted);
      ASSERT_TRUE(status.ok()) << istat << ": " << status.error_message();
    }
  }

  static testing::RunningCa* ca_;
  static testing::ServiceProcess* registry_;
  static testing::ServiceProcess* perso_;
  static hsm::SecretSealer* sealer_;
  static std::string* vault_label_;
  static std::string* perso_conninfo_;
  static std::string* registry_conninfo_;
  static testing::PersoStation* station_;
};

testing::RunningCa* PersoBatchTest::ca_ = nullptr;
testing::ServiceProcess* PersoBatchTest::registry_ = nullptr;
testing::ServiceProcess* PersoBatchTest::perso_ = nullptr;
hsm::SecretSealer* PersoBatchTest::sealer_ = nullptr;
std::string* PersoBatchTest::vault_label_ = nullptr;
std::string* PersoBatchTest::perso_conninfo_ = nullptr;
std::string* PersoBatchTest::registry_conninfo_ = nullptr;
testing::PersoStation* PersoBatchTest::station_ = nullptr;

TEST_F(PersoBatchTest, AComunesBatchBecomesProvedCardsAndBundlesEachReportedOnce) {
  v1::BatchReach reach;
  reach.set_istat(kComune);
  const v1::Batch created = Create(reach, "batch-comune");
  ASSERT_GT(created.id(), 0);
  EXPECT_EQ(created.state(), v1::BATCH_CREATED);
  EXPECT_EQ(created.created_by(), "tessera-cli");
  // A retry of the create is the same batch.
  EXPECT_EQ(Create(reach, "batch-comune").id(), created.id());

  v1::Batch running;
  grpc::Status run = Act("run", created.id(), "run-comune", &running);
  ASSERT_TRUE(run.ok()) << run.error_message();
  EXPECT_EQ(running.state(), v1::BATCH_RUNNING);

  const std::vector<v1::Batch> seen = Watch(
      created.id(), [](const v1::Batch& b) { return b.state() == v1::BATCH_FINISHED; }, 180);
  ASSERT_FALSE(seen.empty());
  const v1::Batch& last = seen.back();
  ASSERT_EQ(last.state(), v1::BATCH_FINISHED)
      << last.DebugString() << testing::ReadFileOrDie(ca_->dir().File("perso.log"));
  EXPECT_GE(last.cards_produced(), 1u);
  EXPECT_EQ(last.cards_failed(), 0u) << last.DebugString();
  EXPECT_GE(last.workstations_produced(), 2u);  // the server 0099 and at least one more
  EXPECT_EQ(last.workstations_failed(), 0u) << last.DebugString();
  EXPECT_EQ(last.open_orders(), 0u);
  // The stream showed readers at work on the way.
  bool saw_a_reader = false;
  for (const v1::Batch& b : seen) saw_a_reader |= b.readers_size() > 0;
  EXPECT_TRUE(saw_a_reader);

  // Finished is final: running it again names the state.
  v1::Batch again;
  grpc::Status rerun = Act("run", created.id(), "run-comune-again", &again);
  EXPECT_EQ(rerun.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_NE(rerun.error_message().find("is finished"), std::string::npos) << rerun.error_message();

  // The ended batch becomes one sealed lot for the comune, bound for the prefettura of Rieti,
  // with its print files: every card's face, and an envelope sheet per card (0600) with the
  // envelope halves and never a mail half.
  v1::Lot lot;
  for (int i = 0; i < 100 && lot.cards_file().empty(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    v1::ListLotsResponse lots;
    grpc::ClientContext context;
    ASSERT_TRUE(Perso()->ListLots(&context, v1::ListLotsRequest(), &lots).ok());
    for (const v1::Lot& l : lots.lots()) {
      if (l.batch_id() == created.id()) lot = l;
    }
  }
  ASSERT_FALSE(lot.cards_file().empty()) << testing::ReadFileOrDie(ca_->dir().File("perso.log"));
  EXPECT_EQ(lot.lot_number().size(), 10u);
  EXPECT_EQ(lot.office(), kComune);
  EXPECT_EQ(lot.prefettura(), "RI");
  EXPECT_NE(lot.office_name().find("(RI)"), std::string::npos) << lot.office_name();
  EXPECT_EQ(std::filesystem::status(lot.envelopes_file()).permissions(),
            std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  const std::string faces = testing::RunCommand("pdftotext " + lot.cards_file() + " -").output;
  // Each produced card's token left the daemon's live SoftHSM store, and the sealed lot's
  // tokens are in the lot's archive, itself a token directory that pkcs11-tool reads.
  const std::string lot_archive = ca_->dir().File("archive") + "/lot-" + lot.lot_number();
  testing::WriteFile(ca_->dir().File("lot-softhsm2.conf"),
                     "directories.tokendir = " + lot_archive + "\nobjectstore.backend = file\n");
  const std::string in_lot_p11 = "SOFTHSM2_CONF=" + ca_->dir().File("lot-softhsm2.conf") +
                                 " pkcs11-tool --module " + TestSoftHsm::Get().module_path();
  const std::string envelopes =
      testing::RunCommand("pdftotext " + lot.envelopes_file() + " -").output;

  // Every card: on its token one key pair and its certificate (pkcs11-tool), the certificate
  // chaining to the root (openssl verify); on the lot's card faces and envelope sheets.
  pg::ConnectionPool pool(*perso_conninfo_, 1);
  SystemClock clock;
  personalization::PgCardJournal journal(pool, clock);
  absl::StatusOr<pg::Result> cards = absl::UnknownError("not asked");
  {
    auto conn = pool.Acquire();
    ASSERT_TRUE(conn.ok());
    cards = (*conn)->Exec(
        "SELECT order_id FROM perso.batch_results WHERE card AND batch_id = $1 ORDER BY order_id",
        {pg::Param(created.id())});
  }
  ASSERT_TRUE(cards.ok()) << cards.status();
  ASSERT_EQ(static_cast<uint32_t>(cards->rows()), last.cards_produced());
  for (int row = 0; row < cards->rows(); ++row) {
    const std::string number(cards->Text(row, 0));
    EXPECT_EQ(number.substr(0, 6), kComune);
    auto record = journal.Load(number);
    ASSERT_TRUE(record.ok() && record->has_value()) << number;
    EXPECT_EQ((*record)->done, personalization::CardStep::kProved);
    auto credentials =
        personalization::OpenCredentials(*sealer_, number, (*record)->envelope, (*record)->mail);
    ASSERT_TRUE(credentials.ok()) << credentials.status();
    EXPECT_NE(faces.find(number), std::string::npos) << number;
    EXPECT_NE(envelopes.find(number), std::string::npos) << number;
    const personalization::Halves password = personalization::Split(credentials->password);
    EXPECT_NE(envelopes.find(std::string(password.envelope.view())), std::string::npos);
    EXPECT_EQ(envelopes.find(std::string(password.mail.view())), std::string::npos);
    EXPECT_EQ(faces.find(std::string(password.envelope.view())), std::string::npos);
    ExpectOneKeyPairAndCertificate(in_lot_p11, number, credentials->pin);
    const std::string pem = ca_->dir().File(number + ".pem");
    testing::WriteFile(pem, Botan::X509_Certificate((*record)->certificate).PEM_encode());
    auto verified = testing::RunCommand("openssl verify -x509_strict -CAfile " + Pki("root.pem") +
                                        " -untrusted " + Pki("operators.pem") + " " + pem);
    EXPECT_EQ(verified.exit_code, 0) << verified.output;
  }

  // The print confirmed: the envelope file is gone, the sealed envelope halves too; the mail
  // halves stay for the holder's registration.
  v1::BatchChange printed;
  printed.set_id(created.id());
  printed.set_request_id("printed-comune");
  v1::ConfirmPrintedResponse confirmed;
  {
    grpc::ClientContext context;
    ASSERT_TRUE(Perso()->ConfirmPrinted(&context, printed, &confirmed).ok());
  }
  ASSERT_EQ(confirmed.lots_size(), 1);
  EXPECT_EQ(confirmed.lots(0), lot.lot_number());
  EXPECT_FALSE(std::filesystem::exists(lot.envelopes_file()));
  EXPECT_TRUE(std::filesystem::exists(lot.cards_file()));
  for (int row = 0; row < cards->rows(); ++row) {
    auto record = journal.Load(std::string(cards->Text(row, 0)));
    ASSERT_TRUE(record.ok() && record->has_value());
    EXPECT_TRUE((*record)->envelope.pin.empty() && (*record)->envelope.password.empty());
    EXPECT_FALSE((*record)->mail.pin.empty());
  }
  {
    grpc::ClientContext context;  // a retry: nothing left to confirm
    ASSERT_TRUE(Perso()->ConfirmPrinted(&context, printed, &confirmed).ok());
    EXPECT_EQ(confirmed.lots_size(), 0);
  }

  // Only the dispatch service takes the lot over, once.
  v1::HandOverLotRequest hand_over;
  hand_over.set_lot_number(lot.lot_number());
  v1::Lot taken;
  {
    grpc::ClientContext context;
    EXPECT_EQ(Perso()->HandOverLot(&context, hand_over, &taken).error_code(),
              grpc::StatusCode::PERMISSION_DENIED);
  }
  for (int attempt = 0; attempt < 2; ++attempt) {  // the second is a retry
    grpc::ClientContext context;
    grpc::Status status = Perso("tessera-dispatch")->HandOverLot(&context, hand_over, &taken);
    ASSERT_TRUE(status.ok()) << status.error_message();
    EXPECT_TRUE(taken.handed_over());
    EXPECT_EQ(static_cast<uint32_t>(taken.cards_size()), last.cards_produced());
    EXPECT_TRUE(taken.printed());
  }

  // The dispatch service, and only it, opens one card's mail halves (the holder's mail); each
  // request is recorded once, in an append-only table; bad input names the field.
  {
    const std::string number(cards->Text(0, 0));
    auto record = journal.Load(number);
    ASSERT_TRUE(record.ok() && record->has_value());
    // The print confirmed, only the sealed mail halves are left to open.
    auto mail_half = [&](personalization::Credential credential) {
      auto half =
          personalization::OpenHalf(*sealer_, number, credential, personalization::Half::kMail,
                                    (*record)->mail.Get(credential));
      EXPECT_TRUE(half.ok()) << half.status();
      return half.ok() ? std::string(half->view()) : std::string();
    };
    v1::ReleaseMailHalvesRequest release;
    release.set_card_number(number);
    release.set_request_id("release-" + number);
    v1::MailHalves halves;
    {
      grpc::ClientContext context;
      EXPECT_EQ(Perso()->ReleaseMailHalves(&context, release, &halves).error_code(),
                grpc::StatusCode::PERMISSION_DENIED);
    }
    for (int attempt = 0; attempt < 2; ++attempt) {  // the second is a retry
      grpc::ClientContext context;
      grpc::Status status =
          Perso("tessera-dispatch")->ReleaseMailHalves(&context, release, &halves);
      ASSERT_TRUE(status.ok()) << status.error_message();
      EXPECT_EQ(halves.pin_half(), mail_half(personalization::Credential::kPin));
      EXPECT_EQ(halves.puk_half(), mail_half(personalization::Credential::kPuk));
      EXPECT_EQ(halves.password_half(), mail_half(personalization::Credential::kPassword));
      EXPECT_FALSE(halves.password_half().empty());
    }
    auto refused = [&](const std::string& card, const std::string& request_id) {
      v1::ReleaseMailHalvesRequest bad;
      bad.set_card_number(card);
      bad.set_request_id(request_id);
      grpc::ClientContext context;
      return Perso("tessera-dispatch")->ReleaseMailHalves(&context, bad, &halves);
    };
    grpc::Status malformed = refused("12", "release-bad");
    EXPECT_EQ(malformed.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_NE(malformed.error_message().find("card_number"), std::string::npos);
    EXPECT_EQ(refused("0000000000000000", "release-unknown").error_code(),
              grpc::StatusCode::NOT_FOUND);
    if (cards->rows() > 1) {
      EXPECT_EQ(refused(std::string(cards->Text(1, 0)), "release-" + number).error_code(),
                grpc::StatusCode::ALREADY_EXISTS);
    }
    auto conn = pool.Acquire();
    ASSERT_TRUE(conn.ok());
    auto asked = (*conn)->Exec(
        "SELECT card_number, asked_by FROM perso.mail_half_requests ORDER BY request_id");
    ASSERT_TRUE(asked.ok()) << asked.status();
    ASSERT_EQ(asked->rows(), 1);
    EXPECT_EQ(asked->Text(0, 0), number);
    EXPECT_EQ(asked->Text(0, 1), "service:tessera-dispatch");
    EXPECT_FALSE((*conn)->Exec("DELETE FROM perso.mail_half_requests").ok());
    // The halves never reach the daemon's log.
    const std::string log = testing::ReadFileOrDie(ca_->dir().File("perso.log"));
    EXPECT_EQ(log.find(halves.password_half()), std::string::npos);
    EXPECT_NE(log.find("mail_halves_released"), std::string::npos);
  }

  // Restarted, the daemon finds nothing of the lot left in its live store: every card is in the
  // lot's archive, none live.
  ASSERT_EQ(perso_->Stop(), 0);
  delete perso_;
  perso_ = nullptr;
  StartPerso("perso-archived.log");
  size_t archived = 0;
  for (const auto& entry : std::filesystem::directory_iterator(lot_archive)) {
    archived += entry.is_directory() ? 1 : 0;
  }
  EXPECT_EQ(archived, last.cards_produced());
  EXPECT_FALSE(std::filesystem::exists(ca_->dir().File("archive") + "/produced") &&
               !std::filesystem::is_empty(ca_->dir().File("archive") + "/produced"));
  const std::string in_lot = testing::RunCommand(in_lot_p11 + " -L").output;
  const std::string live =
      testing::RunCommand("pkcs11-tool --module " + TestSoftHsm::Get().module_path() + " -L")
          .output;
  for (int row = 0; row < cards->rows(); ++row) {
    const std::string number(cards->Text(row, 0));
    EXPECT_NE(in_lot.find(number), std::string::npos) << number << in_lot;
    EXPECT_EQ(live.find(number), std::string::npos) << number;
  }

  // The registry holds no open order of the comune any more: a new batch of it ends at once.
  const v1::Batch second = Create(reach, "batch-comune-2");
  ASSERT_TRUE(Act("run", second.id(), "run-comune-2", &running).ok());
  const v1::Batch ended = WatchUntilFinished(second.id(), 60);
  ASSERT_EQ(ended.state(), v1::BATCH_FINISHED) << ended.DebugString();
  EXPECT_EQ(ended.cards_produced(), 0u);
}

// tessera-perso on the virtual reader module, three readers bound to their slots (`vreader`:
// extra lines of the module's config), for one test; the suite's SoftHSM daemon afterwards.
class CardLine {
 public:
  // `vreader`: more lines of the module's config; `apdu_ms`: each card call's latency;
  // `lease_seconds`: the line's perso.lease_seconds (0: the default).
  CardLine(const std::string& trays, const std::string& vreader, const std::string& apdu_ms = "2",
           uint32_t lease_seconds = 0) {
    EXPECT_EQ(PersoBatchTest::perso_->Stop(), 0);
    delete PersoBatchTest::perso_;
    PersoBatchTest::perso_ = nullptr;
    testing::WriteFile(PersoBatchTest::ca_->dir().File("vreader.conf"),
                       "slots = 3\nstate_dir = " + trays + "\nprofile = p256\napdu_ms = " +
                           apdu_ms + "\nkeygen_ms = 5\n" + vreader);
    setenv("TESSERA_VREADER_CONF", PersoBatchTest::ca_->dir().File("vreader.conf").c_str(), 1);
    testing::PersoStation line = *PersoBatchTest::station_;
    line.cards_module = TESSERA_VREADER_PATH;
    line.reader_slots = true;
    line.lease_seconds = lease_seconds;
    PersoBatchTest::WriteStation(line);
    PersoBatchTest::StartPerso("perso-line.log");
  }
  ~CardLine() {
    if (PersoBatchTest::perso_ != nullptr) PersoBatchTest::perso_->Stop();
    delete PersoBatchTest::perso_;
    PersoBatchTest::WriteStation(*PersoBatchTest::station_);
    PersoBatchTest::StartPerso("perso-after-line.log");
  }
};

// A card line: the daemon on the virtual reader module (vreader/) with each reader bound to
// its slot makes every card in its own reader, lets go of it (the module ejects it into its
// "produced" tray) and takes the next blank card; pkcs11-tool reads the produced cards there.
TEST_F(PersoBatchTest, ACardLineMakesEachCardInItsOwnReaderAndEjectsIt) {
  const std::string trays = ca_->dir().File("card-line");
  CardLine line(trays, "");
  if (HasFailure()) return;

  v1::BatchReach reach;
  reach.set_istat(kComune);
  const v1::Batch created = Create(reach, "batch-line");
  v1::Batch running;
  ASSERT_TRUE(Act("run", created.id(), "run-line", &running).ok());
  const v1::Batch last = WatchUntilFinished(created.id(), 180);
  ASSERT_EQ(last.state(), v1::BATCH_FINISHED)
      << last.DebugString() << testing::ReadFileOrDie(ca_->dir().File("perso-line.log"));
  ASSERT_GE(last.cards_produced(), 1u);
  EXPECT_EQ(last.cards_failed(), 0u) << last.DebugString();

  // Every produced card left its reader: the tray holds one card per produced order, each with
  // one key pair and its certificate; the readers hold blank cards again.
  size_t in_tray = 0;
  for (const auto& entry : std::filesystem::directory_iterator(trays + "/produced")) {
    in_tray += entry.is_regular_file() ? 1 : 0;
  }
  EXPECT_EQ(in_tray, last.cards_produced());
  const std::string tray =
      "TESSERA_VREADER_TRAY=produced pkcs11-tool --module " + std::string(TESSERA_VREADER_PATH);
  const std::string listed = testing::RunCommand(tray + " -L").output;
  const std::vector<std::string> cards =
      Column(*perso_conninfo_,
             "SELECT order_id FROM perso.batch_results WHERE card AND "
             "batch_id = " +
                 std::to_string(created.id()) + " ORDER BY 1");
  ASSERT_EQ(cards.size(), last.cards_produced());
  for (const std::string& number : cards) {
    EXPECT_NE(listed.find(number), std::string::npos) << number << listed;
  }
  const std::string& first = cards[0];
  auto credentials = CredentialsOf(first);
  ASSERT_TRUE(credentials.ok()) << credentials.status();
  ExpectOneKeyPairAndCertificate(tray, first, credentials->pin);
  const std::string readers =
      testing::RunCommand("pkcs11-tool --module " + std::string(TESSERA_VREADER_PATH) + " -L")
          .output;
  EXPECT_EQ(readers.find(first), std::string::npos) << readers;
}

// A reader whose every card call fails (a broken reader) goes out of service after five
// failed rounds, saying so, while the other readers make every other card of the comune.
// Two stations, two machines' worth of tokens: a slow card line, and a SoftHSM station with its
// own token store (and a copy of the vault). The line dies for good while it holds cards, one
// of them with its certificate issued. When the line's lease (perso.lease_seconds = 60) runs
// out, the other station takes its orders over: it finds each card's journal but not its
// token, withdraws the certificate issued for the dead line's token (superseded) and makes
// the card again on a token of its own (attempt 2, a new request id).
TEST_F(PersoBatchTest, AStationThatDiesForGoodHasItsCardsTakenOverWhenItsLeaseEnds) {
  const std::string trays = ca_->dir().File("dying-line");
  CardLine line(trays, "", /*apdu_ms=*/"150", /*lease_seconds=*/60);
  if (HasFailure()) return;
  v1::BatchReach reach;
  reach.set_istat(kComune);
  const v1::Batch created = Create(reach, "batch-takeover");
  v1::Batch running;
  const auto run_at = std::chrono::steady_clock::now();  // the line claims its orders after it
  ASSERT_TRUE(Act("run", created.id(), "run-takeover", &running).ok());

  // Killed as soon as a card's certificate is recorded and before that card is finished.
  std::vector<std::string> certified;
  for (int i = 0; i < 1200 && certified.empty(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
    certified = Column(*perso_conninfo_,
                       "SELECT card_number FROM perso.cards WHERE done IN ('certificate', "
                       "'written') ORDER BY 1");
  }
  ASSERT_FALSE(certified.empty()) << "no certificate recorded within 30 s";
  ASSERT_EQ(kill(perso_->pid(), SIGKILL), 0);
  perso_->Stop();

  // The other station: its own SoftHSM store, its own archive.
  const std::string dir = ca_->dir().File("station-b");
  testing::PersoStation other = *station_;
  other.name = "station-b";
  other.port_file = dir + "/port";
  other.spool = dir + "/spool";
  other.archive = dir + "/archive";
  other.lease_seconds = 60;
  const std::string softhsm = TestSoftHsm::Get().StoreWithCopyOf(dir, *vault_label_);
  ca_->hierarchy().WritePersoConfig(dir + "/perso.toml", other, ca_->dir().path().string(),
                                    ca_->server().port(), registry_->port());
  delete perso_;  // (the line's, dead) B is the one the test talks to now
  perso_ = new testing::ServiceProcess("tessera-perso", dir + "/perso.toml", other.port_file,
                                       dir + "/perso.log", {{"SOFTHSM2_CONF", softhsm}});
  const v1::Batch last = WatchUntilFinished(created.id(), 150);
  ASSERT_EQ(last.state(), v1::BATCH_FINISHED) << last.DebugString();
  EXPECT_EQ(last.cards_failed(), 0u) << last.DebugString();
  EXPECT_EQ(last.workstations_failed(), 0u) << last.DebugString();
  // Not before the lease ran out: the line claimed after the run began, so its 60 s lease ended
  // 60 s after that at the earliest.
  EXPECT_GE(std::chrono::steady_clock::now() - run_at, std::chrono::seconds(60));

  // The card certified on the dead line: made again on station B, its first certificate
  // withdrawn, the registry holding the second.
  const std::string& card = certified[0];
  EXPECT_EQ(Column(*perso_conninfo_,
                   "SELECT attempt::text FROM perso.cards WHERE card_number = '" + card + "'")[0],
            "1");
  EXPECT_FALSE(testing::LogEvents(dir + "/perso.log", "card_restarted", "card", card).empty());
  const std::string on_card =
      Column(*registry_conninfo_,
             "SELECT certificate_serial FROM registry.card_orders WHERE card_number = '" + card +
                 "' AND state = 'PRODOTTA'")[0];
  ASSERT_FALSE(on_card.empty());
  EXPECT_EQ(Column(ca_->conninfo(), "SELECT count(*) FROM ca.certificates WHERE serial = '" +
                                        on_card + "' AND revoked_at IS NULL")[0],
            "1");
  // (4: superseded)
  EXPECT_EQ(
      Column(ca_->conninfo(), "SELECT count(*) FROM ca.certificates WHERE request_id = 'card-" +
                                  card + "' AND revocation_reason = 4")[0],
      "1");

  // Station B's token of that card, read with pkcs11-tool from B's store: one key pair, one
  // certificate (its lot sealed: in B's lot archive).
  auto credentials = CredentialsOf(card);
  ASSERT_TRUE(credentials.ok()) << credentials.status();
  std::string lot_dir;
  for (int i = 0; i < 100 && lot_dir.empty(); ++i) {
    for (const auto& entry : std::filesystem::directory_iterator(other.archive)) {
      if (std::filesystem::exists(entry.path() / card) && entry.path().filename() != "produced") {
        lot_dir = entry.path().string();
      }
    }
    if (lot_dir.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_FALSE(lot_dir.empty()) << card << " is in no lot archive of station B";
  testing::WriteFile(dir + "/lot.conf",
                     "directories.tokendir = " + lot_dir + "\nobjectstore.backend = file\n");
  ExpectOneKeyPairAndCertificate(
      "SOFTHSM2_CONF=" + dir + "/lot.conf pkcs11-tool --module " + TestSoftHsm::Get().module_path(),
      card, credentials->pin);
  EXPECT_EQ(perso_->Stop(), 0);
}

TEST_F(PersoBatchTest, AReaderFailingEveryCardGoesOutOfServiceAndCostsTheOthersNothing) {
  CardLine line(ca_->dir().File("broken-line"), "failing_slots = 2\n");
  if (HasFailure()) return;
  const std::vector<std::string> ordered = Column(
      *registry_conninfo_, "SELECT card_number FROM registry.card_orders WHERE card_number LIKE '" +
                               std::string(kComune) + "%' AND state = 'LAVORAZIONE'");
  ASSERT_GE(ordered.size(), 2u);
  v1::BatchReach reach;
  reach.set_istat(kComune);
  const v1::Batch created = Create(reach, "batch-broken-reader");
  v1::Batch running;
  ASSERT_TRUE(Act("run", created.id(), "run-broken-reader", &running).ok());
  auto out_of_service = [](const v1::Batch& b) {
    for (const v1::ReaderStatus& r : b.readers()) {
      if (r.waiting_for().find("out of service") != std::string::npos) return true;
    }
    return false;
  };
  const std::vector<v1::Batch> seen = Watch(
      created.id(),
      [&](const v1::Batch& b) {
        return out_of_service(b) && b.cards_produced() + 1 == ordered.size();
      },
      90);
  ASSERT_FALSE(seen.empty());
  const v1::Batch& last = seen.back();
  EXPECT_TRUE(out_of_service(last)) << last.DebugString();
  EXPECT_EQ(last.cards_produced() + 1, ordered.size()) << last.DebugString();
  EXPECT_EQ(last.cards_failed(), 0u) << last.DebugString();
  EXPECT_FALSE(
      testing::LogEvents(ca_->dir().File("perso-line.log"), "reader_out_of_service").empty());
}

// In the middle of a batch, PostgreSQL goes away (every connection to the daemon's database
// cut, new ones refused for 4 s: what a restart looks like from the daemon) and then
// tessera-ca stops for a few seconds: the readers wait, say why in WatchBatch ("database: …",
// "tessera-ca: …"; the watcher keeps the last counts while the database is away), and the
// batch finishes by itself with every order produced.
TEST_F(PersoBatchTest, ABatchWaitsOutTheDatabaseAndTheCaAndResumesByItself) {
  SubmitTheRestOfRieti();
  if (HasFatalFailure()) return;
  v1::BatchReach reach;
  reach.set_province_sigla("RI");
  const v1::Batch created = Create(reach, "batch-outages");
  v1::Batch running;
  ASSERT_TRUE(Act("run", created.id(), "run-outages", &running).ok());
  ASSERT_FALSE(Watch(
                   created.id(), [](const v1::Batch& b) { return b.cards_produced() >= 10; }, 120)
                   .empty());
  auto waiting_for = [](const std::string& what) {
    return [what](const v1::Batch& b) {
      for (const v1::ReaderStatus& r : b.readers()) {
        if (r.waiting_for().find(what) != std::string::npos) return true;
      }
      return false;
    };
  };
  auto said = [](const std::vector<v1::Batch>& seen) {
    return seen.empty() ? std::string("nothing") : seen.back().DebugString();
  };

  const std::string database = perso_conninfo_->substr(perso_conninfo_->rfind("dbname=") + 7);
  auto admin = pg::Connection::Open(testing::TestPg::Get().ConnInfo("postgres"));
  ASSERT_TRUE(admin.ok()) << admin.status();
  std::thread database_away([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    EXPECT_TRUE(
        (*admin)->Exec("ALTER DATABASE \"" + database + "\" WITH ALLOW_CONNECTIONS false").ok());
    EXPECT_TRUE((*admin)
                    ->Exec("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE "
                           "datname = $1",
                           {pg::Param(database)})
                    .ok());
    std::this_thread::sleep_for(std::chrono::seconds(4));
    EXPECT_TRUE(
        (*admin)->Exec("ALTER DATABASE \"" + database + "\" WITH ALLOW_CONNECTIONS true").ok());
  });
  const std::vector<v1::Batch> database_seen = Watch(created.id(), waiting_for("database"), 30);
  database_away.join();
  EXPECT_TRUE(!database_seen.empty() && waiting_for("database")(database_seen.back()))
      << said(database_seen);

  ASSERT_EQ(ca_->Stop(), 0);
  const std::vector<v1::Batch> ca_seen = Watch(created.id(), waiting_for("tessera-ca"), 60);
  EXPECT_TRUE(!ca_seen.empty() && waiting_for("tessera-ca")(ca_seen.back())) << said(ca_seen);
  ca_->Restart("ca-restarted.log");

  const v1::Batch last = WatchUntilFinished(created.id(), 240);
  ASSERT_EQ(last.state(), v1::BATCH_FINISHED) << last.DebugString();
  EXPECT_EQ(last.cards_failed(), 0u) << last.DebugString();
  EXPECT_EQ(last.workstations_failed(), 0u) << last.DebugString();
  EXPECT_EQ(last.open_orders(), 0u);
  EXPECT_GE(last.cards_produced(), 200u);
}

TEST_F(PersoBatchTest, AReachTheRegistryRefusesLeavesTheReadersSayingWhy) {
  v1::BatchReach reach;
  reach.set_province_sigla("ZZ");  // well formed; no such province
  const v1::Batch created = Create(reach, "batch-zz");
  v1::Batch running;
  ASSERT_TRUE(Act("run", created.id(), "run-zz", &running).ok());
  const std::vector<v1::Batch> seen = Watch(
      created.id(),
      [](const v1::Batch& b) {
        for (const v1::ReaderStatus& r : b.readers()) {
          if (!r.waiting_for().empty()) return true;
        }
        return false;
      },
      30);
  ASSERT_FALSE(seen.empty());
  ASSERT_GT(seen.back().readers_size(), 0) << seen.back().DebugString();
  EXPECT_NE(seen.back().readers(0).waiting_for().find("province_sigla"), std::string::npos)
      << seen.back().DebugString();
  // Pause, resume, cancel: each from the states it applies to, retries answered alike.
  v1::Batch paused;
  ASSERT_TRUE(Act("pause", created.id(), "pause-zz", &paused).ok());
  EXPECT_EQ(paused.state(), v1::BATCH_PAUSED);
  ASSERT_TRUE(Act("pause", created.id(), "pause-zz", &paused).ok());  // a retry
  grpc::Status twice = Act("pause", created.id(), "pause-zz-2", &paused);
  EXPECT_EQ(twice.error_code(), grpc::StatusCode::FAILED_PRECONDITION) << twice.error_message();
  v1::Batch cancelled;
  ASSERT_TRUE(Act("cancel", created.id(), "cancel-zz", &cancelled).ok());
  EXPECT_EQ(cancelled.state(), v1::BATCH_CANCELLED);
  // A request id is one act: reusing it for another is refused.
  grpc::Status reused = Act("run", created.id(), "cancel-zz", &running);
  EXPECT_EQ(reused.error_code(), grpc::StatusCode::ALREADY_EXISTS) << reused.error_message();
}

TEST_F(PersoBatchTest, BadRequestsAreRefusedNamingTheFieldAndOnlyTheMinistryMayAsk) {
  auto perso = Perso();
  const std::vector<std::pair<std::function<void(v1::CreateBatchRequest&)>, std::string>> cases = {
      {[](v1::CreateBatchRequest& r) { r.mutable_reach()->set_istat("57012"); }, "reach.istat"},
      {[](v1::CreateBatchRequest& r) { r.mutable_reach()->set_province_sigla("rieti"); },
       "reach.province_sigla"},
      {[](v1::CreateBatchRequest& r) {
         r.mutable_reach()->set_istat("057012");
         r.mutable_reach()->set_province_sigla("RI");
       },
       "reach"},
      {[](v1::CreateBatchRequest& r) { r.mutable_reach()->add_orders("12345"); },
       "reach.orders[0]"},
      {[](v1::CreateBatchRequest& r) { r.set_name(""); }, "name"},
      {[](v1::CreateBatchRequest& r) { r.set_request_id("with space"); }, "request_id"},
  };
  for (const auto& [spoil, field] : cases) {
    v1::CreateBatchRequest request;
    request.set_name("bad");
    request.set_request_id(testing::NewRequestId());
    spoil(request);
    grpc::ClientContext context;
    v1::Batch batch;
    grpc::Status status = perso->CreateBatch(&context, request, &batch);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << field;
    EXPECT_EQ(status.error_message().rfind(field, 0), 0u) << status.error_message();
  }
  grpc::ClientContext context;
  v1::GetBatchRequest unknown;
  unknown.set_id(999999);
  v1::Batch batch;
  EXPECT_EQ(perso->GetBatch(&context, unknown, &batch).error_code(), grpc::StatusCode::NOT_FOUND);

  // Another service is not the Ministry.
  auto registry_as_caller = Perso("tessera-registry");
  grpc::ClientContext denied;
  v1::ListBatchesRequest list;
  v1::ListBatchesResponse batches;
  EXPECT_EQ(registry_as_caller->ListBatches(&denied, list, &batches).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
}

// The command line an operator uses: create and run in one go, watch to the end (a summary
// when stdout is not a terminal), list with --json.
TEST_F(PersoBatchTest, TheCommandLineCreatesRunsWatchesAndListsBatches) {
  const std::string cli = std::string(TESSERA_BIN_DIR) +
                          "/tessera --target localhost:" + std::to_string(perso_->port()) +
                          " --ca " + Pki("bundle.pem") + " --cert " + Pki("tessera-cli.pem") +
                          " --key " + Pki("tessera-cli.key");
  // Comune 057001 submitted no census: nothing is open there, the batch finishes at once.
  auto created =
      testing::RunCommand(cli + " --json batch create --name Accumoli --istat 057001 --run");
  ASSERT_EQ(created.exit_code, 0) << created.output;
  const auto batch = nlohmann::json::parse(created.output);
  const std::string id = std::to_string(batch["id"].get<int64_t>());
  auto watched = testing::RunCommand(cli + " batch watch " + id);
  EXPECT_EQ(watched.exit_code, 0) << watched.output;
  EXPECT_NE(watched.output.find("batch " + id + " \"Accumoli\" (comune 057001): finished"),
            std::string::npos)
      << watched.output;
  auto listed = testing::RunCommand(cli + " --json batch list --all");
  ASSERT_EQ(listed.exit_code, 0) << listed.output;
  bool found = false;
  const nlohmann::json list = nlohmann::json::parse(listed.output);
  for (const auto& b : list["batches"]) {
    found |=
        std::to_string(b["id"].get<int64_t>()) == id && b["state"].get<std::string>() == "finished";
  }
  EXPECT_TRUE(found) << listed.output;
  // Finished: pausing names the state; a malformed id is the caller's mistake (exit 2).
  auto pause = testing::RunCommand(cli + " batch pause " + id);
  EXPECT_EQ(pause.exit_code, 1) << pause.output;
  EXPECT_NE(pause.output.find("is finished"), std::string::npos) << pause.output;
  EXPECT_EQ(testing::RunCommand(cli + " batch show x1").exit_code, 2);
}

// The province's whole census, personalized while the daemon is killed (SIGKILL) at random
// moments and restarted: every order ends produced exactly once, every token is made once with
// one key pair and its certificate, tessera-ca issued exactly the certificates on the cards,
// and every card's halves are sealed and open.
TEST_F(PersoBatchTest, ABatchSurvivesTheDaemonKilledAtRandomMoments) {
  SubmitTheRestOfRieti();
  if (HasFatalFailure()) return;
  const std::vector<std::string> ordered =
      Column(*registry_conninfo_,
             "SELECT card_number FROM registry.card_orders WHERE card_number LIKE "
             "'057%' AND state = 'LAVORAZIONE' ORDER BY 1");
  ASSERT_GE(ordered.size(), 200u);

  v1::BatchReach reach;
  reach.set_province_sigla("RI");
  const v1::Batch batch = Create(reach, "batch-crash");
  v1::Batch running;
  ASSERT_TRUE(Act("run", batch.id(), "run-crash", &running).ok());

  const unsigned seed = static_cast<unsigned>(getpid());
  std::mt19937 random(seed);
  std::uniform_int_distribution<int> pause_ms(300, 2000);
  int kills = 0;
  for (; kills < 8; ++kills) {
    std::this_thread::sleep_for(std::chrono::milliseconds(pause_ms(random)));
    v1::Batch now;
    grpc::ClientContext context;
    v1::GetBatchRequest get;
    get.set_id(batch.id());
    ASSERT_TRUE(Perso()->GetBatch(&context, get, &now).ok());
    if (now.state() == v1::BATCH_FINISHED) break;
    ASSERT_EQ(kill(perso_->pid(), SIGKILL), 0);
    perso_->Stop();  // reaps it
    delete perso_;
    perso_ = nullptr;
    StartPerso("perso-" + std::to_string(kills + 1) + ".log");
  }
  const v1::Batch last = WatchUntilFinished(batch.id(), 120);
  ASSERT_EQ(last.state(), v1::BATCH_FINISHED)
      << last.DebugString() << " seed " << seed << "\n"
      << testing::RunCommand("grep -hv '^{' " + ca_->dir().File("perso*.log")).output;
  EXPECT_GE(kills, 3) << "the batch ended before the daemon was killed 3 times (seed " << seed
                      << ")";
  // A kill inside SoftHSM's C_InitToken can leave a token with the card's label whose SO PIN
  // file was cut short: it refuses the card's PUK, and tessera never overwrites a token that
  // refuses it, so that card is given up (spoiled, as a card bricked in its reader would be):
  // its order FALLITA, no certificate issued for it. Nothing else may fail.
  const std::vector<std::string> spoiled =
      Column(*registry_conninfo_,
             "SELECT card_number || ': ' || failure FROM registry.card_orders WHERE card_number "
             "LIKE '057%' AND state = 'FALLITA' ORDER BY 1");
  EXPECT_LE(spoiled.size(), static_cast<size_t>(kills));
  for (const std::string& failure : spoiled) {
    EXPECT_NE(failure.find("exists and is not this card's"), std::string::npos) << failure;
  }
  EXPECT_EQ(last.cards_failed(), spoiled.size()) << last.DebugString();
  EXPECT_EQ(last.workstations_failed(), 0u) << last.DebugString();
  EXPECT_EQ(last.cards_produced() + last.cards_failed(), ordered.size());

  // The registry: every other order produced, each with its own serial.
  EXPECT_EQ(Column(*registry_conninfo_,
                   "SELECT count(*) FROM registry.card_orders WHERE card_number LIKE '057%' AND "
                   "state NOT IN ('PRODOTTA', 'FALLITA')")[0],
            "0");
  EXPECT_EQ(Column(*registry_conninfo_,
                   "SELECT count(*) FROM registry.workstation_orders WHERE workstation_owner LIKE "
                   "'057%' AND state <> 'PRODOTTA'")[0],
            "0");
  // tessera-ca issued the operator certificates the registry recorded on cards, none twice,
  // none lost; any other was withdrawn (revoked) when its card started again on a new token
  // after a kill spoiled the first: at most one per kill.
  const std::vector<std::string> on_cards =
      Column(*registry_conninfo_,
             "SELECT certificate_serial FROM registry.card_orders WHERE state = 'PRODOTTA' "
             "ORDER BY 1");
  const std::vector<std::string> issued =
      Column(ca_->conninfo(),
             "SELECT serial FROM ca.certificates WHERE profile = 'operator' AND revoked_at IS "
             "NULL ORDER BY 1");
  EXPECT_EQ(on_cards, issued);
  EXPECT_LE(std::stoi(Column(ca_->conninfo(),
                             "SELECT count(*) FROM ca.certificates WHERE profile = "
                             "'operator' AND revoked_at IS NOT NULL")[0]),
            kills);
  std::set<std::string> restarted;
  for (int log = 0; log <= kills; ++log) {
    const std::string name = log == 0 ? "perso.log" : "perso-" + std::to_string(log) + ".log";
    for (const nlohmann::json& event :
         testing::LogEvents(ca_->dir().File(name), "card_restarted")) {
      restarted.insert(event.value("card", ""));
    }
  }

  // One token per card (never a second initialization), as pkcs11-tool lists them: a produced
  // card's token left the live store for the archive, and once the lots are sealed each is in
  // its lot's directory, a token directory of its own (read through a softhsm2.conf naming
  // it); what is left live (a spoiled token) is listed from the live store.
  namespace fs = std::filesystem;
  const fs::path archive = ca_->dir().File("archive");
  for (int i = 0;
       i < 150 && fs::exists(archive / "produced") && !fs::is_empty(archive / "produced"); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  EXPECT_TRUE(!fs::exists(archive / "produced") || fs::is_empty(archive / "produced"));
  const std::string module = TestSoftHsm::Get().module_path();
  std::map<std::string, std::string> p11_of;  // card → the pkcs11-tool reading its lot
  std::string listed = testing::RunCommand("pkcs11-tool --module " + module + " -L").output;
  for (const auto& lot : fs::directory_iterator(archive)) {
    if (lot.path().filename() == "produced") continue;
    const std::string conf = lot.path().string() + ".conf";
    testing::WriteFile(
        conf, "directories.tokendir = " + lot.path().string() + "\nobjectstore.backend = file\n");
    const std::string p11 = "SOFTHSM2_CONF=" + conf + " pkcs11-tool --module " + module;
    listed += testing::RunCommand(p11 + " -L").output;
    for (const auto& card : fs::directory_iterator(lot.path())) {
      p11_of[card.path().filename().string()] = p11;
    }
  }
  auto is_spoiled = [&](const std::string& number) {
    return std::any_of(spoiled.begin(), spoiled.end(),
                       [&](const std::string& s) { return s.rfind(number, 0) == 0; });
  };
  // (A card started again may leave its spoiled token beside the new one.)
  for (const std::string& number : ordered) {
    const size_t tokens = Occurrences(listed, "token label        : " + number + "\n");
    if (restarted.contains(number)) {
      EXPECT_LE(tokens, 2u) << number;
    } else {
      EXPECT_EQ(tokens, 1u) << number;
    }
  }

  // Every card proved, its halves sealed and opening; a sample read with pkcs11-tool: one key
  // pair, one certificate.
  pg::ConnectionPool pool(*perso_conninfo_, 1);
  SystemClock clock;
  personalization::PgCardJournal journal(pool, clock);
  std::vector<std::string> sample = ordered;
  std::shuffle(sample.begin(), sample.end(), random);
  sample.resize(12);
  for (const std::string& number : ordered) {
    if (is_spoiled(number)) continue;
    auto record = journal.Load(number);
    ASSERT_TRUE(record.ok() && record->has_value()) << number;
    EXPECT_EQ((*record)->done, personalization::CardStep::kProved) << number;
    auto credentials =
        personalization::OpenCredentials(*sealer_, number, (*record)->envelope, (*record)->mail);
    ASSERT_TRUE(credentials.ok()) << number << ": " << credentials.status();
    if (std::find(sample.begin(), sample.end(), number) == sample.end() ||
        restarted.contains(number)) {
      continue;  // (pkcs11-tool would take the first of two tokens labelled alike)
    }
    // (A kill between recording a card and shelving its token leaves it live.)
    const std::string p11 =
        p11_of.contains(number) ? p11_of[number] : "pkcs11-tool --module " + module;
    ExpectOneKeyPairAndCertificate(p11, number, credentials->pin);
  }
}

}  // namespace
}  // namespace tessera
