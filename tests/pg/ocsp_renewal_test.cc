// tessera-ca renews its delegated OCSP responders' 30-day certificates itself, against real
// PostgreSQL and the ceremony's SoftHSM hierarchy; openssl checks the renewed certificates and
// the answers signed with them at the (fake) time of renewal.
#include "ca/ocsp_renewal.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <thread>

#include "tests/support/ca_fixture.h"
#include "tests/support/run.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_ceremony.h"
#include "tests/support/test_pg.h"

namespace tessera::ca {
namespace {

using std::chrono::hours;
using testing::RunCommand;

constexpr auto kDay = hours(24);

class OcspRenewalTest : public testing::CaHierarchyTest {
 protected:
  void SetUp() override {
    CaHierarchyTest::SetUp();
    if (HasFatalFailure()) return;
    responder_ = NewReplica();
  }

  // What one tessera-ca process holds: a responder as it loads at start-up.
  std::unique_ptr<OcspResponder> NewReplica() {
    auto responder =
        OcspResponder::Create(*pg_store_, ca_->issuers(), hierarchy_->online(), clock_);
    EXPECT_TRUE(responder.ok()) << responder.status();
    return responder.ok() ? *std::move(responder) : nullptr;
  }
  std::string SignerSerial(const OcspResponder& responder, const std::string& issuer) {
    for (const auto& signer : responder.Signers()) {
      if (signer.issuer == issuer) {
        return SerialHex(Botan::BigInt(signer.certificate->serial_number()));
      }
    }
    return "";
  }
  std::string AtTime() {
    return std::to_string(
        std::chrono::duration_cast<std::chrono::seconds>(clock_.Now().time_since_epoch()).count());
  }
  // A minute from now on the wall clock: the test's clock may stand before the responder
  // certificate the ceremony just made, which openssl checks too.
  static std::string Later() {
    return std::to_string(std::chrono::duration_cast<std::chrono::seconds>(
                              std::chrono::system_clock::now().time_since_epoch())
                              .count() +
                          60);
  }
  std::unique_ptr<OcspResponder> responder_;
};

TEST_F(OcspRenewalTest, RenewsBeforeExpiryAndAnswersWithTheNewCertificate) {
  OcspResponderRenewal renewal(*ca_, *responder_, clock_, {.renew_before = 10 * kDay});
  const std::string ceremony_serial = SignerSerial(*responder_, "operators");
  ASSERT_FALSE(ceremony_serial.empty());
  EXPECT_EQ(renewal.RunOnce().value_or(-1), 0) << "30 days left: nothing is due";

  clock_.Advance(21 * kDay);  // 9 days left
  auto renewed = renewal.RunOnce();
  ASSERT_TRUE(renewed.ok()) << renewed.status();
  EXPECT_EQ(*renewed, 2) << "one responder per issuing CA";
  const std::string renewed_serial = SignerSerial(*responder_, "operators");
  EXPECT_NE(renewed_serial, ceremony_serial);
  EXPECT_EQ(renewal.RunOnce().value_or(-1), 0) << "the new certificate is not due";

  // Recorded like every certificate the CA signs, issued by the CA it answers for.
  for (const char* issuer : {"operators", "workstations"}) {
    auto record = ca_->Get(SignerSerial(*responder_, issuer));
    ASSERT_TRUE(record.ok()) << record.status();
    EXPECT_EQ(record->issuer, issuer);
    EXPECT_EQ(record->profile, kOcspResponderProfile);
    EXPECT_EQ(record->not_after, clock_.Now() + 30 * kDay - std::chrono::seconds(1));
    // tessera-ca's own act, not a caller's: no certificate serial, no call.
    EXPECT_EQ(record->requested_by.kind, "system");
    EXPECT_EQ(record->requested_by.name, "tessera-ca");
    EXPECT_EQ(record->requested_by.serial, "");
    EXPECT_EQ(record->requested_by.call_id, "");
  }

  // openssl accepts the renewed certificate as an OCSP signer, at the renewal's time.
  auto record = ca_->Get(renewed_serial);
  ASSERT_TRUE(record.ok());
  testing::WriteFile(dir_.File("responder.pem"), Botan::X509_Certificate(record->der).PEM_encode());
  auto verify = RunCommand("openssl verify -x509_strict -purpose ocsphelper -attime " + AtTime() +
                           " -CAfile " + hierarchy_->Pki("root.pem") + " -untrusted " +
                           hierarchy_->Pki("operators.pem") + " " + dir_.File("responder.pem"));
  EXPECT_EQ(verify.exit_code, 0) << verify.output;

  // An answer now carries and is signed under the renewed certificate.
  auto card = ca_->Issue(OperatorRequest("card-1"), testing::CliActor());
  ASSERT_TRUE(card.ok()) << card.status();
  testing::WriteFile(dir_.File("card.pem"), Botan::X509_Certificate(card->der).PEM_encode());
  auto request = RunCommand("openssl ocsp -issuer " + hierarchy_->Pki("operators.pem") + " -cert " +
                            dir_.File("card.pem") + " -reqout " + dir_.File("req.der"));
  ASSERT_EQ(request.exit_code, 0) << request.output;
  const std::string request_der = testing::ReadFileOrDie(dir_.File("req.der"));
  const std::vector<uint8_t> answer = responder_->Respond(std::span<const uint8_t>(
      reinterpret_cast<const uint8_t*>(request_der.data()), request_der.size()));
  testing::WriteFile(dir_.File("resp.der"), std::string(answer.begin(), answer.end()));
  auto checked = RunCommand("openssl ocsp -respin " + dir_.File("resp.der") + " -issuer " +
                            hierarchy_->Pki("operators.pem") + " -cert " + dir_.File("card.pem") +
                            " -CAfile " + hierarchy_->Pki("bundle.pem") + " -attime " + AtTime() +
                            // the answer's times are the fake clock's, 21 days ahead
                            " -no_nonce -validity_period 2000000");
  EXPECT_EQ(checked.exit_code, 0) << checked.output;
  EXPECT_NE(checked.output.find("Response verify OK"), std::string::npos) << checked.output;
  EXPECT_NE(checked.output.find(": good"), std::string::npos) << checked.output;
  EXPECT_NE(std::search(answer.begin(), answer.end(), record->der.begin(), record->der.end()),
            answer.end())
      << "the answer must carry the renewed responder certificate";
}

TEST_F(OcspRenewalTest, ReplicasAgreeOnOneRenewalAndLoadTheNewestAtStart) {
  std::unique_ptr<OcspResponder> other = NewReplica();
  ASSERT_NE(other, nullptr);
  OcspResponderRenewal mine(*ca_, *responder_, clock_, {.renew_before = 10 * kDay});
  OcspResponderRenewal theirs(*ca_, *other, clock_, {.renew_before = 10 * kDay});
  clock_.Advance(25 * kDay);
  std::thread a([&] { EXPECT_EQ(mine.RunOnce().value_or(-1), 2); });
  std::thread b([&] { EXPECT_EQ(theirs.RunOnce().value_or(-1), 2); });
  a.join();
  b.join();
  // Both asked for the same renewal: one certificate per CA was signed, and both use it.
  EXPECT_EQ(Count("SELECT count(*) FROM ca.certificates WHERE profile = 'ocsp_responder'"), 2);
  EXPECT_EQ(SignerSerial(*responder_, "operators"), SignerSerial(*other, "operators"));
  EXPECT_EQ(SignerSerial(*responder_, "workstations"), SignerSerial(*other, "workstations"));

  // A replica starting now picks up the renewed certificates instead of the token's.
  std::unique_ptr<OcspResponder> late = NewReplica();
  ASSERT_NE(late, nullptr);
  EXPECT_EQ(SignerSerial(*late, "operators"), SignerSerial(*responder_, "operators"));
  OcspResponderRenewal latecomer(*ca_, *late, clock_, {.renew_before = 10 * kDay});
  EXPECT_EQ(latecomer.RunOnce().value_or(-1), 0);

  // Renewed again when that one runs low, from the same key.
  clock_.Advance(25 * kDay);
  EXPECT_EQ(mine.RunOnce().value_or(-1), 2);
  EXPECT_EQ(Count("SELECT count(*) FROM ca.certificates WHERE profile = 'ocsp_responder'"), 4);
  EXPECT_EQ(Count("SELECT count(DISTINCT subject_key_sha256) FROM ca.certificates "
                  "WHERE profile = 'ocsp_responder'"),
            2);
}

// The request openssl makes for `pem`, as DER.
std::vector<uint8_t> OcspRequestFor(const testing::TempDir& dir, const std::string& issuer_pem,
                                    const std::string& pem) {
  auto made = RunCommand("openssl ocsp -no_nonce -issuer " + issuer_pem + " -cert " + pem +
                         " -reqout " + dir.File("req.der"));
  EXPECT_EQ(made.exit_code, 0) << made.output;
  const std::string der = testing::ReadFileOrDie(dir.File("req.der"));
  return std::vector<uint8_t>(der.begin(), der.end());
}

TEST_F(OcspRenewalTest, AnswersAreSignedOnceAndAgainOnlyWhenSomethingChanged) {
  auto card = ca_->Issue(OperatorRequest("presigned-1"), testing::CliActor());
  ASSERT_TRUE(card.ok()) << card.status();
  testing::WriteFile(dir_.File("card.pem"), Botan::X509_Certificate(card->der).PEM_encode());
  const std::vector<uint8_t> request =
      OcspRequestFor(dir_, hierarchy_->Pki("operators.pem"), dir_.File("card.pem"));

  // First asked: a miss, resolved by reading the store and signing; then from memory.
  OcspResponder::Lookup first = responder_->Find(request);
  EXPECT_EQ(first.answer, nullptr);
  const std::vector<uint8_t> signed_once = responder_->Respond(request);
  EXPECT_EQ(responder_->size(), 1u);
  OcspResponder::Lookup again = responder_->Find(request);
  ASSERT_NE(again.answer, nullptr);
  EXPECT_EQ(*again.answer, signed_once) << "the same pre-signed bytes";
  EXPECT_EQ(responder_->RefreshOnce(), 0) << "nothing is due";

  // Revoked here: the cached "good" is never served again, and is re-signed in the background.
  ASSERT_TRUE(ca_->Revoke("presigned-revoke", card->serial, 1, testing::CliActor()).ok());
  responder_->Forget(card->serial);
  EXPECT_EQ(responder_->Find(request).answer, nullptr);
  EXPECT_EQ(responder_->RefreshOnce(), 1);
  auto revoked = responder_->Find(request);
  ASSERT_NE(revoked.answer, nullptr);
  testing::WriteFile(dir_.File("resp.der"),
                     std::string(revoked.answer->begin(), revoked.answer->end()));
  auto checked = RunCommand("openssl ocsp -respin " + dir_.File("resp.der") + " -issuer " +
                            hierarchy_->Pki("operators.pem") + " -cert " + dir_.File("card.pem") +
                            " -CAfile " + hierarchy_->Pki("bundle.pem") + " -attime " + AtTime() +
                            " -no_nonce");
  EXPECT_NE(checked.output.find(": revoked"), std::string::npos) << checked.output;

  // Past half its validity, an answer asked for since it was signed is signed again.
  clock_.Advance(std::chrono::minutes(31));
  EXPECT_EQ(responder_->RefreshOnce(), 1);
  EXPECT_EQ(responder_->size(), 1u);
  // One nobody asked for is let go: the next request signs it.
  clock_.Advance(std::chrono::minutes(31));
  EXPECT_EQ(responder_->RefreshOnce(), 0);
  EXPECT_EQ(responder_->size(), 0u);
}

TEST_F(OcspRenewalTest, UnknownSerialsAndManyCertIdsAreAnsweredUnsigned) {
  const std::vector<uint8_t> unauthorized = OcspErrorResponse(OcspError::kUnauthorized);
  auto made = RunCommand("openssl ocsp -no_nonce -issuer " + hierarchy_->Pki("operators.pem") +
                         " -serial 0x1234567890abcdef -reqout " + dir_.File("unknown.der"));
  ASSERT_EQ(made.exit_code, 0) << made.output;
  const std::string unknown = testing::ReadFileOrDie(dir_.File("unknown.der"));
  const std::span<const uint8_t> unknown_der(reinterpret_cast<const uint8_t*>(unknown.data()),
                                             unknown.size());
  EXPECT_EQ(responder_->Respond(unknown_der), unauthorized);
  // Remembered: the second time costs no database read either.
  OcspResponder::Lookup remembered = responder_->Find(unknown_der);
  ASSERT_NE(remembered.answer, nullptr);
  EXPECT_EQ(*remembered.answer, unauthorized);
  EXPECT_EQ(responder_->size(), 0u);

  made = RunCommand("openssl ocsp -no_nonce -issuer " + hierarchy_->Pki("operators.pem") +
                    " -serial 0x1234 -serial 0x5678 -reqout " + dir_.File("two.der"));
  ASSERT_EQ(made.exit_code, 0) << made.output;
  const std::string two = testing::ReadFileOrDie(dir_.File("two.der"));
  EXPECT_EQ(responder_->Respond(
                std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(two.data()), two.size())),
            OcspErrorResponse(OcspError::kMalformedRequest));
}

// What else costs no signature or is refused: a request naming a CA this responder does not
// answer for (the root, offline); a nonce, which a pre-signed answer does not echo (RFC 5019
// §2.2.1: openssl warns and verifies the answer all the same); and a database outage, which
// answers tryLater and remembers nothing, so the next request after it is answered properly.
TEST_F(OcspRenewalTest, AnotherCaANonceAndAnOutage) {
  auto card = ca_->Issue(OperatorRequest("nonce-1"), testing::CliActor());
  ASSERT_TRUE(card.ok()) << card.status();
  testing::WriteFile(dir_.File("card.pem"), Botan::X509_Certificate(card->der).PEM_encode());
  auto as_span = [](const std::string& der) {
    return std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(der.data()), der.size());
  };

  // The issuing CA's own certificate, asked of its issuer, the root: not ours to answer.
  auto made =
      RunCommand("openssl ocsp -no_nonce -issuer " + hierarchy_->Pki("root.pem") + " -cert " +
                 hierarchy_->Pki("operators.pem") + " -reqout " + dir_.File("root-id.der"));
  ASSERT_EQ(made.exit_code, 0) << made.output;
  EXPECT_EQ(responder_->Respond(as_span(testing::ReadFileOrDie(dir_.File("root-id.der")))),
            OcspErrorResponse(OcspError::kUnauthorized));

  // The database away: tryLater, and nothing remembered.
  ASSERT_TRUE(conn_->Exec("ALTER TABLE ca.certificates RENAME TO certificates_away").ok());
  const std::vector<uint8_t> plain =
      OcspRequestFor(dir_, hierarchy_->Pki("operators.pem"), dir_.File("card.pem"));
  EXPECT_EQ(responder_->Respond(plain), OcspErrorResponse(OcspError::kTryLater));
  EXPECT_EQ(responder_->size(), 0u);
  ASSERT_TRUE(conn_->Exec("ALTER TABLE ca.certificates_away RENAME TO certificates").ok());

  // With a nonce (openssl's default): the same pre-signed answer as without one.
  made = RunCommand("openssl ocsp -issuer " + hierarchy_->Pki("operators.pem") + " -cert " +
                    dir_.File("card.pem") + " -reqout " + dir_.File("nonce.der"));
  ASSERT_EQ(made.exit_code, 0) << made.output;
  const std::vector<uint8_t> answer =
      responder_->Respond(as_span(testing::ReadFileOrDie(dir_.File("nonce.der"))));
  EXPECT_EQ(answer, responder_->Respond(plain)) << "one answer per certificate, nonce or not";
  testing::WriteFile(dir_.File("nonce-resp.der"), std::string(answer.begin(), answer.end()));
  auto checked = RunCommand("openssl ocsp -reqin " + dir_.File("nonce.der") + " -respin " +
                            dir_.File("nonce-resp.der") + " -issuer " +
                            hierarchy_->Pki("operators.pem") + " -cert " + dir_.File("card.pem") +
                            " -CAfile " + hierarchy_->Pki("bundle.pem") + " -attime " + Later());
  EXPECT_NE(checked.output.find("WARNING: no nonce in response"), std::string::npos)
      << checked.output;
  EXPECT_NE(checked.output.find("Response verify OK"), std::string::npos) << checked.output;
  EXPECT_NE(checked.output.find(": good"), std::string::npos) << checked.output;
}

TEST_F(OcspRenewalTest, ARenewedResponderCertificateIsSignedIntoServedAnswers) {
  auto card = ca_->Issue(OperatorRequest("renewed-1"), testing::CliActor());
  ASSERT_TRUE(card.ok()) << card.status();
  testing::WriteFile(dir_.File("card.pem"), Botan::X509_Certificate(card->der).PEM_encode());
  const std::vector<uint8_t> request =
      OcspRequestFor(dir_, hierarchy_->Pki("operators.pem"), dir_.File("card.pem"));
  const std::vector<uint8_t> before = responder_->Respond(request);
  (void)responder_->Find(request);  // asked for since signed

  OcspResponderRenewal renewal(*ca_, *responder_, clock_, {.renew_before = 10 * kDay});
  clock_.Advance(21 * kDay);
  ASSERT_EQ(renewal.RunOnce().value_or(-1), 2);
  // Re-signed at the next pass (it was past half its validity anyway at +21 days; the
  // renewal alone makes it due).
  EXPECT_EQ(responder_->RefreshOnce(), 1);
  auto record = ca_->Get(SignerSerial(*responder_, "operators"));
  ASSERT_TRUE(record.ok());
  auto after = responder_->Find(request);
  ASSERT_NE(after.answer, nullptr);
  EXPECT_NE(std::search(after.answer->begin(), after.answer->end(), record->der.begin(),
                        record->der.end()),
            after.answer->end())
      << "the answer in memory carries the renewed responder certificate";
}

// The ceremony's certificates, imported at start, are recorded as tessera-ca's own act.
TEST_F(OcspRenewalTest, TheCeremonysCertificatesAreRecordedAsTesseraCasOwnAct) {
  std::vector<Botan::X509_Certificate> ceremony;
  for (const char* file : {"ocsp-operators.pem", "ocsp-workstations.pem"}) {
    ceremony.emplace_back(hierarchy_->Pki(file));  // the first certificate of each file
  }
  ASSERT_EQ(ca_->RecordCeremonyCertificates(ceremony).value_or(-1), 2);
  auto rows = conn_->Exec(
      "SELECT requested_by_kind, requested_by, requested_by_serial IS NULL, requested_call_id "
      "IS NULL FROM ca.certificates ORDER BY serial");
  ASSERT_EQ(rows->rows(), 2);
  for (int row = 0; row < 2; ++row) {
    EXPECT_EQ(rows->Text(row, 0), "system");
    EXPECT_EQ(rows->Text(row, 1), "tessera-ca");
    EXPECT_TRUE(rows->Bool(row, 2));
    EXPECT_TRUE(rows->Bool(row, 3));
  }
}

TEST_F(OcspRenewalTest, InternalProfilesAreNotIssuedOnRequest) {
  const std::vector<uint8_t> csr = NewCsr();
  for (const char* profile : {"ocsp_responder", "service"}) {
    auto refused = ca_->Issue({std::string("internal-") + profile,
                               profile,
                               csr,
                               {.service = "tessera-registry", .dns_names = {"localhost"}}},
                              testing::CliActor());
    EXPECT_TRUE(absl::IsInvalidArgument(refused.status())) << profile << ": " << refused.status();
    EXPECT_EQ(refused.status().message().rfind("profile:", 0), 0u) << refused.status();
  }
  EXPECT_EQ(Count("SELECT count(*) FROM ca.certificates"), 0);
}

}  // namespace
}  // namespace tessera::ca
