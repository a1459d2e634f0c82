#include "platform/pg.h"

#include <cstdlib>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "platform/status_macros.h"

namespace tessera::pg {
namespace {

// SQLSTATE classes to status codes: the caller can tell a duplicate from a dead server.
absl::StatusCode CodeForSqlState(std::string_view state) {
  if (state == "23505") return absl::StatusCode::kAlreadyExists;                // unique_violation
  if (state == "40001" || state == "40P01") return absl::StatusCode::kAborted;  // retry
  if (state == "57014") return absl::StatusCode::kDeadlineExceeded;             // query_canceled
  if (state.starts_with("23")) return absl::StatusCode::kFailedPrecondition;
  if (state.starts_with("22")) return absl::StatusCode::kInvalidArgument;
  if (state.starts_with("08") || state.starts_with("57") || state.starts_with("53")) {
    return absl::StatusCode::kUnavailable;
  }
  return absl::StatusCode::kInternal;
}

}  // namespace

Param Param::Bytes(std::span<const uint8_t> bytes) {
  Param p(std::string(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
  p.binary_ = true;
  return p;
}

int64_t Result::Int(int row, int column) const {
  int64_t value = 0;
  std::string text(Text(row, column));
  if (!absl::SimpleAtoi(text, &value)) return 0;
  return value;
}

std::vector<uint8_t> Result::Bytes(int row, int column) const {
  size_t length = 0;
  unsigned char* raw = PQunescapeBytea(
      reinterpret_cast<const unsigned char*>(PQgetvalue(result_.get(), row, column)), &length);
  if (raw == nullptr) return {};
  std::vector<uint8_t> bytes(raw, raw + length);
  PQfreemem(raw);
  return bytes;
}

int64_t Result::AffectedRows() const {
  int64_t value = 0;
  if (!absl::SimpleAtoi(PQcmdTuples(result_.get()), &value)) return 0;
  return value;
}

absl::StatusOr<std::unique_ptr<Connection>> Connection::Open(const std::string& conninfo) {
  PGconn* conn = PQconnectdb(conninfo.c_str());
  if (conn == nullptr || PQstatus(conn) != CONNECTION_OK) {
    std::string message = conn ? PQerrorMessage(conn) : "out of memory";
    if (conn) PQfinish(conn);
    while (!message.empty() && message.back() == '\n') message.pop_back();
    return absl::UnavailableError(absl::StrCat("postgres: cannot connect: ", message));
  }
  return std::unique_ptr<Connection>(new Connection(conn));
}

Connection::~Connection() { PQfinish(conn_); }

absl::StatusOr<Result> Connection::Check(PGresult* raw, std::string_view what) {
  Result result(raw);
  ExecStatusType status = raw ? PQresultStatus(raw) : PGRES_FATAL_ERROR;
  if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) return result;
  if (raw == nullptr || PQstatus(conn_) != CONNECTION_OK) {
    return absl::UnavailableError(absl::StrCat("postgres: ", std::string(what),
                                               ": connection lost: ", PQerrorMessage(conn_)));
  }
  const char* state = PQresultErrorField(raw, PG_DIAG_SQLSTATE);
  const char* primary = PQresultErrorField(raw, PG_DIAG_MESSAGE_PRIMARY);
  std::string sqlstate = state ? state : "XX000";
  // Only the primary message: DETAIL may echo values (a codice fiscale, a key), not for logs.
  return absl::Status(CodeForSqlState(sqlstate),
                      absl::StrCat("postgres: ", std::string(what), ": SQLSTATE ", sqlstate, ": ",
                                   primary ? primary : "error"));
}

absl::StatusOr<Result> Connection::Exec(std::string_view sql, std::span<const Param> params) {
  std::vector<const char*> values;
  std::vector<int> lengths;
  std::vector<int> formats;
  for (const Param& p : params) {
    values.push_back(p.value() ? p.value()->data() : nullptr);
    lengths.push_back(p.value() ? static_cast<int>(p.value()->size()) : 0);
    formats.push_back(p.binary() ? 1 : 0);
  }
  std::string query(sql);
  const int count = static_cast<int>(params.size());
  constexpr size_t kMaxPrepared = 256;
  auto prepared = prepared_.find(query);
  if (prepared == prepared_.end() && count > 0 && prepared_.size() < kMaxPrepared) {
    std::string name = "tessera_" + std::to_string(prepared_.size() + 1);
    TESSERA_RETURN_IF_ERROR(
        Check(PQprepare(conn_, name.c_str(), query.c_str(), count, nullptr), "query").status());
    prepared = prepared_.emplace(query, std::move(name)).first;
  }
  if (prepared == prepared_.end()) {
    return Check(PQexecParams(conn_, query.c_str(), count, nullptr, values.data(), lengths.data(),
                              formats.data(), 0),
                 "query");
  }
  return Check(PQexecPrepared(conn_, prepared->second.c_str(), count, values.data(), lengths.data(),
                              formats.data(), 0),
               "query");
}

absl::Status Connection::ExecScript(std::string_view script) {
  std::string text(script);
  return Check(PQexec(conn_, text.c_str()), "script").status();
}

absl::StatusOr<Transaction> Transaction::Begin(Connection& conn, Isolation isolation) {
  const char* begin = "BEGIN ISOLATION LEVEL READ COMMITTED";
  if (isolation == Isolation::kRepeatableRead) begin = "BEGIN ISOLATION LEVEL REPEATABLE READ";
  if (isolation == Isolation::kSerializable) begin = "BEGIN ISOLATION LEVEL SERIALIZABLE";
  TESSERA_RETURN_IF_ERROR(conn.Exec(begin).status());
  return Transaction(&conn);
}

Transaction::~Transaction() {
  if (conn_ != nullptr) (void)conn_->Exec("ROLLBACK");
}

absl::Status Transaction::Commit() {
  Connection* conn = conn_;
  conn_ = nullptr;  // whatever COMMIT says, the transaction is over
  return conn->Exec("COMMIT").status();
}

absl::StatusOr<std::string> QuoteIdentifier(std::string_view name) {
  bool ok = !name.empty() && name.size() <= 63 && name[0] >= 'a' && name[0] <= 'z';
  for (char c : name) {
    ok = ok && ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_');
  }
  if (!ok) {
    return absl::InvalidArgumentError(
        "identifier: must be 1-63 of [a-z0-9_], starting with a letter");
  }
  return absl::StrCat("\"", std::string(name), "\"");
}

}  // namespace tessera::pg
