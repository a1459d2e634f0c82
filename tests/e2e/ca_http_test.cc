// tessera-ca's public HTTP endpoint as a real process after a real key ceremony: the CRL and
// OCSP URLs written into certificates reach it (curl, openssl ocsp), CRLs are cacheable
// (ETag, Last-Modified, 304), the root's CRL is served once the ceremony's file appears, and
// the endpoint stands bad input and held-open connections: oversized and chunked bodies,
// many CertIDs, garbage, and 200 idle plus 20 trickling connections while OCSP and issuance
// go on.
#include <arpa/inet.h>
#include <botan/der_enc.h>
#include <botan/hash.h>
#include <botan/pkix_types.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <memory>
#include <thread>

#include "ca/crl.h"
#include "ca/root_crl.h"
#include "hsm/token.h"
#include "hsm/token_key.h"
#include "platform/rpc_client.h"
#include "proto/ca.grpc.pb.h"
#include "tests/support/run.h"
#include "tests/support/service_process.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_ceremony.h"
#include "tests/support/test_hsm.h"
#include "tests/support/test_pg.h"
#include "tests/support/test_pki.h"

namespace tessera {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using std::chrono::steady_clock;
using testing::RunCommand;

const std::string kMalformedRequest = std::string("\x30\x03\x0a\x01\x01", 5);

// A plain TCP connection to the endpoint, for what no ordinary client sends.
class RawConnection {
 public:
  explicit RawConnection(int port) : fd_(socket(AF_INET, SOCK_STREAM, 0)) {
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<uint16_t>(port));
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
    timeval timeout{.tv_sec = 5, .tv_usec = 0};
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);
  }
  ~RawConnection() { close(fd_); }
  bool connected() const { return connected_; }
  // Bytes the kernel took (stops at the first error: the server closed).
  size_t Send(std::string_view bytes) {
    size_t sent = 0;
    while (sent < bytes.size()) {
      const ssize_t n = send(fd_, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
      if (n <= 0) break;
      sent += static_cast<size_t>(n);
    }
    return sent;
  }
  // Everything until the server closes, or `limit` bytes, or 5 s of silence.
  std::string Receive(size_t limit = 1 << 20) {
    std::string in;
    char buffer[4096];
    while (in.size() < limit) {
      const ssize_t n = recv(fd_, buffer, sizeof buffer, 0);
      if (n <= 0) break;
      in.append(buffer, static_cast<size_t>(n));
    }
    return in;
  }

 private:
  int fd_;
  bool connected_ = false;
};

std::string Body(const std::string& response) {
  const size_t end = response.find("\r\n\r\n");
  return end == std::string::npos ? "" : response.substr(end + 4);
}

int64_t VmRssKb(pid_t pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stoll(line.substr(6));
  }
  return -1;
}

class CaHttpTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    ca_ = new testing::RunningCa("tessera-http", {{"tessera-ca", {"localhost"}, {"127.0.0.1"}},
                                                  {"tessera-cli", {"localhost"}, {}}});
    dir_ = &ca_->dir();
    hierarchy_ = &ca_->hierarchy();
    server_ = &ca_->server();
    http_port_ = ca_->http_port();
  }
  static void TearDownTestSuite() { delete ca_; }

  static std::string Pki(const std::string& file) { return hierarchy_->Pki(file); }
  static std::string Url(const std::string& path) {
    return "http://127.0.0.1:" + std::to_string(http_port_) + path;
  }

  // Issues an operator certificate over gRPC (request id `name`), written as <dir>/<name>.pem.
  static grpc::Status Issue(const std::string& name) {
    v1::IssueCertificateRequest request;
    request.set_request_id(name);
    request.set_profile("operator");
    request.set_csr_der(testing::NewKeyAndCsr().csr_der);
    request.mutable_subject()->set_codice_fiscale("RSSMRA85T10A562S");
    const testing::TlsIdentity cli = hierarchy_->ServiceIdentity("tessera-cli");
    auto channel =
        MtlsChannel("localhost:" + std::to_string(server_->port()),
                    testing::ReadFileOrDie(Pki("bundle.pem")), cli.cert_pem, cli.key_pem);
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + seconds(10));
    v1::Certificate issued;
    grpc::Status status =
        v1::CertificateAuthority::NewStub(channel)->IssueCertificate(&context, request, &issued);
    if (status.ok()) {
      Botan::X509_Certificate leaf(reinterpret_cast<const uint8_t*>(issued.der().data()),
                                   issued.der().size());
      testing::WriteFile(dir_->File(name + ".pem"), leaf.PEM_encode());
    }
    return status;
  }

  // An OCSPRequest naming `count` certificates of the operators CA (SHA-1 CertIDs).
  static std::string ManyCertIds(int count) {
    Botan::X509_Certificate ca(Pki("operators.pem"));
    auto sha1 = Botan::HashFunction::create_or_throw("SHA-1");
    const auto name_hash = sha1->process(ca.raw_subject_dn());
    const auto key_hash = sha1->process(ca.subject_public_key_bitstring());
    std::vector<uint8_t> der;
    Botan::DER_Encoder encoder(der);
    encoder.start_cons(Botan::SEQUENCE).start_cons(Botan::SEQUENCE).start_cons(Botan::SEQUENCE);
    for (int i = 0; i < count; ++i) {
      encoder.start_cons(Botan::SEQUENCE)
          .start_cons(Botan::SEQUENCE)
          .encode(Botan::AlgorithmIdentifier(Botan::OID("1.3.14.3.2.26"),
                                             Botan::AlgorithmIdentifier::USE_NULL_PARAM))
          .encode(name_hash, Botan::OCTET_STRING)
          .encode(key_hash, Botan::OCTET_STRING)
          .encode(Botan::BigInt(static_cast<uint64_t>(0x1000000 + i)))
          .end_cons()
          .end_cons();
    }
    encoder.end_cons().end_cons().end_cons();
    return std::string(der.begin(), der.end());
  }

  static std::string PostOcsp(const std::string& body) {
    RawConnection connection(http_port_);
    connection.Send(
        "POST /ocsp HTTP/1.1\r\nHost: ca\r\nContent-Type: application/ocsp-request\r\n"
        "Content-Length: " +
        std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body);
    return connection.Receive();
  }

  static testing::RunningCa* ca_;
  static testing::TempDir* dir_;
  static testing::TestHierarchy* hierarchy_;
  static testing::ServiceProcess* server_;
  static int http_port_;
};

testing::RunningCa* CaHttpTest::ca_;
testing::TempDir* CaHttpTest::dir_;
testing::TestHierarchy* CaHttpTest::hierarchy_;
testing::ServiceProcess* CaHttpTest::server_;
int CaHttpTest::http_port_;

std::string Trim(std::string text) {
  text.erase(text.find_last_not_of(" \r\n") + 1);
  return text;
}

TEST_F(CaHttpTest, TheUrlsInsideCertificatesWork) {
  ASSERT_TRUE(Issue("urls").ok());
  const std::string leaf = dir_->File("urls.pem");
  // Where the certificate says to go, as a relying party reads it.
  const std::string ocsp_url = Trim(RunCommand("openssl x509 -noout -ocsp_uri -in " + leaf).output);
  EXPECT_EQ(ocsp_url, Url("/ocsp"));
  const std::string points =
      RunCommand("openssl x509 -noout -ext crlDistributionPoints -in " + leaf).output;
  const size_t uri = points.find("URI:");
  ASSERT_NE(uri, std::string::npos) << points;
  const std::string crl_url = Trim(points.substr(uri + 4, points.find('\n', uri) - uri - 4));
  EXPECT_EQ(crl_url, Url("/crl/operators.crl"));

  auto fetched = RunCommand("curl -sSf -o " + dir_->File("operators.crl") + " " + crl_url);
  ASSERT_EQ(fetched.exit_code, 0) << fetched.output;
  auto verified = RunCommand("openssl crl -inform DER -in " + dir_->File("operators.crl") +
                             " -CAfile " + Pki("bundle.pem") + " -noout -verify");
  EXPECT_NE(verified.output.find("verify OK"), std::string::npos) << verified.output;

  auto asked = RunCommand("openssl ocsp -url " + ocsp_url + " -issuer " + Pki("operators.pem") +
                          " -CAfile " + Pki("bundle.pem") + " -cert " + leaf);
  EXPECT_NE(asked.output.find("Response verify OK"), std::string::npos) << asked.output;
  EXPECT_NE(asked.output.find("urls.pem: good"), std::string::npos) << asked.output;
}

TEST_F(CaHttpTest, CrlsCarryValidatorsAndAnswerNotModified) {
  const std::string url = Url("/crl/operators.crl");
  auto head = RunCommand("curl -sS -D - -o /dev/null " + url);
  ASSERT_EQ(head.exit_code, 0) << head.output;
  auto header = [&](const std::string& name) {
    const size_t at = head.output.find(name + ": ");
    return at == std::string::npos
               ? std::string()
               : Trim(head.output.substr(at + name.size() + 2,
                                         head.output.find('\n', at) - at - name.size() - 2));
  };
  const std::string etag = header("ETag");
  EXPECT_EQ(etag.rfind("\"operators-", 0), 0u) << head.output;
  EXPECT_FALSE(header("Last-Modified").empty()) << head.output;
  EXPECT_NE(header("Cache-Control").find("max-age="), std::string::npos) << head.output;
  EXPECT_NE(head.output.find("application/pkix-crl"), std::string::npos) << head.output;

  auto code = [&](const std::string& options) {
    return Trim(RunCommand("curl -s -o /dev/null -w '%{http_code}' " + options).output);
  };
  EXPECT_EQ(code("-H " + testing::ShellQuote("If-None-Match: " + etag) + " " + url), "304");
  EXPECT_EQ(code("-H " + testing::ShellQuote("If-None-Match: \"operators-0\"") + " " + url), "200");
  EXPECT_EQ(code("-H " + testing::ShellQuote("If-Modified-Since: " + header("Last-Modified")) +
                 " " + url),
            "304");
  EXPECT_EQ(code("-H 'If-Modified-Since: Mon, 01 Jan 2001 00:00:00 GMT' " + url), "200");
  // Anything else: 404; a known path with the wrong method: 405.
  EXPECT_EQ(code(Url("/crl/nope.crl")), "404");
  EXPECT_EQ(code(Url("/index.html")), "404");
  EXPECT_EQ(code("-X DELETE " + url), "405");
  EXPECT_EQ(code("-X PUT --data x " + Url("/ocsp")), "405");
  EXPECT_EQ(code(Url("/ca/operators.crt")), "200");
}

TEST_F(CaHttpTest, TheRootCrlIsServedAndANewOneTakenUp) {
  auto fetch = [&] {
    Trim(RunCommand("curl -s -o " + dir_->File("root.crl") + " -w '%{http_code}' " +
                    Url("/crl/root.crl"))
             .output);
    return RunCommand("openssl crl -inform DER -in " + dir_->File("root.crl") + " -CAfile " +
                      Pki("root.pem") + " -noout -verify -crlnumber")
        .output;
  };
  // The ceremony's first root CRL, as the issuing CAs' distribution point names it.
  std::string first = fetch();
  EXPECT_NE(first.find("verify OK"), std::string::npos) << first;
  EXPECT_NE(first.find("crlNumber=0x01"), std::string::npos) << first;
  // The offline root signs the next (tessera ceremony root-crl), revoking the workstations CA:
  // tessera-ca serves it within seconds, without a restart.
  auto next = ca::ReissueRootCrl(hierarchy_->config(), testing::TestHierarchy::Pins().root_user_pin,
                                 {{"workstations", 2}}, SystemClock());
  ASSERT_TRUE(next.ok()) << next.status();
  std::string served;
  for (int attempt = 0; attempt < 50; ++attempt) {
    served = fetch();
    if (served.find("crlNumber=0x02") != std::string::npos) break;
    std::this_thread::sleep_for(milliseconds(100));
  }
  EXPECT_NE(served.find("verify OK"), std::string::npos) << served;
  EXPECT_NE(served.find("crlNumber=0x02"), std::string::npos) << served;
}

TEST_F(CaHttpTest, BadOcspRequestsCostNoSignature) {
  // Garbage, and more than one CertID (RFC 5019 allows one): malformedRequest, unsigned.
  EXPECT_EQ(Body(PostOcsp("not an OCSP request")), kMalformedRequest);
  const std::string two_hundred = ManyCertIds(200);
  ASSERT_LT(two_hundred.size(), 16u * 1024);
  EXPECT_EQ(Body(PostOcsp(two_hundred)), kMalformedRequest);
  // 1,000 CertIDs do not fit in the 16 KiB a request may have.
  const std::string thousand = ManyCertIds(1000);
  EXPECT_GT(thousand.size(), 16u * 1024);
  EXPECT_EQ(PostOcsp(thousand).rfind("HTTP/1.1 413", 0), 0u);
  // The same through GET: the URL is refused before anything is decoded.
  auto long_get = RunCommand("curl -s -o /dev/null -w '%{http_code}' " +
                             Url("/ocsp/" + std::string(40000, 'A')));
  EXPECT_NE(Trim(long_get.output), "200") << long_get.output;
}

TEST_F(CaHttpTest, OversizedBodiesAreRefusedBeforeTheyAreRead) {
  // Declared too large: 413 before the body is read.
  const auto start = steady_clock::now();
  const std::string refused = PostOcsp(std::string(64 * 1024, 'x'));
  EXPECT_EQ(refused.rfind("HTTP/1.1 413", 0), 0u) << refused.substr(0, 200);
  EXPECT_LT(steady_clock::now() - start, seconds(2));

  // Chunked, so no length is declared: 256 MiB offered, refused after the first 16 KiB, and
  // the process holding the HSM session does not grow.
  const int64_t before = VmRssKb(server_->pid());
  RawConnection connection(http_port_);
  ASSERT_TRUE(connection.connected());
  connection.Send(
      "POST /ocsp HTTP/1.1\r\nHost: ca\r\nContent-Type: application/ocsp-request\r\n"
      "Transfer-Encoding: chunked\r\n\r\n");
  const std::string chunk = "10000\r\n" + std::string(0x10000, 'x') + "\r\n";
  size_t offered = 0;
  while (offered < (256u << 20)) {
    const size_t sent = connection.Send(chunk);
    offered += sent;
    if (sent < chunk.size()) break;  // the server closed the connection
  }
  const std::string answer = connection.Receive();
  EXPECT_EQ(answer.rfind("HTTP/1.1 413", 0), 0u) << answer.substr(0, 200);
  EXPECT_LT(offered, 64u << 20) << "only socket buffers should have taken the rest";
  const int64_t after = VmRssKb(server_->pid());
  EXPECT_LT(after - before, 32 * 1024) << before << " kB -> " << after << " kB";
}

TEST_F(CaHttpTest, IdleAndTricklingConnectionsStopNobody) {
  ASSERT_TRUE(Issue("patient").ok());
  std::vector<std::unique_ptr<RawConnection>> idle;
  for (int i = 0; i < 200; ++i) idle.push_back(std::make_unique<RawConnection>(http_port_));
  std::vector<std::unique_ptr<RawConnection>> trickling;
  for (int i = 0; i < 20; ++i) trickling.push_back(std::make_unique<RawConnection>(http_port_));
  std::atomic<bool> done = false;
  std::thread trickle([&] {
    const std::string request = "GET /crl/operators.crl HTTP/1.1\r\nHost: ca\r\n\r\n";
    for (size_t i = 0; i < request.size() && !done; ++i) {
      for (auto& connection : trickling) connection->Send(request.substr(i, 1));
      for (int tick = 0; tick < 10 && !done; ++tick) std::this_thread::sleep_for(milliseconds(100));
    }
  });
  std::this_thread::sleep_for(milliseconds(1500));  // all of them open and trickling

  auto start = steady_clock::now();
  auto asked = RunCommand("openssl ocsp -url " + Url("/ocsp") + " -issuer " + Pki("operators.pem") +
                          " -CAfile " + Pki("bundle.pem") + " -cert " + dir_->File("patient.pem"));
  const auto ocsp_took = steady_clock::now() - start;
  EXPECT_NE(asked.output.find("patient.pem: good"), std::string::npos) << asked.output;
  start = steady_clock::now();
  const grpc::Status issued = Issue("while-held");
  const auto issue_took = steady_clock::now() - start;
  EXPECT_TRUE(issued.ok()) << issued.error_message();
  done = true;
  trickle.join();
  EXPECT_LT(ocsp_took, seconds(3));
  EXPECT_LT(issue_took, seconds(3));
  for (auto& connection : idle) EXPECT_TRUE(connection->connected());
}

}  // namespace
}  // namespace tessera
