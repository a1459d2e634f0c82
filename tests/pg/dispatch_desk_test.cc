// The delivery desk's rules over the real store: a prefettura reaches its own and its
// province's comuni's lots only; the collector must be censused for the lot's office, checked
// before anything is shown; the collector's own card is theirs at the delivery, its second
// halves (released once by personalization) sealed into the outbox in the same transaction;
// a retry mails nothing again; the Ministry delivers a prefettura's own first lot.
#include <gtest/gtest.h>

#include <map>
#include <regex>

#include "absl/strings/str_format.h"
#include "dispatch/desk.h"
#include "dispatch/pg_lots.h"
#include "hsm/secret_sealer.h"
#include "platform/migrations.h"
#include "tests/support/run.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_hsm.h"
#include "tests/support/test_pg.h"

namespace tessera::dispatch {
namespace {

constexpr char kPurpose[] = "tessera dispatch mail";
constexpr char kRicci[] = "RCCGLI72M42G157D";  // Accumoli's mayor
constexpr char kCosta[] = "CSTPLA80A01H501U";  // an operator of Accumoli
constexpr char kVerdi[] = "VRDLGU70A01H282X";  // the prefettura of Rieti's AS
constexpr char kRossi[] = "RSSMRA85T10H501O";  // a Ministry operator

class FakeDirectory final : public CensusDirectory {
 public:
  absl::StatusOr<CensusEntry> User(const std::string& office, const std::string& cf) override {
    auto it = users_.find(office + "/" + cf);
    if (it == users_.end()) return absl::NotFoundError("no such user");
    return it->second;
  }
  absl::StatusOr<OfficeContact> Place(const std::string& office) override {
    if (office != "prefettura:057") return absl::NotFoundError("no census of " + office);
    return OfficeContact{"Prefettura di Rieti", "Piazza Cesare Battisti 1, 02100 Rieti"};
  }
  void Add(const std::string& office, const std::string& cf, const std::string& surname,
           const std::string& email) {
    users_[office + "/" + cf] = {{cf, surname, "NOME"}, email, {"x"}};
  }

 private:
  std::map<std::string, CensusEntry> users_;
};

class FakeHalves final : public HalvesSource {
 public:
  absl::StatusOr<Halves> Release(const std::string& card, const std::string& request_id) override {
    requests.push_back(card + " " + request_id);
    return Halves{Secret("P1N2"), Secret("PUK234"), Secret("PW-" + card.substr(12))};
  }
  std::vector<std::string> requests;
};

class DispatchDeskTest : public testing::PgTest {
 protected:
  void SetUp() override {
    PgTest::SetUp();
    ASSERT_TRUE(pg::ApplyMigrations(*conn_, kPgSchema, PgMigrations()).ok());
    pool_ = std::make_unique<pg::ConnectionPool>(conninfo_, 4);
    store_ = std::make_unique<PgDispatchStore>(*pool_);
    auto token =
        testing::TestSoftHsm::Get().CreateToken(testing::TestSoftHsm::UniqueLabel("dispatch"));
    auto sealer = hsm::SecretSealer::Open(token, "dispatch-mail", true);
    ASSERT_TRUE(sealer.ok()) << sealer.status();
    sealer_ = std::make_unique<hsm::SecretSealer>(*std::move(sealer));
    directory_.Add("comune:057001", kRicci, "RICCI", "giulia.ricci@comune.it");
    directory_.Add("comune:057001", kCosta, "COSTA", "paolo.costa@comune.it");
    directory_.Add("prefettura:057", kVerdi, "VERDI", "luigi.verdi@interno.it");
    directory_.Add("ministero", kRossi, "ROSSI", "mario.rossi@interno.it");
    desk_ = std::make_unique<DeliveryDesk>(
        *store_, directory_, halves_,
        [this](const Secret& body) { return sealer_->Seal(body, kPurpose); }, clock_);
    ASSERT_TRUE(
        store_->TakeOver(Lot("2026000001", "057001", "RI", {kRicci, kCosta}), clock_.Now(), {})
            .ok());
    ASSERT_TRUE(store_->TakeOver(Lot("2026000002", "057", "RI", {kVerdi}), clock_.Now(), {}).ok());
    ASSERT_TRUE(
        store_->TakeOver(Lot("2026000003", "ministero", "", {kRossi}), clock_.Now(), {}).ok());
  }
  void TearDown() override {
    desk_.reset();
    store_.reset();
    pool_.reset();
    PgTest::TearDown();
  }

  static LotIntake Lot(const std::string& number, const std::string& office,
                       const std::string& prefettura, const std::vector<std::string>& holders) {
    LotIntake lot{.lot_number = number,
                  .batch_id = 1,
                  .office = office,
                  .office_name = office,
                  .prefettura = prefettura,
                  .sealed_at = FromUnixSeconds(1796000000)};
    const std::string prefix = office == "ministero" ? "999999" : (office + "000000").substr(0, 6);
    for (size_t i = 0; i < holders.size(); ++i) {
      lot.cards.push_back({.card_number = absl::StrFormat("%s%s%06d", prefix, number.substr(6), i),
                           .codice_fiscale = holders[i],
                           .surname = "S",
                           .name = "N",
                           .subject_dn = "CN=" + holders[i],
                           .certificate_serial = "ab"});
    }
    return lot;
  }
  static PersonSession Session(const std::string& person, const std::string& office) {
    return {.id = "s", .person = person, .office = office, .profiles = {"x"}};
  }
  std::vector<std::string> OutboxTo(const std::string& address) {
    std::vector<std::string> bodies;
    auto rows = conn_->Exec(
        "SELECT sealed_body FROM dispatch.outbox WHERE to_address = $1 AND body IS NULL",
        {pg::Param(address)});
    EXPECT_TRUE(rows.ok());
    for (int i = 0; rows.ok() && i < rows->rows(); ++i) {
      auto body = sealer_->Unseal(rows->Bytes(i, 0), kPurpose);
      EXPECT_TRUE(body.ok());
      if (body.ok()) bodies.emplace_back(body->view());
    }
    return bodies;
  }

  FakeClock clock_{FromUnixSeconds(1796100000)};
  std::unique_ptr<pg::ConnectionPool> pool_;
  std::unique_ptr<PgDispatchStore> store_;
  std::unique_ptr<hsm::SecretSealer> sealer_;
  FakeDirectory directory_;
  FakeHalves halves_;
  std::unique_ptr<DeliveryDesk> desk_;
};

TEST_F(DispatchDeskTest, APrefetturaReachesItsProvinceAndTheCollectorIsCheckedFirst) {
  const PersonSession rieti = Session(kVerdi, "prefettura:057");
  auto mayor = desk_->StartDelivery(rieti, "057001", kRicci);
  ASSERT_TRUE(mayor.ok()) << mayor.status();
  EXPECT_EQ(mayor->email, "giulia.ricci@comune.it");
  auto stranger = desk_->StartDelivery(rieti, "057001", "BNCMRA75C41H501Z");
  EXPECT_EQ(stranger.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(stranger.status().message().find("not a user censused for comune:057001"),
            absl::string_view::npos)
      << stranger.status();
  // Rome's comune and the Ministry's lot are out of Rieti's reach, whatever the collector.
  EXPECT_EQ(desk_->StartDelivery(rieti, "058091", kRicci).status().code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(desk_->ListLots(rieti, "058091", "", 10).status().code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(desk_->LotCards(rieti, "2026000003").status().code(),
            absl::StatusCode::kPermissionDenied);
  auto lots = desk_->ListLots(rieti, "057001", "", 10);
  ASSERT_TRUE(lots.ok());
  EXPECT_EQ(lots->size(), 1u);
  // A comune hands nothing over, not even its own (it reads them: below).
  EXPECT_EQ(
      desk_->StartDelivery(Session(kCosta, "comune:057001"), "057001", kRicci).status().code(),
      absl::StatusCode::kPermissionDenied);
}

TEST_F(DispatchDeskTest, TheCollectorsOwnCardIsTheirsAtOnceWithItsHalvesMailedOnce) {
  const PersonSession rieti = Session(kVerdi, "prefettura:057");
  const DeliverOrder order{.office = "057001",
                           .lot_number = "2026000001",
                           .collector_cf = kRicci,
                           .request_id = "consegna-1"};
  auto delivery = desk_->Deliver(rieti, "workstation:0570000001", order);
  ASSERT_TRUE(delivery.ok()) << delivery.status();
  EXPECT_EQ(delivery->protocol, "RI-2026-000001");
  EXPECT_EQ(delivery->operator_person.surname, "VERDI");
  ASSERT_EQ(delivery->cards.size(), 2u);
  EXPECT_EQ(delivery->cards[0].codice_fiscale, kRicci);
  EXPECT_EQ(delivery->cards[0].state, kAttiva);
  EXPECT_EQ(delivery->cards[1].state, kConsegnata);  // Costa's: at his registration
  ASSERT_EQ(halves_.requests.size(), 1u);
  EXPECT_EQ(halves_.requests[0],
            delivery->cards[0].card_number + " consegna-1:" + delivery->cards[0].card_number);
  std::vector<std::string> mails = OutboxTo("giulia.ricci@comune.it");
  ASSERT_EQ(mails.size(), 1u);
  EXPECT_NE(mails[0].find("PIN, seconda metà:      P1N2\n"), std::string::npos) << mails[0];
  EXPECT_TRUE(OutboxTo("paolo.costa@comune.it").empty());

  auto retry = desk_->Deliver(rieti, "workstation:0570000001", order);
  ASSERT_TRUE(retry.ok()) << retry.status();
  EXPECT_TRUE(retry->repeated);
  EXPECT_EQ(OutboxTo("giulia.ricci@comune.it").size(), 1u);

  // Costa cannot collect a second time what is delivered.
  DeliverOrder again = order;
  again.collector_cf = kCosta;
  again.request_id = "consegna-2";
  EXPECT_EQ(desk_->Deliver(rieti, "workstation:0570000001", again).status().code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST_F(DispatchDeskTest, TheMinistryDeliversAPrefetturasFirstLotToItsSecurityAdministrator) {
  const DeliverOrder order{.office = "057",
                           .lot_number = "2026000002",
                           .collector_cf = kVerdi,
                           .request_id = "prefettura-rieti"};
  // Rieti's administrator has no card yet: the Ministry's central administrator delivers.
  auto delivery = desk_->Deliver(Session(kRossi, "ministero"), "service:tessera-cli", order);
  ASSERT_TRUE(delivery.ok()) << delivery.status();
  EXPECT_EQ(delivery->cards[0].state, kAttiva);
  EXPECT_EQ(OutboxTo("luigi.verdi@interno.it").size(), 1u);
  // The Ministry's own lot is the Ministry's alone.
  EXPECT_EQ(desk_
                ->Deliver(Session(kVerdi, "prefettura:057"), "workstation:0570000001",
                          {.office = "ministero",
                           .lot_number = "2026000003",
                           .collector_cf = kRossi,
                           .request_id = "x"})
                .status()
                .code(),
            absl::StatusCode::kPermissionDenied);
}

// The receipt of a delivery of 40 cards, read back with pdftotext: two copies, each naming the
// prefettura and its address, the protocol and the date, the operator and the collector, and
// every card with its Identificativo Carta, over as many pages as the table needs; a reprint
// is the same document.
TEST_F(DispatchDeskTest, AReceiptHasTwoCopiesThatPdftotextReads) {
  std::vector<std::string> holders = {kRicci};
  for (int i = 10; i < 49; ++i) holders.push_back("HLDXXX80A01H5" + std::to_string(i) + "Z");
  ASSERT_TRUE(store_->TakeOver(Lot("2026000009", "057001", "RI", holders), clock_.Now(), {}).ok());
  const PersonSession rieti = Session(kVerdi, "prefettura:057");
  auto delivery = desk_->Deliver(rieti, "workstation:0570000001",
                                 {.office = "057001",
                                  .lot_number = "2026000009",
                                  .collector_cf = kRicci,
                                  .request_id = "consegna-40"});
  ASSERT_TRUE(delivery.ok()) << delivery.status();
  auto pdf = desk_->Receipt(rieti, delivery->protocol);
  ASSERT_TRUE(pdf.ok()) << pdf.status();
  auto reprint = desk_->Receipt(rieti, delivery->protocol);
  ASSERT_TRUE(reprint.ok()) << reprint.status();
  EXPECT_EQ(*reprint, *pdf);

  testing::TempDir dir("tessera-receipt");
  testing::WriteFile(dir.File("receipt.pdf"), *pdf);
  const auto info = testing::RunCommand("pdfinfo " + dir.File("receipt.pdf"));
  ASSERT_EQ(info.exit_code, 0) << info.output;
  EXPECT_TRUE(std::regex_search(info.output, std::regex("Pages: +4\n"))) << info.output;
  const auto text = testing::RunCommand("pdftotext -layout " + dir.File("receipt.pdf") + " -");
  ASSERT_EQ(text.exit_code, 0) << text.output;
  const std::string& t = text.output;
  const auto count = [&t](const std::string& what) {
    size_t n = 0;
    for (size_t at = t.find(what); at != std::string::npos; at = t.find(what, at + 1)) ++n;
    return n;
  };
  EXPECT_EQ(count("COPIA PER LA PREFETTURA"), 2u) << t;  // two pages of the first copy
  EXPECT_EQ(count("COPIA PER IL COMUNE"), 2u);
  EXPECT_EQ(count("Prefettura di Rieti"), 4u);
  EXPECT_EQ(count("Piazza Cesare Battisti 1, 02100 Rieti"), 4u);
  EXPECT_EQ(count("Prot. N° RI-2026-000001"), 4u);
  EXPECT_EQ(count("Data Operazione: 01/12/2026"), 4u) << t;
  EXPECT_EQ(count("in qualità di operatore"), 2u) << t;
  EXPECT_EQ(count("VERDI NOME (" + std::string(kVerdi) + ")"), 2u);
  EXPECT_EQ(count("RICCI NOME (codice fiscale " + std::string(kRicci) + ")"), 2u);
  EXPECT_EQ(count("Identificativo Carta"), 4u);
  for (const std::string& holder : holders) {
    // Its row in each copy (its code and its subject); the collector's in the declaration too.
    EXPECT_EQ(count(holder), holder == kRicci ? 6u : 4u) << holder;
    EXPECT_EQ(count("CN=" + holder), 2u) << holder;  // its Identificativo Carta
  }
  EXPECT_EQ(count("pagina 2 di 2"), 2u);
}

// At the comune: a delivered card registered to its holder by the mayor (or the security
// administrator), once; the holder's halves mailed then and only then; the form to sign; the
// halves sent again to a corrected mailbox. Every wrong request refused naming its rule.
TEST_F(DispatchDeskTest, ACardIsRegisteredToItsHolderOnceAndTheHalvesFollow) {
  const PersonSession mayor = Session(kRicci, "comune:057001");
  auto cards = store_->LotCards("2026000001");
  ASSERT_TRUE(cards.ok());
  const std::string costa_card = (*cards)[1].card_number;
  const RegisterOrder order{
      .codice_fiscale = kCosta, .card_number = costa_card, .request_id = "registra-1"};
  // Not delivered yet.
  auto early = desk_->RegisterCard(mayor, "workstation:0570010001", order);
  EXPECT_EQ(early.status().code(), absl::StatusCode::kFailedPrecondition) << early.status();
  EXPECT_NE(early.status().message().find("is not delivered yet"), std::string::npos);
  ASSERT_TRUE(desk_
                  ->Deliver(Session(kVerdi, "prefettura:057"), "workstation:0570000001",
                            {.office = "057001",
                             .lot_number = "2026000001",
                             .collector_cf = kRicci,
                             .request_id = "consegna-1"})
                  .ok());
  // A prefettura registers nothing; nor does anyone register a card to someone else, or to a
  // person not censused for the comune.
  EXPECT_EQ(desk_->RegisterCard(Session(kVerdi, "prefettura:057"), "w", order).status().code(),
            absl::StatusCode::kPermissionDenied);
  auto not_theirs = desk_->RegisterCard(
      mayor, "w", {.codice_fiscale = kRicci, .card_number = costa_card, .request_id = "r-x"});
  EXPECT_EQ(not_theirs.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(not_theirs.status().message().find("is not the card of " + std::string(kRicci)),
            std::string::npos)
      << not_theirs.status();
  auto stranger = desk_->RegisterCard(
      mayor, "w", {.codice_fiscale = kVerdi, .card_number = costa_card, .request_id = "r-y"});
  EXPECT_EQ(stranger.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(stranger.status().message().find("is not a user censused for comune:057001"),
            std::string::npos);
  EXPECT_TRUE(OutboxTo("paolo.costa@comune.it").empty());

  auto registered = desk_->RegisterCard(mayor, "workstation:0570010001", order);
  ASSERT_TRUE(registered.ok()) << registered.status();
  EXPECT_EQ(registered->registration.card.state, kAttiva);
  EXPECT_EQ(registered->registration.registered_by.codice_fiscale, kRicci);
  std::vector<std::string> mails = OutboxTo("paolo.costa@comune.it");
  ASSERT_EQ(mails.size(), 1u);
  EXPECT_NE(mails[0].find("PIN, seconda metà:      P1N2\n"), std::string::npos) << mails[0];
  // The form, read back.
  testing::TempDir dir("tessera-form");
  testing::WriteFile(dir.File("form.pdf"), registered->holder_form_pdf);
  const auto text = testing::RunCommand("pdftotext -layout " + dir.File("form.pdf") + " -");
  ASSERT_EQ(text.exit_code, 0) << text.output;
  for (const std::string& expected :
       {std::string("Registrazione della smart card al titolare"), std::string(kCosta), costa_card,
        "CN=" + std::string(kCosta), std::string("RI-2026-000001"),
        "RICCI NOME (" + std::string(kRicci) + ")", std::string("Il titolare dichiara")}) {
    EXPECT_NE(text.output.find(expected), std::string::npos) << expected << "\n" << text.output;
  }
  // A retry is the same registration, mailing nothing again; another request is refused.
  auto retry = desk_->RegisterCard(mayor, "workstation:0570010001", order);
  ASSERT_TRUE(retry.ok()) << retry.status();
  EXPECT_TRUE(retry->registration.repeated);
  EXPECT_EQ(retry->holder_form_pdf, registered->holder_form_pdf);
  RegisterOrder again = order;
  again.request_id = "registra-2";
  auto twice = desk_->RegisterCard(mayor, "workstation:0570010001", again);
  EXPECT_EQ(twice.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(twice.status().message().find("registered already"), std::string::npos);
  EXPECT_EQ(OutboxTo("paolo.costa@comune.it").size(), 1u);

  // His mailbox corrected in the census, the halves go again — there, once per request id.
  directory_.Add("comune:057001", kCosta, "COSTA", "paolo.costa.nuovo@comune.it");
  auto sent = desk_->ResendHalves(mayor, "workstation:0570010001", costa_card, "invio-1");
  ASSERT_TRUE(sent.ok()) << sent.status();
  EXPECT_EQ(*sent, "paolo.costa.nuovo@comune.it");
  ASSERT_TRUE(desk_->ResendHalves(mayor, "workstation:0570010001", costa_card, "invio-1").ok());
  EXPECT_EQ(OutboxTo("paolo.costa.nuovo@comune.it").size(), 1u);
  EXPECT_EQ(OutboxTo("paolo.costa@comune.it").size(), 1u);
  // Verdi's card is no card of Accumoli's.
  auto lots = store_->LotCards("2026000002");
  ASSERT_TRUE(lots.ok());
  EXPECT_EQ(desk_->ResendHalves(mayor, "w", (*lots)[0].card_number, "invio-2").status().code(),
            absl::StatusCode::kNotFound);
}

// A comune reads its own lots, their cards and its receipts (its security administrator sees
// each card's state before registering it), and nobody else's; it delivers nothing.
TEST_F(DispatchDeskTest, AComuneReadsItsOwnLotsAndDeliversNothing) {
  const PersonSession mayor = Session(kRicci, "comune:057001");
  auto lots = desk_->ListLots(mayor, "057001", "", 10);
  ASSERT_TRUE(lots.ok()) << lots.status();
  ASSERT_EQ(lots->size(), 1u);
  EXPECT_TRUE(desk_->LotCards(mayor, "2026000001").ok());
  EXPECT_EQ(desk_->ListLots(mayor, "057002", "", 10).status().code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(desk_->ListLots(mayor, "057", "", 10).status().code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(desk_->LotCards(mayor, "2026000002").status().code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(desk_->StartDelivery(mayor, "057001", kRicci).status().code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(desk_
                ->Deliver(mayor, "workstation:0570010001",
                          {.office = "057001",
                           .lot_number = "2026000001",
                           .collector_cf = kRicci,
                           .request_id = "self"})
                .status()
                .code(),
            absl::StatusCode::kPermissionDenied);
  // Once the prefettura delivered, the comune reprints its copy of the receipt.
  auto delivery = desk_->Deliver(Session(kVerdi, "prefettura:057"), "workstation:0570000001",
                                 {.office = "057001",
                                  .lot_number = "2026000001",
                                  .collector_cf = kRicci,
                                  .request_id = "consegna-1"});
  ASSERT_TRUE(delivery.ok()) << delivery.status();
  EXPECT_TRUE(desk_->Receipt(mayor, delivery->protocol).ok());
  EXPECT_EQ(desk_->Receipt(Session(kCosta, "comune:057002"), delivery->protocol).status().code(),
            absl::StatusCode::kPermissionDenied);
}

}  // namespace
}  // namespace tessera::dispatch
