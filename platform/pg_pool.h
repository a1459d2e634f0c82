// A pool of PostgreSQL connections shared by a service's request threads. A connection that
// broke (server restart, network) is dropped on return; a new one is opened on demand.
#pragma once

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
  ConnectionPool(std::string conninfo, size_t max_connections)
      : conninfo_(std::move(conninfo)), max_(max_connections) {}

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

  // Waits for a free connection when all `max_connections` are out.
  absl::StatusOr<Lease> Acquire();

 private:
  void Release(std::unique_ptr<Connection> conn);

  const std::string conninfo_;
  const size_t max_;
  std::mutex mutex_;
  std::condition_variable available_;
  std::vector<std::unique_ptr<Connection>> idle_;
  size_t open_ = 0;
};

}  // namespace tessera::pg
