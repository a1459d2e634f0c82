// A pool of PostgreSQL connections shared by a service's request threads. A connection that
// broke (server restart, network) is dropped on return; a new one is opened on demand.
//
// Acquire never waits forever: when every connection stays out longer than the pool's wait,
// the caller gets UNAVAILABLE and can answer "try later" instead of queueing behind a stuck
// or overloaded database.
#pragma once

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "platform/pg.h"

namespace tessera::pg {

class ConnectionPool {
 public:
  // Long enough that ordinary callers (issuance, revocation, migrations) never see it under a
  // normal load; short enough that a stuck database turns into an error instead of a hang.
  static constexpr std::chrono::milliseconds kDefaultWait{5000};

  ConnectionPool(std::string conninfo, size_t max_connections,
                 std::chrono::milliseconds wait = kDefaultWait)
      : conninfo_(std::move(conninfo)), max_(max_connections), wait_(wait) {}

  class Lease {
   public:
    Lease(ConnectionPool* pool, std::unique_ptr<Connection> conn)
        : pool_(pool), conn_(std::move(conn)) {}
    Lease(Lease&&) = default;
    Lease& operator=(Lease&&) = default;
    ~Lease();
    Connection& operator*() const { return *conn_; }
    Connection* operator->() const { return conn_.get(); }

   private:
    ConnectionPool* pool_;
    std::unique_ptr<Connection> conn_;
  };

  // Waits up to the pool's wait (kDefaultWait unless the constructor said otherwise) for a
  // free connection when all `max_connections` are out; then UNAVAILABLE.
  absl::StatusOr<Lease> Acquire() { return Acquire(wait_); }
  // Waits up to `wait`; zero: only a connection free right now.
  absl::StatusOr<Lease> Acquire(std::chrono::milliseconds wait);

 private:
  absl::StatusOr<Lease> AcquireIdleOrNew(std::chrono::milliseconds wait);
  void Release(std::unique_ptr<Connection> conn);

  const std::string conninfo_;
  const size_t max_;
  const std::chrono::milliseconds wait_;
  std::mutex mutex_;
  std::condition_variable available_;
  std::vector<std::unique_ptr<Connection>> idle_;
  size_t open_ = 0;
};

}  // namespace tessera::pg
