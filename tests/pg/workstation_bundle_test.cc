// Workstation bundles against real PostgreSQL, a SoftHSM hierarchy made by the key ceremony,
// and independent checkers: openssl pkcs12 / verify and NSS pk12util open every file.
#include "ca/workstation_bundle.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "tests/support/ca_fixture.h"
#include "tests/support/run.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_ceremony.h"
#include "tests/support/test_hsm.h"
#include "tests/support/test_pg.h"

namespace tessera::ca {
namespace {

using testing::RunCommand;
using testing::ShellQuote;

class WorkstationBundleTest : public testing::CaHierarchyTest {
 protected:
  void SetUp() override {
    CaHierarchyTest::SetUp();
    if (HasFatalFailure()) return;
    // The ceremony created the sealing key: tessera-ca opens it without creating one.
    auto sealer = hsm::SecretSealer::Open(hierarchy_->online(), kBundleSealKeyLabel, false);
    ASSERT_TRUE(sealer.ok()) << sealer.status();
    bundle_store_ = std::make_unique<BundleStore>(*pool_);
    bundles_ = std::make_unique<WorkstationBundles>(*ca_, *bundle_store_, std::move(*sealer),
                                                    hierarchy_->RootDer());
  }

  // Writes the bundle out and returns `openssl pkcs12` run on it with its password.
  testing::CommandResult OpenSslPkcs12(const WorkstationBundle& bundle, const std::string& args) {
    const std::string path = dir_.File("bundle.p12");
    testing::WriteFile(path, std::string(bundle.pkcs12.begin(), bundle.pkcs12.end()));
    return RunCommand("openssl pkcs12 -in " + path + " -passin pass:" +
                      ShellQuote(std::string(bundle.password.view())) + " " + args);
  }
  std::unique_ptr<BundleStore> bundle_store_;
  std::unique_ptr<WorkstationBundles> bundles_;
};

TEST_F(WorkstationBundleTest, OpensslAndNssOpenTheBundleWithItsPassword) {
  auto bundle = bundles_->Issue({"ws-1", "058091", 1}, testing::CliActor());
  ASSERT_TRUE(bundle.ok()) << bundle.status();
  EXPECT_EQ(bundle->certificate.profile, "workstation");
  EXPECT_EQ(bundle->certificate.issuer, "workstations");
  EXPECT_EQ(bundle->certificate.subject,
            "CN=0580910001,OU=Postazioni,OU=Anagrafe Nazionale Popolazione Residente,"
            "O=Ministero dell'Interno,C=IT");
  EXPECT_EQ(bundle->password.size(), 16u);

  // Every bag encrypted with PBES2 / PBKDF2-HMAC-SHA256 / AES-256-CBC, the MAC SHA-256.
  auto info = OpenSslPkcs12(*bundle, "-info -noout");
  ASSERT_EQ(info.exit_code, 0) << info.output;
  EXPECT_NE(info.output.find("MAC: sha256"), std::string::npos) << info.output;
  EXPECT_NE(info.output.find("Shrouded Keybag: PBES2, PBKDF2, AES-256-CBC"), std::string::npos)
      << info.output;
  EXPECT_NE(info.output.find("PKCS7 Encrypted data: PBES2, PBKDF2, AES-256-CBC"), std::string::npos)
      << info.output;
  EXPECT_EQ(info.output.find("RC2"), std::string::npos) << info.output;
  EXPECT_EQ(info.output.find("3DES"), std::string::npos) << info.output;
  EXPECT_NE(RunCommand("openssl pkcs12 -info -noout -in " + dir_.File("bundle.p12") +
                       " -passin pass:wrong-password")
                .exit_code,
            0);

  // The leaf verifies up to the root carried in the file; the key matches the certificate.
  auto leaf = OpenSslPkcs12(*bundle, "-nokeys -clcerts -out " + dir_.File("leaf.pem"));
  ASSERT_EQ(leaf.exit_code, 0) << leaf.output;
  auto chain = OpenSslPkcs12(*bundle, "-nokeys -cacerts -out " + dir_.File("chain.pem"));
  ASSERT_EQ(chain.exit_code, 0) << chain.output;
  auto verify = RunCommand("openssl verify -x509_strict -purpose sslclient -CAfile " +
                           hierarchy_->Pki("root.pem") + " -untrusted " + dir_.File("chain.pem") +
                           " " + dir_.File("leaf.pem"));
  EXPECT_EQ(verify.exit_code, 0) << verify.output;
  auto key = OpenSslPkcs12(*bundle, "-nocerts -nodes -out " + dir_.File("key.pem"));
  ASSERT_EQ(key.exit_code, 0) << key.output;
  auto key_pub = RunCommand("openssl pkey -in " + dir_.File("key.pem") + " -pubout");
  auto cert_pub = RunCommand("openssl x509 -in " + dir_.File("leaf.pem") + " -noout -pubkey");
  EXPECT_EQ(key_pub.output, cert_pub.output);
  EXPECT_NE(key_pub.output.find("PUBLIC KEY"), std::string::npos) << key_pub.output;

  // NSS (Firefox, Thunderbird) lists it too.
  testing::WriteFile(dir_.File("password.txt"), std::string(bundle->password.view()));
  auto nss =
      RunCommand("pk12util -l " + dir_.File("bundle.p12") + " -w " + dir_.File("password.txt"));
  EXPECT_EQ(nss.exit_code, 0) << nss.output;
  EXPECT_NE(nss.output.find("0580910001"), std::string::npos) << nss.output;
  EXPECT_NE(nss.output.find("AES-256-CBC"), std::string::npos) << nss.output;
}

TEST_F(WorkstationBundleTest, ComuneCertificateAlsoServes) {
  auto bundle =
      bundles_->Issue({"comune", "058091", kComuneServerProgressive}, testing::CliActor());
  ASSERT_TRUE(bundle.ok()) << bundle.status();
  EXPECT_EQ(bundle->certificate.profile, "comune_server");
  auto text = OpenSslPkcs12(*bundle, "-nokeys -clcerts | openssl x509 -noout -text");
  EXPECT_NE(text.output.find("TLS Web Client Authentication, TLS Web Server Authentication"),
            std::string::npos)
      << text.output;
  EXPECT_NE(text.output.find("CN = 0580910099"), std::string::npos) << text.output;
}

TEST_F(WorkstationBundleTest, RetryReturnsTheSameBundleAndSignsNothing) {
  auto first = bundles_->Issue({"ws-retry", "058091", 2}, testing::CliActor());
  ASSERT_TRUE(first.ok()) << first.status();
  auto again = bundles_->Issue({"ws-retry", "058091", 2}, testing::CliActor());
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->certificate.serial, first->certificate.serial);
  EXPECT_EQ(again->pkcs12, first->pkcs12);
  EXPECT_EQ(again->password.view(), first->password.view());
  EXPECT_EQ(Count("SELECT count(*) FROM ca.certificates"), 1);

  // The ALP's download later gives the same file and password.
  auto download = bundles_->Get(first->certificate.serial, testing::CliActor());
  ASSERT_TRUE(download.ok()) << download.status();
  EXPECT_EQ(download->pkcs12, first->pkcs12);
  EXPECT_EQ(download->password.view(), first->password.view());

  // The same request_id for another workstation is a different request.
  auto other = bundles_->Issue({"ws-retry", "058091", 3}, testing::CliActor());
  EXPECT_TRUE(absl::IsAlreadyExists(other.status())) << other.status();
}

TEST_F(WorkstationBundleTest, OneLiveCertificatePerWorkstation) {
  auto first = bundles_->Issue({"ws-a", "058091", 4}, testing::CliActor());
  ASSERT_TRUE(first.ok()) << first.status();
  auto second = bundles_->Issue({"ws-b", "058091", 4}, testing::CliActor());
  EXPECT_TRUE(absl::IsFailedPrecondition(second.status())) << second.status();
  EXPECT_NE(second.status().message().find(first->certificate.serial), std::string::npos);
  EXPECT_EQ(Count("SELECT count(*) FROM ca.workstation_bundles"), 1);

  // Once revoked, the workstation gets a new certificate, and the old bundle is not handed out.
  ASSERT_TRUE(ca_->Revoke("revoke-ws-a", first->certificate.serial, 4, testing::CliActor()).ok());
  auto replacement = bundles_->Issue({"ws-b", "058091", 4}, testing::CliActor());
  ASSERT_TRUE(replacement.ok()) << replacement.status();
  EXPECT_NE(replacement->certificate.serial, first->certificate.serial);
  EXPECT_NE(replacement->certificate.subject_public_key, first->certificate.subject_public_key);
  auto old = bundles_->Get(first->certificate.serial, testing::CliActor());
  EXPECT_TRUE(absl::IsFailedPrecondition(old.status())) << old.status();
}

TEST_F(WorkstationBundleTest, BadInputNamesTheFieldAndLeavesNoRow) {
  struct Case {
    WorkstationBundleRequest request;
    std::string field;
  };
  const std::vector<Case> cases = {
      {{"bad-1", "58091", 1}, "istat"},        {{"bad-2", "05809A", 1}, "istat"},
      {{"bad-3", "058091", 0}, "progressive"}, {{"bad-4", "058091", 10000}, "progressive"},
      {{"bad id", "058091", 1}, "request_id"}, {{"", "058091", 1}, "request_id"},
  };
  for (const Case& c : cases) {
    auto result = bundles_->Issue(c.request, testing::CliActor());
    EXPECT_TRUE(absl::IsInvalidArgument(result.status())) << c.field << ": " << result.status();
    EXPECT_EQ(result.status().message().rfind(c.field + ":", 0), 0u) << result.status();
  }
  EXPECT_TRUE(absl::IsNotFound(bundles_->Get("abcdef", testing::CliActor()).status()));
  EXPECT_TRUE(absl::IsInvalidArgument(bundles_->Get("XYZ", testing::CliActor()).status()));
  EXPECT_EQ(Count("SELECT count(*) FROM ca.workstation_bundles"), 0);
  EXPECT_EQ(Count("SELECT count(*) FROM ca.certificates"), 0);

  // A request_id an operator card already used is refused, and leaves no bundle behind.
  auto card = ca_->Issue(OperatorRequest("shared-id"), testing::CliActor());
  ASSERT_TRUE(card.ok()) << card.status();
  auto clash = bundles_->Issue({"shared-id", "058091", 5}, testing::CliActor());
  EXPECT_TRUE(absl::IsAlreadyExists(clash.status())) << clash.status();
  EXPECT_EQ(Count("SELECT count(*) FROM ca.workstation_bundles"), 0);
  EXPECT_TRUE(absl::IsNotFound(bundles_->Get(card->serial, testing::CliActor()).status()));
}

TEST_F(WorkstationBundleTest, NothingReadableAtRest) {
  auto bundle = bundles_->Issue({"ws-sealed", "058091", 6}, testing::CliActor());
  ASSERT_TRUE(bundle.ok()) << bundle.status();
  auto row = conn_->Exec(
      "SELECT sealed_key IS NULL, sealed_password, sealed_pkcs12 FROM ca.workstation_bundles");
  ASSERT_TRUE(row.ok()) << row.status();
  EXPECT_TRUE(row->Bool(0, 0)) << "the sealed key is dropped once the PKCS#12 holds it";
  const std::vector<uint8_t> sealed_password = row->Bytes(0, 1);
  const std::string password(bundle->password.view());
  EXPECT_EQ(
      std::search(sealed_password.begin(), sealed_password.end(), password.begin(), password.end()),
      sealed_password.end());
  EXPECT_NE(row->Bytes(0, 2), std::vector<uint8_t>(bundle->pkcs12.begin(), bundle->pkcs12.end()));

  // A blob moved to another bundle's row does not open there.
  auto other = bundles_->Issue({"ws-sealed-2", "058091", 7}, testing::CliActor());
  ASSERT_TRUE(other.ok()) << other.status();
  ASSERT_TRUE(conn_
                  ->Exec("UPDATE ca.workstation_bundles SET sealed_password = $1 "
                         "WHERE request_id = 'ws-sealed-2'",
                         {pg::Param::Bytes(sealed_password)})
                  .ok());
  EXPECT_FALSE(bundles_->Get(other->certificate.serial, testing::CliActor()).ok());
  EXPECT_EQ(Count("SELECT count(*) FROM ca.bundle_downloads"), 0)
      << "a bundle that could not be opened was not handed out";
}

// Who did what: who asked for a bundle is on the bundle and its certificate; every download
// (a private key and its password handed out again) is a row of its own, written before the
// bundle is returned; a refused download writes none; the rows cannot be changed.
TEST_F(WorkstationBundleTest, BundleIssuanceAndEveryDownloadNameTheirActor) {
  const Actor perso{
      .kind = "service", .name = "tessera-perso", .serial = "5e7", .call_id = "call-perso-9"};
  auto bundle = bundles_->Issue({"ws-who", "058091", 9}, perso);
  ASSERT_TRUE(bundle.ok()) << bundle.status();
  const std::string serial = bundle->certificate.serial;
  auto issued = conn_->Exec(
      "SELECT b.requested_by_kind, b.requested_by, b.requested_by_serial, b.requested_call_id, "
      "c.requested_by, c.requested_call_id FROM ca.workstation_bundles b JOIN ca.certificates c "
      "USING (request_id) WHERE request_id = 'ws-who'");
  ASSERT_EQ(issued->rows(), 1);
  EXPECT_EQ(issued->Text(0, 0), "service");
  EXPECT_EQ(issued->Text(0, 1), "tessera-perso");
  EXPECT_EQ(issued->Text(0, 2), "5e7");
  EXPECT_EQ(issued->Text(0, 3), "call-perso-9");
  EXPECT_EQ(issued->Text(0, 4), "tessera-perso");
  EXPECT_EQ(issued->Text(0, 5), "call-perso-9");

  const Actor registry{
      .kind = "service", .name = "tessera-registry", .serial = "4e9", .call_id = "call-alp-1"};
  ASSERT_TRUE(bundles_->Get(serial, registry).ok());
  ASSERT_TRUE(
      bundles_
          ->Get(
              serial,
              {.kind = "service", .name = "tessera-cli", .serial = "c11", .call_id = "call-alp-2"})
          .ok());
  auto downloads = conn_->Exec(
      "SELECT serial, bundle_request_id, downloaded_by_kind, downloaded_by, "
      "downloaded_by_serial, call_id, downloaded_at IS NOT NULL FROM ca.bundle_downloads "
      "ORDER BY id");
  ASSERT_EQ(downloads->rows(), 2);
  EXPECT_EQ(downloads->Text(0, 0), serial);
  EXPECT_EQ(downloads->Text(0, 1), "ws-who");
  EXPECT_EQ(downloads->Text(0, 2), "service");
  EXPECT_EQ(downloads->Text(0, 3), "tessera-registry");
  EXPECT_EQ(downloads->Text(0, 4), "4e9");
  EXPECT_EQ(downloads->Text(0, 5), "call-alp-1");
  EXPECT_TRUE(downloads->Bool(0, 6));
  EXPECT_EQ(downloads->Text(1, 3), "tessera-cli");
  EXPECT_EQ(downloads->Text(1, 5), "call-alp-2");

  // Refused downloads leave no row: nobody, no such bundle, a revoked certificate.
  EXPECT_TRUE(absl::IsInvalidArgument(bundles_->Get(serial, Actor{}).status()));
  EXPECT_TRUE(absl::IsNotFound(bundles_->Get("abcdef", registry).status()));
  ASSERT_TRUE(ca_->Revoke("revoke-ws-who", serial, 4, testing::CliActor()).ok());
  EXPECT_TRUE(absl::IsFailedPrecondition(bundles_->Get(serial, registry).status()));
  EXPECT_EQ(Count("SELECT count(*) FROM ca.bundle_downloads"), 2);

  // Append-only: the record of a download cannot be changed or removed.
  for (const char* change : {"UPDATE ca.bundle_downloads SET downloaded_by = 'someone else'",
                             "DELETE FROM ca.bundle_downloads", "TRUNCATE ca.bundle_downloads"}) {
    auto refused = conn_->Exec(change);
    EXPECT_FALSE(refused.ok()) << change;
    EXPECT_NE(refused.status().message().find("append-only"), std::string::npos)
        << refused.status();
  }
  EXPECT_EQ(Count("SELECT count(*) FROM ca.bundle_downloads"), 2);
}

// A process that dies at any step leaves a state the same request resumes from, with the key
// committed before the certificate and the certificate signed once. The "death" is a trigger
// that makes the next write fail, the closest a test gets to a kill between two statements.
TEST_F(WorkstationBundleTest, ResumesAfterAFailureAtEveryStep) {
  // 1. Before the certificate's intent: the pending bundle (sealed key) is already committed.
  InjectFailure("ca.certificates", "INSERT");
  auto failed = bundles_->Issue({"ws-crash", "058091", 8}, testing::CliActor());
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(Count("SELECT count(*) FROM ca.workstation_bundles WHERE sealed_key IS NOT NULL"), 1);
  EXPECT_EQ(Count("SELECT count(*) FROM ca.certificates"), 0);
  const std::vector<uint8_t> sealed_key =
      conn_->Exec("SELECT sealed_key FROM ca.workstation_bundles")->Bytes(0, 0);
  // Another request for the workstation is told to retry this one.
  auto competing = bundles_->Issue({"ws-crash-other", "058091", 8}, testing::CliActor());
  EXPECT_TRUE(absl::IsFailedPrecondition(competing.status())) << competing.status();
  EXPECT_NE(competing.status().message().find("ws-crash"), std::string::npos);

  // 2. After the certificate, before the PKCS#12 is stored.
  LiftFailure("ca.certificates");
  InjectFailure("ca.workstation_bundles", "UPDATE");
  failed = bundles_->Issue({"ws-crash", "058091", 8}, testing::CliActor());
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(Count("SELECT count(*) FROM ca.certificates WHERE state = 'ISSUED'"), 1);
  EXPECT_EQ(conn_->Exec("SELECT sealed_key FROM ca.workstation_bundles")->Bytes(0, 0), sealed_key)
      << "the retry must go on with the key it committed";
  const std::string serial(conn_->Exec("SELECT serial FROM ca.certificates")->Text(0, 0));

  // 3. The retry completes it: same certificate, no second signature.
  LiftFailure("ca.workstation_bundles");
  auto done = bundles_->Issue({"ws-crash", "058091", 8}, testing::CliActor());
  ASSERT_TRUE(done.ok()) << done.status();
  EXPECT_EQ(done->certificate.serial, serial);
  EXPECT_EQ(Count("SELECT count(*) FROM ca.certificates"), 1);
  auto info = OpenSslPkcs12(*done, "-info -noout");
  EXPECT_EQ(info.exit_code, 0) << info.output;
}

// The two other steps: the pending bundle's own insert (nothing at all is kept) and the
// signed certificate's store (the intent stays; the retry completes that same serial).
TEST_F(WorkstationBundleTest, ResumesAfterAFailureAtTheFirstAndThirdSteps) {
  // 1. The pending bundle (sealed key and password) cannot be written: nothing is kept.
  InjectFailure("ca.workstation_bundles", "INSERT");
  auto failed = bundles_->Issue({"ws-step1", "058091", 9}, testing::CliActor());
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(Count("SELECT count(*) FROM ca.workstation_bundles"), 0);
  EXPECT_EQ(Count("SELECT count(*) FROM ca.certificates"), 0);
  LiftFailure("ca.workstation_bundles");

  // 3. The intent is committed and the token signs, but storing the certificate fails: the
  // intent stays unsigned on record, and no certificate exists.
  InjectFailure("ca.certificates", "UPDATE");
  failed = bundles_->Issue({"ws-step1", "058091", 9}, testing::CliActor());
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(Count("SELECT count(*) FROM ca.certificates WHERE state = 'INTENT'"), 1);
  EXPECT_EQ(Count("SELECT count(*) FROM ca.certificates WHERE state = 'ISSUED'"), 0);
  const std::string intent(conn_->Exec("SELECT serial FROM ca.certificates")->Text(0, 0));
  LiftFailure("ca.certificates");

  // The retry completes that intent: its serial, one certificate, a bundle that opens.
  auto done = bundles_->Issue({"ws-step1", "058091", 9}, testing::CliActor());
  ASSERT_TRUE(done.ok()) << done.status();
  EXPECT_EQ(done->certificate.serial, intent);
  EXPECT_EQ(Count("SELECT count(*) FROM ca.certificates"), 1);
  EXPECT_EQ(Count("SELECT count(*) FROM ca.workstation_bundles"), 1);
  auto info = OpenSslPkcs12(*done, "-info -noout");
  EXPECT_EQ(info.exit_code, 0) << info.output;
}

}  // namespace
}  // namespace tessera::ca
