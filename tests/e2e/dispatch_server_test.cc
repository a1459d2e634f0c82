// tessera-dispatch as a process, with tessera-ca, tessera-registry and tessera-perso over mTLS,
// SoftHSM cards, PostgreSQL and a real SMTP server (aiosmtpd): the lots of a batch are taken
// over by themselves; the Ministry's machine, alone during the bootstrap, hands the Ministry's
// lot to its operator, whose second halves arrive by mail and, with the envelope halves, open
// his card; logged in with that card he hands a comune's lot to its mayor, whose own card is
// hers at once. Retries answer the same delivery; a collector not censused, a card delivered
// twice and a caller without a session are refused naming the rule, and change nothing.
#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <regex>
#include <string>
#include <thread>

#include "hsm/secret_sealer.h"
#include "personalization/credentials.h"
#include "personalization/pg_card_journal.h"
#include "platform/clock.h"
#include "platform/pg_pool.h"
#include "platform/rpc_client.h"
#include "proto/dispatch.grpc.pb.h"
#include "proto/perso.grpc.pb.h"
#include "proto/registry.grpc.pb.h"
#include "services/registry/census_upload.h"
#include "tests/support/registry_calls.h"
#include "tests/support/run.h"
#include "tests/support/service_process.h"
#include "tests/support/smtp_sink.h"
#include "tests/support/test_ceremony.h"
#include "tests/support/test_hsm.h"
#include "tests/support/test_pg.h"

namespace tessera {
namespace {

using testing::TestSoftHsm;

constexpr char kAccumoli[] = "057001";
constexpr char kRicci[] = "RCCGLI72M42G157D";  // Sindaco/Delegato of Accumoli
constexpr char kCosta[] = "CSTPLA83S10A241X";  // an operator of Accumoli (and of Amatrice)
constexpr const char* kRossi = testing::kMinistryOperatorCf;

class DispatchServerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    ca_ = new testing::RunningCa("tessera-e2e-dispatch",
                                 {{"tessera-ca", {"localhost"}, {"127.0.0.1"}},
                                  {"tessera-registry", {"localhost"}, {"127.0.0.1"}},
                                  {"tessera-perso", {"localhost"}, {"127.0.0.1"}},
                                  {"tessera-dispatch", {"localhost"}, {"127.0.0.1"}},
                                  {"tessera-cli", {"localhost"}, {}}});
    testing::TestPg& pg = testing::TestPg::Get();
    const std::string run = ca_->dir().path().string();
    registry_db_ = new std::string(pg.ConnInfo(pg.CreateDatabase()));
    ca_->hierarchy().WriteRegistryConfig(ca_->dir().File("registry.toml"), *registry_db_, run,
                                         ca_->server().port());
    registry_ = new testing::ServiceProcess("tessera-registry", ca_->dir().File("registry.toml"),
                                            ca_->dir().File("registry-port"),
                                            ca_->dir().File("registry.log"));
    Census();

    // The perso vault is shared with this process, which opens the envelope halves with it (as
    // the print room reads them off the envelope sheets).
    const std::string vault = TestSoftHsm::UniqueLabel("vault");
    auto token = TestSoftHsm::Get().CreateToken(vault);
    auto sealer = hsm::SecretSealer::Open(token, "card-halves", /*create_if_missing=*/true);
    if (!sealer.ok()) throw std::runtime_error(sealer.status().ToString());
    sealer_ = new hsm::SecretSealer(*std::move(sealer));
    perso_db_ = new std::string(pg.ConnInfo(pg.CreateDatabase()));
    ca_->hierarchy().WritePersoConfig(ca_->dir().File("perso.toml"),
                                      {.conninfo = *perso_db_,
                                       .port_file = ca_->dir().File("perso-port"),
                                       .spool = ca_->dir().File("spool"),
                                       .cards_module = TestSoftHsm::Get().module_path(),
                                       .vault_module = TestSoftHsm::Get().module_path(),
                                       .vault_label = vault},
                                      run, ca_->server().port(), registry_->port());
    setenv("TESSERA_VAULT_PIN", testing::kTestUserPin, 1);
    perso_ =
        new testing::ServiceProcess("tessera-perso", ca_->dir().File("perso.toml"),
                                    ca_->dir().File("perso-port"), ca_->dir().File("perso.log"));
    RunTheBatch();

    smtp_ = new testing::SmtpSink(ca_->dir().File("mail"));
    const std::string dispatch_vault = TestSoftHsm::UniqueLabel("dispatch");
    TestSoftHsm::Get().CreateToken(dispatch_vault);
    dispatch_db_ = new std::string(pg.ConnInfo(pg.CreateDatabase()));
    ca_->hierarchy().WriteDispatchConfig(ca_->dir().File("dispatch.toml"), *dispatch_db_, run,
                                         registry_->port(), perso_->port(), dispatch_vault,
                                         smtp_->relay());
    dispatch_ = new testing::ServiceProcess("tessera-dispatch", ca_->dir().File("dispatch.toml"),
                                            ca_->dir().File("dispatch-port"),
                                            ca_->dir().File("dispatch.log"));
  }
  static void TearDownTestSuite() {
    for (testing::ServiceProcess* service : {dispatch_, perso_, registry_}) {
      if (service != nullptr) {
        EXPECT_EQ(service->Stop(), 0);
      }
      delete service;
    }
    delete smtp_;
    delete sealer_;
    delete perso_db_;
    delete dispatch_db_;
    delete registry_db_;
    delete ca_;
  }

  // Accumoli's census submitted (its mayor Ricci, Costa and others) and Rossi made a Ministry
  // operator: cards ordered for all of them.
  static void Census() {
    auto ministry = v1::Registry::NewStub(Channel("tessera-cli", registry_->port()));
    if (!testing::LoadReferenceLists(*ministry).ok() ||
        !testing::DeclareRietiComuni(*ministry).ok()) {
      throw std::runtime_error("reference lists or declarations refused");
    }
    grpc::ClientContext import;
    v1::ImportCensusResponse imported;
    grpc::Status status = registry_service::UploadCensusFile(
        *ministry, import,
        testing::ReadFileOrDie(std::string(TESSERA_SOURCE_DIR) + "/deploy/sample/census_rieti.csv"),
        testing::NewRequestId(), &imported);
    if (!status.ok()) throw std::runtime_error("ImportCensus: " + status.error_message());
    status = testing::SubmitComuneDraft(*ministry, kAccumoli);
    if (!status.ok()) throw std::runtime_error("SubmitCensus: " + status.error_message());
    status = testing::AddMinistryOperator(*ministry);
    if (!status.ok()) throw std::runtime_error("AddMinistryOperator: " + status.error_message());
  }

  // One batch of every open order, run to its end: a lot for Accumoli and one for the Ministry.
  static void RunTheBatch() {
    auto perso = v1::Personalization::NewStub(Channel("tessera-cli", perso_->port()));
    v1::CreateBatchRequest create;
    create.set_name("dispatch test");
    create.set_request_id("dispatch-batch");
    v1::Batch batch;
    {
      grpc::ClientContext context;
      grpc::Status status = perso->CreateBatch(&context, create, &batch);
      if (!status.ok()) throw std::runtime_error("CreateBatch: " + status.error_message());
    }
    {
      grpc::ClientContext context;
      v1::BatchChange run;
      run.set_id(batch.id());
      run.set_request_id("dispatch-batch-run");
      grpc::Status status = perso->RunBatch(&context, run, &batch);
      if (!status.ok()) throw std::runtime_error("RunBatch: " + status.error_message());
    }
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(3);
    while (std::chrono::steady_clock::now() < deadline) {
      grpc::ClientContext context;
      v1::ListLotsResponse lots;
      if (perso->ListLots(&context, {}, &lots).ok() && lots.lots_size() == 2) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    throw std::runtime_error("the batch's two lots were not sealed: " +
                             testing::ReadFileOrDie(ca_->dir().File("perso.log")));
  }

  static std::shared_ptr<grpc::Channel> Channel(const std::string& service, int port) {
    const testing::TlsIdentity who = ca_->hierarchy().ServiceIdentity(service);
    return Channel(who, port);
  }
  static std::shared_ptr<grpc::Channel> Channel(const testing::TlsIdentity& who, int port) {
    return MtlsChannel("localhost:" + std::to_string(port),
                       testing::ReadFileOrDie(ca_->hierarchy().Pki("bundle.pem")), who.cert_pem,
                       who.key_pem);
  }
  static std::unique_ptr<v1::Dispatch::Stub> Dispatch(const std::string& as = "tessera-cli") {
    return v1::Dispatch::NewStub(Channel(as, dispatch_->port()));
  }

  // The office's lots as `token`'s session (none: the caller's certificate alone) sees them.
  static grpc::Status ListLots(v1::Dispatch::Stub& stub, const std::string& office,
                               const std::string& token, v1::ListDispatchLotsResponse* lots) {
    grpc::ClientContext context;
    if (!token.empty()) context.AddMetadata("authorization", "Bearer " + token);
    v1::ListDispatchLotsRequest request;
    request.set_office(office);
    return stub.ListLots(&context, request, lots);
  }
  // The office's only lot, once the service has taken it over.
  static v1::DispatchLot LotOf(const std::string& office) {
    auto stub = Dispatch();
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (std::chrono::steady_clock::now() < deadline) {
      v1::ListDispatchLotsResponse lots;
      if (ListLots(*stub, office, "", &lots).ok() && lots.lots_size() == 1) return lots.lots(0);
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    ADD_FAILURE() << "no lot of " << office
                  << " taken over: " << testing::ReadFileOrDie(ca_->dir().File("dispatch.log"));
    return {};
  }
  static grpc::Status Deliver(v1::Dispatch::Stub& stub, const std::string& token,
                              const v1::DeliverRequest& request, v1::Delivery* delivery) {
    grpc::ClientContext context;
    if (!token.empty()) context.AddMetadata("authorization", "Bearer " + token);
    return stub.Deliver(&context, request, delivery);
  }
  static v1::DeliverRequest Order(const v1::DispatchLot& lot, const std::string& collector,
                                  const std::string& request_id) {
    v1::DeliverRequest request;
    request.set_office(lot.office());
    request.set_lot_number(lot.lot_number());
    request.set_collector_cf(collector);
    request.set_request_id(request_id);
    return request;
  }

  // The mail to `to` that the SMTP server received, waiting for it up to 30 s ("" if none).
  static std::string MailTo(const std::string& to) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (std::chrono::steady_clock::now() < deadline) {
      for (const std::string& message : smtp_->Messages()) {
        if (testing::MailHeader(message, "To").find(to) != std::string::npos) return message;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    return "";
  }
  // The half of `credential` ("PIN", "PUK", "Password") a halves mail carries.
  static std::string HalfIn(const std::string& body, const std::string& credential) {
    std::smatch match;
    const std::regex line(credential + ", seconda metà: +(\\S+)");
    return std::regex_search(body, match, line) ? match[1].str() : "";
  }
  // Card `number`'s whole credentials, opened from perso's journal with the vault's key.
  static personalization::CardCredentials CredentialsOf(const std::string& number) {
    pg::ConnectionPool pool(*perso_db_, 1);
    SystemClock clock;
    personalization::PgCardJournal journal(pool, clock);
    auto record = journal.Load(number);
    EXPECT_TRUE(record.ok() && record->has_value()) << number;
    if (!record.ok() || !record->has_value()) return {};
    auto opened =
        personalization::OpenCredentials(*sealer_, number, (*record)->envelope, (*record)->mail);
    EXPECT_TRUE(opened.ok()) << opened.status();
    return opened.ok() ? *std::move(opened) : personalization::CardCredentials{};
  }

  // `tessera login` at `machine` (default: the Ministry's) with card `card_number` (SoftHSM:
  // the cards perso made, which a new process sees) and `pin`, as an operator runs it: the
  // session's token ("" and a failure if the login fails).
  static std::string CliLogin(const std::string& card_number, const std::string& pin,
                              const testing::TlsIdentity* machine = nullptr) {
    const auto login = CliAs(card_number, machine, registry_->port(),
                             "login --token-label " + card_number, "TESSERA_USER_PIN=" + pin);
    EXPECT_EQ(login.exit_code, 0) << login.output;
    if (login.exit_code != 0) return "";
    return nlohmann::json::parse(testing::ReadFileOrDie(ca_->dir().File(
                                     "cli-config-" + card_number + "/tessera/session.json")))
        .at("token")
        .get<std::string>();
  }
  // `tessera <command>` against the service on `port`, at `machine` (default: the Ministry's),
  // where the holder of card `card_number` logs in (their session kept apart from others').
  static testing::CommandResult CliAs(const std::string& card_number,
                                      const testing::TlsIdentity* machine, int port,
                                      const std::string& command, const std::string& env = "") {
    const std::string config = ca_->dir().File("cli-config-" + card_number);
    std::string cert = ca_->hierarchy().Pki("tessera-cli.pem");
    std::string key = ca_->hierarchy().Pki("tessera-cli.key");
    if (machine != nullptr) {
      cert = ca_->dir().File("machine-" + card_number + ".pem");
      key = ca_->dir().File("machine-" + card_number + ".key");
      testing::WriteFile(cert, machine->cert_pem);
      testing::WriteFile(key, machine->key_pem);
    }
    return testing::RunCommand(env + " XDG_CONFIG_HOME=" + config + " " + TESSERA_BIN_DIR +
                               "/tessera --module " + TestSoftHsm::Get().module_path() +
                               " --target localhost:" + std::to_string(port) + " --ca " +
                               ca_->hierarchy().Pki("bundle.pem") + " --cert " + cert + " --key " +
                               key + " " + command);
  }

  static testing::RunningCa* ca_;
  static testing::ServiceProcess* registry_;
  static testing::ServiceProcess* perso_;
  static testing::ServiceProcess* dispatch_;
  static testing::SmtpSink* smtp_;
  static hsm::SecretSealer* sealer_;
  static std::string* perso_db_;
  static std::string* dispatch_db_;
  static std::string* registry_db_;
};

testing::RunningCa* DispatchServerTest::ca_ = nullptr;
testing::ServiceProcess* DispatchServerTest::registry_ = nullptr;
testing::ServiceProcess* DispatchServerTest::perso_ = nullptr;
testing::ServiceProcess* DispatchServerTest::dispatch_ = nullptr;
testing::SmtpSink* DispatchServerTest::smtp_ = nullptr;
hsm::SecretSealer* DispatchServerTest::sealer_ = nullptr;
std::string* DispatchServerTest::perso_db_ = nullptr;
std::string* DispatchServerTest::dispatch_db_ = nullptr;
std::string* DispatchServerTest::registry_db_ = nullptr;

void ExpectRefused(const grpc::Status& status, grpc::StatusCode code, const std::string& reason) {
  EXPECT_EQ(status.error_code(), code) << status.error_message();
  EXPECT_NE(status.error_message().find(reason), std::string::npos) << status.error_message();
}

TEST_F(DispatchServerTest, LotsReachTheirHoldersAndOnlyTheirHoldersGetTheSecondHalves) {
  // The lots came over by themselves, their cards SPEDITA.
  const v1::DispatchLot ministry_lot = LotOf("ministero");
  const v1::DispatchLot accumoli_lot = LotOf(kAccumoli);
  ASSERT_EQ(ministry_lot.cards(), 1u);
  EXPECT_EQ(ministry_lot.state(), "DA COMPLETARE");
  EXPECT_GE(accumoli_lot.cards(), 3u);
  EXPECT_EQ(accumoli_lot.office_name(), "ACCUMOLI (RI)");
  auto ministry = Dispatch();

  // A comune's workstation and another service have no say here.
  const testing::TlsIdentity accumoli_desk =
      ca_->hierarchy().Issue("workstation", {.istat = kAccumoli, .progressive = 1});
  v1::ListDispatchLotsResponse unused;
  ExpectRefused(ListLots(*v1::Dispatch::NewStub(Channel(accumoli_desk, dispatch_->port())),
                         kAccumoli, "", &unused),
                grpc::StatusCode::PERMISSION_DENIED, "may not call it");
  ExpectRefused(ListLots(*Dispatch("tessera-perso"), kAccumoli, "", &unused),
                grpc::StatusCode::PERMISSION_DENIED, "may not call it");

  // The Ministry's lot goes to a Ministry operator only; Costa is none.
  v1::Delivery delivery;
  ExpectRefused(Deliver(*ministry, "", Order(ministry_lot, kCosta, "ministry-1"), &delivery),
                grpc::StatusCode::FAILED_PRECONDITION, "is not a user censused for ministero");
  // The Ministry's machine, alone during the bootstrap, hands it to Rossi.
  grpc::Status status =
      Deliver(*ministry, "", Order(ministry_lot, kRossi, "ministry-1"), &delivery);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_TRUE(std::regex_match(delivery.protocol(), std::regex("MIN-20[0-9]{2}-000001")))
      << delivery.protocol();
  EXPECT_EQ(delivery.operator_().surname(), "MINISTERO DELL'INTERNO");
  EXPECT_EQ(delivery.collector().codice_fiscale(), kRossi);
  ASSERT_EQ(delivery.cards_size(), 1);
  const v1::DispatchCard rossi_card = delivery.cards(0);
  EXPECT_EQ(rossi_card.state(), "ATTIVA");  // the collector's own card is his at once
  EXPECT_NE(rossi_card.subject_dn().find("CN=" + std::string(kRossi)), std::string::npos)
      << rossi_card.subject_dn();
  // A retry is the same delivery; the same request for another collector is refused.
  v1::Delivery again;
  ASSERT_TRUE(Deliver(*ministry, "", Order(ministry_lot, kRossi, "ministry-1"), &again).ok());
  EXPECT_TRUE(again.repeated());
  EXPECT_EQ(again.protocol(), delivery.protocol());

  // His halves by mail, to his personal mailbox; with the envelope's they open his card.
  const std::string mail = MailTo("mario.rossi");
  ASSERT_FALSE(mail.empty()) << testing::ReadFileOrDie(ca_->dir().File("dispatch.log"));
  const std::string body = testing::MailBody(mail);
  const personalization::CardCredentials rossi = CredentialsOf(rossi_card.card_number());
  const personalization::Halves pin = personalization::Split(rossi.pin);
  EXPECT_EQ(HalfIn(body, "PIN"), std::string(pin.mail.view())) << body;
  EXPECT_EQ(HalfIn(body, "PUK"), std::string(personalization::Split(rossi.puk).mail.view()));
  EXPECT_EQ(HalfIn(body, "Password"),
            std::string(personalization::Split(rossi.password).mail.view()));
  EXPECT_EQ(body.find(std::string(pin.envelope.view())), std::string::npos)
      << "the envelope half is in the mail";
  const std::string rossi_session =
      CliLogin(rossi_card.card_number(), std::string(pin.envelope.view()) + HalfIn(body, "PIN"));
  ASSERT_FALSE(rossi_session.empty());

  // The bootstrap is over: the Ministry's machine acts only with his session now.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
  while (ListLots(*ministry, kAccumoli, "", &unused).ok() &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  ExpectRefused(ListLots(*ministry, kAccumoli, "", &unused), grpc::StatusCode::PERMISSION_DENIED,
                "may not call it");

  // Rossi hands Accumoli's lot to its mayor (a person censused for no office cannot collect).
  ExpectRefused(Deliver(*ministry, rossi_session,
                        Order(accumoli_lot, "BNCLCU80A01H501K", "accumoli-0"), &delivery),
                grpc::StatusCode::FAILED_PRECONDITION, "is not a user censused for comune:057001");
  status = Deliver(*ministry, rossi_session, Order(accumoli_lot, kRicci, "accumoli-1"), &delivery);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(delivery.operator_().codice_fiscale(), kRossi);
  EXPECT_EQ(delivery.operator_().surname(), "Rossi");
  EXPECT_TRUE(std::regex_match(delivery.protocol(), std::regex("RI-20[0-9]{2}-000001")))
      << delivery.protocol();
  EXPECT_EQ(static_cast<uint32_t>(delivery.cards_size()), accumoli_lot.cards());
  std::map<std::string, std::string> states;
  for (const v1::DispatchCard& card : delivery.cards())
    states[card.codice_fiscale()] = card.state();
  EXPECT_EQ(states[kRicci], "ATTIVA");
  EXPECT_EQ(states[kCosta], "CONSEGNATA");  // his halves wait for his registration
  EXPECT_FALSE(MailTo("giulia.ricci").empty());
  // Its receipt: two copies, the protocol and every card's holder (pdftotext).
  {
    grpc::ClientContext context;
    v1::GetDeliveryRequest which;
    which.set_protocol(delivery.protocol());
    context.AddMetadata("authorization", "Bearer " + rossi_session);
    v1::Receipt receipt;
    status = ministry->GetReceipt(&context, which, &receipt);
    ASSERT_TRUE(status.ok()) << status.error_message();
    testing::WriteFile(ca_->dir().File("receipt.pdf"), receipt.pdf());
    const auto text = testing::RunCommand("pdftotext " + ca_->dir().File("receipt.pdf") + " -");
    ASSERT_EQ(text.exit_code, 0) << text.output;
    EXPECT_NE(text.output.find("COPIA PER LA PREFETTURA"), std::string::npos) << text.output;
    EXPECT_NE(text.output.find("COPIA PER IL COMUNE"), std::string::npos);
    EXPECT_NE(text.output.find("Prot. N° " + delivery.protocol()), std::string::npos);
    for (const v1::DispatchCard& card : delivery.cards()) {
      EXPECT_NE(text.output.find(card.codice_fiscale()), std::string::npos);
    }
  }

  // Delivered once: a new request for the same lot finds nothing left.
  ExpectRefused(
      Deliver(*ministry, rossi_session, Order(accumoli_lot, kRicci, "accumoli-2"), &delivery),
      grpc::StatusCode::FAILED_PRECONDITION, "every card is delivered already");
  v1::ListDispatchLotsResponse lots;
  ASSERT_TRUE(ListLots(*ministry, kAccumoli, rossi_session, &lots).ok());
  ASSERT_EQ(lots.lots_size(), 1);
  EXPECT_EQ(lots.lots(0).state(), "COMPLETATO");
  EXPECT_EQ(lots.lots(0).to_deliver(), 0u);
  // The comune's PEC was told its cards were at the prefettura; of the holders, only the two
  // collectors got mail: Costa's halves wait for his registration.
  const std::string notice = MailTo("protocollo@pec.comune.it");
  EXPECT_NE(testing::MailBody(notice).find("del lotto n. " + accumoli_lot.lot_number()),
            std::string::npos)
      << notice;
  EXPECT_EQ(smtp_->Messages().size(), 3u);

  // At Accumoli: its mayor logs in with her card (her envelope's half and her mail's) and
  // registers Costa's card to him; his halves follow by mail, once.
  std::string ricci_card, costa_card;
  for (const v1::DispatchCard& card : delivery.cards()) {
    if (card.codice_fiscale() == kRicci) ricci_card = card.card_number();
    if (card.codice_fiscale() == kCosta) costa_card = card.card_number();
  }
  const std::string ricci_session =
      CliLogin(ricci_card,
               std::string(personalization::Split(CredentialsOf(ricci_card).pin).envelope.view()) +
                   HalfIn(testing::MailBody(MailTo("giulia.ricci")), "PIN"),
               &accumoli_desk);
  ASSERT_FALSE(ricci_session.empty());
  auto at_accumoli = v1::Dispatch::NewStub(Channel(accumoli_desk, dispatch_->port()));
  const auto register_card = [&](const std::string& cf, const std::string& card,
                                 const std::string& request_id, v1::Registration* done) {
    grpc::ClientContext context;
    context.AddMetadata("authorization", "Bearer " + ricci_session);
    v1::RegisterCardRequest request;
    request.set_codice_fiscale(cf);
    request.set_card_number(card);
    request.set_request_id(request_id);
    return at_accumoli->RegisterCard(&context, request, done);
  };
  v1::Registration registration;
  ExpectRefused(register_card(kRicci, costa_card, "registra-0", &registration),
                grpc::StatusCode::FAILED_PRECONDITION, "is not the card of");
  status = register_card(kCosta, costa_card, "registra-1", &registration);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(registration.card().state(), "ATTIVA");
  EXPECT_EQ(registration.registered_by().codice_fiscale(), kRicci);
  EXPECT_GT(registration.holder_form_pdf().size(), 1000u);
  ExpectRefused(register_card(kCosta, costa_card, "registra-2", &registration),
                grpc::StatusCode::FAILED_PRECONDITION, "registered already");
  const std::string costa_mail = testing::MailBody(MailTo("paolo.costa"));
  EXPECT_EQ(HalfIn(costa_mail, "PIN"),
            std::string(personalization::Split(CredentialsOf(costa_card).pin).mail.view()))
      << costa_mail;
  std::this_thread::sleep_for(std::chrono::seconds(2));  // a second mail would be out by now
  EXPECT_EQ(smtp_->Messages().size(), 4u);

  // Costa is Accumoli's Amministratore Postazioni too. Logged in with his card at Accumoli's
  // workstation, he downloads the comune's workstation certificates (tessera-registry fetches
  // them from tessera-ca) as one zip with their passwords; the download is in the registry's
  // audit chain. The mayor is not the ALP; Costa acts for no other comune.
  const std::string costa_session =
      CliLogin(costa_card,
               std::string(personalization::Split(CredentialsOf(costa_card).pin).envelope.view()) +
                   HalfIn(costa_mail, "PIN"),
               &accumoli_desk);
  ASSERT_FALSE(costa_session.empty());
  const std::string zip = ca_->dir().File("accumoli-postazioni.zip");
  const testing::CommandResult download =
      CliAs(costa_card, &accumoli_desk, registry_->port(), "workstation download --out " + zip);
  ASSERT_EQ(download.exit_code, 0) << download.output;
  const testing::CommandResult listing = testing::RunCommand("unzip -Z1 " + zip);
  EXPECT_EQ(listing.output, "0570010001.p12\n0570010002.p12\n0570010099.p12\npasswords.txt\n")
      << listing.output;
  const std::string passwords = testing::RunCommand("unzip -p " + zip + " passwords.txt").output;
  const size_t line = passwords.find("0570010099   0570010099.p12   ");
  ASSERT_NE(line, std::string::npos) << passwords;
  const size_t start = line + std::string("0570010099   0570010099.p12   ").size();
  testing::WriteFile(ca_->dir().File("server.pass"),
                     passwords.substr(start, passwords.find('\r', start) - start));
  const testing::CommandResult opened =
      testing::RunCommand("unzip -p " + zip + " 0570010099.p12 > " + ca_->dir().File("server.p12") +
                          " && openssl pkcs12 -in " + ca_->dir().File("server.p12") +
                          " -passin file:" + ca_->dir().File("server.pass") +
                          " -nokeys -clcerts | openssl x509 -noout -subject");
  EXPECT_EQ(opened.exit_code, 0) << opened.output;
  EXPECT_NE(opened.output.find("0570010099"), std::string::npos) << opened.output;

  pg::ConnectionPool registry_pool(*registry_db_, 1);
  auto conn = registry_pool.Acquire();
  ASSERT_TRUE(conn.ok()) << conn.status();
  auto recorded = (*conn)->Exec(
      "SELECT person, machine, archive, array_to_string(common_ids, ',') FROM "
      "registry.workstation_downloads");
  ASSERT_TRUE(recorded.ok()) << recorded.status();
  ASSERT_EQ(recorded->rows(), 1);
  EXPECT_EQ(recorded->Text(0, 0), kCosta);
  EXPECT_EQ(recorded->Text(0, 1), "0570010001");
  EXPECT_TRUE(recorded->Bool(0, 2));
  EXPECT_EQ(recorded->Text(0, 3), "0570010001,0570010002,0570010099");
  auto audited = (*conn)->Exec(
      "SELECT count(*) FROM (SELECT actor, action FROM registry.audit_records UNION ALL SELECT "
      "actor, action FROM registry.audit_pending) a WHERE action = "
      "'workstation_downloads.insert' AND actor = $1",
      {std::string("person:") + kCosta});
  ASSERT_TRUE(audited.ok()) << audited.status();
  EXPECT_EQ(audited->Text(0, 0), "1");

  // One certificate into a directory ("Scarica certificato"): the file and its password beside
  // it, both 0600; a second download recorded.
  const std::string one = ca_->dir().File("postazione-0002");
  const testing::CommandResult single = CliAs(costa_card, &accumoli_desk, registry_->port(),
                                              "workstation download --id 0570010002 --out " + one);
  ASSERT_EQ(single.exit_code, 0) << single.output;
  const testing::CommandResult installed = testing::RunCommand(
      "stat -c %a " + one + "/0570010002.p12 " + one +
      "/0570010002.p12.pass && openssl pkcs12 -in " + one + "/0570010002.p12 -passin file:" + one +
      "/0570010002.p12.pass -nokeys -clcerts | openssl x509 -noout -subject");
  EXPECT_EQ(installed.exit_code, 0) << installed.output;
  EXPECT_EQ(installed.output.substr(0, 8), "600\n600\n") << installed.output;
  EXPECT_NE(installed.output.find("CN = 0570010002"), std::string::npos) << installed.output;
  auto downloads = (*conn)->Exec("SELECT count(*) FROM registry.workstation_downloads");
  ASSERT_TRUE(downloads.ok()) << downloads.status();
  EXPECT_EQ(downloads->Text(0, 0), "2");

  auto registry_at_accumoli = v1::Registry::NewStub(Channel(accumoli_desk, registry_->port()));
  const auto list_as = [&](const std::string& session, const std::string& office) {
    grpc::ClientContext context;
    context.AddMetadata("authorization", "Bearer " + session);
    v1::ListWorkstationsRequest request;
    request.set_office(office);
    v1::ListWorkstationsResponse response;
    return registry_at_accumoli->ListWorkstations(&context, request, &response);
  };
  EXPECT_TRUE(list_as(costa_session, "").ok());
  ExpectRefused(list_as(ricci_session, ""), grpc::StatusCode::PERMISSION_DENIED,
                "an office's Amministratore Postazioni");
  ExpectRefused(list_as(costa_session, "comune:057002"), grpc::StatusCode::PERMISSION_DENIED,
                "may not act for comune:057002");
}

}  // namespace
}  // namespace tessera
