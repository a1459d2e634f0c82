// bench/limits: the physical limits of this machine that tessera's own benchmarks are
// divided by. Prints a table and JSON:
//   token sign/s         raw C_Sign on SoftHSM: P-256 (CKM_ECDSA), RSA-2048, RSA-3072
//                        (CKM_RSA_PKCS over a SHA-256 DigestInfo, as the CA signs); 1 and 2
//                        threads, one session each
//   token keygen/s       C_GenerateKeyPair of token objects, P-256 and RSA-2048; 1 and 2
//                        processes (key generation is serialized per module by design)
//   C_InitToken/s        new token + user PIN; 1 and 2 processes
//   botan issue/s        parse + verify a CSR, build and sign the certificate, DER-encode,
//                        with a software P-256 or RSA-3072 CA key; 1 and 2 threads
//   pg commit/s          single-row INSERT, one durable commit each (fsync on); 1 and 4 clients
//
//   limits [--seconds S] [--json FILE]
#include <botan/auto_rng.h>
#include <botan/ecdsa.h>
#include <botan/hash_id.h>
#include <botan/pkcs10.h>
#include <botan/rsa.h>
#include <botan/x509_ca.h>
#include <botan/x509self.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <functional>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "bench/measure.h"
#include "hsm/session.h"
#include "hsm/token.h"
#include "tests/support/run.h"
#include "tests/support/test_hsm.h"
#include "tests/support/test_pg.h"

extern char** environ;

namespace tessera::bench {
namespace {

using Clock = std::chrono::steady_clock;
using testing::TestSoftHsm;

template <typename T>
T OrDie(absl::StatusOr<T> value, const char* what) {
  if (!value.ok()) {
    std::cerr << "limits: " << what << ": " << value.status() << "\n";
    std::exit(1);
  }
  return std::move(*value);
}

std::vector<uint8_t> Id(const std::string& text) { return {text.begin(), text.end()}; }

// ---- token signing ---------------------------------------------------------------------

Rate TokenSign(hsm::KeyAlgorithm algorithm, int threads, double seconds) {
  auto token = TestSoftHsm::Get().CreateToken(TestSoftHsm::UniqueLabel("sign"));
  {
    auto lease = OrDie(token->Acquire(), "session");
    OrDie(lease->GenerateKeyPair({.algorithm = algorithm, .id = Id("k"), .label = "k"}), "keygen");
  }
  std::vector<uint8_t> input(32, 0x5a);  // a SHA-256 digest
  CK_MECHANISM_TYPE mechanism = CKM_ECDSA;
  if (algorithm != hsm::KeyAlgorithm::kEcP256) {
    input = Botan::pkcs_hash_id("SHA-256");
    input.resize(input.size() + 32, 0x5a);
    mechanism = CKM_RSA_PKCS;
  }
  // One session (and key handle) per thread, as the CA's session pool does.
  std::vector<std::unique_ptr<hsm::Token::Lease>> leases;
  std::vector<CK_OBJECT_HANDLE> keys;
  for (int t = 0; t < threads; ++t) {
    leases.push_back(std::make_unique<hsm::Token::Lease>(OrDie(token->Acquire(), "session")));
    keys.push_back(OrDie((*leases.back())->FindById(CKO_PRIVATE_KEY, Id("k")), "find key"));
  }
  return MeasureThreads(threads, seconds, [&](int t) {
    OrDie((*leases[t])->Sign(keys[t], mechanism, input), "C_Sign");
  });
}

// ---- work done in child processes (key generation, token initialization) ---------------

Rate ChildKeygen(hsm::KeyAlgorithm algorithm, double seconds) {
  auto token = TestSoftHsm::Get().CreateToken("keygen");
  auto lease = OrDie(token->Acquire(), "session");
  int n = 0;
  return MeasureThreads(1, seconds, [&](int) {
    std::string id = "k" + std::to_string(n++);
    OrDie(lease->GenerateKeyPair({.algorithm = algorithm, .id = Id(id), .label = id}), "keygen");
  });
}

Rate ChildInitToken(double seconds) {
  auto module = TestSoftHsm::Get().module();
  int n = 0;
  return MeasureThreads(1, seconds, [&](int) {
    OrDie(module->InitToken("t" + std::to_string(n++), Secret(testing::kTestSoPin),
                            Secret(testing::kTestUserPin)),
          "C_InitToken");
  });
}

int RunChild(const std::string& what, double seconds) {
  Rate rate;
  if (what == "keygen-p256") rate = ChildKeygen(hsm::KeyAlgorithm::kEcP256, seconds);
  if (what == "keygen-rsa2048") rate = ChildKeygen(hsm::KeyAlgorithm::kRsa2048, seconds);
  if (what == "inittoken") rate = ChildInitToken(seconds);
  std::printf("%llu %.6f\n", static_cast<unsigned long long>(rate.operations), rate.seconds);
  return 0;
}

// Runs `processes` copies of this program with --child, each with its own SoftHSM store,
// at the same time, and adds up what they did.
Rate MeasureProcesses(const char* self, const std::string& what, int processes, double seconds) {
  std::vector<FILE*> pipes;
  for (int p = 0; p < processes; ++p) {
    std::string command =
        testing::ShellQuote(self) + " --child " + what + " --seconds " + std::to_string(seconds);
    pipes.push_back(popen(command.c_str(), "r"));
  }
  Rate total;
  for (FILE* pipe : pipes) {
    unsigned long long ops = 0;
    double secs = 0;
    if (pipe == nullptr || std::fscanf(pipe, "%llu %lf", &ops, &secs) != 2) {
      std::cerr << "limits: child " << what << " failed\n";
      std::exit(1);
    }
    pclose(pipe);
    total.operations += ops;
    total.seconds = std::max(total.seconds, secs);
  }
  return total;
}

// ---- Botan issuance pipeline -----------------------------------------------------------

Rate BotanIssue(bool rsa_ca, int threads, double seconds) {
  Botan::AutoSeeded_RNG rng;
  std::unique_ptr<Botan::Private_Key> ca_key;
  if (rsa_ca) {
    ca_key = std::make_unique<Botan::RSA_PrivateKey>(rng, 3072);
  } else {
    ca_key = std::make_unique<Botan::ECDSA_PrivateKey>(rng, Botan::EC_Group("secp256r1"));
  }
  Botan::X509_Cert_Options ca_options("Bench CA/IT/Ministero dell'Interno");
  ca_options.CA_key(0);
  Botan::X509_Certificate ca_cert =
      Botan::X509::create_self_signed_cert(ca_options, *ca_key, "SHA-256", rng);

  // CSRs made up front, as they would arrive from cards: P-256 keys.
  std::vector<std::vector<uint8_t>> csrs;
  for (int i = 0; i < 64; ++i) {
    Botan::ECDSA_PrivateKey key(rng, Botan::EC_Group("secp256r1"));
    Botan::X509_Cert_Options options("RSSMRA80A01H501U/IT/Ministero dell'Interno/Operatori");
    csrs.push_back(Botan::X509::create_cert_req(options, key, "SHA-256", rng).BER_encode());
  }
  std::vector<std::unique_ptr<Botan::X509_CA>> cas;
  std::vector<std::unique_ptr<Botan::AutoSeeded_RNG>> rngs;
  for (int t = 0; t < threads; ++t) {
    rngs.push_back(std::make_unique<Botan::AutoSeeded_RNG>());
    cas.push_back(std::make_unique<Botan::X509_CA>(ca_cert, *ca_key, "SHA-256", *rngs.back()));
  }
  std::vector<size_t> next(threads, 0);
  const auto now = std::chrono::system_clock::now();
  const Botan::X509_Time not_before(now), not_after(now + std::chrono::hours(24 * 365 * 6));
  return MeasureThreads(threads, seconds, [&](int t) {
    Botan::PKCS10_Request request(csrs[next[t]++ % csrs.size()]);
    std::unique_ptr<Botan::Public_Key> subject_key(request.subject_public_key());
    if (!request.check_signature(*subject_key)) std::abort();
    Botan::X509_Certificate cert = cas[t]->sign_request(request, *rngs[t], not_before, not_after);
    std::vector<uint8_t> der = cert.BER_encode();
    if (der.empty()) std::abort();
  });
}

struct Row {
  std::string name;
  std::string unit;
  int parallelism;
  Rate rate;
};

}  // namespace
}  // namespace tessera::bench

int main(int argc, char** argv) {
  using namespace tessera::bench;
  double seconds = 2.0;
  std::string json_path, child;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--seconds" && i + 1 < argc) {
      seconds = std::stod(argv[++i]);
    } else if (arg == "--json" && i + 1 < argc) {
      json_path = argv[++i];
    } else if (arg == "--child" && i + 1 < argc) {
      child = argv[++i];
    } else {
      std::fprintf(stderr, "usage: limits [--seconds S] [--json FILE]\n");
      return 2;
    }
  }
  if (!child.empty()) return RunChild(child, seconds);

  using tessera::hsm::KeyAlgorithm;
  std::vector<Row> rows;
  auto add = [&](std::string name, std::string unit, int parallelism, Rate rate) {
    rows.push_back({std::move(name), std::move(unit), parallelism, rate});
    std::fprintf(stderr, "  measured %-28s x%d: %10.1f /s\n", rows.back().name.c_str(), parallelism,
                 rate.per_second());
  };
  for (int threads : {1, 2}) {
    add("token_sign_p256", "signatures", threads,
        TokenSign(KeyAlgorithm::kEcP256, threads, seconds));
    add("token_sign_rsa2048", "signatures", threads,
        TokenSign(KeyAlgorithm::kRsa2048, threads, seconds));
    add("token_sign_rsa3072", "signatures", threads,
        TokenSign(KeyAlgorithm::kRsa3072, threads, seconds));
  }
  for (int processes : {1, 2}) {
    add("token_keygen_p256", "key pairs", processes,
        MeasureProcesses(argv[0], "keygen-p256", processes, seconds));
    add("token_keygen_rsa2048", "key pairs", processes,
        MeasureProcesses(argv[0], "keygen-rsa2048", processes, seconds));
    add("token_init", "tokens", processes,
        MeasureProcesses(argv[0], "inittoken", processes, seconds));
  }
  for (int threads : {1, 2}) {
    add("botan_issue_p256_ca", "certificates", threads, BotanIssue(false, threads, seconds));
    add("botan_issue_rsa3072_ca", "certificates", threads, BotanIssue(true, threads, seconds));
  }
  for (int clients : {1, 4})
    add("pg_durable_commit", "commits", clients, PgCommits(clients, seconds));

  std::printf("%-26s %-13s %4s %12s %10s\n", "limit", "unit", "par", "per second", "ops");
  nlohmann::json json = nlohmann::json::array();
  for (const Row& row : rows) {
    std::printf("%-26s %-13s %4d %12.1f %10llu\n", row.name.c_str(), row.unit.c_str(),
                row.parallelism, row.rate.per_second(),
                static_cast<unsigned long long>(row.rate.operations));
    json.push_back({{"limit", row.name},
                    {"unit", row.unit},
                    {"parallelism", row.parallelism},
                    {"per_second", row.rate.per_second()},
                    {"operations", row.rate.operations},
                    {"seconds", row.rate.seconds}});
  }
  nlohmann::json report = {
      {"benchmark", "limits"}, {"cores", std::thread::hardware_concurrency()}, {"limits", json}};
  std::printf("%s\n", report.dump(2).c_str());
  if (!json_path.empty()) std::ofstream(json_path) << report.dump(2) << "\n";
  return 0;
}
