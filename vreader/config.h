// The virtual reader's configuration: a `key = value` file named by TESSERA_VREADER_CONF,
// read once at C_Initialize. A profile sets realistic defaults; any key overrides them.
#pragma once

#include <cstdint>
#include <optional>
#include <random>
#include <set>
#include <string>

namespace tessera::vreader {

// A latency in milliseconds: uniform in [lo, hi], and with probability `tail_chance` uniform in
// [tail_lo, tail_hi] instead (RSA key generation on a real card has a long tail).
struct Delay {
  double lo = 0, hi = 0;
  double tail_chance = 0, tail_lo = 0, tail_hi = 0;

  double DrawMs(std::mt19937_64& rng) const;
};

struct Config {
  int slots = 4;
  std::string state_dir;
  Delay apdu;    // every card call
  Delay keygen;  // C_GenerateKeyPair, on top of apdu
  double fail_rate = 0;
  double remove_rate = 0;
  double feed_ms = 0;
  std::optional<uint64_t> stock;  // nullopt: the feeder never runs out
  std::set<int> failing_slots;
  double time_scale = 1.0;
  std::optional<uint64_t> seed;
};

// Reads the file TESSERA_VREADER_CONF names. On failure returns nullopt and sets `error` to one
// line naming the problem (the file, or the key and the rule it breaks).
std::optional<Config> LoadConfig(std::string& error);

}  // namespace tessera::vreader
