// platform/group_commit.h: results go back to their callers in order, a lone caller writes at
// once, callers that arrive while the writers are busy are written together, and no more
// groups are written at once than allowed; a flush that throws reaches its callers.
#include "platform/group_commit.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <vector>

namespace tessera {
namespace {

// A flush that doubles each item and records the size of each group; while `hold` is set it
// waits before returning, so that callers pile up behind it.
class Recorder {
 public:
  std::vector<int> Flush(std::span<const int* const> items) {
    const int now = ++writing_;
    int seen = max_writing_.load();
    while (now > seen && !max_writing_.compare_exchange_weak(seen, now)) {
    }
    {
      std::unique_lock lock(mutex_);
      groups_.push_back(items.size());
      released_.wait(lock, [&] { return !hold_; });
    }
    --writing_;
    std::vector<int> doubled;
    for (const int* item : items) doubled.push_back(*item * 2);
    return doubled;
  }
  void Hold(bool hold) {
    {
      std::lock_guard lock(mutex_);
      hold_ = hold;
    }
    released_.notify_all();
  }
  std::vector<size_t> Groups() {
    std::lock_guard lock(mutex_);
    return groups_;
  }
  int max_writing() const { return max_writing_; }

 private:
  std::mutex mutex_;
  std::condition_variable released_;
  bool hold_ = false;
  std::vector<size_t> groups_;
  std::atomic<int> writing_{0}, max_writing_{0};
};

TEST(GroupCommitTest, ALoneCallerWritesAtOnceAndGetsItsResultsInOrder) {
  Recorder recorder;
  GroupCommit<int, int> group([&](auto items) { return recorder.Flush(items); }, 100);
  const std::vector<int> items = {1, 2, 3};
  EXPECT_EQ(group.Run(items), (std::vector<int>{2, 4, 6}));
  EXPECT_EQ(group.Run(std::vector<int>{7}), (std::vector<int>{14}));
  EXPECT_EQ(recorder.Groups(), (std::vector<size_t>{3, 1}));
}

TEST(GroupCommitTest, CallersArrivingWhileTheWriterIsBusyAreWrittenTogether) {
  Recorder recorder;
  GroupCommit<int, int> group([&](auto items) { return recorder.Flush(items); }, 100);
  recorder.Hold(true);
  std::vector<std::vector<int>> results(6);
  std::thread first([&] { results[0] = group.Run(std::vector<int>{0}); });
  while (recorder.Groups().empty()) std::this_thread::yield();  // the first write is under way
  std::vector<std::thread> others;
  for (int c = 1; c < 6; ++c) {
    others.emplace_back([&, c] { results[c] = group.Run(std::vector<int>{c * 10, c * 10 + 1}); });
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(100));  // let them queue
  recorder.Hold(false);
  first.join();
  for (auto& t : others) t.join();
  EXPECT_EQ(recorder.Groups(), (std::vector<size_t>{1, 10}));
  EXPECT_EQ(results[0], (std::vector<int>{0}));
  for (int c = 1; c < 6; ++c) EXPECT_EQ(results[c], (std::vector<int>{c * 20, c * 20 + 2}));
}

TEST(GroupCommitTest, GroupsStayWithinTheirSizeAndTheWritersWithinTheirNumber) {
  Recorder recorder;
  GroupCommit<int, int> group([&](auto items) { return recorder.Flush(items); }, 4, 2);
  std::vector<std::thread> threads;
  std::atomic<int> wrong{0};
  for (int c = 0; c < 8; ++c) {
    threads.emplace_back([&, c] {
      for (int i = 0; i < 50; ++i) {
        const std::vector<int> items = {c, i, c + i};
        if (group.Run(items) != std::vector<int>{2 * c, 2 * i, 2 * (c + i)}) ++wrong;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(wrong, 0);
  EXPECT_LE(recorder.max_writing(), 2);
  size_t written = 0;
  for (size_t size : recorder.Groups()) {
    EXPECT_EQ(size, 3u) << "a group holds whole calls, at most 4 items: one call of 3";
    written += size;
  }
  EXPECT_EQ(written, 8u * 50 * 3);
}

TEST(GroupCommitTest, AFlushThatThrowsReachesItsCallersAndTheNextWriteStillRuns) {
  bool fail = true;
  GroupCommit<int, int> group(
      [&](std::span<const int* const> items) {
        if (fail) throw std::runtime_error("database gone");
        return std::vector<int>(items.size(), 1);
      },
      100);
  EXPECT_THROW(group.Run(std::vector<int>{1, 2}), std::runtime_error);
  fail = false;
  EXPECT_EQ(group.Run(std::vector<int>{3}), (std::vector<int>{1}));
}

}  // namespace
}  // namespace tessera

namespace tessera {
namespace {

// The audit chain names whom a write was done for: a lone caller's write is theirs, a group of
// several callers' is the service's own (each row names its requester), and each caller acts
// for itself again afterwards.
TEST(GroupCommitTest, AGroupOfSeveralCallersIsWrittenForNobodyAndALoneCallersForThem) {
  std::mutex mutex;
  std::condition_variable released;
  bool hold = true;
  std::vector<std::string> written_for;  // per group: the actor its flush ran as, "" for none
  GroupCommit<int, int> group(
      [&](std::span<const int* const> items) {
        const ActingFor* acting = CurrentActingFor();
        std::unique_lock lock(mutex);
        written_for.push_back(acting != nullptr ? acting->actor : "");
        released.wait(lock, [&] { return !hold || written_for.size() > 1; });
        return std::vector<int>(items.size(), 0);
      },
      100);
  std::atomic<int> restored{0};
  auto caller = [&](int c) {
    SetActingFor({.actor = "person:" + std::to_string(c)});
    group.Run(std::vector<int>{c});
    if (CurrentActingFor() != nullptr &&
        CurrentActingFor()->actor == "person:" + std::to_string(c)) {
      ++restored;
    }
    ClearActingFor();
  };
  std::thread first(caller, 0);
  for (;;) {  // the first write is under way
    std::lock_guard lock(mutex);
    if (!written_for.empty()) break;
  }
  std::vector<std::thread> others;
  for (int c = 1; c < 5; ++c) others.emplace_back(caller, c);
  std::this_thread::sleep_for(std::chrono::milliseconds(100));  // let them queue
  {
    std::lock_guard lock(mutex);
    hold = false;
  }
  released.notify_all();
  first.join();
  for (auto& t : others) t.join();
  ASSERT_EQ(written_for.size(), 2u);
  EXPECT_EQ(written_for[0], "person:0");
  EXPECT_EQ(written_for[1], "");
  EXPECT_EQ(restored.load(), 5);
}

}  // namespace
}  // namespace tessera
