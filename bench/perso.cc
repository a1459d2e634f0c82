// bench/perso: cards made per second by the card maker (personalization/card_maker.h) on
// SoftHSM, with 1..R reader threads, next to the raw limit of the same SoftHSM measured in the
// same run: token initialization + user PIN + an EC P-256 key pair generated on the token + a
// certificate object written, nothing else (a child process with its own token directory, so
// that the two runs start from the same empty store). The card maker adds the credentials and
// their six sealings (AES-GCM on a vault token), the PKCS#10 signed on the card, a software CA's
// signature, the certificate check and the proof (a signature on the card verified). The
// journal is in memory and the CA in software: PostgreSQL and tessera-ca are not in this
// figure (bench/ca_issue measures tessera-ca). Rates are also given per window of 100 cards,
// first and last, to show how the store's growing token count slows both down.
//
//   perso [--cards N] [--readers R] [--line-readers L] [--line-cards C] [--apdu-ms MS|LO..HI]
//         [--keygen-ms MS|LO..HI] [--profiles] [--json FILE]
//
// Then a card line on the virtual reader module (vreader/): one reader's rate with the given
// card latencies is the physical limit per reader, and L readers (default 16) are measured
// against L times it, with none and with one reader failing every card. --profiles adds the
// module's real-card profiles at their own latencies (APDU 30-40 ms; P-256 key 30-200 ms,
// RSA-2048 key 2-5 s with a 2 % tail to 17 s; flaky: the P-256 card with 2 % of calls failing
// and 0.5 % removing the card), L readers against L times one reader of the same profile (of
// the P-256 profile for the flaky one: what the failures cost).
#include <botan/x509self.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "absl/strings/str_format.h"
#include "bench/rates.h"
#include "hsm/secret_sealer.h"
#include "hsm/softhsm_store.h"
#include "hsm/token.h"
#include "personalization/card_maker.h"
#include "personalization/station.h"
#include "platform/random.h"
#include "tests/support/card_fakes.h"
#include "tests/support/run.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_hsm.h"

namespace tessera::bench {
namespace {

using Clock = std::chrono::steady_clock;

// Cards per second (bench/rates.h) from each card's completion time after `start`.
Rates RatesSince(const std::vector<Clock::time_point>& done, Clock::time_point start) {
  std::vector<double> seconds;
  seconds.reserve(done.size());
  for (Clock::time_point t : done)
    seconds.push_back(std::chrono::duration<double>(t - start).count());
  return RatesOf(std::move(seconds));
}

std::string CardNumber(size_t i) { return absl::StrFormat("057001%010d", i + 1); }

// The raw limit: what a card needs of the token and nothing more, one thread.
Rates RawLimit(size_t cards) {
  auto module = testing::TestSoftHsm::Get().module();
  // A certificate-shaped object to write (the bytes do not matter to the token).
  Botan::ECDSA_PrivateKey key(ThreadRng(), Botan::EC_Group("secp256r1"));
  Botan::X509_Cert_Options options("raw/IT");
  const std::vector<uint8_t> der =
      Botan::X509::create_self_signed_cert(options, key, "SHA-256", ThreadRng()).BER_encode();
  const Secret so("87654321"), pin("12345678");
  const absl::StatusOr<std::string> token_directory = hsm::SoftHsmTokenDirectory();
  testing::TempDir shelf("tessera-shelf");
  std::vector<Clock::time_point> done;
  const Clock::time_point start = Clock::now();
  for (size_t i = 0; i < cards; ++i) {
    const std::string label = CardNumber(i);
    auto token = module->InitToken(label, so, pin);
    auto logged_in = hsm::Token::Login(module, label, pin);
    if (!token.ok() || !logged_in.ok()) {
      std::fprintf(stderr, "raw: %s\n", std::string(logged_in.status().message()).c_str());
      std::exit(1);
    }
    auto lease = (*logged_in)->Acquire();
    auto pair = (*lease)->GenerateKeyPair(
        {.algorithm = hsm::KeyAlgorithm::kEcP256, .id = {0x01}, .label = label});
    auto written = (*lease)->WriteCertificate(std::vector<uint8_t>{0x01}, label, der);
    if (!pair.ok() || !written.ok()) {
      std::fprintf(stderr, "raw: key or certificate failed\n");
      std::exit(1);
    }
    lease = absl::InternalError("released");
    logged_in->reset();
    // Out of the live store, as the daemon shelves a produced card.
    if (!token_directory.ok() ||
        !hsm::MoveSoftHsmToken(*token_directory, token->serial, shelf.File("produced"), label)
             .ok()) {
      std::fprintf(stderr, "raw: token not moved out\n");
      std::exit(1);
    }
    module->Retire(token->slot);
    done.push_back(Clock::now());
  }
  return RatesSince(done, start);
}

// The journal and the CA of the tests, shared by reader threads.
class LockedJournal final : public personalization::CardJournal {
 public:
  absl::StatusOr<std::optional<personalization::CardRecord>> Load(const std::string& n) override {
    std::lock_guard lock(mutex_);
    return journal_.Load(n);
  }
  absl::Status Save(const personalization::CardRecord& record) override {
    std::lock_guard lock(mutex_);
    return journal_.Save(record);
  }

 private:
  std::mutex mutex_;
  testing::MemoryCardJournal journal_;
};
class LockedCa final : public personalization::CardCertifier {
 public:
  absl::StatusOr<std::vector<uint8_t>> Certify(const personalization::CardToMake& card,
                                               std::span<const uint8_t> request,
                                               int attempt) override {
    std::lock_guard lock(mutex_);
    return ca_.Certify(card, request, attempt);
  }
  absl::Status Withdraw(const personalization::CardToMake& card,
                        std::span<const uint8_t> certificate) override {
    std::lock_guard lock(mutex_);
    return ca_.Withdraw(card, certificate);
  }

 private:
  std::mutex mutex_;
  testing::SoftwareCardCa ca_;
};

Rates CardMaker(size_t cards, int readers, size_t first_card) {
  auto vault = testing::TestSoftHsm::Get().CreateToken("vault");
  auto sealer = hsm::SecretSealer::Open(vault, "card-halves", true);
  if (!sealer.ok()) std::exit(1);
  LockedJournal journal;
  LockedCa ca;
  personalization::CardMaker maker(testing::TestSoftHsm::Get().module(), *sealer, journal, ca);
  testing::TempDir archive("tessera-archive");
  auto shelf = personalization::ProducedCardShelf::Open(testing::TestSoftHsm::Get().module(),
                                                        archive.path().string());
  if (!shelf.ok()) std::exit(1);
  maker.ShelveProducedCards(*std::move(shelf));
  std::atomic<size_t> next{0};
  std::mutex mutex;
  std::vector<Clock::time_point> done;
  const Clock::time_point start = Clock::now();
  std::vector<std::thread> threads;
  for (int r = 0; r < readers; ++r) {
    threads.emplace_back([&] {
      for (size_t i; (i = next++) < cards;) {
        const personalization::CardToMake card{CardNumber(first_card + i), "RSSMRA85T10H501O",
                                               "Rossi", "Mario"};
        auto made = maker.Make(card);
        if (!made.ok() || !maker.Release(card, {}, true).ok()) {
          std::fprintf(stderr, "card: %s\n", std::string(made.status().message()).c_str());
          std::exit(1);
        }
        std::lock_guard lock(mutex);
        done.push_back(Clock::now());
      }
    });
  }
  for (std::thread& t : threads) t.join();
  return RatesSince(done, start);
}

// A card line: `readers` virtual readers (the vreader module, profile p256 with the given
// latencies), reader n bound to slot n as the daemon binds them (cards.reader_slots), each card
// made in its reader, let go of, and the next blank card awaited. `failing` readers fail every
// card call (a broken reader): their card is retried every 2 s, as the daemon's retry_wait
// does, while the others work; the run ends when the working readers have made `cards`.
struct LineRun {
  Rates rates;
  size_t produced = 0;
  size_t failed_attempts = 0;
};
LineRun CardLine(size_t cards, int readers, int failing, const std::string& profile,
                 const std::string& apdu_ms, const std::string& keygen_ms) {
  testing::TempDir line("tessera-card-line");
  std::string failing_slots;
  for (int f = 0; f < failing; ++f) {
    failing_slots += (f > 0 ? "," : "") + std::to_string(readers - 1 - f);
  }
  // (latencies left empty: the profile's)
  testing::WriteFile(line.File("vreader.conf"),
                     "slots = " + std::to_string(readers) + "\nstate_dir = " + line.File("cards") +
                         "\nprofile = " + profile +
                         (apdu_ms.empty() ? "" : "\napdu_ms = " + apdu_ms) +
                         (keygen_ms.empty() ? "" : "\nkeygen_ms = " + keygen_ms) +
                         (failing > 0 ? "\nfailing_slots = " + failing_slots : "") + "\n");
  setenv("TESSERA_VREADER_CONF", line.File("vreader.conf").c_str(), 1);
  auto module = hsm::Module::Load(TESSERA_VREADER_PATH);
  if (!module.ok()) {
    std::fprintf(stderr, "vreader: %s\n", std::string(module.status().message()).c_str());
    std::exit(1);
  }
  auto vault = testing::TestSoftHsm::Get().CreateToken("vault");
  auto sealer = hsm::SecretSealer::Open(vault, "card-halves", true);
  if (!sealer.ok()) std::exit(1);
  LockedJournal journal;
  LockedCa ca;
  personalization::CardMaker maker(
      *module, *sealer, journal, ca,
      profile == "rsa" ? hsm::KeyAlgorithm::kRsa2048 : hsm::KeyAlgorithm::kEcP256);
  auto slots = (*module)->AllSlots();
  if (!slots.ok() || slots->size() < static_cast<size_t>(readers)) std::exit(1);

  std::atomic<size_t> next{0}, produced{0}, failed_attempts{0};
  std::atomic<bool> over{false};
  std::mutex mutex;
  std::vector<Clock::time_point> done;
  const Clock::time_point start = Clock::now();
  std::vector<std::thread> threads;
  for (int r = 0; r < readers; ++r) {
    const CK_SLOT_ID slot = (*slots)[static_cast<size_t>(r)];
    threads.emplace_back([&, slot] {
      for (size_t i = next++; !over;) {
        while (!maker.HasCard(slot) && !over) {
          std::this_thread::sleep_for(std::chrono::milliseconds(2));
        }
        if (over) return;
        const personalization::CardToMake card{CardNumber(i), "RSSMRA85T10H501O", "Rossi", "Mario"};
        auto made = maker.Make(card, {}, slot);
        if (!made.ok()) {
          ++failed_attempts;
          if (std::getenv("TESSERA_BENCH_VERBOSE") != nullptr) {
            std::fprintf(stderr, "card %zu slot %lu: %s\n", i, static_cast<unsigned long>(slot),
                         made.status().ToString().c_str());
          }
          // The same card again, as the daemon retries it (StationOptions): soon after a
          // reader's glitch, later after a service's.
          const int wait_ms = personalization::IsReaderFailure(made.status()) ? 250 : 2000;
          for (int w = 0; w < wait_ms / 10 && !over; ++w) {
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
          }
          continue;
        }
        (void)maker.Release(card, slot, true);
        {
          std::lock_guard lock(mutex);
          done.push_back(Clock::now());
        }
        if (++produced >= cards) over = true;
        i = next++;
      }
    });
  }
  for (std::thread& t : threads) t.join();
  return {RatesSince(done, start), produced.load(), failed_attempts.load()};
}

int Run(int argc, char** argv) {
  size_t cards = 300;
  int readers = 4;
  std::string json_path;
  bool raw_only = false;
  bool maker_only = false;
  bool line_only = false;
  int line_readers = 16;
  int failing = 0;
  size_t line_cards = 320;
  std::string apdu_ms = "12", keygen_ms = "30..200", profile = "p256";
  bool profiles = false;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--cards" && i + 1 < argc) {
      cards = std::stoul(argv[++i]);
    } else if (arg == "--readers" && i + 1 < argc) {
      readers = std::stoi(argv[++i]);
    } else if (arg == "--json" && i + 1 < argc) {
      json_path = argv[++i];
    } else if (arg == "--raw-only") {
      raw_only = true;
    } else if (arg == "--maker-only") {
      maker_only = true;
    } else if (arg == "--line-only") {
      line_only = true;
    } else if (arg == "--failing" && i + 1 < argc) {
      failing = std::stoi(argv[++i]);
    } else if (arg == "--line-readers" && i + 1 < argc) {
      line_readers = std::stoi(argv[++i]);
    } else if (arg == "--line-cards" && i + 1 < argc) {
      line_cards = std::stoul(argv[++i]);
    } else if (arg == "--apdu-ms" && i + 1 < argc) {
      apdu_ms = argv[++i];
    } else if (arg == "--keygen-ms" && i + 1 < argc) {
      keygen_ms = argv[++i];
    } else if (arg == "--profile" && i + 1 < argc) {  // of a --line-only run
      profile = argv[++i];
    } else if (arg == "--profiles") {
      profiles = true;
    } else {
      std::fprintf(stderr,
                   "usage: perso [--cards N] [--readers R] [--line-readers L] [--line-cards C] "
                   "[--apdu-ms MS|LO..HI] [--keygen-ms MS|LO..HI] [--profiles] [--json FILE]\n");
      return 2;
    }
  }
  if (line_only) {
    const LineRun run = CardLine(cards, readers, failing, profile, apdu_ms, keygen_ms);
    std::printf("%s\n", nlohmann::json{{"overall", run.rates.overall},
                                       {"produced", run.produced},
                                       {"failed_attempts", run.failed_attempts}}
                            .dump()
                            .c_str());
    return 0;
  }
  if (raw_only || maker_only) {
    const Rates raw = raw_only ? RawLimit(cards) : CardMaker(cards, readers, 0);
    std::printf("%s\n",
                nlohmann::json{{"overall", raw.overall}, {"first", raw.first}, {"last", raw.last}}
                    .dump()
                    .c_str());
    return 0;
  }
  // Each run in a child process of its own, with its own empty token store.
  const std::string self = std::filesystem::read_symlink("/proc/self/exe").string();
  auto run_child = [&](const std::string& mode) -> std::optional<nlohmann::json> {
    const testing::CommandResult child = testing::RunCommand(
        testing::ShellQuote(self) + " " + mode + " --cards " + std::to_string(cards) + " 2>&1");
    const size_t brace = child.output.rfind('{');
    if (child.exit_code != 0 || brace == std::string::npos) {
      std::fprintf(stderr, "%s failed:\n%s\n", mode.c_str(), child.output.c_str());
      return std::nullopt;
    }
    return nlohmann::json::parse(child.output.substr(brace));
  };
  const std::optional<nlohmann::json> raw_json = run_child("--raw-only");
  if (!raw_json) return 1;
  const Rates raw{(*raw_json)["overall"], (*raw_json)["first"], (*raw_json)["last"]};

  std::printf(
      "%zu cards on SoftHSM, EC P-256 (the card maker: journal in memory, CA in software)\n",
      cards);
  std::printf("%-34s %10s %12s %12s %8s\n", "", "cards/s", "first 100/s", "last 100/s", "of raw");
  std::printf("%-34s %10.1f %12.1f %12.1f %8s\n", "raw token limit (1 thread)", raw.overall,
              raw.first, raw.last, "1.00");
  nlohmann::json results = {
      {"cards", cards}, {"raw", *raw_json}, {"card_maker", nlohmann::json::array()}};
  for (int r = 1; r <= readers; r *= 2) {
    const std::optional<nlohmann::json> child =
        run_child("--maker-only --readers " + std::to_string(r));
    if (!child) return 1;
    const Rates made{(*child)["overall"], (*child)["first"], (*child)["last"]};
    std::printf("%-34s %10.1f %12.1f %12.1f %8.2f\n",
                absl::StrFormat("card maker, %d reader(s)", r).c_str(), made.overall, made.first,
                made.last, made.overall / raw.overall);
    results["card_maker"].push_back({{"readers", r},
                                     {"overall", made.overall},
                                     {"first", made.first},
                                     {"last", made.last},
                                     {"ratio_to_raw", made.overall / raw.overall}});
    std::fflush(stdout);
  }
  std::printf("(each run in its own process and empty token store)\n\n");

  // The card line: one reader's rate is the physical limit of one reader with these
  // latencies; L readers can at best make L times as many.
  const std::string latency = " --apdu-ms " + apdu_ms + " --keygen-ms " + keygen_ms;
  auto line_child = [&](int line, size_t n, int broken,
                        const std::string& how = "") -> std::optional<nlohmann::json> {
    const testing::CommandResult child = testing::RunCommand(
        testing::ShellQuote(self) + " --line-only --readers " + std::to_string(line) +
        " --failing " + std::to_string(broken) + " --cards " + std::to_string(n) +
        (how.empty() ? latency : how) + " 2>&1");
    const size_t brace = child.output.rfind('{');
    if (child.exit_code != 0 || brace == std::string::npos) {
      std::fprintf(stderr, "card line failed:\n%s\n", child.output.c_str());
      return std::nullopt;
    }
    return nlohmann::json::parse(child.output.substr(brace));
  };
  const std::optional<nlohmann::json> one = line_child(1, 20, 0);
  if (!one) return 1;
  const double per_reader = (*one)["overall"];
  std::printf("card line: virtual readers, P-256 card, %s ms per card call, %s ms key generation\n",
              apdu_ms.c_str(), keygen_ms.c_str());
  std::printf("%-34s %10s %12s %8s\n", "", "cards/s", "limit/s", "of limit");
  std::printf("%-34s %10.2f %12.2f %8s   (%.0f ms per card)\n", "1 reader", per_reader, per_reader,
              "1.00", 1000.0 / per_reader);
  results["card_line"] = {{"apdu_ms", apdu_ms},
                          {"keygen_ms", keygen_ms},
                          {"one_reader", per_reader},
                          {"runs", nlohmann::json::array()}};
  for (int broken : {0, 1}) {
    const std::optional<nlohmann::json> many = line_child(line_readers, line_cards, broken);
    if (!many) return 1;
    const double rate = (*many)["overall"];
    const double limit = per_reader * (line_readers - broken);
    std::printf("%-34s %10.2f %12.2f %8.2f\n",
                absl::StrFormat("%d readers, %d failing every card", line_readers, broken).c_str(),
                rate, limit, rate / limit);
    results["card_line"]["runs"].push_back({{"readers", line_readers},
                                            {"failing", broken},
                                            {"cards_per_s", rate},
                                            {"limit", limit},
                                            {"ratio", rate / limit}});
    std::fflush(stdout);
  }
  if (profiles) {
    std::printf("\ncard line, real-card profiles of the virtual reader module\n");
    std::printf("%-34s %10s %12s %8s %10s\n", "", "cards/s", "limit/s", "of limit", "retries");
    results["profiles"] = nlohmann::json::array();
    const std::string kProfileLatency = " --apdu-ms '' --keygen-ms ''";  // the profile's own
    double p256_reader = 0;
    // (RSA cards take seconds each: fewer of them)
    for (const auto& [name, one_reader_cards, per_reader_cards] :
         {std::tuple<std::string, size_t, size_t>{"p256", 12, 20},
          {"rsa", 3, 4},
          {"flaky", 0, 20}}) {
      double limit_per_reader = p256_reader;
      if (one_reader_cards > 0) {
        const std::optional<nlohmann::json> one_run =
            line_child(1, one_reader_cards, 0, " --profile " + name + kProfileLatency);
        if (!one_run) return 1;
        limit_per_reader = (*one_run)["overall"];
        if (name == "p256") p256_reader = limit_per_reader;
      }
      const std::optional<nlohmann::json> many =
          line_child(line_readers, per_reader_cards * static_cast<size_t>(line_readers), 0,
                     " --profile " + name + kProfileLatency);
      if (!many) return 1;
      const double rate = (*many)["overall"];
      const double limit = limit_per_reader * line_readers;
      std::printf("%-34s %10.2f %12.2f %8.2f %10d   (%.0f ms per card)\n",
                  absl::StrFormat("%s, %d readers", name, line_readers).c_str(), rate, limit,
                  rate / limit, (*many)["failed_attempts"].get<int>(), 1000.0 / limit_per_reader);
      results["profiles"].push_back({{"profile", name},
                                     {"readers", line_readers},
                                     {"cards_per_s", rate},
                                     {"limit", limit},
                                     {"ratio", rate / limit},
                                     {"failed_attempts", (*many)["failed_attempts"]}});
      std::fflush(stdout);
    }
  }
  if (!json_path.empty()) {
    std::FILE* f = std::fopen(json_path.c_str(), "w");
    if (f != nullptr) {
      std::fputs(results.dump(2).c_str(), f);
      std::fclose(f);
    }
  }
  return 0;
}

}  // namespace
}  // namespace tessera::bench

int main(int argc, char** argv) { return tessera::bench::Run(argc, argv); }
