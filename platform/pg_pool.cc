#include "platform/pg_pool.h"

#include "absl/strings/str_cat.h"
#include "platform/status_macros.h"

namespace tessera::pg {

ConnectionPool::Lease::~Lease() {
  if (conn_ != nullptr) pool_->Release(std::move(conn_));
}

absl::StatusOr<ConnectionPool::Lease> ConnectionPool::Acquire(std::chrono::milliseconds wait) {
  TESSERA_ASSIGN_OR_RETURN(Lease lease, AcquireIdleOrNew(wait));
  // Whatever the holder changes is recorded in the audit chain as done for the caller this
  // thread serves (or as the service's own).
  const ActingFor* acting_for = CurrentActingFor();
  TESSERA_RETURN_IF_ERROR(lease->ActFor(acting_for != nullptr ? *acting_for : ActingFor{}));
  return lease;
}

absl::StatusOr<ConnectionPool::Lease> ConnectionPool::AcquireIdleOrNew(
    std::chrono::milliseconds wait) {
  {
    std::unique_lock lock(mutex_);
    if (!available_.wait_for(lock, wait, [this] { return !idle_.empty() || open_ < max_; })) {
      return absl::UnavailableError(
          absl::StrCat("database: all ", max_, " connections busy for ", wait.count(), " ms"));
    }
    if (!idle_.empty()) {
      std::unique_ptr<Connection> conn = std::move(idle_.back());
      idle_.pop_back();
      return Lease(this, std::move(conn));
    }
    ++open_;  // reserve the slot, connect outside the lock
  }
  absl::StatusOr<std::unique_ptr<Connection>> conn = Connection::Open(conninfo_);
  if (!conn.ok()) {
    std::lock_guard lock(mutex_);
    --open_;
    available_.notify_one();
    return conn.status();
  }
  return Lease(this, std::move(*conn));
}

void ConnectionPool::Release(std::unique_ptr<Connection> conn) {
  std::lock_guard lock(mutex_);
  if (PQstatus(conn->raw()) == CONNECTION_OK && PQtransactionStatus(conn->raw()) == PQTRANS_IDLE) {
    idle_.push_back(std::move(conn));
  } else {
    conn.reset();  // broken, or left inside a transaction: never hand it out again
    --open_;
  }
  available_.notify_one();
}

}  // namespace tessera::pg
