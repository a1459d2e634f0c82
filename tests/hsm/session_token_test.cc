// The session token's format: signed with ES256 by a key on the token (C_Sign), verified by
// Debian's libjwt and by PyJWT (python3-jwt), two implementations nobody here wrote; anything
// else (tampered, expired, another key, the HS256-with-the-public-key trick) refused.
#include "access/session_token.h"

#include <botan/base64.h>
#include <botan/hmac.h>
#include <botan/x509_key.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "hsm/token_key.h"
#include "tests/support/run.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_hsm.h"

namespace tessera::access {
namespace {

using std::chrono::system_clock;

class SessionTokenTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto token =
        testing::TestSoftHsm::Get().CreateToken(testing::TestSoftHsm::UniqueLabel("sessions"));
    auto key = hsm::GenerateTokenKey(token, {.id = {0x05}, .label = "session-signing"});
    ASSERT_TRUE(key.ok()) << key.status();
    key_ = *std::move(key);
    public_pem_ = Botan::X509::PEM_encode(*key_);
  }

  SessionClaims Claims() const {
    return {.session_id = "s-0001",
            .person = "RSSMRA85T10H501O",
            .office = "057012",
            .profiles = {"Sindaco/Delegato", "Amministratore Sicurezza"},
            .workstation_sha256 = "q8nF3pM2c4C3uQ7Wv6x1r0yZ5kT9aB8dE7fG6hI5jK4",
            .issued_at = now_,
            .expires_at = now_ + std::chrono::minutes(30)};
  }

  // `token` with its payload replaced by `payload` (the signature left as it was).
  static std::string WithPayload(const std::string& token, const std::string& payload) {
    const size_t first = token.find('.'), second = token.rfind('.');
    std::string encoded =
        Botan::base64_encode(reinterpret_cast<const uint8_t*>(payload.data()), payload.size());
    while (encoded.back() == '=') encoded.pop_back();
    for (char& c : encoded) c = c == '+' ? '-' : c == '/' ? '_' : c;
    return token.substr(0, first + 1) + encoded + token.substr(second);
  }

  std::unique_ptr<Botan::Private_Key> key_;
  std::string public_pem_;
  system_clock::time_point now_ = std::chrono::floor<std::chrono::seconds>(system_clock::now());
};

TEST_F(SessionTokenTest, ASessionSignedOnTheTokenVerifiesWithLibjwtAndPyjwt) {
  auto token = SignSession(Claims(), *key_, "sessions-1");
  ASSERT_TRUE(token.ok()) << token.status();
  auto claims = VerifySession(*token, public_pem_, now_ + std::chrono::minutes(1));
  ASSERT_TRUE(claims.ok()) << claims.status();
  EXPECT_EQ(claims->person, "RSSMRA85T10H501O");
  EXPECT_EQ(claims->office, "057012");
  EXPECT_EQ(claims->profiles, Claims().profiles);
  EXPECT_EQ(claims->workstation_sha256, Claims().workstation_sha256);
  EXPECT_EQ(claims->expires_at, now_ + std::chrono::minutes(30));

  testing::TempDir dir("tessera-session");
  testing::WriteFile(dir.File("token"), *token);
  testing::WriteFile(dir.File("key.pem"), public_pem_);
  const testing::CommandResult pyjwt =
      testing::RunCommand("/usr/bin/python3 -c \"import jwt; print(jwt.decode(open('" +
                          dir.File("token") + "').read(), open('" + dir.File("key.pem") +
                          "').read(), algorithms=['ES256'])['cnf']['x5t#S256'])\"");
  ASSERT_EQ(pyjwt.exit_code, 0) << pyjwt.output;
  EXPECT_EQ(pyjwt.output, Claims().workstation_sha256 + "\n");
}

TEST_F(SessionTokenTest, ATamperedExpiredOrForeignTokenIsRefused) {
  auto token = SignSession(Claims(), *key_, "sessions-1");
  ASSERT_TRUE(token.ok()) << token.status();
  auto refused = [&](const std::string& t, system_clock::time_point at) {
    auto claims = VerifySession(t, public_pem_, at);
    EXPECT_EQ(claims.status().code(), absl::StatusCode::kUnauthenticated);
    return std::string(claims.status().message());
  };
  // Another office written into the claims.
  nlohmann::json payload = {{"iss", kSessionIssuer},
                            {"jti", "s-0001"},
                            {"sub", "RSSMRA85T10H501O"},
                            {"office", "058091"},
                            {"profiles", {"Sindaco/Delegato"}},
                            {"cnf", {{"x5t#S256", "x"}}},
                            {"iat", 0},
                            {"exp", 9999999999}};
  EXPECT_NE(refused(WithPayload(*token, payload.dump()), now_).find("does not verify"),
            std::string::npos);
  EXPECT_NE(refused(*token, now_ + std::chrono::minutes(30)).find("expired"), std::string::npos);
  // Signed by another key.
  auto other_token =
      testing::TestSoftHsm::Get().CreateToken(testing::TestSoftHsm::UniqueLabel("sessions"));
  auto other = hsm::GenerateTokenKey(other_token, {.id = {0x06}, .label = "other"});
  ASSERT_TRUE(other.ok());
  auto foreign = SignSession(Claims(), **other, "sessions-2");
  ASSERT_TRUE(foreign.ok());
  EXPECT_NE(refused(*foreign, now_).find("does not verify"), std::string::npos);
  // HS256 keyed with the public key's PEM text: libjwt itself accepts it; the algorithm pin
  // refuses it.
  const std::string header = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9";  // {"alg":"HS256","typ":"JWT"}
  const std::string body =
      token->substr(token->find('.') + 1, token->rfind('.') - token->find('.') - 1);
  Botan::HMAC hmac(Botan::HashFunction::create_or_throw("SHA-256").release());
  hmac.set_key(reinterpret_cast<const uint8_t*>(public_pem_.data()), public_pem_.size());
  hmac.update(header + "." + body);
  std::string mac = Botan::base64_encode(hmac.final());
  while (mac.back() == '=') mac.pop_back();
  for (char& c : mac) c = c == '+' ? '-' : c == '/' ? '_' : c;
  EXPECT_NE(refused(header + "." + body + "." + mac, now_).find("not signed with ES256"),
            std::string::npos);
  EXPECT_NE(refused("not.a.token", now_).find("malformed"), std::string::npos);
}

}  // namespace
}  // namespace tessera::access
