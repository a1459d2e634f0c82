// A task run on a background thread every `period` until stopped. A failure is logged (event
// "<name>_failed") and the task simply runs again at the next period: background upkeep
// (CRLs, responder certificates) must outlive a database or token hiccup.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

#include "absl/status/status.h"

namespace tessera {

class PeriodicTask {
 public:
  PeriodicTask(std::string name, std::chrono::milliseconds period,
               std::function<absl::Status()> task)
      : name_(std::move(name)), period_(period), task_(std::move(task)) {}
  ~PeriodicTask() { Stop(); }
  PeriodicTask(const PeriodicTask&) = delete;
  PeriodicTask& operator=(const PeriodicTask&) = delete;

  void Start();  // runs the task at once, then every period
  // Runs the task once on the calling thread (a service that must not serve before it has,
  // say, its first CRLs), returns how that went, then runs it every period in the background
  // whatever the first run said.
  absl::Status RunThenStart();
  void Stop();  // wakes the thread and waits for it; a running task finishes first

 private:
  void Run(bool first_now);

  const std::string name_;
  const std::chrono::milliseconds period_;
  const std::function<absl::Status()> task_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace tessera
