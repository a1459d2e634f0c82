// bench/dispatch: the dispatch service's own work, against the physical limits measured in the
// same run.
//   deliveries/s   a prefettura's deliveries of small lots (2 cards: the collector's own, its
//                  halves sealed on SoftHSM and queued; one for a holder), each one transaction
//   registrations/s  each delivered card registered to its holder (halves sealed and queued)
//   mails/s        the outbox sent to a local SMTP server (python3-aiosmtpd) by OutboxSender
// Limits: durable single-row commits per second of the same PostgreSQL cluster (1 and N
// clients), and raw SMTP sends per second to the same server (libcurl, no outbox). The census
// directory and tessera-perso's halves answer from memory here: what is measured is the
// dispatch desk, its store and its sealing, not the registry's or perso's RPCs.
//
//   dispatch [--lots N] [--clients C]   (defaults 300 lots, 2 clients)
#include <chrono>
#include <cstdio>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_format.h"
#include "bench/measure.h"
#include "dispatch/desk.h"
#include "dispatch/pg_lots.h"
#include "hsm/secret_sealer.h"
#include "mail/outbox.h"
#include "mail/smtp.h"
#include "platform/clock.h"
#include "platform/migrations.h"
#include "platform/pg_pool.h"
#include "tests/support/smtp_sink.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_hsm.h"
#include "tests/support/test_pg.h"

namespace tessera::bench {
namespace {

using Steady = std::chrono::steady_clock;
constexpr char kPurpose[] = "tessera dispatch outbox mail v1";

[[noreturn]] void Die(const std::string& what) {
  std::fprintf(stderr, "dispatch: %s\n", what.c_str());
  std::exit(1);
}
template <typename T>
T OrDie(absl::StatusOr<T> value, const std::string& what) {
  if (!value.ok()) Die(what + ": " + value.status().ToString());
  return *std::move(value);
}
void OrDie(const absl::Status& status, const std::string& what) {
  if (!status.ok()) Die(what + ": " + status.ToString());
}

// Every comune's mayor and one operator, by their codice-fiscale-like keys.
class MemoryDirectory final : public dispatch::CensusDirectory {
 public:
  absl::StatusOr<dispatch::CensusEntry> User(const std::string& office,
                                             const std::string& cf) override {
    std::lock_guard lock(mutex_);
    auto it = users_.find(office + "/" + cf);
    if (it == users_.end()) return absl::NotFoundError("no such user");
    return it->second;
  }
  absl::StatusOr<dispatch::OfficeContact> Place(const std::string&) override {
    return dispatch::OfficeContact{"Prefettura di Rieti", "Piazza Cesare Battisti 1, 02100 Rieti",
                                   ""};
  }
  void Add(const std::string& office, const std::string& cf, const std::string& email) {
    users_[office + "/" + cf] = {{cf, "COGNOME", "NOME"}, email, {"x"}};
  }

 private:
  std::mutex mutex_;
  std::map<std::string, dispatch::CensusEntry> users_;
};

class MemoryHalves final : public dispatch::HalvesSource {
 public:
  absl::StatusOr<dispatch::Halves> Release(const std::string&, const std::string&) override {
    return dispatch::Halves{Secret("4821"), Secret("90317744"), Secret("Kq7vHw")};
  }
};

// The i-th comune of the province of Rieti's numbering (057001 …), its lot and its cards.
std::string Istat(int i) { return absl::StrFormat("057%03d", i + 1); }
std::string LotNumber(int i) { return absl::StrFormat("2026%06d", i + 1); }
std::string CardNumber(int i, int k) { return absl::StrFormat("%s%010d", Istat(i), 2 * i + k + 1); }

struct Phase {
  double per_second = 0, p50_ms = 0, p99_ms = 0;
};

// `work(i)` for i in [0, n) on `clients` threads: the rate and the latencies.
template <typename Work>
Phase Run(int n, int clients, Work work) {
  std::vector<double> latencies(static_cast<size_t>(n));
  std::atomic<int> next{0};
  const auto start = Steady::now();
  std::vector<std::thread> threads;
  for (int c = 0; c < clients; ++c) {
    threads.emplace_back([&] {
      for (int i = next++; i < n; i = next++) {
        const auto begin = Steady::now();
        work(i);
        latencies[static_cast<size_t>(i)] =
            std::chrono::duration<double, std::milli>(Steady::now() - begin).count();
      }
    });
  }
  for (std::thread& t : threads) t.join();
  const double seconds = std::chrono::duration<double>(Steady::now() - start).count();
  std::sort(latencies.begin(), latencies.end());
  return {n / seconds, latencies[latencies.size() / 2],
          latencies[std::min(latencies.size() - 1, latencies.size() * 99 / 100)]};
}

}  // namespace
}  // namespace tessera::bench

int main(int argc, char** argv) {
  using namespace tessera;
  using namespace tessera::bench;
  int lots = 300, clients = 2;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string arg = argv[i];
    if (arg == "--lots") {
      lots = std::stoi(argv[i + 1]);
    } else if (arg == "--clients") {
      clients = std::stoi(argv[i + 1]);
    } else {
      Die("unknown option " + arg);
    }
  }
  if (lots < 1 || lots > 999 || clients < 1 || clients > 64) {
    Die("--lots 1 to 999 (comuni of one province), --clients 1 to 64");
  }
  tessera::testing::TestPg& pg = tessera::testing::TestPg::Get();
  const std::string database = pg.CreateDatabase();
  const std::string conninfo = pg.ConnInfo(database);
  pg::ConnectionPool pool(conninfo, static_cast<size_t>(clients) + 2);
  OrDie(pg::MigrateAtStart(pool, dispatch::kPgSchema, dispatch::PgMigrations()), "migrate");
  auto token = tessera::testing::TestSoftHsm::Get().CreateToken(
      tessera::testing::TestSoftHsm::UniqueLabel("bench"));
  hsm::SecretSealer sealer = OrDie(hsm::SecretSealer::Open(token, "outbox-mail", true), "sealer");
  dispatch::PgDispatchStore store(pool);
  MemoryDirectory directory;
  MemoryHalves halves;
  SystemClock clock;
  dispatch::DeliveryDesk desk(
      store, directory, halves,
      [&sealer](const Secret& body) { return sealer.Seal(body, kPurpose); }, clock);

  // `lots` comuni of one province, each with a lot of two cards: its mayor's and an operator's.
  const auto cf = [](char role, int n) {
    char text[17];
    std::snprintf(text, sizeof text, "%cBENCH%010d", role, n);
    return std::string(text);
  };
  for (int i = 0; i < lots; ++i) {
    const std::string office = "comune:" + Istat(i);
    directory.Add(office, cf('M', i), "sindaco." + std::to_string(i) + "@example.it");
    directory.Add(office, cf('O', i), "operatore." + std::to_string(i) + "@example.it");
    dispatch::LotIntake intake{.lot_number = LotNumber(i),
                               .batch_id = 1,
                               .office = Istat(i),
                               .office_name = Istat(i),
                               .prefettura = "RI",
                               .sealed_at = clock.Now()};
    for (int k = 0; k < 2; ++k) {
      intake.cards.push_back({.card_number = CardNumber(i, k),
                              .codice_fiscale = cf(k == 0 ? 'M' : 'O', i),
                              .surname = "COGNOME",
                              .name = "NOME",
                              .subject_dn = "CN=" + cf(k == 0 ? 'M' : 'O', i),
                              .certificate_serial = "ab"});
    }
    OrDie(store.TakeOver(intake, clock.Now(), {}).status(), "take over");
  }
  directory.Add("prefettura:057", "PREFETTURA00000A", "as@example.it");

  const double commits_1 = PgCommits(1, 2.0).per_second();
  const double commits_n = PgCommits(clients, 2.0).per_second();
  const PersonSession prefettura{
      .id = "bench", .person = "PREFETTURA00000A", .office = "prefettura:057", .profiles = {"x"}};
  const Phase deliveries = Run(lots, clients, [&](int i) {
    OrDie(desk.Deliver(prefettura, "workstation:0570000001",
                       {.office = Istat(i),
                        .lot_number = LotNumber(i),
                        .collector_cf = cf('M', i),
                        .request_id = "deliver-" + std::to_string(i)})
              .status(),
          "deliver");
  });
  const Phase registrations = Run(lots, clients, [&](int i) {
    const PersonSession mayor{.id = "bench",
                              .person = cf('M', i),
                              .office = "comune:" + Istat(i),
                              .profiles = {"sindaco_delegato"}};
    OrDie(desk.RegisterCard(mayor, "workstation:bench",
                            {.codice_fiscale = cf('O', i),
                             .card_number = CardNumber(i, 1),
                             .request_id = "register-" + std::to_string(i)})
              .status(),
          "register");
  });

  // The outbox to a local SMTP server: first raw sends (the SMTP limit), then the sender.
  tessera::testing::TempDir dir("tessera-bench-dispatch");
  tessera::testing::SmtpSink sink(dir.File("mail"));
  mail::SmtpTransport transport(
      mail::SmtpSettings{.relay = sink.relay(), .tls = mail::SmtpSettings::Tls::kOff});
  const std::string raw = "From: a@example.it\r\nTo: b@example.it\r\nSubject: x\r\n\r\nbody\r\n";
  const int raw_sends = 200;
  const Phase smtp = Run(raw_sends, clients, [&](int) {
    OrDie(transport.Send("a@example.it", "b@example.it", raw), "smtp");
  });
  mail::PgOutboxStore outbox(pool, dispatch::kPgSchema);
  std::vector<std::unique_ptr<mail::OutboxSender>> senders;
  for (int c = 0; c < clients; ++c) {
    senders.push_back(std::make_unique<mail::OutboxSender>(
        outbox, transport,
        [&sealer](std::span<const uint8_t> sealed) { return sealer.Unseal(sealed, kPurpose); },
        [](const std::string&) { return absl::OkStatus(); }, clock,
        mail::SenderSettings{.from = "anpr-carte@example.it",
                             .from_name = "ANPR",
                             .worker = "bench-" + std::to_string(c)}));
  }
  const int queued = 2 * lots;
  std::atomic<int> sent{0};
  const auto mail_start = Steady::now();
  std::vector<std::thread> threads;
  for (int c = 0; c < clients; ++c) {
    threads.emplace_back([&, c] {
      while (sent < queued) {
        mail::OutboxSender::Round round = OrDie(senders[static_cast<size_t>(c)]->RunOnce(), "send");
        sent += round.sent;
        if (round.sent == 0) std::this_thread::sleep_for(std::chrono::milliseconds(5));
      }
    });
  }
  for (std::thread& t : threads) t.join();
  const double mails_per_second =
      queued / std::chrono::duration<double>(Steady::now() - mail_start).count();

  std::printf("dispatch: %d lots of 2 cards, %d clients (PostgreSQL fsync on, SoftHSM sealing)\n",
              lots, clients);
  std::printf(
      "  limits: %.0f durable commits/s (1 client), %.0f (%d clients); %.0f raw SMTP "
      "sends/s (%d clients)\n",
      commits_1, commits_n, clients, smtp.per_second, clients);
  std::printf("  deliveries:    %7.1f /s  p50 %6.2f ms  p99 %6.2f ms  ratio to commits %.2f\n",
              deliveries.per_second, deliveries.p50_ms, deliveries.p99_ms,
              deliveries.per_second / commits_n);
  std::printf("  registrations: %7.1f /s  p50 %6.2f ms  p99 %6.2f ms  ratio to commits %.2f\n",
              registrations.per_second, registrations.p50_ms, registrations.p99_ms,
              registrations.per_second / commits_n);
  std::printf(
      "  mails sent:    %7.1f /s  (%d, sealed: opened on SoftHSM)  ratio to raw SMTP %.2f, "
      "to commits %.2f\n",
      mails_per_second, queued, mails_per_second / smtp.per_second, mails_per_second / commits_n);
  senders.clear();
  pg.DropDatabase(database);
  return 0;
}
