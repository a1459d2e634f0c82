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
//   perso [--cards N] [--readers R] [--json FILE]
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
#include <vector>

#include "absl/strings/str_format.h"
#include "hsm/secret_sealer.h"
#include "hsm/token.h"
#include "personalization/card_maker.h"
#include "platform/random.h"
#include "tests/support/card_fakes.h"
#include "tests/support/run.h"
#include "tests/support/test_hsm.h"

namespace tessera::bench {
namespace {

using Clock = std::chrono::steady_clock;
constexpr size_t kWindow = 100;

double Seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

// Cards per second over the whole run and over its first and last windows of kWindow cards,
// from each card's completion time (sorted).
struct Rates {
  double overall = 0, first = 0, last = 0;
};
Rates RatesOf(std::vector<Clock::time_point> done, Clock::time_point start) {
  std::sort(done.begin(), done.end());
  Rates r;
  if (done.empty()) return r;
  r.overall = done.size() / Seconds(done.back() - start);
  if (done.size() >= 2 * kWindow) {
    r.first = kWindow / Seconds(done[kWindow - 1] - start);
    r.last = kWindow / Seconds(done.back() - done[done.size() - kWindow - 1]);
  }
  return r;
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
    done.push_back(Clock::now());
  }
  return RatesOf(done, start);
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
                                               std::span<const uint8_t> request) override {
    std::lock_guard lock(mutex_);
    return ca_.Certify(card, request);
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
  std::atomic<size_t> next{0};
  std::mutex mutex;
  std::vector<Clock::time_point> done;
  const Clock::time_point start = Clock::now();
  std::vector<std::thread> threads;
  for (int r = 0; r < readers; ++r) {
    threads.emplace_back([&] {
      for (size_t i; (i = next++) < cards;) {
        auto made = maker.Make({CardNumber(first_card + i), "RSSMRA85T10H501O", "Rossi", "Mario"});
        if (!made.ok()) {
          std::fprintf(stderr, "card: %s\n", std::string(made.status().message()).c_str());
          std::exit(1);
        }
        std::lock_guard lock(mutex);
        done.push_back(Clock::now());
      }
    });
  }
  for (std::thread& t : threads) t.join();
  return RatesOf(done, start);
}

int Run(int argc, char** argv) {
  size_t cards = 300;
  int readers = 4;
  std::string json_path;
  bool raw_only = false;
  bool maker_only = false;
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
    } else {
      std::fprintf(stderr, "usage: perso [--cards N] [--readers R] [--json FILE]\n");
      return 2;
    }
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
  std::printf(
      "(each run in its own process and empty token store; SoftHSM lists every token "
      "on each lookup, so the rate falls as the store grows)\n");
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
