// The issuance path against real PostgreSQL and a SoftHSM token: intent before signature,
// idempotency on request_id, crash recovery, bad input leaving no row, concurrency.
#include <botan/auto_rng.h>
#include <botan/ecdsa.h>
#include <botan/rsa.h>
#include <botan/x509_crl.h>
#include <botan/x509self.h>
#include <gtest/gtest.h>

#include <atomic>
#include <set>
#include <thread>

#include "ca/authority.h"
#include "ca/crl_publisher.h"
#include "ca/csr.h"
#include "hsm/token_key.h"
#include "tests/support/ca_fixture.h"
#include "tests/support/run.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_hsm.h"
#include "tests/support/test_pg.h"

namespace tessera::ca {
namespace {

using testing::TestSoftHsm;

std::vector<uint8_t> Id(std::string_view s) { return {s.begin(), s.end()}; }

// A store that "crashes" (fails) once between the committed intent and the signature: the
// intent is committed, and the call fails as a process that died there would.
class CrashingStore final : public CertificateStore {
 public:
  explicit CrashingStore(CertificateStore& inner) : inner_(inner) {}
  bool crash_next = false;
  std::vector<absl::Status> RecordIntents(std::span<const CertificateRecord> r) override {
    std::vector<absl::Status> recorded = inner_.RecordIntents(r);
    if (crash_next) {
      crash_next = false;
      recorded.assign(r.size(), absl::UnavailableError("simulated crash before the signature"));
    }
    return recorded;
  }
  std::vector<absl::StatusOr<bool>> StoreSigned(std::span<const SignedCertificate> c) override {
    return inner_.StoreSigned(c);
  }
  absl::StatusOr<std::optional<CertificateRecord>> FindByRequestId(const std::string& id) override {
    return inner_.FindByRequestId(id);
  }
  absl::StatusOr<bool> RecordIssued(const CertificateRecord& r) override {
    return inner_.RecordIssued(r);
  }
  absl::StatusOr<CertificateRecord> Get(const std::string& serial) override {
    return inner_.Get(serial);
  }
  absl::StatusOr<CertificateRecord> CompleteIssuance(const std::string& serial,
                                                     const SignFunction& sign) override {
    return inner_.CompleteIssuance(serial, sign);
  }
  absl::StatusOr<std::vector<CertificateRecord>> List(const CertificateFilter& f) override {
    return inner_.List(f);
  }
  absl::StatusOr<CertificateRecord> Revoke(const std::string& request_id, const std::string& serial,
                                           int reason, std::chrono::system_clock::time_point when,
                                           const Actor& actor) override {
    return inner_.Revoke(request_id, serial, reason, when, actor);
  }

 private:
  CertificateStore& inner_;
};

class CaAuthorityTest : public testing::CaStoreTest {
 protected:
  void SetUp() override {
    CaStoreTest::SetUp();
    if (HasFatalFailure()) return;
    store_ = std::make_unique<CrashingStore>(*pg_store_);
    auto profiles =
        ProfileSet::LoadFile(std::string(TESSERA_SOURCE_DIR) + "/deploy/ca/profiles.toml");
    ASSERT_TRUE(profiles.ok());
    profiles_ = std::move(*profiles);

    auto token = TestSoftHsm::Get().CreateToken(TestSoftHsm::UniqueLabel("ca"));
    std::map<std::string, std::unique_ptr<Issuer>> issuers;
    for (const char* name : {"operators", "workstations"}) {
      auto key = hsm::GenerateTokenKey(
          token, {.algorithm = hsm::KeyAlgorithm::kEcP256, .id = Id(name), .label = name});
      ASSERT_TRUE(key.ok());
      Botan::X509_Cert_Options options(std::string("Tessera CA ") + name +
                                       "/IT/Ministero dell'Interno");
      options.CA_key(0);
      auto cert = std::make_unique<Botan::X509_Certificate>(
          Botan::X509::create_self_signed_cert(options, **key, "SHA-256", rng_));
      testing::WriteFile(dir_.File(std::string(name) + ".pem"), cert->PEM_encode());
      auto issuer = Issuer::Create({.name = name,
                                    .crl_url = std::string("http://ca.test/crl/") + name + ".crl",
                                    .ocsp_url = "http://ca.test/ocsp",
                                    .ca_issuers_url = std::string("http://ca.test/ca/") + name},
                                   std::move(cert), std::move(*key));
      ASSERT_TRUE(issuer.ok()) << issuer.status();
      issuers[name] = std::move(*issuer);
    }
    ca_ = std::make_unique<CertificateAuthority>(*store_, profiles_, std::move(issuers), clock_);
  }

  int64_t Rows() { return Count("SELECT count(*) FROM ca.certificates"); }
  int64_t Count(const std::string& sql) { return conn_->Exec(sql)->Int(0, 0); }

  Botan::AutoSeeded_RNG rng_;
  testing::TempDir dir_;
  FakeClock clock_{std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now())};
  std::unique_ptr<CrashingStore> store_;
  ProfileSet profiles_;
  std::unique_ptr<CertificateAuthority> ca_;
};

TEST_F(CaAuthorityTest, IssuesRecordsAndOpensslVerifies) {
  auto issued = ca_->Issue(OperatorRequest("req-1"), testing::CliActor());
  ASSERT_TRUE(issued.ok()) << issued.status();
  EXPECT_EQ(issued->state, CertificateState::kIssued);
  EXPECT_EQ(issued->issuer, "operators");
  EXPECT_GE(issued->serial.size(), 17u);  // > 2^64
  Botan::X509_Certificate cert(issued->der);
  EXPECT_EQ(cert.not_before().to_std_timepoint(), clock_.Now());
  testing::WriteFile(dir_.File("leaf.pem"), cert.PEM_encode());
  // -attime: the fake clock's time, so the check does not depend on when it runs.
  const int64_t at =
      std::chrono::duration_cast<std::chrono::seconds>(clock_.Now().time_since_epoch()).count() +
      60;
  auto verified =
      testing::RunCommand("openssl verify -x509_strict -attime " + std::to_string(at) +
                          " -CAfile " + dir_.File("operators.pem") + " " + dir_.File("leaf.pem"));
  EXPECT_EQ(verified.exit_code, 0) << verified.output;

  auto stored = ca_->Get(issued->serial);
  ASSERT_TRUE(stored.ok());
  EXPECT_EQ(stored->der, issued->der);
  EXPECT_EQ(Rows(), 1);
}

TEST_F(CaAuthorityTest, ARetryReturnsTheSameCertificateAndSignsNothing) {
  IssueRequest request = OperatorRequest("req-retry");
  auto first = ca_->Issue(request, testing::CliActor());
  ASSERT_TRUE(first.ok()) << first.status();
  auto second = ca_->Issue(request, testing::CliActor());
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_EQ(second->serial, first->serial);
  EXPECT_EQ(second->der, first->der);  // ECDSA is randomized: a new signature would differ
  EXPECT_EQ(Rows(), 1);

  IssueRequest other = OperatorRequest("req-retry");  // same id, another CSR
  EXPECT_EQ(ca_->Issue(other, testing::CliActor()).status().code(),
            absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(Rows(), 1);
}

TEST_F(CaAuthorityTest, APublicKeyIsInOneLiveCertificateOnly) {
  IssueRequest request = OperatorRequest("req-a");
  ASSERT_TRUE(ca_->Issue(request, testing::CliActor()).ok());
  request.request_id = "req-b";
  auto again = ca_->Issue(request, testing::CliActor());
  EXPECT_EQ(again.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(std::string(again.status().message()).find("already in a live certificate"),
            std::string::npos);
  EXPECT_EQ(Rows(), 1);
}

TEST_F(CaAuthorityTest, BadInputIsRefusedNamingTheFieldAndLeavesNoRow) {
  struct Case {
    std::function<void(IssueRequest&)> spoil;
    std::string message;
  };
  Botan::RSA_PrivateKey rsa1024(rng_, 1024);
  Botan::X509_Cert_Options any("x");
  const std::vector<uint8_t> weak =
      Botan::X509::create_cert_req(any, rsa1024, "SHA-256", rng_).BER_encode();
  std::vector<Case> cases = {
      {[](IssueRequest& r) {
         r.csr_der = {0x30, 0x01, 0x00};
       },
       "csr: not a DER-encoded PKCS#10 request"},
      {[&](IssueRequest& r) { r.csr_der = weak; }, "csr: RSA key of 1024 bits, at least 2048"},
      {[](IssueRequest& r) { r.csr_der.back() ^= 0x01; },
       "csr: the signature does not verify with the request's key"},
      {[](IssueRequest& r) { r.subject.codice_fiscale = "RSSMRA85T10A562X"; },
       "subject.codice_fiscale: check character is 'X', expected 'S'"},
      {[](IssueRequest& r) { r.subject.codice_fiscale = "RSSMRA85T1,=562S"; },
       "subject.codice_fiscale: character 11 must be a letter A-Z or a digit"},
      {[](IssueRequest& r) { r.profile = "root"; }, "profile: profile 'root' does not exist"},
      {[](IssueRequest& r) {
         r.profile = "workstation";
         r.subject = {.istat = "058091", .progressive = 99};
       },
       "subject.progressive: 99 is reserved for profile 'comune_server'"},
      {[](IssueRequest& r) {
         r.profile = "comune_server";
         r.subject = {.istat = "058091", .progressive = 5};
       },
       "subject.progressive: profile 'comune_server' is for progressive 99"},
      {[](IssueRequest& r) { r.request_id = "id with spaces"; },
       "request_id: 1 to 128 of A-Z a-z 0-9 . _ : -"},
      {[](IssueRequest& r) { r.csr_der.assign(kMaxCsrBytes + 1, 0x30); },
       "csr: 16385 bytes, at most 16384"},
  };
  for (const Case& c : cases) {
    IssueRequest request = OperatorRequest("req-bad");
    c.spoil(request);
    auto result = ca_->Issue(request, testing::CliActor());
    EXPECT_EQ(result.status().code(), absl::StatusCode::kInvalidArgument) << c.message;
    EXPECT_EQ(result.status().message(), c.message);
  }
  EXPECT_EQ(Rows(), 0);
}

TEST_F(CaAuthorityTest, ACrashAfterTheIntentLeavesItVisibleAndARetryCompletesIt) {
  IssueRequest request = OperatorRequest("req-crash");
  store_->crash_next = true;
  auto crashed = ca_->Issue(request, testing::CliActor());
  ASSERT_FALSE(crashed.ok());
  auto intent = conn_->Exec("SELECT serial, state FROM ca.certificates WHERE request_id = $1",
                            {pg::Param("req-crash")});
  ASSERT_EQ(intent->rows(), 1);
  EXPECT_EQ(intent->Text(0, 1), "INTENT");
  const std::string serial(intent->Text(0, 0));

  clock_.Advance(std::chrono::hours(5));  // the retry comes later: the content must not move
  auto retried = ca_->Issue(request, testing::CliActor());
  ASSERT_TRUE(retried.ok()) << retried.status();
  EXPECT_EQ(retried->serial, serial);
  Botan::X509_Certificate cert(retried->der);
  EXPECT_EQ(SerialHex(Botan::BigInt(cert.serial_number())), serial);
  EXPECT_EQ(cert.not_before().to_std_timepoint(), clock_.Now() - std::chrono::hours(5));
  EXPECT_EQ(Rows(), 1);
}

TEST_F(CaAuthorityTest, ConcurrentIssuanceGivesUniqueSerialsAndOneCertificatePerRequest) {
  constexpr int kThreads = 4, kEach = 6;
  std::vector<std::vector<std::string>> serials(kThreads);
  std::vector<IssueRequest> shared(kThreads, OperatorRequest("req-shared"));
  std::vector<std::string> shared_serials(kThreads);
  std::atomic<int> refused{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      auto same =
          ca_->Issue(shared[t], testing::CliActor());  // the same request from four callers at once
      if (same.ok()) {
        shared_serials[t] = same->serial;
      } else {
        ++refused;
      }
      for (int i = 0; i < kEach; ++i) {
        auto issued =
            ca_->Issue(OperatorRequest("req-" + std::to_string(t) + "-" + std::to_string(i)),
                       testing::CliActor());
        if (issued.ok()) {
          serials[t].push_back(issued->serial);
        } else {
          ++refused;
        }
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(refused, 0) << "every call, the four copies of one request included, succeeds";
  std::set<std::string> unique;
  for (const auto& list : serials) unique.insert(list.begin(), list.end());
  EXPECT_EQ(unique.size(), static_cast<size_t>(kThreads * kEach));
  ASSERT_FALSE(shared_serials[0].empty());
  for (const std::string& s : shared_serials) EXPECT_EQ(s, shared_serials[0]);
  EXPECT_EQ(Count("SELECT count(*) FROM ca.certificates WHERE request_id = 'req-shared' AND "
                  "state = 'ISSUED'"),
            1);
  EXPECT_EQ(Rows(), kThreads * kEach + 1);
}

TEST_F(CaAuthorityTest, ABatchCommitsItsIntentsTogetherAndItsCertificatesTogether) {
  std::vector<IssueRequest> batch;
  for (int i = 0; i < 9; ++i) batch.push_back(OperatorRequest("req-batch-" + std::to_string(i)));
  batch[4].csr_der = batch[3].csr_der;  // a key already in the batch's own certificate
  batch[7].profile = "root";
  auto issued = ca_->IssueBatch(batch, testing::CliActor());
  ASSERT_TRUE(issued.ok()) << issued.status();
  ASSERT_EQ(issued->size(), 9u);
  EXPECT_EQ((*issued)[4].status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ((*issued)[7].status().message(), "profile: profile 'root' does not exist");
  for (int i : {0, 1, 2, 3, 5, 6, 8}) {
    ASSERT_TRUE((*issued)[i].ok()) << i << ": " << (*issued)[i].status();
    EXPECT_EQ((*issued)[i]->request_id, batch[i].request_id);
    Botan::X509_Certificate cert((*issued)[i]->der);
    EXPECT_EQ(SerialHex(Botan::BigInt(cert.serial_number())), (*issued)[i]->serial);
  }
  // One transaction wrote the seven intents (they share its start time), and one other
  // stored the seven certificates (the rows' xmin is the transaction that last wrote them).
  EXPECT_EQ(Count("SELECT count(*) FROM ca.certificates WHERE request_id LIKE 'req-batch-%'"), 7);
  EXPECT_EQ(Count("SELECT count(DISTINCT intent_at) FROM ca.certificates"), 1);
  EXPECT_EQ(Count("SELECT count(DISTINCT xmin::text) FROM ca.certificates"), 1);
  EXPECT_EQ(Count("SELECT count(*) FROM ca.certificates WHERE state = 'ISSUED'"), 7);

  // The batch again is seven retries and two refusals; nothing new is signed or recorded.
  auto again = ca_->IssueBatch(batch, testing::CliActor());
  ASSERT_TRUE(again.ok());
  for (int i : {0, 1, 2, 3, 5, 6, 8}) EXPECT_EQ((*again)[i]->der, (*issued)[i]->der) << i;
  EXPECT_EQ(Count("SELECT count(*) FROM ca.certificates"), 7);

  batch[1].request_id = batch[0].request_id;
  EXPECT_EQ(ca_->IssueBatch(batch, testing::CliActor()).status().message(),
            "requests[1].request_id: 'req-batch-0' is also requests[0]'s, once per batch");
  EXPECT_EQ(ca_->IssueBatch({}, testing::CliActor()).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(CaAuthorityTest, ConcurrentSingleIssuancesShareTheirCommits) {
  constexpr int kThreads = 8, kEach = 8;
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        auto issued =
            ca_->Issue(OperatorRequest("req-group-" + std::to_string(t) + "-" + std::to_string(i)),
                       testing::CliActor());
        if (!issued.ok()) ++failures;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(failures, 0);
  EXPECT_EQ(Count("SELECT count(*) FROM ca.certificates WHERE state = 'ISSUED'"), kThreads * kEach);
  // Eight callers at once: the completions rode fewer transactions than there were
  // certificates (a lone caller would have had one each).
  EXPECT_LT(Count("SELECT count(DISTINCT xmin::text) FROM ca.certificates"), kThreads * kEach);
}

TEST_F(CaAuthorityTest, RevocationIsRecordedIdempotentAndBumpsTheCrlRevision) {
  IssueRequest request = OperatorRequest("req-rev");
  auto issued = ca_->Issue(request, testing::CliActor());
  ASSERT_TRUE(issued.ok()) << issued.status();
  clock_.Advance(std::chrono::hours(1));
  auto revoked = ca_->Revoke("rev-1", issued->serial, 1, testing::CliActor());
  ASSERT_TRUE(revoked.ok()) << revoked.status();
  EXPECT_EQ(revoked->revocation_reason, 1);
  EXPECT_EQ(revoked->revoked_at, clock_.Now());
  auto revision = conn_->Exec("SELECT revision FROM ca.crl_state WHERE issuer = 'operators'");
  ASSERT_EQ(revision->rows(), 1);
  EXPECT_EQ(revision->Int(0, 0), 1);

  clock_.Advance(std::chrono::hours(1));
  auto again = ca_->Revoke("rev-1", issued->serial, 1,
                           testing::CliActor());  // a retry: same answer, same time
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->revoked_at, revoked->revoked_at);
  EXPECT_EQ(ca_->Revoke("rev-1", issued->serial, 4, testing::CliActor()).status().code(),
            absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(ca_->Revoke("rev-2", issued->serial, 4, testing::CliActor()).status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(ca_->Revoke("rev-3", "abcdef", 1, testing::CliActor()).status().code(),
            absl::StatusCode::kNotFound);
  auto bad_reason = ca_->Revoke("rev-4", issued->serial, 6, testing::CliActor());
  EXPECT_EQ(bad_reason.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(std::string(bad_reason.status().message()).find("reason: 6 is not a reason"),
            std::string::npos);
  EXPECT_EQ(ca_->Revoke("rev-5", "XYZ", 1, testing::CliActor()).status().code(),
            absl::StatusCode::kInvalidArgument);

  EXPECT_EQ(conn_->Exec("SELECT revision FROM ca.crl_state WHERE issuer = 'operators'")->Int(0, 0),
            1)
      << "a retried revocation changes nothing";
  auto stored = ca_->Get(issued->serial);
  ASSERT_TRUE(stored.ok());
  EXPECT_TRUE(stored->revoked_at.has_value());

  // A revoked certificate frees its key for a new one (a replacement card keeps its key).
  request.request_id = "req-rev-2";
  auto replacement = ca_->Issue(request, testing::CliActor());
  ASSERT_TRUE(replacement.ok()) << replacement.status();
  EXPECT_NE(replacement->serial, issued->serial);
}

// Who did what: the intent row names who asked for the certificate and the revocation who
// revoked it, each written in the act's own transaction; a refused act records nobody.
TEST_F(CaAuthorityTest, IssuanceAndRevocationNameTheirActorAndCall) {
  const Actor perso{
      .kind = "service", .name = "tessera-perso", .serial = "5e7", .call_id = "call-perso-1"};
  const IssueRequest request = OperatorRequest("req-who");
  auto issued = ca_->Issue(request, perso);
  ASSERT_TRUE(issued.ok()) << issued.status();
  auto row = conn_->Exec(
      "SELECT requested_by_kind, requested_by, requested_by_serial, requested_call_id, "
      "request_id FROM ca.certificates WHERE serial = $1",
      {pg::Param(issued->serial)});
  ASSERT_EQ(row->rows(), 1);
  EXPECT_EQ(row->Text(0, 0), "service");
  EXPECT_EQ(row->Text(0, 1), "tessera-perso");
  EXPECT_EQ(row->Text(0, 2), "5e7");
  EXPECT_EQ(row->Text(0, 3), "call-perso-1");
  EXPECT_EQ(row->Text(0, 4), "req-who");
  EXPECT_EQ(ca_->Get(issued->serial)->requested_by.call_id, "call-perso-1");

  // A retry is the same act, whoever sends it: the first requester stays on record.
  ASSERT_TRUE(ca_->Issue(request, testing::CliActor()).ok());
  EXPECT_EQ(ca_->Get(issued->serial)->requested_by.name, "tessera-perso");

  // Refused acts write no row: bad input, and an act by nobody.
  IssueRequest bad = OperatorRequest("req-who-bad");
  bad.subject.codice_fiscale = "RSSMRA85T10A562X";
  EXPECT_EQ(ca_->Issue(bad, perso).status().code(), absl::StatusCode::kInvalidArgument);
  auto nobody = ca_->Issue(OperatorRequest("req-nobody"), Actor{});
  EXPECT_EQ(nobody.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(nobody.status().message(), "actor: an act must name who did it (kind and name)");
  EXPECT_EQ(Rows(), 1);

  const Actor registry{
      .kind = "service", .name = "tessera-registry", .serial = "4e9", .call_id = "call-reg-1"};
  ASSERT_TRUE(ca_->Revoke("rev-who", issued->serial, 3, registry).ok());
  auto revoked = conn_->Exec(
      "SELECT revoked_by_kind, revoked_by, revoked_by_serial, revoked_call_id FROM "
      "ca.certificates WHERE serial = $1",
      {pg::Param(issued->serial)});
  EXPECT_EQ(revoked->Text(0, 0), "service");
  EXPECT_EQ(revoked->Text(0, 1), "tessera-registry");
  EXPECT_EQ(revoked->Text(0, 2), "4e9");
  EXPECT_EQ(revoked->Text(0, 3), "call-reg-1");
  auto requests = [&](const std::string& id) {
    return conn_->Exec(
        "SELECT requested_by_kind, requested_by, requested_by_serial, call_id, serial FROM "
        "ca.revocation_requests WHERE request_id = $1",
        {pg::Param(id)});
  };
  auto first = requests("rev-who");
  ASSERT_EQ(first->rows(), 1);
  EXPECT_EQ(first->Text(0, 1), "tessera-registry");
  EXPECT_EQ(first->Text(0, 3), "call-reg-1");

  // A refused revocation (another reason) records nothing; a repeat with the same reason
  // under a new request id records who asked, and the certificate keeps who revoked it.
  EXPECT_EQ(ca_->Revoke("rev-who-2", issued->serial, 4, testing::CliActor()).status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(requests("rev-who-2")->rows(), 0);
  ASSERT_TRUE(ca_->Revoke("rev-who-3", issued->serial, 3, testing::CliActor()).ok());
  auto repeat = requests("rev-who-3");
  ASSERT_EQ(repeat->rows(), 1);
  EXPECT_EQ(repeat->Text(0, 1), "tessera-cli");
  EXPECT_EQ(repeat->Text(0, 2), "c11");
  auto stored = ca_->Get(issued->serial);
  ASSERT_TRUE(stored.ok() && stored->revoked_by.has_value());
  EXPECT_EQ(stored->revoked_by->name, "tessera-registry");
  EXPECT_EQ(ca_->Revoke("rev-who-4", issued->serial, 3, Actor{}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(requests("rev-who-4")->rows(), 0);
}

// What a reader sees (ca/read_scope.h), narrowed in the store's query: a workstation its
// comune's workstation certificates only, an operator card itself, a service everything.
TEST_F(CaAuthorityTest, ReadsAreScopedToTheCallersComuneOrItself) {
  auto card = ca_->Issue(OperatorRequest("scope-card"), testing::CliActor());
  auto other_card =
      ca_->Issue({"scope-card-2", "operator", NewCsr(), {.codice_fiscale = "BNCNNA90A41H501T"}},
                 testing::CliActor());
  auto ws1 =
      ca_->Issue({"scope-ws1", "workstation", NewCsr(), {.istat = "058091", .progressive = 1}},
                 testing::CliActor());
  auto server =
      ca_->Issue({"scope-ws99", "comune_server", NewCsr(), {.istat = "058091", .progressive = 99}},
                 testing::CliActor());
  auto elsewhere =
      ca_->Issue({"scope-ws-other", "workstation", NewCsr(), {.istat = "058092", .progressive = 1}},
                 testing::CliActor());
  for (auto* issued : {&card, &other_card, &ws1, &server, &elsewhere}) {
    ASSERT_TRUE(issued->ok()) << issued->status();
  }
  const Actor workstation{.kind = "workstation", .name = "0580910001", .serial = ws1->serial};
  const Actor operator_card{.kind = "operator", .name = "RSSMRA85T10A562S", .serial = card->serial};
  auto serials = [](const absl::StatusOr<std::vector<CertificateRecord>>& page) {
    std::set<std::string> out;
    if (page.ok()) {
      for (const CertificateRecord& r : *page) out.insert(r.serial);
    }
    return out;
  };

  EXPECT_EQ(serials(ca_->List(workstation, {})),
            (std::set<std::string>{ws1->serial, server->serial}));
  EXPECT_TRUE(serials(ca_->List(workstation, {.profile = "operator"})).empty())
      << "no operator certificate, whatever the filter asks";
  auto page = ca_->List(workstation, {.page_size = 1});
  ASSERT_TRUE(page.ok() && page->size() == 1u);
  auto next = ca_->List(workstation, {.page_size = 1, .page_token = page->back().serial});
  ASSERT_TRUE(next.ok() && next->size() == 1u);
  EXPECT_TRUE(ca_->List(workstation, {.page_size = 1, .page_token = next->back().serial})->empty());
  EXPECT_EQ(serials(ca_->List(operator_card, {})), (std::set<std::string>{card->serial}));
  EXPECT_EQ(serials(ca_->List(testing::CliActor(), {})).size(), 5u);
  auto stranger = ca_->List({.kind = "access_code", .name = "058091"}, {});
  EXPECT_EQ(stranger.status().code(), absl::StatusCode::kPermissionDenied);

  // The store itself returns only the scope's rows: the filter is in the query.
  CertificateFilter scoped;
  scoped.scope = ReadScopeOf(workstation);
  EXPECT_EQ(serials(pg_store_->List(scoped)), (std::set<std::string>{ws1->serial, server->serial}));

  EXPECT_TRUE(ca_->Read(workstation, server->serial).ok());
  auto refused = ca_->Read(workstation, elsewhere->serial);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_NE(refused.status().message().find("comune-workstations"), std::string::npos)
      << refused.status();
  EXPECT_EQ(ca_->Read(workstation, card->serial).status().code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_TRUE(ca_->Read(operator_card, card->serial).ok());
  auto not_own = ca_->Read(operator_card, other_card->serial);
  EXPECT_EQ(not_own.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_NE(not_own.status().message().find("own-certificate"), std::string::npos)
      << not_own.status();
  EXPECT_TRUE(ca_->Read(testing::CliActor(), elsewhere->serial).ok());
}

TEST_F(CaAuthorityTest, CrlPublisherSignsWhenRevocationsMoveTheRevisionAndBeforeNextUpdate) {
  PgCrlStore crls(*pool_);
  CrlPublisher publisher(
      crls, ca_->issuers(), clock_,
      {.validity = std::chrono::hours(24), .refresh_before = std::chrono::hours(12)});
  auto first = publisher.RunOnce();
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(*first, 2);                // one empty CRL per issuing CA
  EXPECT_EQ(*publisher.RunOnce(), 0);  // nothing changed

  auto issued = ca_->Issue(OperatorRequest("req-crl"), testing::CliActor());
  ASSERT_TRUE(issued.ok());
  ASSERT_TRUE(ca_->Revoke("rev-crl", issued->serial, 1, testing::CliActor()).ok());
  EXPECT_EQ(*publisher.RunOnce(), 1);  // only the operators CA
  auto state = crls.State("operators");
  ASSERT_TRUE(state.ok());
  EXPECT_EQ(state->crl_number, 2);
  EXPECT_EQ(state->built_revision, state->revision);
  Botan::X509_CRL crl(state->der);
  EXPECT_EQ(crl.crl_number(), 2u);
  EXPECT_TRUE(crl.is_revoked(Botan::X509_Certificate(issued->der)));
  testing::WriteFile(dir_.File("operators.crl"), std::string(state->der.begin(), state->der.end()));
  auto verified = testing::RunCommand("openssl crl -inform DER -in " + dir_.File("operators.crl") +
                                      " -CAfile " + dir_.File("operators.pem") + " -noout -verify");
  EXPECT_NE(verified.output.find("verify OK"), std::string::npos) << verified.output;

  clock_.Advance(std::chrono::hours(11));
  EXPECT_EQ(*publisher.RunOnce(), 0);  // 13 h before nextUpdate: still fresh
  clock_.Advance(std::chrono::hours(2));
  EXPECT_EQ(*publisher.RunOnce(), 2);  // within 12 h of nextUpdate: both re-signed
  EXPECT_EQ(crls.State("operators")->crl_number, 3);
}

// Two tessera-ca replicas share one CRL sequence per issuer: a publisher that read the same
// state as another and signs the same number loses (compare-and-set on the number), keeps
// nothing of its own, and the sequence has neither a gap nor a repeat. Then both race for real.
TEST_F(CaAuthorityTest, TwoPublishersNeverStoreOneCrlNumberTwice) {
  PgCrlStore crls(*pool_);
  CrlPublisher first(crls, ca_->issuers(), clock_);
  ASSERT_EQ(first.RunOnce().value_or(-1), 2);
  auto seen = crls.State("operators");  // what the slower replica read
  ASSERT_TRUE(seen.ok()) << seen.status();
  ASSERT_EQ(seen->crl_number, 1);

  auto issued = ca_->Issue(OperatorRequest("req-race"), testing::CliActor());
  ASSERT_TRUE(issued.ok()) << issued.status();
  ASSERT_TRUE(ca_->Revoke("rev-race", issued->serial, 1, testing::CliActor()).ok());
  ASSERT_EQ(first.RunOnce().value_or(-1), 1);  // the faster replica signed number 2
  auto winner = crls.State("operators");
  ASSERT_TRUE(winner.ok());
  ASSERT_EQ(winner->crl_number, 2);

  // The slower one signs number 2 too, from what it read: refused, the winner's CRL stands.
  const std::vector<uint8_t> loser_der = {0x30, 0x00};
  auto lost = crls.Publish("operators", seen->revision,
                           {.number = 2,
                            .this_update = clock_.Now(),
                            .next_update = clock_.Now() + std::chrono::hours(24)},
                           loser_der);
  ASSERT_TRUE(lost.ok()) << lost.status();
  EXPECT_FALSE(*lost);
  auto after = crls.State("operators");
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after->crl_number, 2);
  EXPECT_EQ(after->der, winner->der);
  EXPECT_TRUE(Botan::X509_CRL(after->der).is_revoked(Botan::X509_Certificate(issued->der)));

  // For real: revocations move both issuers' revisions, two replicas publish at once, many
  // times. Each number is stored once, in order, and the last CRL lists every revocation.
  CrlPublisher second(crls, ca_->issuers(), clock_);
  std::vector<std::string> revoked = {issued->serial};
  for (int round = 0; round < 5; ++round) {
    auto card =
        ca_->Issue(OperatorRequest("req-race-" + std::to_string(round)), testing::CliActor());
    ASSERT_TRUE(card.ok()) << card.status();
    ASSERT_TRUE(
        ca_->Revoke("rev-race-" + std::to_string(round), card->serial, 4, testing::CliActor())
            .ok());
    revoked.push_back(card->serial);
    const int64_t before = crls.State("operators")->crl_number;
    absl::StatusOr<int> a = 0, b = 0;
    std::thread one([&] { a = first.RunOnce(); });
    std::thread two([&] { b = second.RunOnce(); });
    one.join();
    two.join();
    ASSERT_TRUE(a.ok() && b.ok()) << a.status() << b.status();
    EXPECT_EQ(crls.State("operators")->crl_number, before + 1) << "round " << round;
  }
  Botan::X509_CRL last(crls.State("operators")->der);
  EXPECT_EQ(last.crl_number(), 7u);
  EXPECT_EQ(last.get_revoked().size(), revoked.size());
}

TEST_F(CaAuthorityTest, ListsWithFiltersAndPages) {
  for (int i = 0; i < 5; ++i)
    ASSERT_TRUE(ca_->Issue(OperatorRequest("req-l" + std::to_string(i)), testing::CliActor()).ok());
  ASSERT_TRUE(ca_->Issue({"req-ws", "workstation", NewCsr(), {.istat = "058091", .progressive = 1}},
                         testing::CliActor())
                  .ok());
  auto workstations = ca_->List(testing::CliActor(), {.issuer = "workstations"});
  ASSERT_TRUE(workstations.ok());
  ASSERT_EQ(workstations->size(), 1u);
  EXPECT_EQ((*workstations)[0].subject.find("CN=0580910001"), 0u) << (*workstations)[0].subject;

  auto page1 = ca_->List(testing::CliActor(), {.profile = "operator", .page_size = 3});
  ASSERT_TRUE(page1.ok());
  ASSERT_EQ(page1->size(), 3u);
  auto page2 =
      ca_->List(testing::CliActor(),
                {.profile = "operator", .page_size = 3, .page_token = page1->back().serial});
  ASSERT_TRUE(page2.ok());
  EXPECT_EQ(page2->size(), 2u);
  EXPECT_EQ(ca_->List(testing::CliActor(), {.page_size = 0}).status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace tessera::ca
