// What several benchmarks measure alike: operations per second on some threads for some
// seconds, and the physical limit of durable commits of the run's PostgreSQL cluster that the
// database-bound benchmarks compare with.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "platform/pg.h"
#include "tests/support/test_pg.h"

namespace tessera::bench {

struct Rate {
  uint64_t operations = 0;
  double seconds = 0;
  double per_second() const { return seconds > 0 ? operations / seconds : 0; }
};

// Runs `op(thread)` on `threads` threads until `seconds` pass; every op counts once.
inline Rate MeasureThreads(int threads, double seconds, const std::function<void(int)>& op) {
  using Clock = std::chrono::steady_clock;
  std::atomic<uint64_t> total{0};
  const auto start = Clock::now();
  const auto deadline = start + std::chrono::duration<double>(seconds);
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      uint64_t count = 0;
      do {
        op(t);
        ++count;
      } while (Clock::now() < deadline);
      total += count;
    });
  }
  for (auto& w : workers) w.join();
  return {total.load(), std::chrono::duration<double>(Clock::now() - start).count()};
}

// Durable single-row commits on `clients` connections for `seconds`, in a database of its own
// (dropped after). Exits when the cluster runs without fsync: a commit rate without it is no
// limit of durable commits.
inline Rate PgCommits(int clients, double seconds) {
  const auto or_die = [](auto value, const char* what) {
    if (!value.ok()) {
      std::fprintf(stderr, "pg commits: %s: %s\n", what, value.status().ToString().c_str());
      std::exit(1);
    }
    return *std::move(value);
  };
  auto& pg = testing::TestPg::Get();
  const std::string database = pg.CreateDatabase();
  const std::string conninfo = pg.ConnInfo(database);
  auto setup = or_die(pg::Connection::Open(conninfo), "connect");
  or_die(setup->Exec("CREATE TABLE commits (id bigserial PRIMARY KEY, client int, payload text)"),
         "create table");
  const pg::Result fsync = or_die(setup->Exec("SHOW fsync"), "fsync");
  if (fsync.Text(0, 0) != "on") {
    std::fprintf(stderr,
                 "pg commits: the PostgreSQL cluster runs with fsync %s; durable commits need "
                 "fsync on\n",
                 std::string(fsync.Text(0, 0)).c_str());
    std::exit(1);
  }
  std::vector<std::unique_ptr<pg::Connection>> conns;
  for (int c = 0; c < clients; ++c)
    conns.push_back(or_die(pg::Connection::Open(conninfo), "connect"));
  const Rate rate = MeasureThreads(clients, seconds, [&](int c) {
    or_die(conns[c]->Exec("INSERT INTO commits (client, payload) VALUES ($1, $2)",
                          {pg::Param(c), pg::Param("a certificate's worth of row")}),
           "insert");
  });
  conns.clear();
  setup.reset();
  pg.DropDatabase(database);
  return rate;
}

}  // namespace tessera::bench
