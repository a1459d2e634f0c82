// Items per second from each item's completion time, as the benchmarks report them: over the
// whole run, over its first and last windows of kWindow items (where a store that slows as it
// fills shows), and per tenth of the items.
#pragma once

#include <algorithm>
#include <cstddef>
#include <vector>

namespace tessera::bench {

inline constexpr size_t kWindow = 100;

struct Rates {
  double overall = 0, first = 0, last = 0;  // first and last: 0 under 2 windows of items
  std::vector<double> tenths;               // empty under 2 windows of items
};

// `done`: each item's completion, in seconds after the run started (any order).
inline Rates RatesOf(std::vector<double> done) {
  std::sort(done.begin(), done.end());
  Rates r;
  if (done.empty()) return r;
  r.overall = done.size() / done.back();
  if (done.size() < 2 * kWindow) return r;
  r.first = kWindow / done[kWindow - 1];
  r.last = kWindow / (done.back() - done[done.size() - kWindow - 1]);
  for (size_t t = 0; t < 10; ++t) {
    const size_t from = done.size() * t / 10, to = done.size() * (t + 1) / 10 - 1;
    const double begin = from == 0 ? 0.0 : done[from - 1];
    r.tenths.push_back((to - from + 1) / (done[to] - begin));
  }
  return r;
}

}  // namespace tessera::bench
