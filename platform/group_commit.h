// Group commit: concurrent callers that each need a durable write share one transaction (and
// one WAL flush) instead of queueing for one each.
//
// No timer and no thread of its own: a caller that finds fewer than `max_writers` writes under
// way writes at once (so a lone caller waits for nothing), taking everything queued so far;
// callers that arrive while every writer is busy queue up, and the first of them writes the
// whole queue when a writer finishes. Under load the groups grow by themselves to the number
// of waiting callers. More than one writer lets a caller that just missed a write start its
// own instead of waiting a whole commit for it (the database flushes concurrent commits
// together anyway).
#pragma once

#include <algorithm>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <exception>
#include <functional>
#include <mutex>
#include <optional>
#include <span>
#include <stdexcept>
#include <vector>

#include "platform/acting_for.h"

namespace tessera {

template <typename Item, typename Result>
class GroupCommit {
 public:
  // Writes `items` (one transaction) and returns one result per item, in order. Called by one
  // caller at a time, on the caller's thread.
  using Flush = std::function<std::vector<Result>(std::span<const Item* const> items)>;

  // A group takes whole calls while it holds at most `max_items` (a single larger call is
  // written alone); at most `max_writers` groups are written at once.
  GroupCommit(Flush flush, size_t max_items, size_t max_writers = 1)
      : flush_(std::move(flush)), max_items_(max_items), max_writers_(max_writers) {}

  // Blocks until `items` are written, with whatever else was queued; their results in order.
  std::vector<Result> Run(std::span<const Item> items) {
    Call call{.items = items};
    std::unique_lock lock(mutex_);
    queue_.push_back(&call);
    while (!call.done) {
      if (writers_ >= max_writers_ || queue_.empty()) {
        written_.wait(lock);
        continue;
      }
      ++writers_;
      std::vector<Call*> group = TakeGroup();
      lock.unlock();
      std::exception_ptr failure;
      try {
        Write(group);
      } catch (...) {
        failure = std::current_exception();  // every caller of the group sees it
      }
      lock.lock();
      --writers_;
      for (Call* c : group) {
        c->failure = failure;
        c->done = true;
      }
      written_.notify_all();
    }
    if (call.failure) std::rethrow_exception(call.failure);
    return std::move(call.results);
  }

 private:
  struct Call {
    std::span<const Item> items;
    std::vector<Result> results;
    std::exception_ptr failure;
    bool done = false;
  };

  std::vector<Call*> TakeGroup() {  // mutex_ held
    std::vector<Call*> group;
    size_t count = 0;
    while (!queue_.empty() &&
           (group.empty() || count + queue_.front()->items.size() <= max_items_)) {
      count += queue_.front()->items.size();
      group.push_back(queue_.front());
      queue_.pop_front();
    }
    return group;
  }

  void Write(const std::vector<Call*>& group) {  // mutex_ not held
    std::vector<const Item*> items;
    for (Call* c : group) {
      for (const Item& item : c->items) items.push_back(&item);
    }
    // Several callers' writes in one transaction: the audit chain records it as the service's
    // own (each row names its requester); a lone caller's is theirs.
    std::optional<ActingForNobody> shared;
    if (group.size() > 1) shared.emplace();
    std::vector<Result> results = flush_(items);
    shared.reset();
    if (results.size() != items.size()) {
      throw std::logic_error("group commit: the flush returned a result count unlike its items");
    }
    size_t next = 0;
    for (Call* c : group) {
      c->results.assign(std::make_move_iterator(results.begin() + next),
                        std::make_move_iterator(results.begin() + next + c->items.size()));
      next += c->items.size();
    }
  }

  const Flush flush_;
  const size_t max_items_;
  const size_t max_writers_;
  std::mutex mutex_;
  std::condition_variable written_;
  std::deque<Call*> queue_;
  size_t writers_ = 0;
};

}  // namespace tessera
