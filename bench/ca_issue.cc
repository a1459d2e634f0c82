// bench/ca_issue: certificates issued per second by tessera-ca through gRPC over mTLS, the
// whole path a personalization daemon sees (CSR check, subject, lint, durable commit of the
// intent, signature on SoftHSM, durable commit of the certificate), for a P-256 and an
// RSA-3072 CA and 1..4 concurrent clients. Printed next to:
//   - the limits of this machine measured in the same run (bench/limits: raw token sign/s,
//     Botan's issue pipeline with a software key, PostgreSQL durable commits/s), as ratios;
//   - `openssl ca` in batch mode (-infiles) and `cfssl serve` (its HTTP sign endpoint, via
//     keep-alive HTTP clients), both with a software CA key of the same algorithm, signing the
//     same CSRs at the same concurrency (one process / client per unit of concurrency);
// tessera-ca runs twice: one certificate per IssueCertificate call, and 20 per
// IssueCertificates call (a personalization batch; "tessera x20"); both also run first with
// the audit chain's trigger on ca.certificates switched off ("no audit", 1 and 2 clients), so
// the audit's cost is a ratio measured in the same run.
//   - `cfssl serve -db-config`: the same, with cfssl's certificate database on the same
//     PostgreSQL cluster as tessera-ca (fsync on), which stores every certificate it signs
//     (one INSERT, its own durable commit); checked by counting the rows after each run.
//
//   ca_issue [--count N] [--rsa-count N] [--limits-seconds S] [--json FILE]
#include <botan/auto_rng.h>
#include <botan/ecdsa.h>
#include <botan/x509self.h>
#include <fcntl.h>
#include <httplib.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "platform/pg.h"
#include "platform/rpc_client.h"
#include "proto/ca.grpc.pb.h"
#include "tests/support/run.h"
#include "tests/support/service_process.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_ceremony.h"
#include "tests/support/test_pg.h"

extern char** environ;

namespace tessera::bench {
namespace {

using testing::RunCommand;
using testing::ShellQuote;
constexpr int kMaxClients = 4;
constexpr char kCodiceFiscale[] = "RSSMRA85T10A562S";
// tessera-ca through IssueCertificates, kBatch CSRs per call (a personalization batch).
constexpr size_t kBatch = 20;
constexpr char kTesseraBatch[] = "tessera x20";
// The same two with the audit chain's trigger on ca.certificates switched off: what the audit
// costs, measured in the same run.
constexpr char kNoAudit[] = "no audit";
constexpr char kNoAuditBatch[] = "no audit x20";
constexpr int kNoAuditClients = 2;

[[noreturn]] void Die(const std::string& what) {
  std::fprintf(stderr, "ca_issue: %s\n", what.c_str());
  std::exit(1);
}

std::string Run(const std::string& command) {
  testing::CommandResult result = RunCommand(command);
  if (result.exit_code != 0) Die(command + "\n" + result.output);
  return result.output;
}

// Runs work(client) on `clients` threads at once; returns the wall time until all are done.
double Timed(int clients, const std::function<void(int)>& work) {
  std::atomic<int> ready{0};
  std::atomic<bool> go{false};
  std::vector<std::thread> threads;
  for (int c = 0; c < clients; ++c) {
    threads.emplace_back([&, c] {
      ++ready;
      while (!go) std::this_thread::yield();
      work(c);
    });
  }
  while (ready < clients) std::this_thread::yield();
  const auto start = std::chrono::steady_clock::now();
  go = true;
  for (std::thread& t : threads) t.join();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// The machine's limits, from bench/limits run as a child of this benchmark.
class Limits {
 public:
  explicit Limits(const nlohmann::json& report) {
    for (const auto& row : report.at("limits")) {
      rates_[{row.at("limit").get<std::string>(), row.at("parallelism").get<int>()}] =
          row.at("per_second").get<double>();
    }
  }
  // The measurement at the largest parallelism not above `parallelism`.
  double Get(const std::string& name, int parallelism) const {
    double best = 0;
    for (const auto& [key, rate] : rates_) {
      if (key.first == name && key.second <= parallelism) best = rate;
    }
    if (best == 0) Die("limits: no " + name);
    return best;
  }

 private:
  std::map<std::pair<std::string, int>, double> rates_;
};

// A P-256 key's PKCS#10 request, as a card sends it; DER for tessera, a PEM file for the others.
struct Csr {
  std::string der;
  std::string pem_path;
};

std::vector<Csr> MakeCsrs(int count, const std::string& dir) {
  std::filesystem::create_directories(dir);
  Botan::AutoSeeded_RNG rng;
  std::vector<Csr> csrs;
  for (int i = 0; i < count; ++i) {
    Botan::ECDSA_PrivateKey key(rng, Botan::EC_Group("secp256r1"));
    Botan::PKCS10_Request request = Botan::X509::create_cert_req(
        Botan::X509_Cert_Options(std::string(kCodiceFiscale) + "/IT"), key, "SHA-256", rng);
    const std::vector<uint8_t> der = request.BER_encode();
    Csr csr{std::string(der.begin(), der.end()), dir + "/" + std::to_string(i) + ".pem"};
    testing::WriteFile(csr.pem_path, request.PEM_encode());
    csrs.push_back(std::move(csr));
  }
  return csrs;
}

// ---- tessera-ca ------------------------------------------------------------------------

// Issues `csrs` split among `clients`, one certificate per IssueCertificate call when `batch`
// is 1, else `batch` CSRs per IssueCertificates call (as personalization asks).
double RunTessera(int port, const testing::TestHierarchy& pki, const std::string& tag, int clients,
                  const std::vector<Csr>& csrs, size_t batch = 1) {
  const std::string roots = testing::ReadFileOrDie(pki.Pki("bundle.pem"));
  const std::string cert = testing::ReadFileOrDie(pki.Pki("tessera-perso.pem"));
  const std::string key = testing::ReadFileOrDie(pki.Pki("tessera-perso.key"));
  std::vector<std::unique_ptr<v1::CertificateAuthority::Stub>> stubs;
  for (int c = 0; c < clients; ++c) {
    stubs.push_back(v1::CertificateAuthority::NewStub(
        MtlsChannel("localhost:" + std::to_string(port), roots, cert, key)));
  }
  std::atomic<int> failures{0};
  std::string first_error;
  auto request_for = [&](size_t i, v1::IssueCertificateRequest* request) {
    request->set_request_id(tag + "-" + std::to_string(i));
    request->set_profile("operator");
    request->set_csr_der(csrs[i].der);
    request->mutable_subject()->set_codice_fiscale(kCodiceFiscale);
  };
  auto fail = [&](const std::string& error) {
    if (failures++ == 0) first_error = error;
  };
  const double seconds = Timed(clients, [&](int c) {
    // Client c takes the c-th of every `clients` slices of `batch` CSRs.
    for (size_t start = c * batch; start < csrs.size(); start += clients * batch) {
      grpc::ClientContext context;
      if (batch == 1) {
        v1::IssueCertificateRequest request;
        request_for(start, &request);
        v1::Certificate issued;
        grpc::Status status = stubs[c]->IssueCertificate(&context, request, &issued);
        if (!status.ok() || issued.der().empty()) fail(status.error_message());
        continue;
      }
      v1::IssueCertificatesRequest request;
      for (size_t i = start; i < std::min(start + batch, csrs.size()); ++i) {
        request_for(i, request.add_requests());
      }
      v1::IssueCertificatesResponse issued;
      grpc::Status status = stubs[c]->IssueCertificates(&context, request, &issued);
      if (!status.ok()) fail(status.error_message());
      for (const auto& result : issued.results()) {
        if (result.code() != 0 || result.certificate().der().empty()) fail(result.message());
      }
    }
  });
  if (failures > 0)
    Die("tessera-ca refused " + std::to_string(failures.load()) + ": " + first_error);
  return seconds;
}

// The floor under every issuance: one mTLS gRPC round trip through tessera-ca's policy check
// (GetCaChain: no database, no token), in microseconds.
double RoundTripMicros(int port, const testing::TestHierarchy& pki) {
  auto stub = v1::CertificateAuthority::NewStub(MtlsChannel(
      "localhost:" + std::to_string(port), testing::ReadFileOrDie(pki.Pki("bundle.pem")),
      testing::ReadFileOrDie(pki.Pki("tessera-perso.pem")),
      testing::ReadFileOrDie(pki.Pki("tessera-perso.key"))));
  constexpr int kCalls = 500;
  const double seconds = Timed(1, [&](int) {
    for (int i = 0; i < kCalls; ++i) {
      grpc::ClientContext context;
      v1::GetCaChainResponse chain;
      if (!stub->GetCaChain(&context, {}, &chain).ok()) Die("GetCaChain failed");
    }
  });
  return seconds * 1e6 / kCalls;
}

// ---- openssl ca, batch mode ------------------------------------------------------------

// A software CA of the benchmark's algorithm, for openssl ca and cfssl: key (PKCS#1 / SEC1,
// which both read) and a self-signed certificate.
void MakeSoftwareCa(const std::string& dir, bool rsa) {
  std::filesystem::create_directories(dir);
  Run(rsa ? "openssl genrsa -traditional -out " + dir + "/ca-key.pem 3072 2>&1"
          : "openssl ecparam -name prime256v1 -genkey -noout -out " + dir + "/ca-key.pem");
  Run("openssl req -x509 -new -key " + dir + "/ca-key.pem -subj '/C=IT/O=Bench/CN=Bench CA'" +
      " -days 3650 -addext basicConstraints=critical,CA:TRUE" +
      " -addext keyUsage=critical,keyCertSign,cRLSign -out " + dir + "/ca.pem");
}

double RunOpensslCa(const std::string& ca_dir, const std::string& tag, int clients,
                    const std::vector<Csr>& csrs) {
  // One CA directory (index, output) per process: openssl ca locks nothing.
  std::vector<std::string> commands;
  for (int c = 0; c < clients; ++c) {
    const std::string dir = ca_dir + "/" + tag + "-" + std::to_string(c);
    std::filesystem::create_directories(dir + "/new");
    testing::WriteFile(dir + "/index.txt", "");
    testing::WriteFile(dir + "/index.txt.attr", "unique_subject = no\n");
    testing::WriteFile(dir + "/ca.cnf",
                       "[ca]\ndefault_ca = bench\n[bench]\ndir = " + dir +
                           "\ndatabase = $dir/index.txt\nnew_certs_dir = $dir/new\n"
                           "certificate = " +
                           ca_dir + "/ca.pem\nprivate_key = " + ca_dir +
                           "/ca-key.pem\nrand_serial = yes\ndefault_md = sha256\n"
                           "default_days = 2190\npolicy = anything\nx509_extensions = leaf\n"
                           "unique_subject = no\n[anything]\ncountryName = optional\n"
                           "commonName = supplied\n[leaf]\nbasicConstraints = critical,CA:FALSE\n"
                           "keyUsage = critical,digitalSignature\nextendedKeyUsage = clientAuth\n"
                           "subjectKeyIdentifier = hash\nauthorityKeyIdentifier = keyid\n");
    // File names relative to the CSR directory: one shell argument may not exceed 128 KiB.
    const std::string csr_dir = std::filesystem::path(csrs.front().pem_path).parent_path().string();
    std::string command = "cd " + csr_dir + " && openssl ca -batch -notext -config " + dir +
                          "/ca.cnf -out " + dir + "/out.pem -infiles";
    for (size_t i = c; i < csrs.size(); i += clients) {
      command += " " + std::filesystem::path(csrs[i].pem_path).filename().string();
    }
    commands.push_back(command + " 2>&1");
  }
  const double seconds = Timed(clients, [&](int c) { Run(commands[c]); });
  size_t signed_count = 0;
  for (int c = 0; c < clients; ++c) {
    const std::string dir = ca_dir + "/" + tag + "-" + std::to_string(c) + "/new";
    for (const auto& entry : std::filesystem::directory_iterator(dir)) {
      signed_count += entry.is_regular_file() ? 1 : 0;
    }
  }
  if (signed_count != csrs.size()) Die("openssl ca signed " + std::to_string(signed_count));
  return seconds;
}

// ---- cfssl serve -----------------------------------------------------------------------

// cfssl's certificate database (certdb) on the benchmark's PostgreSQL cluster, the one
// tessera-ca uses. golang-cfssl ships no migrations; this is the "Up" section of
// certdb/pg/migrations/001_CreateCertificates.sql at cloudflare/cfssl 7fb22c8, the commit
// Debian's 1.2.0+git20160825.89.7fb22c8 is built from.
constexpr char kCfsslSchema[] = R"sql(
CREATE TABLE certificates (
  serial_number            bytea NOT NULL,
  authority_key_identifier bytea NOT NULL,
  ca_label                 bytea,
  status                   bytea NOT NULL,
  reason                   int,
  expiry                   timestamptz,
  revoked_at               timestamptz,
  pem                      bytea NOT NULL,
  PRIMARY KEY(serial_number, authority_key_identifier)
);
CREATE TABLE ocsp_responses (
  serial_number            bytea NOT NULL,
  authority_key_identifier bytea NOT NULL,
  body                     bytea NOT NULL,
  expiry                   timestamptz,
  PRIMARY KEY(serial_number, authority_key_identifier),
  FOREIGN KEY(serial_number, authority_key_identifier)
    REFERENCES certificates(serial_number, authority_key_identifier)
);
)sql";

class CfsslDb {
 public:
  // What the cluster saw: rows in `certificates`, sessions opened to this database, and WAL
  // fsyncs of the whole cluster (only cfssl writes while it runs).
  struct Counters {
    int64_t rows = 0;
    int64_t sessions = 0;
    int64_t wal_fsyncs = 0;
  };

  explicit CfsslDb(const std::string& dir) : config_path_(dir + "/db.json") {
    auto& pg = testing::TestPg::Get();
    name_ = pg.CreateDatabase();
    auto conn = pg::Connection::Open(pg.ConnInfo(name_));
    if (!conn.ok()) Die("cfssl database: " + conn.status().ToString());
    conn_ = std::move(*conn);
    if (absl::Status created = conn_->ExecScript(kCfsslSchema); !created.ok()) {
      Die("cfssl schema: " + created.ToString());
    }
    // This connection's own session is counted from now on, not inside a measurement.
    if (!conn_->Exec("SELECT pg_stat_force_next_flush()").ok()) Die("pg_stat_force_next_flush");
    std::filesystem::create_directories(dir);
    // lib/pq asks for TLS unless told not to; tessera-ca's libpq talks over the same socket.
    testing::WriteFile(config_path_,
                       nlohmann::json{{"driver", "postgres"},
                                      {"data_source", pg.ConnInfo(name_) + " sslmode=disable"}}
                           .dump());
  }
  const std::string& config_path() const { return config_path_; }

  // After cfssl stopped: waits until its backends have exited (each reports its statistics
  // as it exits), then reads the counters.
  Counters Read() {
    for (int i = 0;; ++i) {
      if (Int("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND "
              "backend_type = 'client backend' AND pid <> pg_backend_pid()") == 0) {
        break;
      }
      if (i == 100) Die("cfssl's database sessions did not end");
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return {Int("SELECT count(*) FROM certificates"),
            Int("SELECT sessions FROM pg_stat_database WHERE datname = current_database()"),
            Int("SELECT wal_sync FROM pg_stat_wal")};
  }

 private:
  int64_t Int(const char* sql) {
    auto result = conn_->Exec(sql);
    if (!result.ok() || result->rows() != 1) Die(std::string("cfssl database: ") + sql);
    return result->Int(0, 0);
  }

  std::string name_, config_path_;
  std::unique_ptr<pg::Connection> conn_;
};

class CfsslServer {
 public:
  // With a `db_config`, cfssl stores every certificate it signs in that database.
  CfsslServer(const std::string& ca_dir, int port, const std::string& db_config = "")
      : port_(port) {
    const std::string ca = ca_dir + "/ca.pem", key = ca_dir + "/ca-key.pem";
    const std::string port_text = std::to_string(port);
    // -loglevel 2: warnings only, so cfssl does not pay for a log line per request.
    std::vector<const char*> argv = {"cfssl",   "serve",           "-ca",       ca.c_str(),
                                     "-ca-key", key.c_str(),       "-address",  "127.0.0.1",
                                     "-port",   port_text.c_str(), "-loglevel", "2"};
    if (!db_config.empty()) {
      argv.push_back("-db-config");
      argv.push_back(db_config.c_str());
    }
    argv.push_back(nullptr);
    // Its start-up warnings (endpoints it leaves disabled) go to cfssl.log beside the key.
    const std::string log = ca_dir + "/cfssl.log";
    posix_spawn_file_actions_t files;
    posix_spawn_file_actions_init(&files);
    posix_spawn_file_actions_addopen(&files, STDOUT_FILENO, log.c_str(),
                                     O_WRONLY | O_CREAT | O_APPEND, 0644);
    posix_spawn_file_actions_adddup2(&files, STDOUT_FILENO, STDERR_FILENO);
    const int spawned =
        posix_spawnp(&pid_, "cfssl", &files, nullptr, const_cast<char**>(argv.data()), environ);
    posix_spawn_file_actions_destroy(&files);
    if (spawned != 0) Die("cannot start cfssl serve (apt-get install golang-cfssl)");
    httplib::Client probe("127.0.0.1", port_);
    for (int i = 0; i < 100 && !probe.Get("/api/v1/cfssl/health"); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }
  ~CfsslServer() {
    kill(pid_, SIGTERM);
    waitpid(pid_, nullptr, 0);
  }
  int port() const { return port_; }

 private:
  pid_t pid_ = -1;
  int port_;
};

double RunCfssl(const CfsslServer& server, int clients, const std::vector<Csr>& csrs) {
  std::vector<std::string> bodies;
  for (const Csr& csr : csrs) {
    bodies.push_back(
        nlohmann::json{{"certificate_request", testing::ReadFileOrDie(csr.pem_path)}}.dump());
  }
  std::atomic<int> failures{0};
  const double seconds = Timed(clients, [&](int c) {
    httplib::Client client("127.0.0.1", server.port());
    client.set_keep_alive(true);
    client.set_tcp_nodelay(true);  // else Nagle + delayed ACK add 40 ms per request
    for (size_t i = c; i < bodies.size(); i += clients) {
      auto reply = client.Post("/api/v1/cfssl/sign", bodies[i], "application/json");
      if (!reply || reply->status != 200 ||
          reply->body.find("\"success\":true") == std::string::npos) {
        ++failures;
      }
    }
  });
  if (failures > 0) Die("cfssl refused " + std::to_string(failures.load()) + " requests");
  return seconds;
}

// ---- the report ------------------------------------------------------------------------

struct Result {
  std::string system;
  std::string ca_key;
  int clients;
  size_t certificates;
  double seconds;
  // cfssl+PG only, over the warm-up and the run: rows stored, PostgreSQL sessions opened,
  // WAL fsyncs of the cluster.
  int64_t stored = 0;
  int64_t sessions = 0;
  int64_t wal_fsyncs = 0;
  double per_second() const { return certificates / seconds; }
};

}  // namespace
}  // namespace tessera::bench

int main(int argc, char** argv) {
  using namespace tessera::bench;
  int count = 3000, rsa_count = 800;
  std::string limits_seconds = "1", json_path;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--count" && i + 1 < argc) {
      count = std::stoi(argv[++i]);
    } else if (arg == "--rsa-count" && i + 1 < argc) {
      rsa_count = std::stoi(argv[++i]);
    } else if (arg == "--limits-seconds" && i + 1 < argc) {
      limits_seconds = argv[++i];
    } else if (arg == "--json" && i + 1 < argc) {
      json_path = argv[++i];
    } else {
      std::fprintf(stderr,
                   "usage: ca_issue [--count N] [--rsa-count N] [--limits-seconds S] "
                   "[--json FILE]\n");
      return 2;
    }
  }
  tessera::testing::TempDir dir("tessera-bench-issue");

  std::fprintf(stderr, "measuring this machine's limits (bench/limits)...\n");
  Run(std::string(TESSERA_BIN_DIR) + "/limits --seconds " + limits_seconds + " --json " +
      dir.File("limits.json") + " >/dev/null 2>&1");
  const nlohmann::json limits_report =
      nlohmann::json::parse(tessera::testing::ReadFileOrDie(dir.File("limits.json")));
  const Limits limits(limits_report);

  setenv("TESSERA_CA_PIN", tessera::testing::kTestCaPin, 1);
  std::vector<Result> results;
  std::map<std::string, double> round_trips;  // by CA key
  for (const bool rsa : {false, true}) {
    const std::string ca_key = rsa ? "RSA-3072" : "P-256";
    const int n = rsa ? rsa_count : count;
    std::fprintf(stderr, "%s CA: %d CSRs per run...\n", ca_key.c_str(), n);
    std::vector<std::vector<Csr>> runs, batch_runs;
    for (int clients = 1; clients <= kMaxClients; ++clients) {
      runs.push_back(MakeCsrs(n, dir.File(ca_key + "/csrs-" + std::to_string(clients))));
      batch_runs.push_back(MakeCsrs(n, dir.File(ca_key + "/batch-" + std::to_string(clients))));
    }
    const std::vector<Csr> warmup = MakeCsrs(20, dir.File(ca_key + "/warmup"));
    std::vector<std::vector<Csr>> unaudited_runs, unaudited_batch_runs;
    for (int clients = 1; clients <= kNoAuditClients; ++clients) {
      unaudited_runs.push_back(
          MakeCsrs(n, dir.File(ca_key + "/unaudited-" + std::to_string(clients))));
      unaudited_batch_runs.push_back(
          MakeCsrs(n, dir.File(ca_key + "/unaudited-batch-" + std::to_string(clients))));
    }

    {  // tessera-ca as a real process after a real ceremony on SoftHSM
      tessera::testing::TestHierarchy pki(
          dir.File(ca_key),
          {{"tessera-ca", {"localhost"}, {"127.0.0.1"}}, {"tessera-perso", {"localhost"}, {}}},
          "http://127.0.0.1:8080",
          rsa ? tessera::hsm::KeyAlgorithm::kRsa3072 : tessera::hsm::KeyAlgorithm::kEcP256);
      auto& pg = tessera::testing::TestPg::Get();
      const std::string database = pg.ConnInfo(pg.CreateDatabase());
      const std::unique_ptr<tessera::testing::ServiceProcess> started =
          pki.StartCa(database, dir.File(ca_key));
      tessera::testing::ServiceProcess& ca = *started;
      RunTessera(ca.port(), pki, "warmup", 2, warmup);
      round_trips[ca_key] = RoundTripMicros(ca.port(), pki);
      // First without the audit chain (its table then smaller than the audited runs': the
      // audit's cost comes out, if anything, too high).
      auto audit = [&database](bool on) {
        auto conn = tessera::pg::Connection::Open(database);
        if (!conn.ok() || !(*conn)
                               ->Exec(std::string("ALTER TABLE ca.certificates ") +
                                      (on ? "ENABLE" : "DISABLE") + " TRIGGER certificates_audit")
                               .ok()) {
          Die("cannot switch the audit trigger");
        }
      };
      audit(false);
      for (int clients = 1; clients <= kNoAuditClients; ++clients) {
        const auto& single = unaudited_runs[clients - 1];
        results.push_back(
            {kNoAudit, ca_key, clients, single.size(),
             RunTessera(ca.port(), pki, "unaudited" + std::to_string(clients), clients, single)});
        const auto& batch = unaudited_batch_runs[clients - 1];
        results.push_back({kNoAuditBatch, ca_key, clients, batch.size(),
                           RunTessera(ca.port(), pki, "unaudited-batch" + std::to_string(clients),
                                      clients, batch, kBatch)});
        std::fprintf(stderr, "  no audit     %d clients: %8.1f /s, x20 %8.1f /s\n", clients,
                     results[results.size() - 2].per_second(), results.back().per_second());
      }
      audit(true);
      for (int clients = 1; clients <= kMaxClients; ++clients) {
        const auto& csrs = runs[clients - 1];
        const double seconds =
            RunTessera(ca.port(), pki, "run" + std::to_string(clients), clients, csrs);
        results.push_back({"tessera-ca", ca_key, clients, csrs.size(), seconds});
        std::fprintf(stderr, "  tessera-ca   %d clients: %8.1f /s\n", clients,
                     results.back().per_second());
      }
      for (int clients = 1; clients <= kMaxClients; ++clients) {
        const auto& csrs = batch_runs[clients - 1];
        const double seconds =
            RunTessera(ca.port(), pki, "batch" + std::to_string(clients), clients, csrs, kBatch);
        results.push_back({kTesseraBatch, ca_key, clients, csrs.size(), seconds});
        std::fprintf(stderr, "  %s %d clients: %8.1f /s\n", kTesseraBatch, clients,
                     results.back().per_second());
      }
      if (ca.Stop() != 0) Die("tessera-ca did not stop cleanly");
    }

    const std::string software_ca = dir.File(ca_key + "/software-ca");
    MakeSoftwareCa(software_ca, rsa);
    for (int clients = 1; clients <= kMaxClients; ++clients) {
      const auto& csrs = runs[clients - 1];
      const double seconds =
          RunOpensslCa(software_ca, "run" + std::to_string(clients), clients, csrs);
      results.push_back({"openssl ca", ca_key, clients, csrs.size(), seconds});
      std::fprintf(stderr, "  openssl ca   %d clients: %8.1f /s\n", clients,
                   results.back().per_second());
    }
    {  // cfssl storing nothing
      CfsslServer cfssl(software_ca, 18700 + (rsa ? 1 : 0));
      RunCfssl(cfssl, 2, warmup);
      for (int clients = 1; clients <= kMaxClients; ++clients) {
        const auto& csrs = runs[clients - 1];
        results.push_back(
            {"cfssl serve", ca_key, clients, csrs.size(), RunCfssl(cfssl, clients, csrs)});
        std::fprintf(stderr, "  cfssl serve  %d clients: %8.1f /s\n", clients,
                     results.back().per_second());
      }
    }
    // cfssl storing what it signs, in its own database on tessera-ca's cluster. A server per
    // run, so that its PostgreSQL sessions have ended (and reported) when the run is counted.
    CfsslDb cfssl_db(dir.File(ca_key + "/cfssl-db"));
    for (int clients = 1; clients <= kMaxClients; ++clients) {
      const auto& csrs = runs[clients - 1];
      const CfsslDb::Counters before = cfssl_db.Read();
      double seconds;
      {
        CfsslServer cfssl(software_ca, 18702 + (rsa ? 1 : 0), cfssl_db.config_path());
        RunCfssl(cfssl, 2, warmup);
        seconds = RunCfssl(cfssl, clients, csrs);
      }
      const CfsslDb::Counters after = cfssl_db.Read();
      const size_t signed_count = warmup.size() + csrs.size();
      const int64_t rows = after.rows - before.rows;
      if (rows != static_cast<int64_t>(signed_count)) {
        Die("cfssl -db-config stored " + std::to_string(rows) + " rows for " +
            std::to_string(signed_count) + " certificates");
      }
      results.push_back({"cfssl+PG", ca_key, clients, csrs.size(), seconds});
      results.back().stored = rows;
      results.back().sessions = after.sessions - before.sessions;
      results.back().wal_fsyncs = after.wal_fsyncs - before.wal_fsyncs;
      std::fprintf(stderr,
                   "  cfssl+PG     %d clients: %8.1f /s (%lld rows for %zu certificates, "
                   "%lld sessions, %lld WAL fsyncs)\n",
                   clients, results.back().per_second(), static_cast<long long>(rows), signed_count,
                   static_cast<long long>(results.back().sessions),
                   static_cast<long long>(results.back().wal_fsyncs));
    }
  }

  // tessera's rows against the machine and against the others at the same key and clients.
  auto rate_of = [&](const std::string& system, const std::string& key, int clients) {
    for (const Result& r : results) {
      if (r.system == system && r.ca_key == key && r.clients == clients) return r.per_second();
    }
    return 0.0;
  };
  std::printf("%-11s %-8s %7s %6s %9s | %9s %11s %11s | %8s %8s %9s\n", "system", "CA key",
              "clients", "certs", "certs/s", "/pipeline", "/token sign", "/pg commits", "/openssl",
              "/cfssl", "/cfssl+PG");
  nlohmann::json rows = nlohmann::json::array();
  for (const Result& r : results) {
    const bool rsa = r.ca_key == "RSA-3072";
    const int cores = std::min(r.clients, 2);
    const double pipeline =
        limits.Get(rsa ? "botan_issue_rsa3072_ca" : "botan_issue_p256_ca", cores);
    const double token = limits.Get(rsa ? "token_sign_rsa3072" : "token_sign_p256", cores);
    // tessera commits twice per certificate: the intent, then the certificate.
    const double commits = limits.Get("pg_durable_commit", r.clients) / 2;
    nlohmann::json row = {{"system", r.system},   {"ca_key", r.ca_key},
                          {"clients", r.clients}, {"certificates", r.certificates},
                          {"seconds", r.seconds}, {"per_second", r.per_second()}};
    if (r.system == "tessera-ca" || r.system == kTesseraBatch) {
      const double openssl = r.per_second() / rate_of("openssl ca", r.ca_key, r.clients);
      const double cfssl = r.per_second() / rate_of("cfssl serve", r.ca_key, r.clients);
      const double cfssl_pg = r.per_second() / rate_of("cfssl+PG", r.ca_key, r.clients);
      std::printf("%-11s %-8s %7d %6zu %9.1f | %9.2f %11.2f %11.2f | %8.2f %8.2f %9.2f\n",
                  r.system.c_str(), r.ca_key.c_str(), r.clients, r.certificates, r.per_second(),
                  r.per_second() / pipeline, r.per_second() / token, r.per_second() / commits,
                  openssl, cfssl, cfssl_pg);
      row["ratio_to_pipeline"] = r.per_second() / pipeline;
      row["ratio_to_token_sign"] = r.per_second() / token;
      row["ratio_to_pg_commit_pairs"] = r.per_second() / commits;
      row["ratio_to_openssl_ca"] = openssl;
      row["ratio_to_cfssl_serve"] = cfssl;
      row["ratio_to_cfssl_pg"] = cfssl_pg;
    } else if (r.system == kNoAudit || r.system == kNoAuditBatch) {
      // What the audited run reaches of this one: the audit chain's cost.
      const double audited =
          rate_of(r.system == kNoAudit ? "tessera-ca" : kTesseraBatch, r.ca_key, r.clients);
      std::printf("%-11s %-8s %7d %6zu %9.1f | %9.2f   audited / unaudited %.2f\n",
                  r.system.c_str(), r.ca_key.c_str(), r.clients, r.certificates, r.per_second(),
                  r.per_second() / pipeline, audited / r.per_second());
      row["ratio_to_pipeline"] = r.per_second() / pipeline;
      row["audited_over_unaudited"] = audited / r.per_second();
    } else if (r.system == "cfssl+PG") {
      std::printf(
          "%-11s %-8s %7d %6zu %9.1f | %lld rows, %lld PostgreSQL sessions, %lld WAL "
          "fsyncs (with the %zu-certificate warm-up)\n",
          r.system.c_str(), r.ca_key.c_str(), r.clients, r.certificates, r.per_second(),
          static_cast<long long>(r.stored), static_cast<long long>(r.sessions),
          static_cast<long long>(r.wal_fsyncs), static_cast<size_t>(r.stored) - r.certificates);
      row["rows_stored_with_warmup"] = r.stored;
      row["pg_sessions_with_warmup"] = r.sessions;
      row["wal_fsyncs_with_warmup"] = r.wal_fsyncs;
    } else {
      std::printf("%-11s %-8s %7d %6zu %9.1f |\n", r.system.c_str(), r.ca_key.c_str(), r.clients,
                  r.certificates, r.per_second());
    }
    rows.push_back(row);
  }
  std::printf(
      "limits (per second, 1|2 threads): pipeline P-256 %.0f|%.0f, RSA-3072 %.0f|%.0f; "
      "token sign P-256 %.0f|%.0f, RSA-3072 %.0f|%.0f; pg commits (1|4 clients) %.0f|%.0f\n",
      limits.Get("botan_issue_p256_ca", 1), limits.Get("botan_issue_p256_ca", 2),
      limits.Get("botan_issue_rsa3072_ca", 1), limits.Get("botan_issue_rsa3072_ca", 2),
      limits.Get("token_sign_p256", 1), limits.Get("token_sign_p256", 2),
      limits.Get("token_sign_rsa3072", 1), limits.Get("token_sign_rsa3072", 2),
      limits.Get("pg_durable_commit", 1), limits.Get("pg_durable_commit", 4));
  for (const auto& [key, micros] : round_trips) {
    std::printf("gRPC round trip through tessera-ca (%s run, GetCaChain): %.0f us\n", key.c_str(),
                micros);
  }
  const nlohmann::json report = {{"benchmark", "ca_issue"},
                                 {"grpc_round_trip_us", round_trips},
                                 {"cores", std::thread::hardware_concurrency()},
                                 {"results", rows},
                                 {"limits", limits_report.at("limits")}};
  if (!json_path.empty()) std::ofstream(json_path) << report.dump(2) << "\n";
  return 0;
}
