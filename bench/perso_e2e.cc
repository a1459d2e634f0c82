// bench/perso_e2e: personalization as it runs in production, end to end: tessera-ca,
// tessera-registry and D tessera-perso daemons as processes over mTLS on loopback, one
// PostgreSQL cluster, SoftHSM tokens. A synthetic census of the province of Rieti (bench/
// census_import's generator, enough users per comune for N cards, two workstations each) is
// imported and submitted by the Ministry; a batch of the province runs until no order is left.
// Each daemon is a station with its own SoftHSM token store and card archive, as two machines
// would be, sharing the perso database and the halves' sealing key (a copy of the vault token
// in each store, where production has one network HSM). Cards per second come from the
// batch's results (perso.batch_results.at): over the whole batch, and over its first and last
// 100 cards. Next to them, the raw limit of the same SoftHSM measured in the same run by
// bench/perso --raw-only: token initialization + user PIN + key pair + certificate object,
// one thread, nothing else.
//
//   perso_e2e [--cards N,N...] [--daemons D,D...] [--readers R] [--kills K] [--abandon]
//             [--json FILE]
//
// The longer crash test: --kills K kills a random daemon with SIGKILL every 2 to 6 s and
// starts it again, K times; --abandon kills the last daemon for good once half the cards are
// made: the others take its cards over when its lease (60 s) runs out. Every run then checks
// what the e2e crash test checks: each order produced once (or spoiled by a kill inside
// C_InitToken, at most one per kill), the certificates tessera-ca issued are those on the
// cards plus those withdrawn (at most one per kill or abandoned reader), every produced card's
// token in exactly one lot archive, every card's halves opening.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_split.h"
#include "bench/rates.h"
#include "hsm/secret_sealer.h"
#include "hsm/softhsm_store.h"
#include "personalization/credentials.h"
#include "personalization/pg_card_journal.h"
#include "platform/clock.h"
#include "platform/pg_pool.h"
#include "platform/rpc_client.h"
#include "proto/perso.grpc.pb.h"
#include "proto/registry.grpc.pb.h"
#include "services/registry/census_upload.h"
#include "tests/support/registry_calls.h"
#include "tests/support/run.h"
#include "tests/support/service_process.h"
#include "tests/support/test_ceremony.h"
#include "tests/support/test_hsm.h"
#include "tests/support/test_pg.h"

namespace tessera::bench {
namespace {

namespace fs = std::filesystem;
constexpr int kRietiComuni = 73;  // 057001..057073 in the reference lists
constexpr uint32_t kLeaseSeconds = 60;

// A run that cannot go on: thrown, so that the services it started are stopped on the way out
// (a service left running would keep the parent's pipe open).
[[noreturn]] void Die(const std::string& what) { throw std::runtime_error(what); }

// The text of every row's first column.
std::vector<std::string> Column(pg::ConnectionPool& pool, const std::string& sql) {
  auto conn = pool.Acquire();
  if (!conn.ok()) Die(std::string(conn.status().message()));
  auto r = (*conn)->Exec(sql);
  if (!r.ok()) Die(sql + ": " + std::string(r.status().message()));
  std::vector<std::string> values;
  for (int row = 0; row < r->rows(); ++row) values.emplace_back(r->Text(row, 0));
  return values;
}

// One configuration: the whole system started fresh, a province's batch, the figures and the
// checks as JSON on the last line of stdout.
class System {
 public:
  System(size_t cards, int daemons, int readers)
      : daemons_(daemons),
        readers_(readers),
        ca_("tessera-bench-perso", {{"tessera-ca", {"localhost"}, {"127.0.0.1"}},
                                    {"tessera-registry", {"localhost"}, {"127.0.0.1"}},
                                    {"tessera-perso", {"localhost"}, {"127.0.0.1"}},
                                    {"tessera-cli", {"localhost"}, {}}}) {
    testing::TestPg& pg = testing::TestPg::Get();
    registry_db_ = pg.ConnInfo(pg.CreateDatabase());
    perso_db_ = pg.ConnInfo(pg.CreateDatabase());
    const std::string run = ca_.dir().path().string();
    ca_.hierarchy().WriteRegistryConfig(ca_.dir().File("registry.toml"), registry_db_, run);
    registry_ = std::make_unique<testing::ServiceProcess>(
        "tessera-registry", ca_.dir().File("registry.toml"), ca_.dir().File("registry-port"),
        ca_.dir().File("registry.log"));
    Census((cards + kRietiComuni - 1) / kRietiComuni);
    MakeStations();
  }
  ~System() {
    for (auto& daemon : perso_) {
      if (daemon != nullptr) daemon->Stop();
    }
    registry_->Stop();
  }

  // Runs the province's batch to its end, killing daemons as asked; the figures and checks.
  nlohmann::json Run(int kills, bool abandon);

 private:
  std::shared_ptr<grpc::Channel> ChannelAs(const std::string& service, int port) {
    const testing::TlsIdentity who = ca_.hierarchy().ServiceIdentity(service);
    return MtlsChannel("localhost:" + std::to_string(port),
                       testing::ReadFileOrDie(ca_.hierarchy().Pki("bundle.pem")), who.cert_pem,
                       who.key_pem);
  }
  std::unique_ptr<v1::Personalization::Stub> Perso() {
    for (auto& daemon : perso_) {
      if (daemon != nullptr) {
        return v1::Personalization::NewStub(ChannelAs("tessera-cli", daemon->port()));
      }
    }
    Die("no daemon runs");
  }

  // The Ministry declares Rieti's comuni, imports a census of `users` users per comune, each
  // getting a card, and two workstations (the fewest a comune may have), and submits every
  // comune's: the orders wait.
  void Census(size_t users) {
    const std::string file = ca_.dir().File("census.csv");
    const testing::CommandResult made = testing::RunCommand(
        std::string(TESSERA_BIN_DIR) + "/census_import --province RI --users-per-comune " +
        std::to_string(users) + " --card-holders " + std::to_string(users) +
        " --workstations-per-comune 2 --out " + file);
    if (made.exit_code != 0) Die("census_import: " + made.output);
    auto ministry = v1::Registry::NewStub(ChannelAs("tessera-cli", registry_->port()));
    if (grpc::Status s = testing::LoadReferenceLists(*ministry); !s.ok()) {
      Die("LoadReference: " + s.error_message());
    }
    if (grpc::Status s = testing::DeclareRietiComuni(*ministry, static_cast<int>(users), 2);
        !s.ok()) {
      Die("SetDeclaration: " + s.error_message());
    }
    grpc::ClientContext import;
    v1::ImportCensusResponse imported;
    if (grpc::Status s = registry_service::UploadCensusFile(
            *ministry, import, testing::ReadFileOrDie(file), testing::NewRequestId(), &imported);
        !s.ok()) {
      Die("ImportCensus: " + s.error_message());
    }
    for (int n = 1; n <= kRietiComuni; ++n) {
      char istat[8];
      std::snprintf(istat, sizeof istat, "057%03d", n);
      if (grpc::Status s = testing::SubmitComuneDraft(*ministry, istat);
          !s.ok() && s.error_code() != grpc::StatusCode::NOT_FOUND) {
        Die(std::string("submitting ") + istat + ": " + s.error_message());
      }
    }
  }

  // Each station's SoftHSM store with a copy of the vault token, whose sealing key is made
  // first, here.
  void MakeStations() {
    vault_label_ = testing::TestSoftHsm::UniqueLabel("vault");
    auto vault = testing::TestSoftHsm::Get().CreateToken(vault_label_);
    auto sealer = hsm::SecretSealer::Open(vault, "card-halves", /*create_if_missing=*/true);
    if (!sealer.ok()) Die(std::string(sealer.status().message()));
    sealer_ = std::make_unique<hsm::SecretSealer>(*std::move(sealer));
    for (int k = 1; k <= daemons_; ++k) {
      const std::string dir = ca_.dir().File("station-" + std::to_string(k));
      softhsm_.push_back(testing::TestSoftHsm::Get().StoreWithCopyOf(dir, vault_label_));
      ca_.hierarchy().WritePersoConfig(dir + "/perso.toml",
                                       {.name = "station-" + std::to_string(k),
                                        .readers = readers_,
                                        .conninfo = perso_db_,
                                        .port_file = dir + "/port",
                                        .spool = dir + "/spool",
                                        .archive = dir + "/archive",
                                        .cards_module = testing::TestSoftHsm::Get().module_path(),
                                        .vault_module = testing::TestSoftHsm::Get().module_path(),
                                        .vault_label = vault_label_,
                                        .lease_seconds = kLeaseSeconds},
                                       ca_.dir().path().string(), ca_.server().port(),
                                       registry_->port());
      perso_.emplace_back();
      starts_.push_back(0);
      Start(k - 1);
    }
  }

  // Station `k` (0-based) started (again), its SoftHSM store in its environment.
  void Start(int k) {
    const std::string dir = ca_.dir().File("station-" + std::to_string(k + 1));
    perso_[static_cast<size_t>(k)] = std::make_unique<testing::ServiceProcess>(
        "tessera-perso", dir + "/perso.toml", dir + "/port",
        dir + "/perso-" + std::to_string(starts_[static_cast<size_t>(k)]++) + ".log",
        std::map<std::string, std::string>{{"SOFTHSM2_CONF", softhsm_[static_cast<size_t>(k)]},
                                           {"TESSERA_VAULT_PIN", testing::kTestUserPin}});
  }
  void Kill(int k) {
    auto& daemon = perso_[static_cast<size_t>(k)];
    if (kill(daemon->pid(), SIGKILL) != 0) Die("kill failed");
    daemon->Stop();  // reaps it
    daemon.reset();
  }

  v1::Batch Get(int64_t id) {
    grpc::ClientContext context;
    v1::GetBatchRequest request;
    request.set_id(id);
    v1::Batch batch;
    if (grpc::Status s = Perso()->GetBatch(&context, request, &batch); !s.ok()) {
      Die("GetBatch: " + s.error_message());
    }
    return batch;
  }

  nlohmann::json Check(const v1::Batch& last, int kills, int abandoned_readers);

  const int daemons_, readers_;
  testing::RunningCa ca_;
  std::string registry_db_, perso_db_, vault_label_;
  std::unique_ptr<testing::ServiceProcess> registry_;
  std::vector<std::unique_ptr<testing::ServiceProcess>> perso_;
  std::vector<int> starts_;           // per station, how many times it was started
  std::vector<std::string> softhsm_;  // per station, its SoftHSM configuration
  std::unique_ptr<hsm::SecretSealer> sealer_;
};

nlohmann::json System::Run(int kills, bool abandon) {
  auto perso = Perso();
  v1::CreateBatchRequest create;
  create.set_name("bench");
  create.mutable_reach()->set_province_sigla("RI");
  create.set_request_id(testing::NewRequestId());
  v1::Batch batch;
  {
    grpc::ClientContext context;
    if (grpc::Status s = perso->CreateBatch(&context, create, &batch); !s.ok()) {
      Die("CreateBatch: " + s.error_message());
    }
  }
  v1::BatchChange run;
  run.set_id(batch.id());
  run.set_request_id(testing::NewRequestId());
  const auto started = std::chrono::system_clock::now();
  {
    grpc::ClientContext context;
    if (grpc::Status s = perso->RunBatch(&context, run, &batch); !s.ok()) {
      Die("RunBatch: " + s.error_message());
    }
  }

  std::mt19937 random(static_cast<unsigned>(getpid()));
  std::uniform_int_distribution<int> pause_ms(2000, 6000);
  std::uniform_int_distribution<int> which(0, daemons_ - 1);
  int killed = 0;
  int abandoned_readers = 0;
  auto next_kill = std::chrono::steady_clock::now() + std::chrono::milliseconds(pause_ms(random));
  pg::ConnectionPool pool(perso_db_, 1), registry(registry_db_, 1);
  const uint64_t ordered =
      std::stoul(Column(registry, "SELECT count(*) FROM registry.card_orders")[0]);
  v1::Batch now = Get(batch.id());
  for (; now.state() != v1::BATCH_FINISHED; now = Get(batch.id())) {
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    if (abandon && daemons_ > 1 && abandoned_readers == 0 && now.cards_produced() * 2 >= ordered) {
      Kill(daemons_ - 1);  // for good
      abandoned_readers = readers_;
      std::fprintf(stderr, "station-%d killed for good at %lu cards\n", daemons_,
                   static_cast<unsigned long>(now.cards_produced()));
    }
    if (killed < kills && std::chrono::steady_clock::now() >= next_kill) {
      int k = which(random);
      if (perso_[static_cast<size_t>(k)] == nullptr) k = 0;
      Kill(k);
      Start(k);
      ++killed;
      next_kill = std::chrono::steady_clock::now() + std::chrono::milliseconds(pause_ms(random));
    }
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::system_clock::now() - started).count();

  // Each card's end, from the start of the run (bench/rates.h).
  std::vector<double> done;
  const double start_epoch = std::chrono::duration<double>(started.time_since_epoch()).count();
  for (const std::string& at :
       Column(pool,
              "SELECT extract(epoch FROM at)::text FROM perso.batch_results WHERE card AND "
              "certificate_serial IS NOT NULL ORDER BY at")) {
    done.push_back(std::stod(at) - start_epoch);
  }
  nlohmann::json figures = {{"daemons", daemons_},
                            {"readers", readers_},
                            {"cards", done.size()},
                            {"workstations", now.workstations_produced()},
                            {"seconds", seconds},
                            {"kills", killed},
                            {"abandoned_readers", abandoned_readers}};
  const Rates rates = RatesOf(done);
  if (!done.empty()) figures["overall"] = rates.overall;
  if (!rates.tenths.empty()) {
    figures["first"] = rates.first;
    figures["last"] = rates.last;
    figures["tenths"] = rates.tenths;
  }
  figures["checks"] = Check(now, killed, abandoned_readers);
  return figures;
}

// What the e2e crash test checks, at this scale; each failed check is named in "failures".
nlohmann::json System::Check(const v1::Batch& last, int kills, int abandoned_readers) {
  std::vector<std::string> failures;
  auto expect = [&failures](bool ok, const std::string& what) {
    if (!ok) failures.push_back(what);
  };
  pg::ConnectionPool registry(registry_db_, 1), perso(perso_db_, 1), ca(ca_.conninfo(), 1);
  const std::vector<std::string> spoiled =
      Column(registry,
             "SELECT card_number || ': ' || failure FROM registry.card_orders WHERE state = "
             "'FALLITA' ORDER BY 1");
  for (const std::string& failure : spoiled) {
    expect(failure.find("exists and is not this card's") != std::string::npos,
           "failed for another reason: " + failure);
  }
  expect(spoiled.size() <= static_cast<size_t>(kills), "more spoiled cards than kills");
  expect(last.workstations_failed() == 0, "a workstation order failed");
  expect(Column(registry,
                "SELECT count(*) FROM registry.card_orders WHERE state NOT IN ('PRODOTTA', "
                "'FALLITA')")[0] == "0",
         "card orders left unproduced");
  expect(Column(registry,
                "SELECT count(*) FROM registry.workstation_orders WHERE state <> 'PRODOTTA'")[0] ==
             "0",
         "workstation orders left unproduced");
  // Every certificate issued is on its card or withdrawn; no serial twice.
  const std::vector<std::string> on_cards = Column(
      registry,
      "SELECT certificate_serial FROM registry.card_orders WHERE state = 'PRODOTTA' ORDER BY 1");
  const std::vector<std::string> issued =
      Column(ca,
             "SELECT serial FROM ca.certificates WHERE profile = 'operator' AND revoked_at IS NULL "
             "ORDER BY 1");
  expect(on_cards == issued, "the certificates on cards are not those tessera-ca issued");
  expect(std::set<std::string>(on_cards.begin(), on_cards.end()).size() == on_cards.size(),
         "a serial on two cards");
  const int withdrawn = std::stoi(Column(
      ca,
      "SELECT count(*) FROM ca.certificates WHERE profile = 'operator' AND revoked_at IS NOT "
      "NULL")[0]);
  expect(withdrawn <= kills + abandoned_readers, "more certificates withdrawn than interruptions");

  // Each produced card's token in exactly one lot archive of one station (within a sweep of
  // the shelves: LotDesk::kShelfSweep), or on the shelf of the station abandoned (dead, it
  // moves nothing: its cards wait there until it starts again).
  const std::vector<std::string> produced = Column(
      registry, "SELECT card_number FROM registry.card_orders WHERE state = 'PRODOTTA' ORDER BY 1");
  std::map<std::string, int> archived;
  for (int wait = 0; wait < 90; ++wait) {
    archived.clear();
    for (int k = 1; k <= daemons_; ++k) {
      const fs::path archive = ca_.dir().File("station-" + std::to_string(k) + "/archive");
      std::error_code error;
      const bool abandoned = perso_[static_cast<size_t>(k - 1)] == nullptr;
      for (const auto& lot : fs::directory_iterator(archive, error)) {
        if (!lot.is_directory() || (lot.path().filename() == "produced" && !abandoned)) continue;
        for (const auto& card : fs::directory_iterator(lot.path())) {
          ++archived[card.path().filename().string()];
        }
      }
    }
    if (archived.size() >= produced.size()) break;
    std::this_thread::sleep_for(std::chrono::seconds(1));
  }
  size_t not_archived = 0, twice = 0;
  for (const std::string& card : produced) {
    if (!archived.contains(card)) ++not_archived;
    if (archived[card] > 1) ++twice;
  }
  expect(not_archived == 0, std::to_string(not_archived) + " produced cards in no lot archive");
  expect(twice == 0, std::to_string(twice) + " cards in two lot archives");

  // Every produced card's halves sealed once and opening.
  SystemClock clock;
  personalization::PgCardJournal journal(perso, clock);
  size_t unopened = 0;
  for (const std::string& number : produced) {
    auto record = journal.Load(number);
    if (!record.ok() || !record->has_value() ||
        (*record)->done != personalization::CardStep::kProved ||
        !personalization::OpenCredentials(*sealer_, number, (*record)->envelope, (*record)->mail)
             .ok()) {
      ++unopened;
    }
  }
  expect(unopened == 0, std::to_string(unopened) + " produced cards unproved or not opening");

  // A sample read back by pkcs11-tool from its lot's archive: one key pair, one certificate.
  // (Left to the e2e crash test: here the token count is the point.)
  return {{"spoiled", spoiled.size()},
          {"withdrawn", withdrawn},
          // cards started again on a new token (their first was spoiled, or in another station)
          {"restarted",
           std::stoi(Column(perso, "SELECT count(*) FROM perso.cards WHERE attempt > 0")[0])},
          {"archived", archived.size()},
          {"failures", failures}};
}

std::vector<size_t> Numbers(const std::string& list) {
  std::vector<size_t> values;
  for (absl::string_view part : absl::StrSplit(list, ',')) {
    values.push_back(std::stoul(std::string(part)));
  }
  return values;
}

int Main(int argc, char** argv) {
  std::string cards_list = "1000,10000", daemons_list = "1,2", json_path;
  int readers = 2, kills = 0;
  bool abandon = false, one = false;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--cards" && i + 1 < argc) {
      cards_list = argv[++i];
    } else if (arg == "--daemons" && i + 1 < argc) {
      daemons_list = argv[++i];
    } else if (arg == "--readers" && i + 1 < argc) {
      readers = std::stoi(argv[++i]);
    } else if (arg == "--kills" && i + 1 < argc) {
      kills = std::stoi(argv[++i]);
    } else if (arg == "--abandon") {
      abandon = true;
    } else if (arg == "--json" && i + 1 < argc) {
      json_path = argv[++i];
    } else if (arg == "--one") {
      one = true;
    } else {
      std::fprintf(stderr,
                   "usage: perso_e2e [--cards N,N...] [--daemons D,D...] [--readers R] "
                   "[--kills K] [--abandon] [--json FILE]\n");
      return 2;
    }
  }
  if (one) {
    try {
      System system(Numbers(cards_list).at(0), static_cast<int>(Numbers(daemons_list).at(0)),
                    readers);
      std::printf("%s\n", system.Run(kills, abandon).dump().c_str());
      return 0;
    } catch (const std::exception& e) {
      std::fprintf(stderr, "perso_e2e: %s\n", e.what());
      return 1;
    }
  }

  // Each configuration in a child process: a fresh PostgreSQL cluster, services and stores.
  const std::string self = fs::read_symlink("/proc/self/exe").string();
  auto child = [](const std::string& command) -> nlohmann::json {
    const testing::CommandResult ran = testing::RunCommand(command + " 2>&1");
    // The last line that is a JSON object.
    size_t brace = ran.output.rfind("\n{");
    brace = brace != std::string::npos ? brace + 1 : (ran.output.starts_with("{") ? 0 : brace);
    if (ran.exit_code != 0 || brace == std::string::npos) {
      std::fprintf(stderr, "perso_e2e: %s:\n%s\n", command.c_str(), ran.output.c_str());
      std::exit(1);
    }
    return nlohmann::json::parse(ran.output.substr(brace));
  };
  nlohmann::json results = nlohmann::json::array();
  bool all_checks_pass = true;
  for (size_t cards : Numbers(cards_list)) {
    const nlohmann::json raw =
        child(std::string(TESSERA_BIN_DIR) + "/perso --raw-only --cards " + std::to_string(cards));
    std::printf("\n~%zu cards of Rieti, SoftHSM, EC P-256, %d readers per daemon%s%s\n", cards,
                readers, kills > 0 ? (", " + std::to_string(kills) + " kills").c_str() : "",
                abandon ? ", one daemon abandoned" : "");
    std::printf("%-30s %8s %10s %12s %12s %8s %8s\n", "", "cards", "cards/s", "first 100/s",
                "last 100/s", "of raw", "checks");
    std::printf("%-30s %8zu %10.1f %12.1f %12.1f %8s\n", "raw token limit (1 thread)", cards,
                raw.value("overall", 0.0), raw.value("first", 0.0), raw.value("last", 0.0), "1.00");
    std::fflush(stdout);
    for (size_t daemons : Numbers(daemons_list)) {
      nlohmann::json run =
          child(self + " --one --cards " + std::to_string(cards) + " --daemons " +
                std::to_string(daemons) + " --readers " + std::to_string(readers) + " --kills " +
                std::to_string(kills) + (abandon ? " --abandon" : ""));
      const bool pass = run["checks"]["failures"].empty();
      all_checks_pass = all_checks_pass && pass;
      run["raw"] = raw;
      run["ratio_to_raw"] = run.value("overall", 0.0) / raw.value("overall", 1.0);
      std::printf("%-30s %8zu %10.1f %12.1f %12.1f %8.2f %8s\n",
                  (std::to_string(daemons) + " daemon(s), whole chain").c_str(),
                  run.value("cards", size_t{0}), run.value("overall", 0.0), run.value("first", 0.0),
                  run.value("last", 0.0), run.value("ratio_to_raw", 0.0), pass ? "pass" : "FAIL");
      if (!pass) {
        for (const auto& failure : run["checks"]["failures"]) {
          std::printf("    %s\n", failure.get<std::string>().c_str());
        }
      }
      std::fflush(stdout);
      results.push_back(run);
    }
  }
  if (!json_path.empty()) {
    if (std::FILE* f = std::fopen(json_path.c_str(), "w"); f != nullptr) {
      std::fputs(results.dump(2).c_str(), f);
      std::fclose(f);
    }
  }
  return all_checks_pass ? 0 : 1;
}

}  // namespace
}  // namespace tessera::bench

int main(int argc, char** argv) { return tessera::bench::Main(argc, argv); }
