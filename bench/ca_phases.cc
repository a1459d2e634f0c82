// bench/ca_phases: where the time of one issuance goes, in-process (no gRPC): the phases of
// CertificateAuthority::Issue against real PostgreSQL and a SoftHSM CA made by the ceremony,
// one at a time (mean microseconds per certificate), then Issue's throughput with 1, 2 and 4
// threads. The store's calls are timed through a decorator; the crypto steps are timed
// directly on the same CSRs; PostgreSQL's pg_stat_wal gives the WAL written per certificate.
//
//   ca_phases [--count N] [--rsa]   (--rsa: the CAs' keys are RSA-3072 instead of P-256)
#include <botan/auto_rng.h>
#include <botan/ecdsa.h>
#include <botan/x509self.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "ca/authority.h"
#include "ca/csr.h"
#include "platform/migrations.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_ceremony.h"
#include "tests/support/test_pg.h"

namespace tessera::bench {
namespace {

using Clock = std::chrono::steady_clock;

// Mean microseconds per named phase.
class Phases {
 public:
  void Add(const std::string& name, Clock::duration spent) {
    std::lock_guard lock(mutex_);
    auto& [total, count] = phases_[name];
    total += std::chrono::duration<double, std::micro>(spent).count();
    ++count;
  }
  void Print() const {
    for (const auto& [name, phase] : phases_) {
      std::printf("  %-34s %9.1f us\n", name.c_str(), phase.first / phase.second);
    }
  }

 private:
  mutable std::mutex mutex_;
  std::map<std::string, std::pair<double, int>> phases_;
};

// Times `work` into `phases` under `name`; returns what work returned.
template <typename F>
auto Timed(Phases& phases, const std::string& name, F&& work) {
  const auto start = Clock::now();
  auto result = work();
  phases.Add(name, Clock::now() - start);
  return result;
}

// The PostgreSQL store, each call timed.
class TimedStore final : public ca::CertificateStore {
 public:
  TimedStore(ca::CertificateStore& inner, Phases& phases) : inner_(inner), phases_(phases) {}
  std::vector<absl::Status> RecordIntents(std::span<const ca::CertificateRecord> r) override {
    return Timed(phases_, "store: record intent (commit)", [&] { return inner_.RecordIntents(r); });
  }
  std::vector<absl::StatusOr<bool>> StoreSigned(std::span<const ca::SignedCertificate> c) override {
    return Timed(phases_, "store: store certificate (commit)",
                 [&] { return inner_.StoreSigned(c); });
  }
  absl::StatusOr<std::optional<ca::CertificateRecord>> FindByRequestId(
      const std::string& id) override {
    return Timed(phases_, "store: find by request_id", [&] { return inner_.FindByRequestId(id); });
  }
  absl::StatusOr<bool> RecordIssued(const ca::CertificateRecord& r) override {
    return inner_.RecordIssued(r);
  }
  absl::StatusOr<ca::CertificateRecord> Get(const std::string& serial) override {
    return inner_.Get(serial);
  }
  absl::StatusOr<ca::CertificateRecord> CompleteIssuance(const std::string& serial,
                                                         const ca::SignFunction& sign) override {
    return Timed(phases_, "store: complete a left intent (lock, sign, commit)", [&] {
      return inner_.CompleteIssuance(serial, [&](const ca::CertificateRecord& record) {
        return Timed(phases_, "  of which: sign on the token", [&] { return sign(record); });
      });
    });
  }
  absl::StatusOr<std::vector<ca::CertificateRecord>> List(const ca::CertificateFilter& f) override {
    return inner_.List(f);
  }
  absl::StatusOr<ca::CertificateRecord> Revoke(const std::string& request_id,
                                               const std::string& serial, int reason,
                                               std::chrono::system_clock::time_point when,
                                               const Actor& actor) override {
    return inner_.Revoke(request_id, serial, reason, when, actor);
  }

 private:
  ca::CertificateStore& inner_;
  Phases& phases_;
};

std::vector<std::vector<uint8_t>> MakeCsrs(int count) {
  Botan::AutoSeeded_RNG rng;
  std::vector<std::vector<uint8_t>> csrs;
  for (int i = 0; i < count; ++i) {
    Botan::ECDSA_PrivateKey key(rng, Botan::EC_Group("secp256r1"));
    csrs.push_back(Botan::X509::create_cert_req(Botan::X509_Cert_Options("RSSMRA85T10A562S"), key,
                                                "SHA-256", rng)
                       .BER_encode());
  }
  return csrs;
}

// The cluster's WAL counters (pg_stat_wal; the benchmark's database is the only busy one).
struct WalCounters {
  double bytes = 0, records = 0, full_page_images = 0, syncs = 0;
};

WalCounters ReadWal(tessera::pg::ConnectionPool& pool) {
  auto conn = pool.Acquire();
  if (!conn.ok()) return {};
  auto row = (*conn)->Exec("SELECT wal_bytes, wal_records, wal_fpi, wal_sync FROM pg_stat_wal");
  if (!row.ok() || row->rows() != 1) return {};
  return {std::stod(std::string(row->Text(0, 0))), std::stod(std::string(row->Text(0, 1))),
          std::stod(std::string(row->Text(0, 2))), std::stod(std::string(row->Text(0, 3)))};
}

int Fail(const absl::Status& status) {
  std::fprintf(stderr, "ca_phases: %s\n", std::string(status.message()).c_str());
  return 1;
}

ca::IssueRequest OperatorRequest(const std::string& id, const std::vector<uint8_t>& csr) {
  return {id, "operator", csr, {.codice_fiscale = "RSSMRA85T10A562S"}};
}

}  // namespace
}  // namespace tessera::bench

int main(int argc, char** argv) {
  using namespace tessera::bench;
  namespace ca = tessera::ca;
  int count = 400;
  tessera::hsm::KeyAlgorithm algorithm = tessera::hsm::KeyAlgorithm::kEcP256;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--count" && i + 1 < argc) {
      count = std::stoi(argv[++i]);
    } else if (arg == "--rsa") {
      algorithm = tessera::hsm::KeyAlgorithm::kRsa3072;
    } else {
      std::fprintf(stderr, "usage: ca_phases [--count N] [--rsa]\n");
      return 2;
    }
  }
  tessera::testing::TempDir dir("tessera-bench-phases");
  tessera::testing::TestHierarchy pki(dir.path().string(), {}, "http://ca.tessera.test", algorithm);
  auto profiles = ca::ProfileSet::LoadFile(pki.config().profiles_path);
  auto& pg = tessera::testing::TestPg::Get();
  tessera::pg::ConnectionPool pool(pg.ConnInfo(pg.CreateDatabase()), 8);
  {
    auto conn = pool.Acquire();
    if (!profiles.ok() || !conn.ok() ||
        !tessera::pg::ApplyMigrations(**conn, ca::PgCertificateStore::kSchema,
                                      ca::PgCertificateStore::Migrations())
             .ok()) {
      std::fprintf(stderr, "ca_phases: setup failed\n");
      return 1;
    }
  }
  ca::PgCertificateStore store(pool);
  Phases phases;
  TimedStore timed_store(store, phases);
  tessera::SystemClock clock;
  ca::CertificateAuthority authority(timed_store, *profiles, pki.LoadIssuers(), clock);
  const ca::Issuer& issuer = *authority.issuers().at("operators");
  const ca::Profile& profile = **profiles->Find("operator");

  // One issuance at a time: the crypto steps on their own, then Issue with its store calls.
  const auto csrs = MakeCsrs(count);
  Botan::AutoSeeded_RNG rng;
  for (int i = 0; i < count; ++i) {
    auto key = Timed(phases, "csr check (parse, verify)", [&] { return ca::CheckCsr(csrs[i]); });
    if (!key.ok()) return Fail(key.status());
    auto plan = Timed(phases, "plan", [&] {
      return ca::PlanCertificate(profile, {.codice_fiscale = "RSSMRA85T10A562S"}, **key,
                                 issuer.context(), ca::RandomSerial(rng),
                                 std::chrono::system_clock::now());
    });
    if (!plan.ok()) return Fail(plan.status());
    auto linted =
        Timed(phases, "lint (unsigned draft)", [&] { return issuer.Check(std::move(*plan)); });
    if (!linted.ok()) return Fail(linted.status());
    auto signed_cert = Timed(phases, "sign on the token", [&] { return issuer.Sign(*linted); });
    if (!signed_cert.ok()) return Fail(signed_cert.status());
  }
  const WalCounters wal_before = ReadWal(pool);
  for (int i = 0; i < count; ++i) {
    auto issued = Timed(phases, "Issue: whole", [&] {
      return authority.Issue(OperatorRequest("one-" + std::to_string(i), csrs[i]),
                             tessera::SystemActor("ca_phases"));
    });
    if (!issued.ok()) return Fail(issued.status());
  }
  const WalCounters wal_after = ReadWal(pool);
  std::printf("one issuance at a time, mean per certificate (%d certificates):\n", count);
  phases.Print();
  std::printf(
      "  WAL per certificate: %.0f bytes, %.1f records, %.1f full-page images, %.2f syncs\n",
      (wal_after.bytes - wal_before.bytes) / count,
      (wal_after.records - wal_before.records) / count,
      (wal_after.full_page_images - wal_before.full_page_images) / count,
      (wal_after.syncs - wal_before.syncs) / count);

  std::printf("Issue throughput, in-process:\n");
  for (int threads : {1, 2, 4}) {
    const auto batch = MakeCsrs(count);
    std::atomic<int> next{0};
    std::atomic<int> failures{0};
    const auto start = Clock::now();
    std::vector<std::thread> workers;
    for (int t = 0; t < threads; ++t) {
      workers.emplace_back([&] {
        for (int i; (i = next++) < count;) {
          const std::string id = "t" + std::to_string(threads) + "-" + std::to_string(i);
          if (!authority.Issue(OperatorRequest(id, batch[i]), tessera::SystemActor("ca_phases"))
                   .ok())
            ++failures;
        }
      });
    }
    for (std::thread& w : workers) w.join();
    const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
    std::printf("  %d threads: %8.1f certificates/s%s\n", threads, count / seconds,
                failures > 0 ? " (with failures!)" : "");
  }
  return 0;
}
