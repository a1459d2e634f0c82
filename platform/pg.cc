#include "platform/pg.h"

#include <errno.h>  // program_invocation_short_name

#include <cstdlib>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "platform/log.h"
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

// libpq's own words on a failed or lost connection name the server's host, port and the role
// ("connection to server at \"10.0.0.5\", port 5432 failed: FATAL: role \"ca\" ..."): they go
// to the log, for the operator, and callers (and through them RPC clients) get only this.
// The conninfo, which may hold a password, is logged nowhere.
absl::Status Unavailable(std::string_view event, std::string message) {
  while (!message.empty() && (message.back() == '\n' || message.back() == ' ')) {
    message.pop_back();
  }
  LogEvent(spdlog::level::err, event, {{"error", message}});
  return absl::UnavailableError("database unavailable");
}

}  // namespace

Param Param::TextArray(std::span<const std::string> elements) {
  std::string literal = "{";
  for (size_t i = 0; i < elements.size(); ++i) {
    if (i > 0) literal.push_back(',');
    literal.push_back('"');
    for (char c : elements[i]) {
      if (c == '"' || c == '\\') literal.push_back('\\');
      literal.push_back(c);
    }
    literal.push_back('"');
  }
  literal.push_back('}');
  return Param(std::move(literal));
}

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
  // The program's name as the connection's application_name unless conninfo names one: the
  // audit chain names it for changes no caller is recorded for (background work).
  const char* keywords[] = {"dbname", "fallback_application_name", nullptr};
  const char* values[] = {conninfo.c_str(), program_invocation_short_name, nullptr};
  PGconn* conn = PQconnectdbParams(keywords, values, /*expand_dbname=*/1);
  if (conn == nullptr || PQstatus(conn) != CONNECTION_OK) {
    std::string message = conn ? PQerrorMessage(conn) : "out of memory";
    if (conn) PQfinish(conn);
    return Unavailable("postgres_connect_failed", std::move(message));
  }
  return std::unique_ptr<Connection>(new Connection(conn));
}

Connection::~Connection() { PQfinish(conn_); }

absl::Status Connection::ActFor(const ActingFor& acting_for) {
  if (acting_for == acting_for_) return absl::OkStatus();
  absl::StatusOr<Result> set = Exec(
      "SELECT set_config('tessera.actor', $1, false), set_config('tessera.workstation', $2, "
      "false), set_config('tessera.request_id', $3, false)",
      {acting_for.actor, acting_for.workstation, acting_for.request_id});
  if (!set.ok()) return set.status();
  acting_for_ = acting_for;
  return absl::OkStatus();
}

absl::StatusOr<Result> Connection::Check(PGresult* raw, std::string_view what) {
  Result result(raw);
  ExecStatusType status = raw ? PQresultStatus(raw) : PGRES_FATAL_ERROR;
  if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) return result;
  if (raw == nullptr || PQstatus(conn_) != CONNECTION_OK) {
    return Unavailable("postgres_connection_lost",
                       absl::StrCat(std::string(what), ": ", PQerrorMessage(conn_)));
  }
  const char* state = PQresultErrorField(raw, PG_DIAG_SQLSTATE);
  const char* primary = PQresultErrorField(raw, PG_DIAG_MESSAGE_PRIMARY);
  std::string sqlstate = state ? state : "XX000";
  // Only the primary message: DETAIL may echo values (a codice fiscale, a key), not for logs.
  return absl::Status(CodeForSqlState(sqlstate),
                      absl::StrCat("postgres: ", std::string(what), ": SQLSTATE ", sqlstate, ": ",
                                   primary ? primary : "error"));
}

namespace {

// libpq's parallel arrays for one statement's parameters; they point into `params`.
struct ParamArrays {
  explicit ParamArrays(std::span<const Param> params) {
    for (const Param& p : params) {
      values.push_back(p.value() ? p.value()->data() : nullptr);
      lengths.push_back(p.value() ? static_cast<int>(p.value()->size()) : 0);
      formats.push_back(p.binary() ? 1 : 0);
    }
  }
  int count() const { return static_cast<int>(values.size()); }
  std::vector<const char*> values;
  std::vector<int> lengths;
  std::vector<int> formats;
};

}  // namespace

absl::StatusOr<const std::string*> Connection::PreparedName(const std::string& query,
                                                            int param_count) {
  constexpr size_t kMaxPrepared = 256;
  auto prepared = prepared_.find(query);
  if (prepared != prepared_.end()) return &prepared->second;
  if (param_count == 0 || prepared_.size() >= kMaxPrepared) return nullptr;
  std::string name = "tessera_" + std::to_string(prepared_.size() + 1);
  TESSERA_RETURN_IF_ERROR(
      Check(PQprepare(conn_, name.c_str(), query.c_str(), param_count, nullptr), "query").status());
  return &prepared_.emplace(query, std::move(name)).first->second;
}

absl::StatusOr<Result> Connection::Exec(std::string_view sql, std::span<const Param> params) {
  const std::string query(sql);
  const ParamArrays p(params);
  TESSERA_ASSIGN_OR_RETURN(const std::string* name, PreparedName(query, p.count()));
  if (name == nullptr) {
    return Check(PQexecParams(conn_, query.c_str(), p.count(), nullptr, p.values.data(),
                              p.lengths.data(), p.formats.data(), 0),
                 "query");
  }
  return Check(PQexecPrepared(conn_, name->c_str(), p.count(), p.values.data(), p.lengths.data(),
                              p.formats.data(), 0),
               "query");
}

absl::StatusOr<std::vector<Result>> Connection::ExecPipeline(
    std::span<const Statement> statements) {
  // Preparing is synchronous, so it happens before the pipeline (first use only).
  std::vector<std::string> queries;
  std::vector<const std::string*> names;
  for (const Statement& s : statements) {
    queries.emplace_back(s.sql);
    TESSERA_ASSIGN_OR_RETURN(const std::string* name,
                             PreparedName(queries.back(), static_cast<int>(s.params.size())));
    names.push_back(name);
  }
  auto lost = [&](std::string_view when) {
    return Unavailable("postgres_connection_lost",
                       absl::StrCat("pipeline: ", std::string(when), ": ", PQerrorMessage(conn_)));
  };
  if (PQenterPipelineMode(conn_) != 1) return lost("cannot enter pipeline mode");
  bool sent = true;
  for (size_t i = 0; i < statements.size() && sent; ++i) {
    const ParamArrays p(statements[i].params);
    sent = (names[i] == nullptr
                ? PQsendQueryParams(conn_, queries[i].c_str(), p.count(), nullptr, p.values.data(),
                                    p.lengths.data(), p.formats.data(), 0)
                : PQsendQueryPrepared(conn_, names[i]->c_str(), p.count(), p.values.data(),
                                      p.lengths.data(), p.formats.data(), 0)) == 1;
  }
  if (!sent || PQpipelineSync(conn_) != 1) return lost("send failed");

  // Each statement yields one result and then a null; the sync point ends the pipeline.
  // Statements after a failure come back as PGRES_PIPELINE_ABORTED.
  std::vector<Result> results;
  absl::Status first_error;
  int consecutive_nulls = 0;
  while (true) {
    PGresult* raw = PQgetResult(conn_);
    if (raw == nullptr) {
      if (++consecutive_nulls > 1 || PQstatus(conn_) != CONNECTION_OK) {
        return lost("connection lost while reading results");
      }
      continue;
    }
    consecutive_nulls = 0;
    const ExecStatusType status = PQresultStatus(raw);
    if (status == PGRES_PIPELINE_SYNC) {
      PQclear(raw);
      break;
    }
    if (status == PGRES_PIPELINE_ABORTED) {
      PQclear(raw);
      continue;
    }
    absl::StatusOr<Result> result = Check(raw, "query");
    if (result.ok()) {
      results.push_back(std::move(*result));
    } else if (first_error.ok()) {
      first_error = result.status();
    }
  }
  if (PQexitPipelineMode(conn_) != 1) return lost("cannot leave pipeline mode");
  TESSERA_RETURN_IF_ERROR(first_error);
  return results;
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

absl::StatusOr<std::pair<Transaction, Result>> Transaction::BeginWith(Connection& conn,
                                                                      Connection::Statement first) {
  absl::StatusOr<std::vector<Result>> results =
      conn.ExecPipeline({{"BEGIN ISOLATION LEVEL READ COMMITTED", {}}, std::move(first)});
  if (!results.ok()) {
    // BEGIN may have run before the statement failed: leave no transaction open.
    if (PQtransactionStatus(conn.raw()) != PQTRANS_IDLE) (void)conn.Exec("ROLLBACK");
    return results.status();
  }
  return std::pair<Transaction, Result>(Transaction(&conn), std::move(results->back()));
}

absl::Status Transaction::CommitWith(Connection::Statement last) {
  absl::StatusOr<std::vector<Result>> results =
      conn_->ExecPipeline({std::move(last), {"COMMIT", {}}});
  // If the statement failed, COMMIT did not run and the destructor rolls back; otherwise the
  // transaction is over whatever COMMIT said.
  if (results.ok() || PQtransactionStatus(conn_->raw()) == PQTRANS_IDLE) conn_ = nullptr;
  return results.status();
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
