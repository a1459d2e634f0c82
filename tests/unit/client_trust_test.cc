// Who a certificate caller is (ClientTrust: the kind must come from the CA trusted for it) and
// whether its certificate is revoked, from CRLs (CrlRevocationCheck), with software CAs and a
// fake HTTP fetch.
#include <botan/auto_rng.h>
#include <botan/ecdsa.h>
#include <botan/x509_ca.h>
#include <botan/x509self.h>
#include <gtest/gtest.h>

#include <map>

#include "platform/crl_revocation.h"
#include "platform/principal.h"

namespace tessera {
namespace {

using std::chrono::hours;

class SoftwareCa {
 public:
  explicit SoftwareCa(const std::string& common_name)
      : key_(rng_, Botan::EC_Group("secp256r1")),
        certificate_(std::make_shared<Botan::X509_Certificate>(SelfSigned(common_name))),
        ca_(*certificate_, key_, "SHA-256", rng_) {}

  std::shared_ptr<const Botan::X509_Certificate> certificate() const { return certificate_; }

  // A leaf: CN=<common_name>, OU=<unit>, O=Ministero dell'Interno, C=IT.
  Botan::X509_Certificate Issue(const std::string& common_name, const std::string& unit) {
    Botan::ECDSA_PrivateKey key(rng_, Botan::EC_Group("secp256r1"));
    Botan::X509_Cert_Options options(common_name + "/IT/Ministero dell'Interno/" + unit);
    Botan::PKCS10_Request request = Botan::X509::create_cert_req(options, key, "SHA-256", rng_);
    const auto now = std::chrono::system_clock::now();
    return ca_.sign_request(request, rng_, Botan::X509_Time(now - hours(1)),
                            Botan::X509_Time(now + hours(24 * 365)));
  }

  // A CRL listing `revoked`, valid for `validity` from `this_update`.
  std::string Crl(const std::vector<Botan::X509_Certificate>& revoked,
                  std::chrono::system_clock::time_point this_update, hours validity) {
    std::vector<Botan::CRL_Entry> entries;
    for (const auto& cert : revoked) entries.emplace_back(cert, Botan::CRL_Code::KEY_COMPROMISE);
    Botan::X509_CRL crl = ca_.new_crl(rng_, this_update, validity);
    if (!entries.empty()) crl = ca_.update_crl(crl, entries, rng_, this_update, validity);
    const std::vector<uint8_t> der = crl.BER_encode();
    return std::string(der.begin(), der.end());
  }

 private:
  Botan::X509_Certificate SelfSigned(const std::string& common_name) {
    Botan::X509_Cert_Options options(common_name + "/IT/Ministero dell'Interno");
    options.CA_key(0);
    return Botan::X509::create_self_signed_cert(options, key_, "SHA-256", rng_);
  }

  Botan::AutoSeeded_RNG rng_;
  Botan::ECDSA_PrivateKey key_;
  std::shared_ptr<Botan::X509_Certificate> certificate_;
  Botan::X509_CA ca_;
};

class ClientTrustTest : public ::testing::Test {
 protected:
  ClientTrustTest()
      : operators_("Tessera CA Operatori"),
        workstations_("Tessera CA Postazioni"),
        trust_(std::make_shared<ClientTrust>(std::vector<TrustedIssuer>{
            {"operators",
             operators_.certificate(),
             {PrincipalKind::kService, PrincipalKind::kOperator}},
            {"workstations", workstations_.certificate(), {PrincipalKind::kWorkstation}}})) {}

  SoftwareCa operators_, workstations_;
  std::shared_ptr<const ClientTrust> trust_;
};

TEST_F(ClientTrustTest, ACertificateNamesItsKindIssuerAndSerial) {
  Botan::X509_Certificate card = operators_.Issue("RSSMRA85T10H501O", "Operatori");
  absl::StatusOr<CertificateCaller> caller = trust_->Identify(card.PEM_encode());
  ASSERT_TRUE(caller.ok()) << caller.status();
  EXPECT_EQ(caller->principal.kind, PrincipalKind::kOperator);
  EXPECT_EQ(caller->principal.name, "RSSMRA85T10H501O");
  EXPECT_EQ(caller->principal.issuer, "operators");
  EXPECT_EQ(caller->principal.serial, SerialHex(card.serial_number()));
  EXPECT_EQ(caller->not_after, card.not_after().to_std_timepoint());

  absl::StatusOr<CertificateCaller> workstation =
      trust_->Identify(workstations_.Issue("0570010001", "Postazioni").PEM_encode());
  ASSERT_TRUE(workstation.ok()) << workstation.status();
  EXPECT_EQ(workstation->principal.kind, PrincipalKind::kWorkstation);
  EXPECT_EQ(workstation->principal.issuer, "workstations");
}

TEST_F(ClientTrustTest, AnOperatorFromTheWorkstationsCaIsNobody) {
  absl::StatusOr<CertificateCaller> caller =
      trust_->Identify(workstations_.Issue("RSSMRA85T10H501O", "Operatori").PEM_encode());
  ASSERT_EQ(caller.status().code(), absl::StatusCode::kUnauthenticated);

  EXPECT_NE(caller.status().message().find("CA 'workstations', which does not certify operators"),
            std::string::npos)
      << caller.status();
  // Nor is a service certificate.
  EXPECT_EQ(
      trust_->Identify(workstations_.Issue("tessera-cli", "Servizi").PEM_encode()).status().code(),
      absl::StatusCode::kUnauthenticated);
}

TEST_F(ClientTrustTest, AnotherCaOrAnotherBranchIsRefused) {
  SoftwareCa stranger("Tessera CA Operatori");  // same name, another key
  absl::StatusOr<CertificateCaller> caller =
      trust_->Identify(stranger.Issue("RSSMRA85T10H501O", "Operatori").PEM_encode());
  EXPECT_EQ(caller.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_NE(caller.status().message().find("no issuing CA of tessera callers"), std::string::npos)
      << caller.status();
  EXPECT_EQ(trust_->Identify(operators_.Issue("someone", "Altro").PEM_encode()).status().code(),
            absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(trust_->Identify("not a certificate").status().code(),
            absl::StatusCode::kUnauthenticated);
}

// CRLs served by a map of URL -> (ETag, DER); every GET is counted.
class FakeCrlServer {
 public:
  void Serve(const std::string& url, std::string der) {
    crls_[url] = {std::to_string(++version_), std::move(der)};
  }
  void GoDown() { down_ = true; }
  HttpGet Get() {
    return [this](const std::string& url, const std::string& etag) -> absl::StatusOr<HttpFetched> {
      ++gets_;
      if (down_) return absl::UnavailableError("connection refused");
      auto it = crls_.find(url);
      if (it == crls_.end()) return HttpFetched{404, "", ""};
      if (etag == it->second.first) return HttpFetched{304, "", etag};
      return HttpFetched{200, it->second.second, it->second.first};
    };
  }
  int gets_ = 0;

 private:
  std::map<std::string, std::pair<std::string, std::string>> crls_;
  int version_ = 0;
  bool down_ = false;
};

class CrlRevocationTest : public ClientTrustTest {
 protected:
  CrlRevocationTest()
      : clock_(std::chrono::system_clock::now()),
        check_(trust_, "http://ca.test/crl", server_.Get(), clock_) {}

  Principal Caller(const Botan::X509_Certificate& cert) {
    return trust_->Identify(cert.PEM_encode())->principal;
  }
  void ServeBoth(const std::vector<Botan::X509_Certificate>& revoked_workstations = {}) {
    server_.Serve("http://ca.test/crl/operators.crl", operators_.Crl({}, clock_.Now(), hours(24)));
    server_.Serve("http://ca.test/crl/workstations.crl",
                  workstations_.Crl(revoked_workstations, clock_.Now(), hours(24)));
  }

  FakeClock clock_;
  FakeCrlServer server_;
  CrlRevocationCheck check_;
};

TEST_F(CrlRevocationTest, NoCrlYetShutsTheDoor) {
  Botan::X509_Certificate workstation = workstations_.Issue("0570010001", "Postazioni");
  EXPECT_EQ(check_.Check(Caller(workstation)).code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(check_.Health().code(), absl::StatusCode::kUnavailable);
  EXPECT_FALSE(check_.Refresh().ok());  // nothing served yet
  ServeBoth();
  ASSERT_TRUE(check_.Refresh().ok());
  EXPECT_TRUE(check_.Check(Caller(workstation)).ok());
  EXPECT_TRUE(check_.Health().ok()) << check_.Health();
}

TEST_F(CrlRevocationTest, ARevokedCertificateIsRefusedFromTheNextRefresh) {
  Botan::X509_Certificate stolen = workstations_.Issue("0570010001", "Postazioni");
  Botan::X509_Certificate other = workstations_.Issue("0570010002", "Postazioni");
  ServeBoth();
  ASSERT_TRUE(check_.Refresh().ok());
  ASSERT_TRUE(check_.Check(Caller(stolen)).ok());
  ServeBoth({stolen});
  ASSERT_TRUE(check_.Refresh().ok());
  absl::Status refused = check_.Check(Caller(stolen));
  EXPECT_EQ(refused.code(), absl::StatusCode::kUnauthenticated);
  EXPECT_NE(refused.message().find("revoked"), std::string::npos) << refused;
  EXPECT_TRUE(check_.Check(Caller(other)).ok());
  // The same serial under the other CA is another certificate.
  Principal same_serial = Caller(stolen);
  same_serial.issuer = "operators";
  EXPECT_TRUE(check_.Check(same_serial).ok());
}

TEST_F(CrlRevocationTest, AnUnchangedCrlIsNotDownloadedAgain) {
  ServeBoth();
  ASSERT_TRUE(check_.Refresh().ok());
  const int64_t number = check_.CrlNumber("workstations");
  ASSERT_TRUE(check_.Refresh().ok());  // answered 304
  EXPECT_EQ(check_.CrlNumber("workstations"), number);
  EXPECT_EQ(server_.gets_, 4);
}

TEST_F(CrlRevocationTest, ACrlPastItsNextUpdateFailsClosed) {
  Botan::X509_Certificate card = operators_.Issue("RSSMRA85T10H501O", "Operatori");
  ServeBoth();
  ASSERT_TRUE(check_.Refresh().ok());
  ASSERT_TRUE(check_.Check(Caller(card)).ok());
  server_.GoDown();  // tessera-ca unreachable: the CRLs held stay good until nextUpdate
  clock_.Advance(hours(23));
  EXPECT_FALSE(check_.Refresh().ok());
  EXPECT_TRUE(check_.Check(Caller(card)).ok());
  clock_.Advance(hours(2));
  absl::Status refused = check_.Check(Caller(card));
  EXPECT_EQ(refused.code(), absl::StatusCode::kUnavailable);
  EXPECT_NE(refused.message().find("the CRL of CA 'operators' expired at"), std::string::npos)
      << refused;
  EXPECT_EQ(check_.Health().code(), absl::StatusCode::kUnavailable);
}

TEST_F(CrlRevocationTest, ACrlFromAnotherCaOrAnOlderOneIsNotTaken) {
  Botan::X509_Certificate stolen = workstations_.Issue("0570010001", "Postazioni");
  ServeBoth({stolen});
  ASSERT_TRUE(check_.Refresh().ok());
  // Someone on the path answers with a CRL signed by another CA, listing nothing.
  server_.Serve("http://ca.test/crl/workstations.crl", operators_.Crl({}, clock_.Now(), hours(24)));
  EXPECT_EQ(check_.Refresh().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(check_.Check(Caller(stolen)).code(), absl::StatusCode::kUnauthenticated);
  // A genuine but older CRL (number 1, before the revocation) replayed.
  server_.Serve("http://ca.test/crl/workstations.crl",
                workstations_.Crl({}, clock_.Now(), hours(24)));
  EXPECT_EQ(check_.Refresh().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(check_.CrlNumber("workstations"), 2);
  EXPECT_EQ(check_.Check(Caller(stolen)).code(), absl::StatusCode::kUnauthenticated);
  // Garbage is not a CRL.
  server_.Serve("http://ca.test/crl/workstations.crl", "garbage");
  EXPECT_EQ(check_.Refresh().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(check_.Check(Caller(stolen)).code(), absl::StatusCode::kUnauthenticated);
}

}  // namespace
}  // namespace tessera
