// A database that cannot be reached is UNAVAILABLE "database unavailable" for callers: no host,
// port or role (they travel on to RPC clients); libpq's own message goes to the log, and the
// conninfo (which may hold a password) nowhere.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <unistd.h>

#include <memory>
#include <sstream>
#include <string>

#include "platform/pg.h"
#include "platform/pg_pool.h"

namespace tessera::pg {
namespace {

// A loopback port that refuses connections: bound, never listening, for the test's life.
class ClosedPort {
 public:
  ClosedPort() : fd_(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) {
    sockaddr_in address = {};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t size = sizeof address;
    EXPECT_EQ(bind(fd_, reinterpret_cast<sockaddr*>(&address), size), 0);
    EXPECT_EQ(getsockname(fd_, reinterpret_cast<sockaddr*>(&address), &size), 0);
    port_ = ntohs(address.sin_port);
  }
  ~ClosedPort() { close(fd_); }
  int port() const { return port_; }

 private:
  int fd_;
  int port_ = 0;
};

class PgErrorsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    previous_ = spdlog::default_logger();
    spdlog::set_default_logger(std::make_shared<spdlog::logger>(
        "test", std::make_shared<spdlog::sinks::ostream_sink_mt>(log_)));
  }
  void TearDown() override { spdlog::set_default_logger(previous_); }

  std::ostringstream log_;
  std::shared_ptr<spdlog::logger> previous_;
};

TEST_F(PgErrorsTest, AnUnreachableServerIsUnavailableWithoutHostPortOrUser) {
  ClosedPort closed;
  const std::string port = std::to_string(closed.port());
  ConnectionPool pool("host=127.0.0.1 port=" + port +
                          " user=tessera_leak_user password=hunter2-leak dbname=tessera_leak_db"
                          " connect_timeout=5",
                      2);
  absl::StatusOr<ConnectionPool::Lease> lease = pool.Acquire();
  ASSERT_FALSE(lease.ok());
  EXPECT_EQ(lease.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(lease.status().message(), "database unavailable");
  for (const std::string& leak :
       {std::string("127.0.0.1"), port, std::string("tessera_leak"), std::string("hunter2")}) {
    EXPECT_EQ(lease.status().message().find(leak), absl::string_view::npos) << leak;
  }
  // The operator still learns what happened, and not the password.
  const std::string log = log_.str();
  EXPECT_NE(log.find("postgres_connect_failed"), std::string::npos) << log;
  EXPECT_NE(log.find("127.0.0.1"), std::string::npos) << log;
  EXPECT_NE(log.find(port), std::string::npos) << log;
  EXPECT_EQ(log.find("hunter2"), std::string::npos) << log;
}

}  // namespace
}  // namespace tessera::pg
