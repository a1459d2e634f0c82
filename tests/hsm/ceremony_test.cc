// The key ceremony on private SoftHSM tokens, checked with openssl and pkcs11-tool.
#include "ca/ceremony.h"

#include <botan/x509cert.h>
#include <gtest/gtest.h>

#include "ca/crl.h"
#include "ca/root_crl.h"
#include "hsm/token_key.h"
#include "tests/support/run.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_ceremony.h"
#include "tests/support/test_hsm.h"

namespace tessera::ca {
namespace {

using testing::RunCommand;
using testing::TestSoftHsm;

class CeremonyTest : public ::testing::Test {
 protected:
  CeremonyConfig Config(hsm::KeyAlgorithm algorithm) {
    return testing::TestHierarchy::Config(dir_.path().string(),
                                          {{"tessera-ca", {"localhost"}, {"127.0.0.1"}}},
                                          "http://ca.tessera.test", algorithm);
  }
  CeremonyPins Pins() { return testing::TestHierarchy::Pins(); }
  std::string Out(const std::string& file) { return dir_.File("pki/" + file); }
  std::string OpenSsl(const std::string& args) {
    auto result = RunCommand("openssl " + args);
    EXPECT_EQ(result.exit_code, 0) << args << "\n" << result.output;
    return result.output;
  }

  testing::TempDir dir_;
  SystemClock clock_;
};

TEST_F(CeremonyTest, BuildsTheHierarchyAndRefusesToRunTwice) {
  CeremonyConfig config = Config(hsm::KeyAlgorithm::kEcP256);
  auto record = RunCeremony(config, Pins(), clock_);
  ASSERT_TRUE(record.ok()) << record.status();
  EXPECT_EQ(record->fingerprints.size(), 5u);  // root, 2 issuing, 2 OCSP responders

  // Root self-signed; issuing CAs under it; responders and the service under an issuing CA.
  OpenSsl("verify -x509_strict -check_ss_sig -CAfile " + Out("root.pem") + " " + Out("root.pem"));
  OpenSsl("verify -x509_strict -CAfile " + Out("root.pem") + " " + Out("operators.pem") + " " +
          Out("workstations.pem"));
  OpenSsl("verify -x509_strict -purpose ocsphelper -CAfile " + Out("root.pem") + " -untrusted " +
          Out("operators.pem") + " " + Out("ocsp-operators.pem"));
  OpenSsl("verify -x509_strict -purpose sslserver -CAfile " + Out("bundle.pem") + " " +
          Out("tessera-ca.pem"));

  std::string root = OpenSsl("x509 -in " + Out("root.pem") + " -noout -text");
  EXPECT_NE(root.find("CA:TRUE, pathlen:1"), std::string::npos) << root;
  EXPECT_NE(root.find("Certificate Sign, CRL Sign"), std::string::npos) << root;
  std::string issuing = OpenSsl("x509 -in " + Out("operators.pem") + " -noout -text");
  EXPECT_NE(issuing.find("CA:TRUE, pathlen:0"), std::string::npos) << issuing;
  EXPECT_NE(issuing.find("URI:http://ca.tessera.test/crl/root.crl"), std::string::npos);
  EXPECT_NE(issuing.find("CA Issuers - URI:http://ca.tessera.test/ca/root.crt"), std::string::npos);
  std::string responder = OpenSsl("x509 -in " + Out("ocsp-operators.pem") + " -noout -text");
  EXPECT_NE(responder.find("OCSP Signing"), std::string::npos) << responder;
  EXPECT_NE(responder.find("OCSP No Check"), std::string::npos) << responder;
  EXPECT_EQ(OpenSsl("x509 -in " + Out("operators.pem") + " -noout -subject -nameopt RFC2253"),
            "subject=CN=Tessera CA Operatori,OU=Anagrafe Nazionale Popolazione Residente,"
            "O=Ministero dell'Interno,C=IT\n");

  // Keys and certificates sit on the tokens under one CKA_ID each.
  auto listed = RunCommand("pkcs11-tool --module " + config.module_path + " --token-label " +
                           config.online_token + " --login --pin " +
                           std::string(testing::kTestCaPin) + " -O");
  ASSERT_EQ(listed.exit_code, 0) << listed.output;
  for (const char* label : {"operators", "workstations", "ocsp-operators", "ocsp-workstations"}) {
    EXPECT_NE(listed.output.find(std::string("label:      ") + label), std::string::npos) << label;
  }
  EXPECT_NE(listed.output.find("never extractable"), std::string::npos);
  EXPECT_EQ(listed.output.find("label:      root"), std::string::npos)
      << "the root key must not be on the online token";

  // The service TLS key is readable by its owner only.
  EXPECT_EQ(
      std::filesystem::status(Out("tessera-ca.key")).permissions() & std::filesystem::perms::all,
      std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);

  // A second run changes nothing.
  auto again = RunCeremony(config, Pins(), clock_);
  EXPECT_EQ(again.status().code(), absl::StatusCode::kAlreadyExists);
  CeremonyConfig new_tokens = Config(hsm::KeyAlgorithm::kEcP256);  // fresh labels, same output
  auto over_output = RunCeremony(new_tokens, Pins(), clock_);
  EXPECT_EQ(over_output.status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_FALSE(TestSoftHsm::Get().module()->FindTokenByLabel(new_tokens.root_token).ok())
      << "a refused ceremony must not leave a token behind";
}

TEST_F(CeremonyTest, Rsa3072Hierarchy) {
  auto record = RunCeremony(Config(hsm::KeyAlgorithm::kRsa3072), Pins(), clock_);
  ASSERT_TRUE(record.ok()) << record.status();
  OpenSsl("verify -x509_strict -CAfile " + Out("root.pem") + " -untrusted " + Out("operators.pem") +
          " " + Out("ocsp-operators.pem"));
  std::string text = OpenSsl("x509 -in " + Out("root.pem") + " -noout -text");
  EXPECT_NE(text.find("Public-Key: (3072 bit)"), std::string::npos) << text;
}

// The root's CRL: the ceremony signs the first; ReissueRootCrl (tessera ceremony root-crl)
// signs the next on the offline token, and a revoked issuing CA fails openssl's full-chain
// check while the other passes.
TEST_F(CeremonyTest, TheRootCrlIsSignedAndRevokesAnIssuingCa) {
  CeremonyConfig config = Config(hsm::KeyAlgorithm::kEcP256);
  ASSERT_TRUE(RunCeremony(config, Pins(), clock_).ok());
  OpenSsl("crl -inform DER -in " + Out("root.crl") + " -CAfile " + Out("root.pem") +
          " -noout -verify");
  std::string first = OpenSsl("crl -inform DER -in " + Out("root.crl") + " -noout -text");
  EXPECT_NE(first.find("X509v3 CRL Number: \n                1"), std::string::npos) << first;
  EXPECT_NE(first.find("No Revoked Certificates"), std::string::npos) << first;

  // Each issuing CA's own CRL, signed with its key on the online token, for the full check.
  auto online =
      hsm::Token::Login(TestSoftHsm::Get().module(), config.online_token, Pins().online_user_pin);
  ASSERT_TRUE(online.ok()) << online.status();
  for (const std::string name : {"operators", "workstations"}) {
    auto key = hsm::LoadTokenKey(*online, std::vector<uint8_t>(name.begin(), name.end()));
    ASSERT_TRUE(key.ok()) << key.status();
    const std::string pem = testing::ReadFileOrDie(Out(name + ".pem"));
    Botan::X509_Certificate ca(reinterpret_cast<const uint8_t*>(pem.data()), pem.size());
    const auto now = std::chrono::floor<std::chrono::seconds>(clock_.Now());
    auto crl = SignCrl(
        {.number = 1, .this_update = now, .next_update = now + std::chrono::hours(24)}, ca, **key);
    ASSERT_TRUE(crl.ok()) << crl.status();
    testing::WriteFile(Out(name + ".crl"), std::string(crl->begin(), crl->end()));
    OpenSsl("crl -inform DER -in " + Out(name + ".crl") + " -out " + Out(name + "-crl.pem"));
  }
  OpenSsl("crl -inform DER -in " + Out("root.crl") + " -out " + Out("root-crl.pem"));
  // A leaf of the operators CA (the service certificate), every CRL of its chain checked.
  const std::string verify = "verify -crl_check_all -CAfile " + Out("root.pem") + " -untrusted " +
                             Out("operators.pem") + " -CRLfile " + Out("root-crl.pem") +
                             " -CRLfile " + Out("operators-crl.pem") + " ";
  EXPECT_NE(OpenSsl(verify + Out("tessera-ca.pem")).find(": OK"), std::string::npos);

  // The root revokes the workstations CA: number 2, one entry; operators still verifies, a
  // chain through workstations does not.
  EXPECT_EQ(ReissueRootCrl(config, Pins().root_user_pin, {{"nobody", 2}}, clock_).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(
      ReissueRootCrl(config, Pins().root_user_pin, {{"workstations", 1}}, clock_).status().code(),
      absl::StatusCode::kInvalidArgument);  // keyCompromise is for leaves; a CA: cACompromise
  auto next = ReissueRootCrl(config, Pins().root_user_pin, {{"workstations", 2}}, clock_);
  ASSERT_TRUE(next.ok()) << next.status();
  EXPECT_EQ(next->number, 2u);
  EXPECT_EQ(next->entries, 1u);
  std::string second = OpenSsl("crl -inform DER -in " + Out("root.crl") + " -CAfile " +
                               Out("root.pem") + " -noout -verify -text");
  EXPECT_NE(second.find("CA Compromise"), std::string::npos) << second;
  OpenSsl("crl -inform DER -in " + Out("root.crl") + " -out " + Out("root-crl.pem"));
  EXPECT_NE(OpenSsl(verify + Out("tessera-ca.pem")).find(": OK"), std::string::npos);
  auto revoked = RunCommand("openssl verify -crl_check_all -CAfile " + Out("root.pem") +
                            " -CRLfile " + Out("root-crl.pem") + " -CRLfile " +
                            Out("workstations-crl.pem") + " " + Out("workstations.pem"));
  EXPECT_NE(revoked.exit_code, 0);
  EXPECT_NE(revoked.output.find("certificate revoked"), std::string::npos) << revoked.output;
  // A second run keeps the entry (and the number grows).
  auto third = ReissueRootCrl(config, Pins().root_user_pin, {}, clock_);
  ASSERT_TRUE(third.ok()) << third.status();
  EXPECT_EQ(third->number, 3u);
  EXPECT_EQ(third->entries, 1u);
}

TEST(CeremonyConfig, TheShippedFileLoadsAndMistakesNameTheKey) {
  auto config =
      CeremonyConfig::LoadFile(std::string(TESSERA_SOURCE_DIR) + "/deploy/ca/ceremony.toml");
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->issuing.size(), 2u);
  EXPECT_EQ(config->root.validity_years, 20);

  testing::TempDir dir;
  testing::WriteFile(
      dir.File("bad.toml"),
      "[hsm]\nmodule='m'\nroot_token='r'\nonline_token='o'\n[urls]\n"
      "base='http://x'\n[output]\ndir='out'\nprofiles='p.toml'\n[root]\nname='root'\n"
      "common_name='R'\nvalidity_years=5\n");
  auto bad = CeremonyConfig::LoadFile(dir.File("bad.toml"));
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(std::string(bad.status().message())
                .find("root.validity_years: 7 to 30 (a CA must outlive six-year leaves)"),
            std::string::npos)
      << bad.status();

  // An issuing CA as long-lived as its root would outlive it (it is made seconds later).
  testing::WriteFile(
      dir.File("long.toml"),
      "[hsm]\nmodule='m'\nroot_token='r'\nonline_token='o'\n[urls]\n"
      "base='http://x'\n[output]\ndir='out'\nprofiles='p.toml'\n[root]\nname='root'\n"
      "common_name='R'\nvalidity_years=20\n[[issuing]]\nname='operators'\ncommon_name='O'\n"
      "validity_years=20\n");
  auto long_lived = CeremonyConfig::LoadFile(dir.File("long.toml"));
  EXPECT_EQ(long_lived.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(std::string(long_lived.status().message())
                .find("issuing[0].validity_years: must be less than the root's (20)"),
            std::string::npos)
      << long_lived.status();
}

}  // namespace
}  // namespace tessera::ca
