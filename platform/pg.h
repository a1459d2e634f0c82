// A thin RAII layer over libpq. Values only ever travel as parameters (prepared or PQexecParams):
// no SQL is built from strings with values in them. Errors become statuses that carry the SQLSTATE
// and the primary message only; a failed or lost connection is UNAVAILABLE "database
// unavailable", with libpq's message (host, port, role) in the log and never in the status.
#pragma once

#include <libpq-fe.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "absl/status/statusor.h"
#include "platform/acting_for.h"

namespace tessera::pg {

// One query parameter, sent as text (or binary for bytea); nullopt is SQL NULL.
class Param {
 public:
  Param(std::nullopt_t) {}
  Param(std::string value) : value_(std::move(value)) {}
  Param(const char* value) : value_(value) {}
  Param(std::string_view value) : value_(std::string(value)) {}
  Param(int64_t value) : value_(std::to_string(value)) {}
  Param(int value) : value_(std::to_string(value)) {}
  Param(bool value) : value_(value ? "true" : "false") {}
  static Param Bytes(std::span<const uint8_t> bytes);
  // A text[] value (PostgreSQL's array literal, every element quoted and escaped), for bulk
  // statements over unnest($1::text[], ...): one round trip for thousands of rows.
  static Param TextArray(std::span<const std::string> elements);

  const std::optional<std::string>& value() const { return value_; }
  bool binary() const { return binary_; }

 private:
  std::optional<std::string> value_;
  bool binary_ = false;
};

class Result {
 public:
  explicit Result(PGresult* result) : result_(result, &PQclear) {}
  int rows() const { return PQntuples(result_.get()); }
  int columns() const { return PQnfields(result_.get()); }
  bool IsNull(int row, int column) const { return PQgetisnull(result_.get(), row, column) != 0; }
  std::string_view Text(int row, int column) const {
    return {PQgetvalue(result_.get(), row, column),
            static_cast<size_t>(PQgetlength(result_.get(), row, column))};
  }
  // For columns the query returns as integers (0 if the text is not one).
  int64_t Int(int row, int column) const;
  bool Bool(int row, int column) const { return Text(row, column) == "t"; }
  std::vector<uint8_t> Bytes(int row, int column) const;  // a bytea column
  // Number of rows an INSERT/UPDATE/DELETE touched.
  int64_t AffectedRows() const;

 private:
  std::unique_ptr<PGresult, decltype(&PQclear)> result_;
};

class Connection {
 public:
  // conninfo as libpq takes it, e.g. "host=/tmp/pg port=5432 dbname=tessera user=tessera".
  static absl::StatusOr<std::unique_ptr<Connection>> Open(const std::string& conninfo);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  absl::StatusOr<Result> Exec(std::string_view sql, std::span<const Param> params = {});
  absl::StatusOr<Result> Exec(std::string_view sql, std::initializer_list<Param> params) {
    return Exec(sql, std::span<const Param>(params.begin(), params.size()));
  }
  // Several statements in one round trip (libpq pipeline mode), results in order. The first
  // failure is returned; the statements after it did not run. For the few places where
  // round trips dominate, e.g. BEGIN with a locking SELECT, or an UPDATE with COMMIT.
  struct Statement {
    std::string_view sql;
    std::vector<Param> params;
  };
  absl::StatusOr<std::vector<Result>> ExecPipeline(std::span<const Statement> statements);
  absl::StatusOr<std::vector<Result>> ExecPipeline(std::initializer_list<Statement> statements) {
    return ExecPipeline(std::span<const Statement>(statements.begin(), statements.size()));
  }
  // Runs a script of several statements with no parameters. Only for SQL that the program
  // ships (migrations), never for anything holding a value from outside.
  absl::Status ExecScript(std::string_view script);

  PGconn* raw() const { return conn_; }

  // Makes this connection's session act for `acting_for` (platform/acting_for.h): the audit
  // triggers' tessera.* settings, sent only when they change.
  absl::Status ActFor(const ActingFor& acting_for);

 private:
  explicit Connection(PGconn* conn) : conn_(conn) {}
  absl::StatusOr<Result> Check(PGresult* result, std::string_view what);
  // The prepared statement's name for `query`, preparing it on first use; nullptr for a query
  // without parameters or once the cache is full (then it runs unprepared).
  absl::StatusOr<const std::string*> PreparedName(const std::string& query, int param_count);

  PGconn* conn_;
  // Statements with parameters are prepared once per connection (planning is a large share
  // of a short query's time); by SQL text, bounded so generated SQL cannot grow it forever.
  std::unordered_map<std::string, std::string> prepared_;
  ActingFor acting_for_;  // what the session's tessera.* settings say (empty: nobody)
};

enum class Isolation { kReadCommitted, kRepeatableRead, kSerializable };

// BEGIN on construction; ROLLBACK on destruction unless Commit() succeeded.
class Transaction {
 public:
  static absl::StatusOr<Transaction> Begin(Connection& conn,
                                           Isolation isolation = Isolation::kReadCommitted);
  Transaction(Transaction&& other) noexcept : conn_(other.conn_) { other.conn_ = nullptr; }
  Transaction& operator=(Transaction&&) = delete;
  ~Transaction();
  absl::Status Commit();
  // BEGIN and a first statement (typically SELECT ... FOR UPDATE) in one round trip.
  static absl::StatusOr<std::pair<Transaction, Result>> BeginWith(Connection& conn,
                                                                  Connection::Statement first);
  // A last statement and COMMIT in one round trip. If the statement fails, nothing is
  // committed and the transaction rolls back when it goes out of scope.
  absl::Status CommitWith(Connection::Statement last);
  Connection& conn() { return *conn_; }

 private:
  explicit Transaction(Connection* conn) : conn_(conn) {}
  Connection* conn_;
};

// Quotes an identifier we chose (schema or table name), after checking it is one: lower-case
// letters, digits and underscores, starting with a letter. Never for user input.
absl::StatusOr<std::string> QuoteIdentifier(std::string_view name);

}  // namespace tessera::pg
