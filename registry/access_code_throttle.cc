#include "registry/access_code_throttle.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace tessera::registry {
namespace {

constexpr size_t kMaxTracked = 100000;  // comuni with failures, codes known good

}  // namespace

bool AccessCodeThrottle::KnownGood(const AccessCode& code, Clock::TimePoint now) {
  std::lock_guard lock(mutex_);
  auto it = good_.find(code.digest);
  return it != good_.end() && it->second.first == code.office && now < it->second.second;
}

absl::Status AccessCodeThrottle::Admit(const AccessCode& code, Clock::TimePoint now) {
  std::lock_guard lock(mutex_);
  if (auto it = failures_.find(code.office); it != failures_.end()) {
    std::deque<Clock::TimePoint>& times = it->second;
    while (!times.empty() && now - times.front() >= limits_.comune_window) times.pop_front();
    if (static_cast<int>(times.size()) >= limits_.failures_per_comune) {
      const auto wait =
          std::chrono::ceil<std::chrono::seconds>(times.front() + limits_.comune_window - now);
      return absl::ResourceExhaustedError(
          absl::StrCat("access code: too many wrong codes for office ", code.office,
                       "; try again in ", wait.count(), " s"));
    }
  }
  if (tokens_ < 0) {
    tokens_ = limits_.burst;
    refilled_ = now;
  }
  const double elapsed = std::chrono::duration<double>(now - refilled_).count();
  tokens_ = std::min(limits_.burst, tokens_ + std::max(0.0, elapsed) * limits_.lookups_per_second);
  refilled_ = now;
  if (tokens_ < 1) {
    return absl::ResourceExhaustedError(
        "access code: too many codes being checked right now; try again in a few seconds");
  }
  tokens_ -= 1;
  return absl::OkStatus();
}

void AccessCodeThrottle::Succeeded(const AccessCode& code, Clock::TimePoint now) {
  std::lock_guard lock(mutex_);
  if (good_.size() >= kMaxTracked) good_.clear();
  good_[code.digest] = {code.office, now + limits_.known_good_ttl};
}

void AccessCodeThrottle::Failed(const AccessCode& code, Clock::TimePoint now) {
  std::lock_guard lock(mutex_);
  if (failures_.size() >= kMaxTracked) failures_.clear();
  std::deque<Clock::TimePoint>& times = failures_[code.office];
  times.push_back(now);
  while (static_cast<int>(times.size()) > limits_.failures_per_comune) times.pop_front();
}

void AccessCodeThrottle::Forget(const std::string& office) {
  std::lock_guard lock(mutex_);
  std::erase_if(good_, [&](const auto& entry) { return entry.second.first == office; });
}

}  // namespace tessera::registry
