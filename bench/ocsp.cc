// bench/ocsp: OCSP answers per second and their latency (p50, p99) from tessera-ca's public
// HTTP endpoint, GET /ocsp/<base64> over keep-alive connections, for a few hundred issued
// certificates (answers pre-signed: the first request for each is made before measuring),
// with 1, 4, 16 and 64 concurrent connections; then the same while gRPC IssueCertificate
// clients issue at full speed, against issuance alone, to show what OCSP load costs issuance.
// tessera-ca runs as a real process after a real ceremony (P-256 CAs on SoftHSM). The load
// comes from Debian's wrk (--latency), on the same two cores as tessera-ca and PostgreSQL; it
// stands for relying parties on other machines, so it runs at niceness --wrk-nice (10).
//
//   ocsp [--certificates N] [--seconds S] [--wrk-nice N] [--json FILE]
#include <botan/auto_rng.h>
#include <botan/base64.h>
#include <botan/der_enc.h>
#include <botan/ecdsa.h>
#include <botan/hash.h>
#include <botan/pkix_types.h>
#include <botan/x509self.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "platform/rpc_client.h"
#include "proto/ca.grpc.pb.h"
#include "tests/support/run.h"
#include "tests/support/service_process.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_ceremony.h"
#include "tests/support/test_pg.h"

namespace tessera::bench {
namespace {

using testing::RunCommand;
constexpr char kCodiceFiscale[] = "RSSMRA85T10A562S";

[[noreturn]] void Die(const std::string& what) {
  std::fprintf(stderr, "ocsp: %s\n", what.c_str());
  std::exit(1);
}

std::string Run(const std::string& command) {
  testing::CommandResult result = RunCommand(command);
  if (result.exit_code != 0) Die(command + "\n" + result.output);
  return result.output;
}

std::string NewCsr() {
  Botan::AutoSeeded_RNG rng;
  Botan::ECDSA_PrivateKey key(rng, Botan::EC_Group("secp256r1"));
  const std::vector<uint8_t> der =
      Botan::X509::create_cert_req(Botan::X509_Cert_Options("x"), key, "SHA-256", rng).BER_encode();
  return std::string(der.begin(), der.end());
}

// Issues operator certificates over gRPC from `clients` threads until `stop`; returns how
// many were issued.
class Issuer {
 public:
  Issuer(int port, const testing::TestHierarchy& pki) {
    roots_ = testing::ReadFileOrDie(pki.Pki("bundle.pem"));
    cert_ = testing::ReadFileOrDie(pki.Pki("tessera-perso.pem"));
    key_ = testing::ReadFileOrDie(pki.Pki("tessera-perso.key"));
    target_ = "localhost:" + std::to_string(port);
  }
  std::unique_ptr<v1::CertificateAuthority::Stub> Stub() const {
    return v1::CertificateAuthority::NewStub(MtlsChannel(target_, roots_, cert_, key_));
  }
  // One certificate; its DER.
  std::string Issue(v1::CertificateAuthority::Stub& stub, const std::string& request_id,
                    const std::string& csr) const {
    v1::IssueCertificateRequest request;
    request.set_request_id(request_id);
    request.set_profile("operator");
    request.set_csr_der(csr);
    request.mutable_subject()->set_codice_fiscale(kCodiceFiscale);
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    v1::Certificate issued;
    grpc::Status status = stub.IssueCertificate(&context, request, &issued);
    if (!status.ok()) Die("IssueCertificate: " + status.error_message());
    return issued.der();
  }
  // Issues from `clients` threads for `seconds`; certificates per second.
  double For(int clients, double seconds, const std::string& tag,
             const std::vector<std::string>& csrs) const {
    std::atomic<size_t> next{0};
    std::atomic<bool> stop{false};
    std::vector<std::thread> threads;
    const auto start = std::chrono::steady_clock::now();
    for (int c = 0; c < clients; ++c) {
      threads.emplace_back([&, c] {
        auto stub = Stub();
        while (!stop) {
          const size_t i = next++;
          if (i >= csrs.size()) Die("ran out of CSRs; lower --seconds");
          Issue(*stub, tag + "-" + std::to_string(i), csrs[i]);
        }
        (void)c;
      });
    }
    std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
    stop = true;
    for (auto& t : threads) t.join();
    const double elapsed =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return static_cast<double>(next.load()) / elapsed;
  }

 private:
  std::string roots_, cert_, key_, target_;
};

// The GET path of an OCSP request for `certificate` (SHA-1 CertID, as openssl sends).
std::string OcspPath(const Botan::X509_Certificate& issuer, const std::string& certificate_der) {
  Botan::X509_Certificate leaf(reinterpret_cast<const uint8_t*>(certificate_der.data()),
                               certificate_der.size());
  auto sha1 = Botan::HashFunction::create_or_throw("SHA-1");
  std::vector<uint8_t> der;
  Botan::DER_Encoder(der)
      .start_cons(Botan::SEQUENCE)
      .start_cons(Botan::SEQUENCE)
      .start_cons(Botan::SEQUENCE)
      .start_cons(Botan::SEQUENCE)
      .start_cons(Botan::SEQUENCE)
      .encode(Botan::AlgorithmIdentifier(Botan::OID("1.3.14.3.2.26"),
                                         Botan::AlgorithmIdentifier::USE_NULL_PARAM))
      .encode(sha1->process(issuer.raw_subject_dn()), Botan::OCTET_STRING)
      .encode(sha1->process(issuer.subject_public_key_bitstring()), Botan::OCTET_STRING)
      .encode(Botan::BigInt(leaf.serial_number()))
      .end_cons()
      .end_cons()
      .end_cons()
      .end_cons()
      .end_cons();
  std::string path = "/ocsp/";
  for (char c : Botan::base64_encode(der)) {
    if (c == '+')
      path += "%2B";
    else if (c == '/')
      path += "%2F";
    else if (c == '=')
      path += "%3D";
    else
      path += c;
  }
  return path;
}

struct Load {
  int connections = 0;
  double per_second = 0, p50_ms = 0, p99_ms = 0;
  long errors = 0;
};

double Millis(const std::string& value, const std::string& unit) {
  const double v = std::stod(value);
  return unit == "us" ? v / 1000 : unit == "s" ? v * 1000 : v;
}

// wrk over the paths in `script`'s list, `connections` keep-alive connections.
int wrk_nice = 10;

Load Wrk(const std::string& url, const std::string& script, int connections, double seconds) {
  const int threads = std::min(connections, 2);
  const std::string out =
      Run("nice -n " + std::to_string(wrk_nice) + " wrk --latency -t" + std::to_string(threads) +
          " -c" + std::to_string(connections) + " -d" + std::to_string(static_cast<int>(seconds)) +
          "s -s " + script + " " + url + " 2>&1");
  Load load{.connections = connections};
  std::smatch m;
  if (std::regex_search(out, m, std::regex(R"(Requests/sec:\s+([0-9.]+))"))) {
    load.per_second = std::stod(m[1]);
  } else {
    Die("wrk said:\n" + out);
  }
  if (std::regex_search(out, m, std::regex(R"(\n\s+50%\s+([0-9.]+)(us|ms|s))"))) {
    load.p50_ms = Millis(m[1], m[2]);
  }
  if (std::regex_search(out, m, std::regex(R"(\n\s+99%\s+([0-9.]+)(us|ms|s))"))) {
    load.p99_ms = Millis(m[1], m[2]);
  }
  if (std::regex_search(out, m, std::regex(R"(Non-2xx or 3xx responses:\s+([0-9]+))"))) {
    load.errors += std::stol(m[1]);
  }
  if (std::regex_search(out, m, std::regex(R"(Socket errors:[^\n]*)"))) {
    load.errors += 1;
    std::fprintf(stderr, "  wrk: %s\n", m[0].str().c_str());
  }
  return load;
}

}  // namespace
}  // namespace tessera::bench

int main(int argc, char** argv) {
  using namespace tessera::bench;
  using tessera::testing::ReadFileOrDie;
  int certificates = 300;
  double seconds = 5;
  std::string json_path;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--certificates" && i + 1 < argc) {
      certificates = std::stoi(argv[++i]);
    } else if (arg == "--seconds" && i + 1 < argc) {
      seconds = std::stod(argv[++i]);
    } else if (arg == "--json" && i + 1 < argc) {
      json_path = argv[++i];
    } else if (arg == "--wrk-nice" && i + 1 < argc) {
      wrk_nice = std::stoi(argv[++i]);
    } else {
      std::fprintf(stderr,
                   "usage: ocsp [--certificates N] [--seconds S] [--wrk-nice N] [--json FILE]\n");
      return 2;
    }
  }
  if (RunCommand("wrk --version 2>&1").output.find("wrk") == std::string::npos) {
    Die("needs wrk (apt-get install wrk; deploy/setup.sh installs it)");
  }
  tessera::testing::TempDir dir("tessera-bench-ocsp");
  setenv("TESSERA_CA_PIN", tessera::testing::kTestCaPin, 1);
  const int http_port = tessera::testing::FreeLoopbackPort();
  const std::string http = "127.0.0.1:" + std::to_string(http_port);
  tessera::testing::TestHierarchy pki(
      dir.path().string(),
      {{"tessera-ca", {"localhost"}, {"127.0.0.1"}}, {"tessera-perso", {"localhost"}, {}}},
      "http://" + http);
  auto& pg = tessera::testing::TestPg::Get();
  const std::unique_ptr<tessera::testing::ServiceProcess> started =
      pki.StartCa(pg.ConnInfo(pg.CreateDatabase()), dir.path().string(), http);
  tessera::testing::ServiceProcess& ca = *started;
  const Issuer issuer(ca.port(), pki);

  // Issuance rates need fresh CSRs: made up front, off the clock.
  const double issue_seconds = std::max(2.0, seconds);
  const size_t csr_count = static_cast<size_t>(certificates + 2000 * issue_seconds);
  std::fprintf(stderr, "making %zu CSRs...\n", csr_count);
  std::vector<std::string> csrs;
  for (size_t i = 0; i < csr_count; ++i) csrs.push_back(NewCsr());

  std::fprintf(stderr, "issuing %d certificates...\n", certificates);
  const Botan::X509_Certificate operators(pki.Pki("operators.pem"));
  std::vector<std::string> paths;
  {
    auto stub = issuer.Stub();
    for (int i = 0; i < certificates; ++i) {
      paths.push_back(OcspPath(operators, issuer.Issue(*stub, "ocsp-" + std::to_string(i),
                                                       csrs[static_cast<size_t>(i)])));
    }
  }
  const std::string url = "http://" + http;
  {
    std::ofstream list(dir.File("paths.txt"));
    for (const std::string& path : paths) list << path << "\n";
  }
  // What is measured is a real answer: one checked by openssl.
  Run("curl -sSf -o " + dir.File("resp.der") + " " + url + paths.front());
  const std::string check = Run("openssl ocsp -respin " + dir.File("resp.der") + " -CAfile " +
                                pki.Pki("bundle.pem") + " 2>&1 || true");
  if (check.find("Response verify OK") == std::string::npos) Die("answer not verified:\n" + check);

  // wrk: one request per path in turn, prebuilt so that Lua costs little per request.
  {
    std::ofstream script(dir.File("paths.lua"));
    script << "local paths = {}\n"
              "for line in io.lines('"
           << dir.File("paths.txt")
           << "') do paths[#paths + 1] = line end\n"
              "local requests, i = {}, 0\n"
              "init = function(args)\n"
              "  for n, path in ipairs(paths) do requests[n] = wrk.format('GET', path) end\n"
              "  i = math.random(#requests)\n"
              "end\n"
              "request = function()\n"
              "  i = i % #requests + 1\n"
              "  return requests[i]\n"
              "end\n";
  }
  const std::string script = dir.File("paths.lua");
  Wrk(url, script, 4, 2);  // warm-up: every answer signed (its first request), then in memory

  nlohmann::json rows = nlohmann::json::array();
  std::printf("%-28s %11s %10s %8s %8s %7s\n", "load", "connections", "answers/s", "p50 ms",
              "p99 ms", "errors");
  for (int connections : {1, 4, 16, 64}) {
    const Load load = Wrk(url, script, connections, seconds);
    std::printf("%-28s %11d %10.0f %8.2f %8.2f %7ld\n", "OCSP GET", connections, load.per_second,
                load.p50_ms, load.p99_ms, load.errors);
    std::fflush(stdout);
    rows.push_back({{"load", "ocsp"},
                    {"connections", connections},
                    {"per_second", load.per_second},
                    {"p50_ms", load.p50_ms},
                    {"p99_ms", load.p99_ms},
                    {"errors", load.errors}});
  }

  // Issuance alone, then issuance while 16 OCSP connections run flat out.
  constexpr int kIssuers = 2;
  std::vector<std::string> issue_csrs(csrs.begin() + certificates, csrs.end());
  const size_t half = issue_csrs.size() / 2;
  const std::vector<std::string> alone_csrs(issue_csrs.begin(), issue_csrs.begin() + half);
  const std::vector<std::string> loaded_csrs(issue_csrs.begin() + half, issue_csrs.end());
  const double alone = issuer.For(kIssuers, issue_seconds, "alone", alone_csrs);
  Load during;
  double loaded = 0;
  {
    std::thread ocsp_load([&] { during = Wrk(url, script, 16, issue_seconds + 1); });
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    loaded = issuer.For(kIssuers, issue_seconds, "loaded", loaded_csrs);
    ocsp_load.join();
  }
  std::printf("%-28s %11d %10.0f %8.2f %8.2f %7ld\n", "OCSP GET + issuance", 16, during.per_second,
              during.p50_ms, during.p99_ms, during.errors);
  std::printf("issuance (%d gRPC clients): %.0f /s alone, %.0f /s under OCSP load: ratio %.2f\n",
              kIssuers, alone, loaded, loaded / alone);
  rows.push_back({{"load", "ocsp_with_issuance"},
                  {"connections", 16},
                  {"per_second", during.per_second},
                  {"p50_ms", during.p50_ms},
                  {"p99_ms", during.p99_ms},
                  {"errors", during.errors}});
  if (ca.Stop() != 0) Die("tessera-ca did not stop cleanly");
  const nlohmann::json report = {{"benchmark", "ocsp"},
                                 {"certificates", certificates},
                                 {"seconds", seconds},
                                 {"wrk_nice", wrk_nice},
                                 {"cores", std::thread::hardware_concurrency()},
                                 {"results", rows},
                                 {"issuance_alone_per_second", alone},
                                 {"issuance_under_ocsp_per_second", loaded},
                                 {"issuance_ratio", loaded / alone}};
  if (!json_path.empty()) std::ofstream(json_path) << report.dump(2) << "\n";
  return 0;
}
