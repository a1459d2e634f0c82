// Card login against a real tessera-registry (PostgreSQL, session key on SoftHSM, mTLS on
// loopback) with cards made as tessera-perso makes them: a SoftHSM token per card, its key made
// on the card, its certificate from a real tessera-ca, the order reported produced. The card
// signs the challenge on the token; the session token that comes back is bound to the machine
// certificate of the connection, refused from any other machine, altered, or after logout.
#include <botan/data_src.h>
#include <botan/hash.h>
#include <botan/hex.h>
#include <botan/pubkey.h>
#include <botan/x509_key.h>
#include <botan/x509cert.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <functional>
#include <map>
#include <thread>

#include "access/card_signature.h"
#include "access/session_gate.h"
#include "access/session_token.h"
#include "hsm/secret_sealer.h"
#include "hsm/token.h"
#include "hsm/token_key.h"
#include "personalization/card_maker.h"
#include "personalization/credentials.h"
#include "platform/clock.h"
#include "platform/pg.h"
#include "platform/principal.h"
#include "platform/random.h"
#include "platform/rpc_client.h"
#include "proto/ca.grpc.pb.h"
#include "proto/registry.grpc.pb.h"
#include "registry/daily_access.h"
#include "services/ca/handlers.h"
#include "services/perso/ca_certifier.h"
#include "services/registry/census_upload.h"
#include "services/registry/handlers.h"
#include "tests/support/card_fakes.h"
#include "tests/support/registry_calls.h"
#include "tests/support/run.h"
#include "tests/support/service_process.h"
#include "tests/support/smtp_sink.h"
#include "tests/support/test_ceremony.h"
#include "tests/support/test_hsm.h"
#include "tests/support/test_pg.h"
#include "tests/unit/fake_registry_stores.h"

namespace tessera {
namespace {

using testing::TestSoftHsm;
using Identity = testing::TlsIdentity;

// Giulia Ricci: Sindaco/Delegato of Accumoli (057001) in the sample census.
constexpr char kRicci[] = "RCCGLI72M42G157D";
// Paolo Costa: an operator of Accumoli and of Amatrice (057002), other profiles in each.
constexpr char kCosta[] = "CSTPLA83S10A241X";
constexpr const char* kRossi = testing::kMinistryOperatorCf;  // the Ministry's operator

// A card made for a test: its token (label = card number), PIN and certificate.
struct Card {
  std::string number;
  std::string pin;
  std::vector<uint8_t> certificate;  // DER
};

struct Login {
  grpc::Status status;
  v1::SessionResponse session;
};

class CardLoginTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    ca_ = new testing::RunningCa("tessera-e2e-login",
                                 {{"tessera-ca", {"localhost"}, {"127.0.0.1"}},
                                  {"tessera-registry", {"localhost"}, {"127.0.0.1"}},
                                  {"tessera-perso", {"localhost"}, {}},
                                  {"tessera-cli", {"localhost"}, {}}});
    testing::TestPg& pg = testing::TestPg::Get();
    const std::string run = ca_->dir().path().string();
    registry_db_ = new std::string(pg.ConnInfo(pg.CreateDatabase()));
    ca_->hierarchy().WriteRegistryConfig(ca_->dir().File("registry.toml"), *registry_db_, run);
    // The registry's outbox goes to a real SMTP server on loopback.
    smtp_ = new testing::SmtpSink(ca_->dir().File("mail"));
    testing::WriteFile(ca_->dir().File("registry.toml"),
                       testing::ReadFileOrDie(ca_->dir().File("registry.toml")) +
                           "[mail]\nrelay = \"" + smtp_->relay() +
                           "\"\nfrom = \"anpr-carte@interno.example\"\ntls = \"off\"\n"
                           "poll_seconds = 1\n");
    registry_ = new testing::ServiceProcess("tessera-registry", ca_->dir().File("registry.toml"),
                                            ca_->dir().File("registry-port"),
                                            ca_->dir().File("registry.log"));
    cards_ = new std::map<std::string, Card>();
    CensusAndCards();
  }
  static void TearDownTestSuite() {
    EXPECT_EQ(registry_->Stop(), 0) << "tessera-registry did not shut down cleanly";
    delete registry_;
    delete smtp_;
    delete cards_;
    delete registry_db_;
    delete ca_;
  }

  // Accumoli's and Amatrice's censuses submitted, Rossi a Ministry operator, and a card made
  // for Ricci, Costa and Rossi as tessera-perso makes it, reported produced.
  static void CensusAndCards() {
    auto ministry = Registry(Service("tessera-cli"));
    ASSERT_TRUE(testing::LoadReferenceLists(*ministry).ok());
    ASSERT_TRUE(testing::DeclareRietiComuni(*ministry).ok());
    grpc::ClientContext import;
    v1::ImportCensusResponse imported;
    grpc::Status status = registry_service::UploadCensusFile(
        *ministry, import,
        testing::ReadFileOrDie(std::string(TESSERA_SOURCE_DIR) + "/deploy/sample/census_rieti.csv"),
        testing::NewRequestId(), &imported);
    ASSERT_TRUE(status.ok()) << status.error_message();
    for (const char* istat : {"057001", "057002"}) {
      status = testing::SubmitComuneDraft(*ministry, istat);
      ASSERT_TRUE(status.ok()) << status.error_message();
    }
    status = testing::AddMinistryOperator(*ministry);
    ASSERT_TRUE(status.ok()) << status.error_message();

    auto perso = Registry(Service("tessera-perso"));
    grpc::ClientContext claim_context;
    v1::ClaimOrdersRequest claim;
    claim.set_worker("login-test");
    claim.set_limit(100);
    v1::ClaimOrdersResponse claimed;
    status = perso->ClaimOrders(&claim_context, claim, &claimed);
    ASSERT_TRUE(status.ok()) << status.error_message();

    auto vault = TestSoftHsm::Get().CreateToken(TestSoftHsm::UniqueLabel("vault"));
    auto sealer = hsm::SecretSealer::Open(vault, "card-halves", /*create_if_missing=*/true);
    ASSERT_TRUE(sealer.ok()) << sealer.status();
    testing::MemoryCardJournal journal;
    const Identity perso_identity = Service("tessera-perso");
    perso_service::CaCertifier certifier(
        MtlsChannel("localhost:" + std::to_string(ca_->server().port()),
                    testing::ReadFileOrDie(ca_->hierarchy().Pki("bundle.pem")),
                    perso_identity.cert_pem, perso_identity.key_pem));
    personalization::CardMaker maker(TestSoftHsm::Get().module(), *sealer, journal, certifier);
    v1::ReportOrdersRequest report;
    report.set_worker("login-test");
    for (const v1::CardOrder& order : claimed.cards()) {
      const std::string cf = order.codice_fiscale();
      if (cf != kRicci && cf != kCosta && cf != kRossi) continue;
      auto made = maker.Make({order.card_number(), cf, order.surname(), order.name()});
      ASSERT_TRUE(made.ok()) << made.status();
      auto credentials = personalization::OpenCredentials(*sealer, order.card_number(),
                                                          made->envelope, made->mail);
      ASSERT_TRUE(credentials.ok()) << credentials.status();
      (*cards_)[cf] = {order.card_number(), std::string(credentials->pin.view()),
                       made->certificate};
      v1::OrderOutcome* outcome = report.add_outcomes();
      outcome->set_card_number(order.card_number());
      outcome->set_certificate_serial(
          SerialHex(Botan::X509_Certificate(made->certificate).serial_number()));
    }
    ASSERT_EQ(cards_->size(), 3u);
    grpc::ClientContext report_context;
    v1::ReportOrdersResponse reported;
    status = perso->ReportOrders(&report_context, report, &reported);
    ASSERT_TRUE(status.ok()) << status.error_message();
    for (const auto& result : reported.results()) ASSERT_EQ(result.code(), 0) << result.message();
  }

  static Identity Service(const std::string& name) {
    return ca_->hierarchy().ServiceIdentity(name);
  }
  // Workstation `progressive` of the office `owner` (a comune's ISTAT code; province + "000").
  static Identity Workstation(const std::string& owner, int progressive) {
    return ca_->hierarchy().Issue("workstation", {.istat = owner, .progressive = progressive});
  }
  static std::unique_ptr<v1::Registry::Stub> Registry(const Identity& machine) {
    return v1::Registry::NewStub(
        MtlsChannel("localhost:" + std::to_string(registry_->port()),
                    testing::ReadFileOrDie(ca_->hierarchy().Pki("bundle.pem")), machine.cert_pem,
                    machine.key_pem));
  }

  // `to_sign` signed on the card, with the PIN, as the CLI does.
  static std::vector<uint8_t> SignOnCard(const Card& card, const std::string& to_sign) {
    auto token = hsm::Token::Login(TestSoftHsm::Get().module(), card.number, Secret(card.pin));
    EXPECT_TRUE(token.ok()) << token.status();
    if (!token.ok()) return {};
    auto key = hsm::LoadTokenKey(*token, personalization::kCardKeyId);
    EXPECT_TRUE(key.ok()) << key.status();
    if (!key.ok()) return {};
    Botan::PK_Signer signer(**key, ThreadRng(), access::CardSignatureScheme(**key));
    return signer.sign_message(reinterpret_cast<const uint8_t*>(to_sign.data()), to_sign.size(),
                               ThreadRng());
  }

  static v1::BeginLoginResponse Begin(v1::Registry::Stub& machine, const std::string& cf) {
    grpc::ClientContext context;
    v1::BeginLoginRequest request;
    request.set_codice_fiscale(cf);
    v1::BeginLoginResponse challenge;
    grpc::Status status = machine.BeginLogin(&context, request, &challenge);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return challenge;
  }
  static Login Complete(v1::Registry::Stub& machine, const std::string& challenge_id,
                        const std::vector<uint8_t>& signature,
                        const std::vector<uint8_t>& certificate) {
    grpc::ClientContext context;
    v1::CompleteLoginRequest request;
    request.set_challenge_id(challenge_id);
    request.set_signature(std::string(signature.begin(), signature.end()));
    request.set_card_certificate(std::string(certificate.begin(), certificate.end()));
    Login login;
    login.status = machine.CompleteLogin(&context, request, &login.session);
    return login;
  }
  // The whole login of `cf` with their own card at `machine`.
  static Login LogIn(v1::Registry::Stub& machine, const std::string& cf) {
    const Card& card = cards_->at(cf);
    const v1::BeginLoginResponse challenge = Begin(machine, cf);
    return Complete(machine, challenge.challenge_id(), SignOnCard(card, challenge.to_sign()),
                    card.certificate);
  }

  // A call that carries `token` (GetCensus of comune `istat`): how it ended.
  static grpc::Status CallWith(v1::Registry::Stub& machine, const std::string& token,
                               const std::string& istat = "057001") {
    grpc::ClientContext context;
    context.AddMetadata("authorization", "Bearer " + token);
    v1::GetCensusRequest request;
    request.set_istat(istat);
    v1::Census census;
    return machine.GetCensus(&context, request, &census);
  }

  // The token of a session of `cf` at `machine`, logged out already.
  static std::string EndedSession(v1::Registry::Stub& machine, const std::string& cf) {
    Login login = LogIn(machine, cf);
    EXPECT_TRUE(login.status.ok()) << login.status.error_message();
    grpc::ClientContext context;
    context.AddMetadata("authorization", "Bearer " + login.session.token());
    v1::LogoutResponse out;
    EXPECT_TRUE(machine.Logout(&context, {}, &out).ok());
    return login.status.ok() ? login.session.token() : "";
  }
  // `token` with one character of its signature changed.
  static std::string Altered(std::string token) {
    token[token.size() - 2] = token[token.size() - 2] == 'A' ? 'B' : 'A';
    return token;
  }

  // A session as the registry signs it (its own key, from its token), for `login`'s person at
  // `machine`, but ended by the clock: issued 40 minutes ago, expired 10 minutes ago.
  static std::string ExpiredSession(const v1::SessionResponse& login, const Identity& machine) {
    auto token =
        hsm::Token::Login(TestSoftHsm::Get().module(), ca_->hierarchy().registry_session_token(),
                          Secret(testing::kTestUserPin));
    EXPECT_TRUE(token.ok()) << token.status();
    if (!token.ok()) return "";
    auto key = hsm::LoadOrMakeOwnKey(*token, "session-signing");
    EXPECT_TRUE(key.ok() && !key->made);
    if (!key.ok()) return "";
    const std::vector<uint8_t> spki = Botan::X509::BER_encode(*key->key);
    const std::string key_id =
        Botan::hex_encode(Botan::HashFunction::create_or_throw("SHA-256")->process(spki), false)
            .substr(0, 16);
    Botan::DataSource_Memory pem(machine.cert_pem);
    const auto now = std::chrono::system_clock::now();
    auto signed_token = access::SignSession(
        {.session_id = login.session_id(),
         .person = login.codice_fiscale(),
         .office = login.office(),
         .profiles = {login.profiles().begin(), login.profiles().end()},
         .workstation_sha256 = access::Thumbprint(CertificateSha256(Botan::X509_Certificate(pem))),
         .issued_at = now - std::chrono::minutes(40),
         .expires_at = now - std::chrono::minutes(10)},
        *key->key, key_id);
    EXPECT_TRUE(signed_token.ok()) << signed_token.status();
    return signed_token.ok() ? *signed_token : "";
  }

  struct BadSession {
    std::string what;
    std::shared_ptr<grpc::Channel> channel;
    std::string reason;  // in the door's refusal
  };
  // Every RPC of `rules` at its service's door: each bad session refused UNAUTHENTICATED with
  // its reason; `good` (a call by `person` at `machine`) past the door where the table lets the
  // machine or one of the person's profiles in, else refused PERMISSION_DENIED naming the
  // person and their office. Returns the RPCs checked.
  static int ExpectTheDoorHoldsToTheTable(std::vector<RpcRule> rules,
                                          const std::vector<BadSession>& bad,
                                          const std::shared_ptr<grpc::Channel>& good,
                                          const Principal& machine,
                                          const v1::SessionResponse& person) {
    // Logout, past the door, ends the good session: it goes last, or the calls after it would
    // meet an ended session once the door hears of it.
    std::stable_partition(rules.begin(), rules.end(),
                          [](const RpcRule& rule) { return !rule.method.ends_with("/Logout"); });
    int rpcs = 0;
    for (const RpcRule& rule : rules) {
      for (const BadSession& session : bad) {
        const RawReply reply = RawUnaryCall(session.channel, rule.method, "");
        EXPECT_EQ(reply.status.error_code(), grpc::StatusCode::UNAUTHENTICATED)
            << rule.method << " with " << session.what << ": " << reply.status.error_message();
        EXPECT_NE(reply.status.error_message().find(session.reason), std::string::npos)
            << rule.method << " with " << session.what << ": " << reply.status.error_message();
      }
      const bool machine_in =
          std::find(rule.kinds.begin(), rule.kinds.end(), machine.kind) != rule.kinds.end() &&
          (rule.names.empty() ||
           std::find(rule.names.begin(), rule.names.end(), machine.name) != rule.names.end());
      bool profile_in = false;
      for (const PersonGrant& grant : rule.persons) {
        profile_in = profile_in || (person.office().starts_with(grant.office) &&
                                    std::find(person.profiles().begin(), person.profiles().end(),
                                              grant.profile) != person.profiles().end());
      }
      const RawReply reply = RawUnaryCall(good, rule.method, "");
      if (machine_in || profile_in) {
        // Past the door: the handler's own answer to an empty request (CompleteLogin's "no
        // such login challenge", RenewServiceCertificate's refusal of an empty name), never
        // the door's refusal of the caller or of the session.
        EXPECT_EQ(reply.status.error_message().find("may not call it"), std::string::npos)
            << rule.method << ": " << reply.status.error_message();
        EXPECT_EQ(reply.status.error_message().find("session"), std::string::npos)
            << rule.method << ": " << reply.status.error_message();
      } else {
        EXPECT_EQ(reply.status.error_code(), grpc::StatusCode::PERMISSION_DENIED)
            << rule.method << ": " << reply.status.error_message();
        EXPECT_NE(
            reply.status.error_message().find(person.codice_fiscale() + " at " + person.office()),
            std::string::npos)
            << rule.method << ": " << reply.status.error_message();
      }
      ++rpcs;
    }
    return rpcs;
  }
  static std::shared_ptr<grpc::Channel> SessionChannel(int port, const Identity& machine,
                                                       const std::string& token) {
    return CredentialChannel("localhost:" + std::to_string(port),
                             testing::ReadFileOrDie(ca_->hierarchy().Pki("bundle.pem")),
                             "Bearer " + token, machine.cert_pem, machine.key_pem);
  }

  // The password of the last daily-password mail in the registry's outbox, which holds it
  // sealed (no password in the clear in the database): opened with the registry's key, as the
  // mail sender will.
  static std::string LatestDailyPassword() {
    auto db = pg::Connection::Open(*registry_db_);
    EXPECT_TRUE(db.ok()) << db.status();
    if (!db.ok()) return "";
    auto mail = (*db)->Exec(
        "SELECT to_address, sealed_body, body IS NULL FROM registry.outbox WHERE kind = "
        "'daily_password' ORDER BY id DESC LIMIT 1");
    EXPECT_TRUE(mail.ok() && mail->rows() == 1);
    if (!mail.ok() || mail->rows() != 1) return "";
    EXPECT_EQ(mail->Text(0, 0), "paolo.costa.1@comune.it");  // Accumoli's mailbox for him
    EXPECT_TRUE(mail->Bool(0, 2));
    auto token =
        hsm::Token::Login(TestSoftHsm::Get().module(), ca_->hierarchy().registry_session_token(),
                          Secret(testing::kTestUserPin));
    EXPECT_TRUE(token.ok()) << token.status();
    if (!token.ok()) return "";
    auto sealer = hsm::SecretSealer::Open(*token, "outbox-mail", false);
    EXPECT_TRUE(sealer.ok()) << sealer.status();
    if (!sealer.ok()) return "";
    auto body = sealer->Unseal(mail->Bytes(0, 1), registry::kOutboxSealPurpose);
    EXPECT_TRUE(body.ok()) << body.status();
    if (!body.ok()) return "";
    const std::string text(body->view());
    const size_t start = text.find("\n\n") + 2;
    return text.substr(start, text.find('\n', start) - start);
  }

  // tessera-ca started again checking sessions against this suite's registry.
  static void RestartCaWithSessions() {
    testing::WriteFile(
        ca_->dir().File("ca.toml"),
        testing::ReadFileOrDie(ca_->dir().File("ca.toml")) +
            "[session]\nregistry = \"localhost:" + std::to_string(registry_->port()) + "\"\n");
    ca_->Restart("ca-with-sessions.log");
  }

  static void ExpectRefused(const grpc::Status& status, grpc::StatusCode code,
                            const std::string& reason) {
    EXPECT_EQ(status.error_code(), code) << status.error_message();
    EXPECT_NE(status.error_message().find(reason), std::string::npos) << status.error_message();
  }

  static testing::RunningCa* ca_;
  static testing::ServiceProcess* registry_;
  static testing::SmtpSink* smtp_;
  static std::map<std::string, Card>* cards_;
  static std::string* registry_db_;
};

testing::RunningCa* CardLoginTest::ca_ = nullptr;
std::string* CardLoginTest::registry_db_ = nullptr;
testing::ServiceProcess* CardLoginTest::registry_ = nullptr;
testing::SmtpSink* CardLoginTest::smtp_ = nullptr;
std::map<std::string, Card>* CardLoginTest::cards_ = nullptr;

TEST_F(CardLoginTest, TheCardLogsItsHolderInForTheOfficeOfTheMachine) {
  auto accumoli = Registry(Workstation("057001", 1));
  Login ricci = LogIn(*accumoli, kRicci);
  ASSERT_TRUE(ricci.status.ok()) << ricci.status.error_message();
  EXPECT_EQ(ricci.session.codice_fiscale(), kRicci);
  EXPECT_EQ(ricci.session.office(), "comune:057001");
  ASSERT_EQ(ricci.session.profiles_size(), 1);
  EXPECT_EQ(ricci.session.session_id().size(), 32u);
  const int64_t now = UnixSeconds(std::chrono::system_clock::now());
  EXPECT_NEAR(ricci.session.expires_at_unix() - now, 30 * 60, 5);
  EXPECT_NEAR(ricci.session.renew_until_unix() - now, 10 * 3600, 5);
  EXPECT_TRUE(CallWith(*accumoli, ricci.session.token()).ok());

  // One person, one card, two comuni: the profiles are the ones of the machine's office.
  Login at_accumoli = LogIn(*accumoli, kCosta);
  auto amatrice = Registry(Workstation("057002", 1));
  Login at_amatrice = LogIn(*amatrice, kCosta);
  ASSERT_TRUE(at_accumoli.status.ok()) << at_accumoli.status.error_message();
  ASSERT_TRUE(at_amatrice.status.ok()) << at_amatrice.status.error_message();
  EXPECT_EQ(at_amatrice.session.office(), "comune:057002");
  const std::vector<std::string> here(at_accumoli.session.profiles().begin(),
                                      at_accumoli.session.profiles().end());
  const std::vector<std::string> there(at_amatrice.session.profiles().begin(),
                                       at_amatrice.session.profiles().end());
  EXPECT_EQ(here.size(), 3u);  // accesso_web, operatore_consultazione, amministratore_postazioni
  EXPECT_NE(here, there);

  // The Ministry's operator at the Ministry's machine; a mayor may not use it.
  auto ministry = Registry(Service("tessera-cli"));
  Login rossi = LogIn(*ministry, kRossi);
  ASSERT_TRUE(rossi.status.ok()) << rossi.status.error_message();
  EXPECT_EQ(rossi.session.office(), "ministero");
  ExpectRefused(LogIn(*ministry, kRicci).status, grpc::StatusCode::PERMISSION_DENIED,
                "is no Ministry operator");
  // Ricci has no profiles in Amatrice; Rossi none in any comune.
  ExpectRefused(LogIn(*amatrice, kRicci).status, grpc::StatusCode::PERMISSION_DENIED,
                "has no profiles at comune:057002");
  ExpectRefused(LogIn(*accumoli, kRossi).status, grpc::StatusCode::PERMISSION_DENIED,
                "has no profiles at comune:057001");
  // tessera-perso's certificate is no office's machine.
  auto perso = Registry(Service("tessera-perso"));
  grpc::ClientContext context;
  v1::BeginLoginRequest request;
  request.set_codice_fiscale(kRicci);
  v1::BeginLoginResponse challenge;
  EXPECT_EQ(perso->BeginLogin(&context, request, &challenge).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
}

TEST_F(CardLoginTest, AChallengeIsGoodOnceForItsMachineAndTheCardOfItsPerson) {
  auto accumoli = Registry(Workstation("057001", 1));
  const Card& ricci = cards_->at(kRicci);
  const Card& costa = cards_->at(kCosta);

  // Replayed: the same signed challenge twice.
  v1::BeginLoginResponse challenge = Begin(*accumoli, kRicci);
  std::vector<uint8_t> signature = SignOnCard(ricci, challenge.to_sign());
  ASSERT_TRUE(
      Complete(*accumoli, challenge.challenge_id(), signature, ricci.certificate).status.ok());
  ExpectRefused(Complete(*accumoli, challenge.challenge_id(), signature, ricci.certificate).status,
                grpc::StatusCode::UNAUTHENTICATED, "used already");

  // Signed by another card, with Ricci's certificate.
  challenge = Begin(*accumoli, kRicci);
  ExpectRefused(Complete(*accumoli, challenge.challenge_id(),
                         SignOnCard(costa, challenge.to_sign()), ricci.certificate)
                    .status,
                grpc::StatusCode::UNAUTHENTICATED, "does not verify");
  // Costa's own card answering a challenge for Ricci.
  challenge = Begin(*accumoli, kRicci);
  ExpectRefused(Complete(*accumoli, challenge.challenge_id(),
                         SignOnCard(costa, challenge.to_sign()), costa.certificate)
                    .status,
                grpc::StatusCode::UNAUTHENTICATED, "not " + std::string(kRicci));
  // Begun at one machine, completed at another.
  auto other_machine = Registry(Workstation("057001", 2));
  challenge = Begin(*accumoli, kRicci);
  ExpectRefused(Complete(*other_machine, challenge.challenge_id(),
                         SignOnCard(ricci, challenge.to_sign()), ricci.certificate)
                    .status,
                grpc::StatusCode::UNAUTHENTICATED, "another machine");
  // A "card" certificate from the workstations CA, and a workstation's certificate.
  const Identity forged =
      ca_->hierarchy().Issue("operator", {.codice_fiscale = kRicci}, "workstations");
  for (const std::string& pem : {forged.cert_pem, Workstation("057001", 3).cert_pem}) {
    challenge = Begin(*accumoli, kRicci);
    const Botan::X509_Certificate certificate(reinterpret_cast<const uint8_t*>(pem.data()),
                                              pem.size());
    const Login refused =
        Complete(*accumoli, challenge.challenge_id(), SignOnCard(ricci, challenge.to_sign()),
                 certificate.BER_encode());
    EXPECT_EQ(refused.status.error_code(), grpc::StatusCode::UNAUTHENTICATED)
        << refused.status.error_message();
    EXPECT_EQ(refused.status.error_message().rfind("card_certificate: ", 0), 0u)
        << refused.status.error_message();
  }
  // Unknown challenge; bad codice fiscale.
  ExpectRefused(
      Complete(*accumoli, "0123456789abcdef0123456789abcdef", {1, 2}, ricci.certificate).status,
      grpc::StatusCode::UNAUTHENTICATED, "no such login challenge");
  grpc::ClientContext context;
  v1::BeginLoginRequest request;
  request.set_codice_fiscale("RCCGLI72M42G157X");
  v1::BeginLoginResponse unused;
  ExpectRefused(accumoli->BeginLogin(&context, request, &unused),
                grpc::StatusCode::INVALID_ARGUMENT, "codice_fiscale: ");
  // Every refusal is in the registry's log, with its reason.
  EXPECT_GE(testing::LogEvents(ca_->dir().File("registry.log"), "login_refused").size(), 6u);
}

TEST_F(CardLoginTest, ASessionWorksOnlyFromItsMachineUnalteredAndUntilLogout) {
  auto accumoli = Registry(Workstation("057001", 1));
  Login login = LogIn(*accumoli, kCosta);
  ASSERT_TRUE(login.status.ok()) << login.status.error_message();
  const std::string token = login.session.token();
  ASSERT_TRUE(CallWith(*accumoli, token).ok());

  // From another machine of the same comune.
  auto neighbour = Registry(Workstation("057001", 2));
  ExpectRefused(CallWith(*neighbour, token), grpc::StatusCode::UNAUTHENTICATED,
                "bound to another machine");
  // A changed byte in the signature; the payload given one more profile, signature kept.
  std::string changed = token;
  changed[changed.size() - 5] = changed[changed.size() - 5] == 'A' ? 'B' : 'A';
  ExpectRefused(CallWith(*accumoli, changed), grpc::StatusCode::UNAUTHENTICATED, "session token");
  const size_t first_dot = token.find('.');
  const size_t second_dot = token.find('.', first_dot + 1);
  std::string payload = token.substr(first_dot + 1, second_dot - first_dot - 1);
  payload[10] = payload[10] == 'x' ? 'y' : 'x';
  ExpectRefused(
      CallWith(*accumoli, token.substr(0, first_dot + 1) + payload + token.substr(second_dot)),
      grpc::StatusCode::UNAUTHENTICATED, "session token");
  // Over a connection without a certificate, as an access code comes.
  auto anonymous = v1::Registry::NewStub(
      MtlsChannel("localhost:" + std::to_string(registry_->port()),
                  testing::ReadFileOrDie(ca_->hierarchy().Pki("bundle.pem"))));
  ExpectRefused(CallWith(*anonymous, token), grpc::StatusCode::UNAUTHENTICATED,
                "client certificate");

  // Renewed: a new token for the same session.
  grpc::ClientContext renew_context;
  renew_context.AddMetadata("authorization", "Bearer " + token);
  v1::SessionResponse renewed;
  grpc::Status status = accumoli->RenewSession(&renew_context, {}, &renewed);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(renewed.session_id(), login.session.session_id());
  EXPECT_TRUE(CallWith(*accumoli, renewed.token()).ok());

  // Logout ends the session: both tokens refused within seconds.
  grpc::ClientContext logout_context;
  logout_context.AddMetadata("authorization", "Bearer " + renewed.token());
  v1::LogoutResponse out;
  status = accumoli->Logout(&logout_context, {}, &out);
  ASSERT_TRUE(status.ok()) << status.error_message();
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (CallWith(*accumoli, token).ok() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  ExpectRefused(CallWith(*accumoli, token), grpc::StatusCode::UNAUTHENTICATED,
                "the session has ended");
  ExpectRefused(CallWith(*accumoli, renewed.token()), grpc::StatusCode::UNAUTHENTICATED,
                "the session has ended");
  // The machine itself still works without a session.
  grpc::ClientContext plain;
  v1::GetCensusRequest request;
  request.set_istat("057001");
  v1::Census census;
  EXPECT_TRUE(accumoli->GetCensus(&plain, request, &census).ok());
}

// tessera-ca checks sessions at its own door, from what the registry publishes: the same
// token good from its machine, refused from another or altered, and after logout within
// seconds.
TEST_F(CardLoginTest, AnotherServiceChecksTheSessionAtItsOwnDoor) {
  RestartCaWithSessions();
  // tessera-ca knows only the certificates it issued: the Ministry's machine is one of them.
  const Identity machine = Service("tessera-cli");
  auto ministry = Registry(machine);
  Login login = LogIn(*ministry, kRossi);
  ASSERT_TRUE(login.status.ok()) << login.status.error_message();
  auto ca_chain = [](const Identity& from, const std::string& token) {
    auto ca = v1::CertificateAuthority::NewStub(MtlsChannel(
        "localhost:" + std::to_string(ca_->server().port()),
        testing::ReadFileOrDie(ca_->hierarchy().Pki("bundle.pem")), from.cert_pem, from.key_pem));
    grpc::ClientContext context;
    context.AddMetadata("authorization", "Bearer " + token);
    v1::GetCaChainResponse chain;
    return ca->GetCaChain(&context, {}, &chain);
  };
  // The CA's gate fetches the registry's keys within its first period.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  grpc::Status status = ca_chain(machine, login.session.token());
  while (!status.ok() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    status = ca_chain(machine, login.session.token());
  }
  ASSERT_TRUE(status.ok()) << status.error_message();
  ExpectRefused(ca_chain(Service("tessera-perso"), login.session.token()),
                grpc::StatusCode::UNAUTHENTICATED, "bound to another machine");
  std::string changed = login.session.token();
  changed[changed.size() - 3] = changed[changed.size() - 3] == 'A' ? 'B' : 'A';
  ExpectRefused(ca_chain(machine, changed), grpc::StatusCode::UNAUTHENTICATED, "session token");

  grpc::ClientContext logout_context;
  logout_context.AddMetadata("authorization", "Bearer " + login.session.token());
  v1::LogoutResponse out;
  ASSERT_TRUE(ministry->Logout(&logout_context, {}, &out).ok());
  deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (ca_chain(machine, login.session.token()).ok() &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ExpectRefused(ca_chain(machine, login.session.token()), grpc::StatusCode::UNAUTHENTICATED,
                "the session has ended");
}

// The Ministry's machine certificate acts for the Ministry by itself only until the first
// Ministry operator logs in (the bootstrap: enrolling that operator, making their card); from
// then on, at every service, only with a Ministry operator's session.
TEST_F(CardLoginTest, TheMinistrysCertificateAloneStopsActingOnceItsOperatorLogsIn) {
  RestartCaWithSessions();
  const Identity machine = Service("tessera-cli");
  auto list_operators = [&machine](const std::string& token) {
    grpc::ClientContext context;
    if (!token.empty()) context.AddMetadata("authorization", "Bearer " + token);
    v1::ListMinistryOperatorsResponse operators;
    return Registry(machine)->ListMinistryOperators(&context, {}, &operators);
  };
  auto bundle_at_ca = [&machine](const std::string& token) {
    auto ca = v1::CertificateAuthority::NewStub(
        MtlsChannel("localhost:" + std::to_string(ca_->server().port()),
                    testing::ReadFileOrDie(ca_->hierarchy().Pki("bundle.pem")), machine.cert_pem,
                    machine.key_pem));
    grpc::ClientContext context;
    if (!token.empty()) context.AddMetadata("authorization", "Bearer " + token);
    v1::GetWorkstationBundleRequest request;
    request.set_serial("7e57");
    v1::WorkstationBundle bundle;
    return ca->GetWorkstationBundle(&context, request, &bundle);
  };
  ASSERT_TRUE(list_operators("").ok());
  auto until_refused = [](const std::function<grpc::Status()>& call) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    grpc::Status status = call();
    while (status.error_code() != grpc::StatusCode::PERMISSION_DENIED &&
           std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
      status = call();
    }
    return status;
  };
  // Before: the certificate alone (once the CA has fetched the registry's word).
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (bundle_at_ca("").error_code() == grpc::StatusCode::PERMISSION_DENIED &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  EXPECT_NE(bundle_at_ca("").error_code(), grpc::StatusCode::PERMISSION_DENIED);

  Login rossi = LogIn(*Registry(machine), kRossi);
  ASSERT_TRUE(rossi.status.ok()) << rossi.status.error_message();
  ExpectRefused(until_refused([&] { return list_operators(""); }),
                grpc::StatusCode::PERMISSION_DENIED, "a service certificate may not call it");
  ExpectRefused(until_refused([&] { return bundle_at_ca(""); }),
                grpc::StatusCode::PERMISSION_DENIED, "a service certificate may not call it");
  // With the operator's session: the door opens (the bundle is simply not there).
  EXPECT_TRUE(list_operators(rossi.session.token()).ok());
  EXPECT_NE(bundle_at_ca(rossi.session.token()).error_code(), grpc::StatusCode::PERMISSION_DENIED);
  // A comune's session at the Ministry's machine cannot exist (login refuses it), and a
  // Ministry operator's session is no comune's: at a comune's machine Rossi has no profiles.
  ExpectRefused(LogIn(*Registry(Workstation("057001", 1)), kRossi).status,
                grpc::StatusCode::PERMISSION_DENIED, "has no profiles");
  // Removed from the Ministry's operators (here by himself), his Ministry session ends.
  {
    grpc::ClientContext context;
    context.AddMetadata("authorization", "Bearer " + rossi.session.token());
    v1::RemoveMinistryOperatorRequest request;
    request.set_codice_fiscale(kRossi);
    request.set_reason("trasferito");
    request.set_request_id("remove-rossi");
    v1::RemoveMinistryOperatorResponse removed;
    grpc::Status status = Registry(machine)->RemoveMinistryOperator(&context, request, &removed);
    ASSERT_TRUE(status.ok()) << status.error_message();
  }
  const auto ended_by = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (list_operators(rossi.session.token()).ok() &&
         std::chrono::steady_clock::now() < ended_by) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  ExpectRefused(list_operators(rossi.session.token()), grpc::StatusCode::UNAUTHENTICATED,
                "the session has ended");
}

// The authorization matrix over the wire, generated from the registry's table: every RPC with
// a session from another machine, an altered one, an ended one, and a comune operator's good
// session. The door answers the bad sessions UNAUTHENTICATED whatever the RPC; the good one is
// PERMISSION_DENIED exactly where the table gives neither the machine nor the profile.
TEST_F(CardLoginTest, EveryRegistryRpcRefusesABadSessionAndHoldsAGoodOneToTheTable) {
  const Identity desk = Workstation("057001", 1);
  auto accumoli = Registry(desk);
  Login costa = LogIn(*accumoli, kCosta);
  ASSERT_TRUE(costa.status.ok()) << costa.status.error_message();
  const std::string ended = EndedSession(*accumoli, kRicci);
  ASSERT_FALSE(ended.empty());
  const std::string altered = Altered(costa.session.token());
  const int port = registry_->port();
  const std::vector<BadSession> bad = {
      {"another machine's session",
       SessionChannel(port, Workstation("057001", 2), costa.session.token()),
       "bound to another machine"},
      {"an altered session", SessionChannel(port, desk, altered), "session token"},
      {"an ended session", SessionChannel(port, desk, ended), "the session has ended"},
      {"an expired session", SessionChannel(port, desk, ExpiredSession(costa.session, desk)),
       "expired"}};
  std::this_thread::sleep_for(std::chrono::seconds(3));  // the logout reaches the door

  // The table as tessera-registry builds it (the stores behind it are not asked here).
  registry::testing::FakeRegistryStores stores;
  const mail::PersonalEmailRules email_rules = *mail::PersonalEmailRules::Parse("");
  const SystemClock clock;
  registry::CensusOffice office(stores.View(), email_rules, clock);
  EXPECT_EQ(
      ExpectTheDoorHoldsToTheTable(registry_service::RegistryPolicy(office, nullptr), bad,
                                   SessionChannel(port, desk, costa.session.token()),
                                   {PrincipalKind::kWorkstation, "0570010001"}, costa.session),
      27);
}

// The same at tessera-ca's door, for a Ministry operator at the Ministry's machine (the only
// machine of this suite whose certificate tessera-ca issued and so admits).
TEST_F(CardLoginTest, EveryCaRpcRefusesABadSessionAndHoldsAGoodOneToTheTable) {
  RestartCaWithSessions();
  const Identity machine = Service("tessera-cli");
  auto ministry = Registry(machine);
  Login rossi = LogIn(*ministry, kRossi);
  ASSERT_TRUE(rossi.status.ok()) << rossi.status.error_message();
  const std::string ended = EndedSession(*ministry, kRossi);
  ASSERT_FALSE(ended.empty());
  const std::string altered = Altered(rossi.session.token());
  const int port = ca_->server().port();
  const std::vector<BadSession> bad = {
      {"another machine's session",
       SessionChannel(port, Service("tessera-perso"), rossi.session.token()),
       "bound to another machine"},
      {"an altered session", SessionChannel(port, machine, altered), "session token"},
      {"an ended session", SessionChannel(port, machine, ended), "the session has ended"},
      {"an expired session", SessionChannel(port, machine, ExpiredSession(rossi.session, machine)),
       "expired"}};
  // tessera-ca's gate has the registry's keys and the logout within a few periods.
  const auto good = SessionChannel(port, machine, rossi.session.token());
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (std::chrono::steady_clock::now() < deadline &&
         (!RawUnaryCall(good, "/tessera.v1.CertificateAuthority/GetCaChain", "").status.ok() ||
          RawUnaryCall(bad[2].channel, "/tessera.v1.CertificateAuthority/GetCaChain", "")
              .status.ok())) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  EXPECT_EQ(ExpectTheDoorHoldsToTheTable(ca_service::CaPolicy(nullptr), bad, good,
                                         {PrincipalKind::kService, "tessera-cli"}, rossi.session),
            10);
}

// The daily password over the wire: the mayor (with her card) authorizes an operator of her
// comune; the password goes to the outbox sealed (the test opens it with the registry's key,
// as the mail sender will); the operator logs in with it at a workstation of that comune only.
TEST_F(CardLoginTest, TheMayorAuthorizesADailyPasswordAndItsHolderLogsInWithIt) {
  auto accumoli = Registry(Workstation("057001", 1));
  Login mayor = LogIn(*accumoli, kRicci);
  ASSERT_TRUE(mayor.status.ok()) << mayor.status.error_message();
  auto authorize = [&](const std::string& token, const std::string& request_id) {
    grpc::ClientContext context;
    if (!token.empty()) context.AddMetadata("authorization", "Bearer " + token);
    v1::AuthorizeDailyPasswordRequest request;
    request.set_codice_fiscale(kCosta);
    request.set_until(IsoDate(ItalianDate(std::chrono::system_clock::now())));
    request.set_reason("carta guasta, in sostituzione");
    request.set_request_id(request_id);
    v1::AuthorizeDailyPasswordResponse response;
    return accumoli->AuthorizeDailyPassword(&context, request, &response);
  };
  ExpectRefused(authorize("", "daily-0"), grpc::StatusCode::PERMISSION_DENIED,
                "may not call it");  // the workstation alone
  grpc::Status status = authorize(mayor.session.token(), "daily-1");
  ASSERT_TRUE(status.ok()) << status.error_message();
  ExpectRefused(authorize(mayor.session.token(), "daily-1"), grpc::StatusCode::ALREADY_EXISTS,
                "request_id");

  // The outbox holds the mail sealed: no password in the clear in the database.
  const std::string password = LatestDailyPassword();
  ASSERT_EQ(password.size(), 14u);
  // The registry's sender delivers it, unsealed, to his mailbox (a real SMTP server here).
  std::string delivered;
  for (int i = 0; i < 100 && delivered.empty(); ++i) {
    for (const std::string& message : smtp_->Messages()) {
      if (testing::MailHeader(message, "To") == "<paolo.costa.1@comune.it>") delivered = message;
    }
    if (delivered.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_FALSE(delivered.empty()) << "no mail at the SMTP server";
  EXPECT_NE(testing::MailBody(delivered).find("\n" + password + "\n"), std::string::npos)
      << testing::MailBody(delivered);
  // The server has the message before the sender hears its 250 and logs it.
  for (int i = 0;
       i < 50 && testing::LogEvents(ca_->dir().File("registry.log"), "mail_sent").empty(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_EQ(testing::LogEvents(ca_->dir().File("registry.log"), "mail_sent").size(), 1u);

  // The Ministry follows the registry's outbox (ListOutbox: every mail, never a body); the mayor
  // may not; nothing given up, so a retry makes nothing due.
  Login rossi = LogIn(*Registry(Service("tessera-cli")), kRossi);
  ASSERT_TRUE(rossi.status.ok()) << rossi.status.error_message();
  auto at_the_ministry = v1::Registry::NewStub(
      SessionChannel(registry_->port(), Service("tessera-cli"), rossi.session.token()));
  v1::ListOutboxRequest list;
  list.set_state("sent");
  v1::ListOutboxResponse mails;
  {
    grpc::ClientContext context;
    status = at_the_ministry->ListOutbox(&context, list, &mails);
  }
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_GE(mails.mails_size(), 1);
  const v1::OutboxMail& sent = mails.mails(mails.mails_size() - 1);
  EXPECT_EQ(sent.kind(), "daily_password");
  EXPECT_EQ(sent.to(), "paolo.costa.1@comune.it");
  EXPECT_EQ(sent.state(), "sent");
  EXPECT_EQ(sent.message_id(), testing::MailHeader(delivered, "Message-ID"));
  EXPECT_EQ(mails.DebugString().find(password), std::string::npos);
  {
    grpc::ClientContext context;
    context.AddMetadata("authorization", "Bearer " + mayor.session.token());
    ExpectRefused(accumoli->ListOutbox(&context, list, &mails), grpc::StatusCode::PERMISSION_DENIED,
                  "may not call it");
  }
  {
    grpc::ClientContext context;
    v1::RetryOutboxResponse retried;
    status = at_the_ministry->RetryOutbox(&context, v1::RetryOutboxRequest(), &retried);
    ASSERT_TRUE(status.ok()) << status.error_message();
    EXPECT_EQ(retried.retried(), 0u);
  }

  auto password_login = [&](v1::Registry::Stub& machine, const std::string& typed) {
    grpc::ClientContext context;
    v1::PasswordLoginRequest request;
    request.set_codice_fiscale(kCosta);
    request.set_password(typed);
    Login login;
    login.status = machine.PasswordLogin(&context, request, &login.session);
    return login;
  };
  auto other_desk = Registry(Workstation("057001", 2));
  Login costa = password_login(*other_desk, password);
  ASSERT_TRUE(costa.status.ok()) << costa.status.error_message();
  EXPECT_EQ(costa.session.office(), "comune:057001");
  EXPECT_LE(costa.session.expires_at_unix(),
            UnixSeconds(EndOfItalianDay(std::chrono::system_clock::now())));
  EXPECT_TRUE(CallWith(*other_desk, costa.session.token()).ok());
  ExpectRefused(password_login(*other_desk, "NOTTHEPASSWORD").status,
                grpc::StatusCode::UNAUTHENTICATED, "daily password wrong");
  // Granted at Accumoli: not at Amatrice, where Costa is an operator too.
  ExpectRefused(password_login(*Registry(Workstation("057002", 1)), password).status,
                grpc::StatusCode::UNAUTHENTICATED, "daily password wrong");
}

// What a person does in a session is in the registry's audit chain under their name and their
// workstation's, in the transaction of the change; the chain is anchored on the registry's
// token within seconds and `tessera audit verify` finds it whole.
TEST_F(CardLoginTest, TheAuditChainNamesThePersonAndTheWorkstationAndHolds) {
  auto accumoli = Registry(Workstation("057001", 1));
  Login mayor = LogIn(*accumoli, kRicci);
  ASSERT_TRUE(mayor.status.ok()) << mayor.status.error_message();
  grpc::ClientContext context;
  context.AddMetadata("authorization", "Bearer " + mayor.session.token());
  v1::AuthorizeDailyPasswordRequest request;
  request.set_codice_fiscale(kCosta);
  request.set_until(IsoDate(ItalianDate(std::chrono::system_clock::now())));
  request.set_reason("carta smarrita, denuncia presentata");
  request.set_request_id("daily-audited");
  v1::AuthorizeDailyPasswordResponse response;
  grpc::Status status = accumoli->AuthorizeDailyPassword(&context, request, &response);
  ASSERT_TRUE(status.ok()) << status.error_message();

  auto db = pg::Connection::Open(*registry_db_);
  ASSERT_TRUE(db.ok()) << db.status();
  // Chained by the registry within a fraction of a second.
  absl::StatusOr<pg::Result> grant = absl::NotFoundError("not yet");
  for (int i = 0; i < 50; ++i) {
    grant = (*db)->Exec(
        "SELECT sequence, actor, workstation, request_id, ids_after FROM registry.audit_records "
        "WHERE action = 'daily_password_grants.insert' ORDER BY sequence DESC LIMIT 1");
    if (grant.ok() && grant->rows() == 1) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_TRUE(grant.ok() && grant->rows() == 1);
  EXPECT_EQ(grant->Text(0, 1), std::string("person:") + kRicci);
  EXPECT_EQ(grant->Text(0, 2).substr(0, 23), "workstation:0570010001 ") << grant->Text(0, 2);
  EXPECT_EQ(grant->Text(0, 3).substr(0, 5), "call:");
  EXPECT_NE(grant->Text(0, 4).find(std::string("codice_fiscale=") + kCosta), std::string::npos);
  EXPECT_NE(grant->Text(0, 4).find("request_id=daily-audited"), std::string::npos);
  // The login itself: the machine asked, before anyone was logged in.
  auto login = (*db)->Exec(
      "SELECT actor FROM registry.audit_records WHERE action = 'sessions.insert' AND "
      "ids_after LIKE $1 ORDER BY sequence DESC LIMIT 1",
      {"id=" + mayor.session.session_id() + " %"});
  ASSERT_TRUE(login.ok() && login->rows() == 1);
  EXPECT_EQ(login->Text(0, 0).substr(0, 23), "workstation:0570010001 ");

  // Anchored by the registry (every second here) past the grant.
  const int64_t sequence = grant->Int(0, 0);
  bool anchored = false;
  for (int i = 0; i < 50 && !anchored; ++i) {
    auto anchor = (*db)->Exec("SELECT coalesce(max(sequence), 0) FROM registry.audit_anchors");
    anchored = anchor.ok() && anchor->Int(0, 0) >= sequence;
    if (!anchored) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_TRUE(anchored);
  const testing::CommandResult verified =
      testing::RunCommand(std::string(TESSERA_BIN_DIR) + "/tessera audit verify --database " +
                          testing::ShellQuote(*registry_db_) + " --chain registry --anchor-key " +
                          ca_->dir().File("registry-audit.pem") + " 2>&1");
  EXPECT_EQ(verified.exit_code, 0) << verified.output;
  EXPECT_NE(verified.output.find("holds"), std::string::npos) << verified.output;
}

// tessera login with the card in its reader (SoftHSM here; OpenSC's module for a real reader):
// the PIN from the environment as a script gives it, the session kept 0600 and sent by the
// next commands made with the same machine certificate, whoami, logout.
TEST_F(CardLoginTest, TheCommandLineLogsInWithTheCardAndLogsOut) {
  const Card& costa = cards_->at(kCosta);
  const Identity machine = Workstation("057002", 1);
  testing::WriteFile(ca_->dir().File("ws-cert.pem"), machine.cert_pem);
  testing::WriteFile(ca_->dir().File("ws-key.pem"), machine.key_pem);
  const std::string config = ca_->dir().File("cli-config");
  const std::string tessera = "XDG_CONFIG_HOME=" + config + " " + std::string(TESSERA_BIN_DIR) +
                              "/tessera --module " + TestSoftHsm::Get().module_path() +
                              " --target localhost:" + std::to_string(registry_->port()) +
                              " --ca " + ca_->hierarchy().Pki("bundle.pem") + " --cert " +
                              ca_->dir().File("ws-cert.pem") + " --key " +
                              ca_->dir().File("ws-key.pem") + " ";

  auto wrong_pin = testing::RunCommand("TESSERA_USER_PIN=000000 " + tessera +
                                       "login --token-label " + costa.number);
  EXPECT_NE(wrong_pin.exit_code, 0) << wrong_pin.output;
  auto login = testing::RunCommand("TESSERA_USER_PIN=" + costa.pin + " " + tessera +
                                   "login --token-label " + costa.number);
  ASSERT_EQ(login.exit_code, 0) << login.output;
  EXPECT_NE(login.output.find(std::string("logged in: ") + kCosta + " at comune:057002"),
            std::string::npos)
      << login.output;
  EXPECT_EQ(login.output.find("eyJ"), std::string::npos) << "the token is not printed";
  const std::string file = config + "/tessera/session.json";
  struct stat info {};
  ASSERT_EQ(stat(file.c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0600u);
  ASSERT_EQ(stat((config + "/tessera").c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0700u);

  auto whoami = testing::RunCommand(tessera + "--json whoami");
  ASSERT_EQ(whoami.exit_code, 0) << whoami.output;
  const nlohmann::json me = nlohmann::json::parse(whoami.output);
  EXPECT_EQ(me.at("codice_fiscale"), kCosta);
  EXPECT_EQ(me.at("office"), "comune:057002");
  EXPECT_FALSE(me.contains("token"));
  // The kept token is a session of this machine's, good at the registry's door.
  const std::string token =
      nlohmann::json::parse(testing::ReadFileOrDie(file)).at("token").get<std::string>();
  auto amatrice = Registry(machine);
  EXPECT_TRUE(CallWith(*amatrice, token, "057002").ok());
  // A command made with the machine certificate carries it: the registry's access log names
  // the person.
  auto show = testing::RunCommand(tessera + "census show --istat 057002");
  EXPECT_EQ(show.exit_code, 0) << show.output;
  EXPECT_FALSE(
      testing::LogEvents(ca_->dir().File("registry.log"), "rpc", "person", kCosta).empty());

  auto logout = testing::RunCommand(tessera + "logout");
  ASSERT_EQ(logout.exit_code, 0) << logout.output;
  EXPECT_NE(testing::RunCommand(tessera + "whoami").exit_code, 0);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (CallWith(*amatrice, token, "057002").ok() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  ExpectRefused(CallWith(*amatrice, token, "057002"), grpc::StatusCode::UNAUTHENTICATED,
                "the session has ended");
}

// The daily password through the command line: the mayor, logged in with her card, authorizes
// it; the operator logs in with the mailed password at another desk of the comune, the
// password from the environment as a script gives it.
TEST_F(CardLoginTest, TheCommandLineAuthorizesADailyPasswordAndLogsInWithIt) {
  const Card& ricci = cards_->at(kRicci);
  const auto cli = [](const Identity& machine, const std::string& name) {
    testing::WriteFile(ca_->dir().File(name + "-cert.pem"), machine.cert_pem);
    testing::WriteFile(ca_->dir().File(name + "-key.pem"), machine.key_pem);
    return "XDG_CONFIG_HOME=" + ca_->dir().File(name + "-config") + " " +
           std::string(TESSERA_BIN_DIR) + "/tessera --module " + TestSoftHsm::Get().module_path() +
           " --target localhost:" + std::to_string(registry_->port()) + " --ca " +
           ca_->hierarchy().Pki("bundle.pem") + " --cert " + ca_->dir().File(name + "-cert.pem") +
           " --key " + ca_->dir().File(name + "-key.pem") + " ";
  };
  const std::string desk1 = cli(Workstation("057001", 1), "desk1");
  const std::string desk2 = cli(Workstation("057001", 2), "desk2");
  const std::string authorize =
      "daily-password authorize --codice-fiscale " + std::string(kCosta) + " --until " +
      IsoDate(ItalianDate(std::chrono::system_clock::now())) + " --reason 'carta in sostituzione' ";

  auto alone = testing::RunCommand(desk1 + authorize + "--request-id cli-daily-0");
  EXPECT_EQ(alone.exit_code, 1) << alone.output;
  EXPECT_NE(alone.output.find("may not call it"), std::string::npos) << alone.output;
  auto login = testing::RunCommand("TESSERA_USER_PIN=" + ricci.pin + " " + desk1 +
                                   "login --token-label " + ricci.number);
  ASSERT_EQ(login.exit_code, 0) << login.output;
  auto authorized = testing::RunCommand(desk1 + authorize + "--request-id cli-daily-1");
  ASSERT_EQ(authorized.exit_code, 0) << authorized.output;
  EXPECT_NE(authorized.output.find(std::string("daily password authorized for ") + kCosta),
            std::string::npos)
      << authorized.output;
  const std::string password = LatestDailyPassword();
  ASSERT_EQ(password.size(), 14u);

  auto wrong = testing::RunCommand("TESSERA_DAILY_PASSWORD=NOTTHEPASSWORD " + desk2 +
                                   "login --daily-password --codice-fiscale " + kCosta);
  EXPECT_EQ(wrong.exit_code, 1) << wrong.output;
  EXPECT_NE(wrong.output.find("daily password wrong"), std::string::npos) << wrong.output;
  auto costa = testing::RunCommand("TESSERA_DAILY_PASSWORD=" + password + " " + desk2 +
                                   "login --daily-password --codice-fiscale " + kCosta);
  ASSERT_EQ(costa.exit_code, 0) << costa.output;
  EXPECT_NE(costa.output.find(std::string("logged in: ") + kCosta + " at comune:057001"),
            std::string::npos)
      << costa.output;
  EXPECT_EQ(costa.output.find(password), std::string::npos) << "the password is not printed";
  auto whoami = testing::RunCommand(desk2 + "whoami");
  EXPECT_EQ(whoami.exit_code, 0) << whoami.output;
  auto both = testing::RunCommand(desk2 + "login --token-label x --daily-password");
  EXPECT_EQ(both.exit_code, 2) << both.output;
}

// Last: it revokes Ricci's card: her open session ends, and the card logs nobody in again.
TEST_F(CardLoginTest, ZARevokedCardLogsNobodyIn) {
  auto desk = Registry(Workstation("057001", 7));
  Login before = LogIn(*desk, kRicci);
  ASSERT_TRUE(before.status.ok()) << before.status.error_message();
  ASSERT_TRUE(CallWith(*desk, before.session.token()).ok());
  const std::string serial =
      SerialHex(Botan::X509_Certificate(cards_->at(kRicci).certificate).serial_number());
  const Identity cli = Service("tessera-cli");
  auto ca = v1::CertificateAuthority::NewStub(MtlsChannel(
      "localhost:" + std::to_string(ca_->server().port()),
      testing::ReadFileOrDie(ca_->hierarchy().Pki("bundle.pem")), cli.cert_pem, cli.key_pem));
  grpc::ClientContext context;
  v1::RevokeCertificateRequest request;
  request.set_request_id("revoke-" + serial);
  request.set_serial(serial);
  request.set_reason(1);  // keyCompromise: the card was lost
  v1::Certificate revoked;
  grpc::Status status = ca->RevokeCertificate(&context, request, &revoked);
  ASSERT_TRUE(status.ok()) << status.error_message();
  auto accumoli = Registry(Workstation("057001", 1));
  // The registry reads the CRL every second.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
  Login login = LogIn(*accumoli, kRicci);
  while (login.status.ok() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    login = LogIn(*accumoli, kRicci);
  }
  ExpectRefused(login.status, grpc::StatusCode::UNAUTHENTICATED, "card_certificate: ");
  EXPECT_NE(login.status.error_message().find("revoked"), std::string::npos)
      << login.status.error_message();
  // The session opened before the revocation ends within seconds at every service.
  const auto ended_by = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (CallWith(*desk, before.session.token()).ok() &&
         std::chrono::steady_clock::now() < ended_by) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  ExpectRefused(CallWith(*desk, before.session.token()), grpc::StatusCode::UNAUTHENTICATED,
                "the session has ended");
  EXPECT_FALSE(
      testing::LogEvents(ca_->dir().File("registry.log"), "session_ended", "reason", "card_revoked")
          .empty());
}

}  // namespace
}  // namespace tessera
