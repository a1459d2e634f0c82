// The gate every service checks sessions with, on software keys: a token verifies with any
// published key, only from the certificate it is bound to, only while the ended-session list is
// current, and never once its session is listed as ended. And the office a machine stands for.
#include "access/session_gate.h"

#include <botan/ecdsa.h>
#include <botan/x509_key.h>
#include <gtest/gtest.h>

#include "access/office.h"
#include "platform/random.h"

namespace tessera::access {
namespace {

using std::chrono::seconds;

constexpr char kMachine[] = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
constexpr char kOtherMachine[] = "60303ae22b998861bce3b28f33eec1be758a213c86c93c076dbe9f558c11c752";

class SessionGateTest : public ::testing::Test {
 protected:
  SessionGateTest()
      : now_(std::chrono::system_clock::now()),
        key_(ThreadRng(), Botan::EC_Group("secp256r1")),
        next_key_(ThreadRng(), Botan::EC_Group("secp256r1")) {}

  std::string Token(const Botan::Private_Key& key, const std::string& id = "s1") const {
    SessionClaims claims{.session_id = id,
                         .person = "RSSMRA85T10H501O",
                         .office = "comune:057001",
                         .profiles = {"amministratore_sicurezza"},
                         .workstation_sha256 = Thumbprint(kMachine),
                         .issued_at = now_,
                         .expires_at = now_ + seconds(1800)};
    absl::StatusOr<std::string> token = SignSession(claims, key, "k");
    EXPECT_TRUE(token.ok()) << token.status();
    return token.value_or("");
  }
  SessionState Published(std::vector<EndedSession> ended = {}, int64_t cursor = 0) const {
    return {{{"k1", Botan::X509::PEM_encode(key_)}}, std::move(ended), cursor};
  }

  const std::chrono::system_clock::time_point now_;
  Botan::ECDSA_PrivateKey key_;
  Botan::ECDSA_PrivateKey next_key_;
};

TEST_F(SessionGateTest, ATokenOpensOnlyFromItsMachineWithAPublishedKey) {
  SessionGate gate;
  EXPECT_EQ(gate.Check(Token(key_), kMachine, now_).status().code(),
            absl::StatusCode::kUnavailable);  // nothing fetched yet
  gate.Update(Published(), now_);
  absl::StatusOr<PersonSession> session = gate.Check(Token(key_), kMachine, now_);
  ASSERT_TRUE(session.ok()) << session.status();
  EXPECT_EQ(session->person, "RSSMRA85T10H501O");
  EXPECT_EQ(session->office, "comune:057001");
  EXPECT_EQ(session->profiles, std::vector<std::string>{"amministratore_sicurezza"});
  EXPECT_EQ(gate.Check(Token(key_), kOtherMachine, now_).status().code(),
            absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(gate.Check(Token(next_key_), kMachine, now_).status().code(),
            absl::StatusCode::kUnauthenticated);
  // While the registry replaces its key it publishes both.
  SessionState both = Published();
  both.keys.push_back({"k2", Botan::X509::PEM_encode(next_key_)});
  gate.Update(both, now_);
  EXPECT_TRUE(gate.Check(Token(next_key_), kMachine, now_).ok());
  EXPECT_TRUE(gate.Check(Token(key_), kMachine, now_).ok());
  EXPECT_EQ(gate.Check(Token(key_), kMachine, now_ + seconds(1801)).status().code(),
            absl::StatusCode::kUnavailable);  // the list is stale by then
}

TEST_F(SessionGateTest, AnEndedSessionIsRefusedUntilItWouldHaveExpiredAndAStaleListShutsAll) {
  SessionGate gate(seconds(30));
  gate.Update(Published({{"s1", now_ + seconds(1800)}}, 7), now_);
  EXPECT_EQ(gate.cursor(), 7);
  absl::StatusOr<PersonSession> ended = gate.Check(Token(key_, "s1"), kMachine, now_);
  EXPECT_EQ(ended.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_NE(ended.status().message().find("ended"), absl::string_view::npos);
  EXPECT_TRUE(gate.Check(Token(key_, "s2"), kMachine, now_).ok());
  // The next answer does not repeat it: it stays ended.
  gate.Update(Published({}, 9), now_ + seconds(2));
  EXPECT_FALSE(gate.Check(Token(key_, "s1"), kMachine, now_ + seconds(2)).ok());
  EXPECT_EQ(gate.cursor(), 9);
  EXPECT_TRUE(gate.Health(now_ + seconds(31)).ok());
  EXPECT_EQ(gate.Check(Token(key_, "s2"), kMachine, now_ + seconds(33)).status().code(),
            absl::StatusCode::kUnavailable);
  EXPECT_FALSE(gate.Health(now_ + seconds(33)).ok());
}

TEST(Office, TheMachineSaysTheOfficeAndTheOfficeItsReach) {
  auto office = [](PrincipalKind kind, const std::string& name) {
    return OfficeOfMachine(Principal{kind, name});
  };
  EXPECT_EQ(office(PrincipalKind::kWorkstation, "0570010001")->Text(), "comune:057001");
  EXPECT_EQ(office(PrincipalKind::kWorkstation, "0570000002")->Text(), "prefettura:057");
  EXPECT_EQ(office(PrincipalKind::kService, "tessera-cli")->Text(), "ministero");
  for (auto [kind, name] : {std::pair{PrincipalKind::kService, "tessera-perso"},
                            {PrincipalKind::kOperator, "RSSMRA85T10H501O"},
                            {PrincipalKind::kAccessCode, "057001"},
                            {PrincipalKind::kWorkstation, "05700100"}}) {
    EXPECT_EQ(office(kind, name).status().code(), absl::StatusCode::kPermissionDenied) << name;
  }
  for (const char* text : {"comune:057001", "prefettura:057", "ministero"}) {
    EXPECT_EQ(ParseOffice(text)->Text(), text);
  }
  for (const char* text : {"comune:57001", "prefettura:RI", "Ministero", ""}) {
    EXPECT_EQ(ParseOffice(text).status().code(), absl::StatusCode::kInvalidArgument) << text;
  }
  const Office rieti{Office::Kind::kPrefettura, "057"};
  EXPECT_TRUE(Covers(rieti, "057001"));
  EXPECT_FALSE(Covers(rieti, "058091"));
  EXPECT_TRUE(Covers({Office::Kind::kComune, "057001"}, "057001"));
  EXPECT_FALSE(Covers({Office::Kind::kComune, "057001"}, "057002"));
  EXPECT_TRUE(Covers({Office::Kind::kMinistero, ""}, "058091"));
}

TEST(Thumbprint, IsTheBase64UrlOfTheDigest) {
  // RFC 8705's x5t#S256 of the SHA-256 of "test" (hex above): no padding, URL alphabet.
  EXPECT_EQ(Thumbprint(kMachine), "n4bQgYhMfWWaL-qgxVrQFaO_TxsrC4Is0V1sFbDwCgg");
  EXPECT_EQ(Thumbprint("not hex"), "");
}

}  // namespace
}  // namespace tessera::access
