#include "vreader/config.h"

#include <charconv>
#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>

namespace tessera::vreader {
namespace {

constexpr double kMaxMs = 600000;  // ten minutes: anything longer is a typo

std::string Trim(const std::string& s) {
  const size_t begin = s.find_first_not_of(" \t\r");
  if (begin == std::string::npos) return "";
  return s.substr(begin, s.find_last_not_of(" \t\r") - begin + 1);
}

std::optional<double> ParseDouble(const std::string& text) {
  double value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || !(value == value)) {
    return std::nullopt;
  }
  return value;
}

std::optional<uint64_t> ParseUint(const std::string& text) {
  uint64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

// "35" (fixed) or "30..40" (uniform).
std::optional<Delay> ParseDelay(const std::string& text) {
  const size_t dots = text.find("..");
  std::optional<double> lo = ParseDouble(Trim(text.substr(0, dots)));
  std::optional<double> hi =
      dots == std::string::npos ? lo : ParseDouble(Trim(text.substr(dots + 2)));
  if (!lo || !hi || *lo < 0 || *hi < *lo || *hi > kMaxMs) return std::nullopt;
  return Delay{.lo = *lo, .hi = *hi};
}

bool ApplyProfile(const std::string& profile, Config& config) {
  const Delay apdu{.lo = 30, .hi = 40};
  if (profile == "p256" || profile == "flaky") {
    config.apdu = apdu;
    config.keygen = Delay{.lo = 30, .hi = 200};
    if (profile == "flaky") {
      config.fail_rate = 0.02;
      config.remove_rate = 0.005;
    }
    return true;
  }
  if (profile == "rsa") {
    config.apdu = apdu;
    config.keygen =
        Delay{.lo = 2000, .hi = 5000, .tail_chance = 0.02, .tail_lo = 8000, .tail_hi = 17000};
    return true;
  }
  return false;
}

// Applies one key; returns the rule `value` breaks, or "" when it is fine.
std::string ApplyKey(const std::string& key, const std::string& value, Config& config) {
  if (key == "slots") {
    std::optional<uint64_t> n = ParseUint(value);
    if (!n || *n < 1 || *n > 256) return "must be an integer from 1 to 256";
    config.slots = static_cast<int>(*n);
  } else if (key == "state_dir") {
    if (value.empty()) return "must name a directory";
    config.state_dir = value;
  } else if (key == "apdu_ms" || key == "keygen_ms") {
    std::optional<Delay> delay = ParseDelay(value);
    if (!delay) return "must be milliseconds (0 to 600000) as N or LO..HI";
    (key == "apdu_ms" ? config.apdu : config.keygen) = *delay;
  } else if (key == "fail_rate" || key == "remove_rate") {
    std::optional<double> rate = ParseDouble(value);
    if (!rate || *rate < 0 || *rate > 1) return "must be a probability from 0 to 1";
    (key == "fail_rate" ? config.fail_rate : config.remove_rate) = *rate;
  } else if (key == "feed_ms") {
    std::optional<double> ms = ParseDouble(value);
    if (!ms || *ms < 0 || *ms > kMaxMs) return "must be milliseconds from 0 to 600000";
    config.feed_ms = *ms;
  } else if (key == "stock") {
    if (value == "unlimited") {
      config.stock.reset();
    } else {
      std::optional<uint64_t> n = ParseUint(value);
      if (!n) return "must be a number of cards or 'unlimited'";
      config.stock = *n;
    }
  } else if (key == "failing_slots") {
    config.failing_slots.clear();
    std::stringstream list(value);
    for (std::string item; std::getline(list, item, ',');) {
      std::optional<uint64_t> n = ParseUint(Trim(item));
      if (!n || *n > 255) return "must be a comma list of slot numbers";
      config.failing_slots.insert(static_cast<int>(*n));
    }
  } else if (key == "time_scale") {
    std::optional<double> scale = ParseDouble(value);
    if (!scale || *scale < 0 || *scale > 1000) return "must be a factor from 0 to 1000";
    config.time_scale = *scale;
  } else if (key == "seed") {
    std::optional<uint64_t> seed = ParseUint(value);
    if (!seed) return "must be an unsigned integer";
    config.seed = *seed;
  } else {
    return "unknown key (known: slots, state_dir, profile, apdu_ms, keygen_ms, fail_rate, "
           "remove_rate, feed_ms, stock, failing_slots, time_scale, seed)";
  }
  return "";
}

}  // namespace

double Delay::DrawMs(std::mt19937_64& rng) const {
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  if (tail_chance > 0 && unit(rng) < tail_chance) {
    return tail_lo + (tail_hi - tail_lo) * unit(rng);
  }
  return lo + (hi - lo) * unit(rng);
}

std::optional<Config> LoadConfig(std::string& error) {
  const char* path = std::getenv("TESSERA_VREADER_CONF");
  if (path == nullptr || *path == '\0') {
    error = "TESSERA_VREADER_CONF is not set: it must name the configuration file";
    return std::nullopt;
  }
  std::ifstream in(path);
  if (!in) {
    error = std::string("cannot read configuration file ") + path;
    return std::nullopt;
  }
  // Collect first, so the profile applies before the keys that override it, in any order.
  std::map<std::string, std::pair<std::string, int>> values;
  int number = 0;
  for (std::string line; std::getline(in, line);) {
    ++number;
    const std::string where = std::string(path) + ":" + std::to_string(number) + ": ";
    line = Trim(line.substr(0, line.find('#')));
    if (line.empty()) continue;
    const size_t eq = line.find('=');
    if (eq == std::string::npos) {
      error = where + "expected 'key = value'";
      return std::nullopt;
    }
    const std::string key = Trim(line.substr(0, eq));
    if (!values.emplace(key, std::make_pair(Trim(line.substr(eq + 1)), number)).second) {
      error = where + key + ": given twice";
      return std::nullopt;
    }
  }

  Config config;
  std::string profile = "p256";
  if (auto it = values.find("profile"); it != values.end()) {
    profile = it->second.first;
    values.erase(it);
  }
  if (!ApplyProfile(profile, config)) {
    error = std::string(path) + ": profile: must be p256, rsa or flaky";
    return std::nullopt;
  }
  for (const auto& [key, value] : values) {
    if (std::string rule = ApplyKey(key, value.first, config); !rule.empty()) {
      error = std::string(path) + ":" + std::to_string(value.second) + ": " + key + ": " + rule;
      return std::nullopt;
    }
  }
  if (config.state_dir.empty()) {
    error = std::string(path) + ": state_dir: required (the directory the cards live in)";
    return std::nullopt;
  }
  if (!config.failing_slots.empty() && *config.failing_slots.rbegin() >= config.slots) {
    error = std::string(path) + ": failing_slots: slot numbers must be below slots (" +
            std::to_string(config.slots) + ")";
    return std::nullopt;
  }
  return config;
}

}  // namespace tessera::vreader
