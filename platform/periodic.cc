#include "platform/periodic.h"

#include "platform/log.h"

namespace tessera {

void PeriodicTask::Start() { Run(/*first_now=*/true); }

absl::Status PeriodicTask::RunThenStart() {
  absl::Status first = task_();
  Run(/*first_now=*/false);
  return first;
}

void PeriodicTask::Run(bool first_now) {
  thread_ = std::thread([this, first_now] {
    std::unique_lock lock(mutex_);
    if (!first_now) wake_.wait_for(lock, period_, [this] { return stopping_; });
    while (!stopping_) {
      lock.unlock();
      absl::Status status = task_();
      if (!status.ok()) {
        LogEvent(spdlog::level::err, name_ + "_failed", {{"error", std::string(status.message())}});
      }
      lock.lock();
      wake_.wait_for(lock, period_, [this] { return stopping_; });
    }
  });
}

void PeriodicTask::Stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

}  // namespace tessera
