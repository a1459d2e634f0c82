// Issuance batches (docs/process.md, "Personalization batches"): a Ministry operator names the
// orders a batch takes (a province's, a comune's, a list), runs it, pauses, resumes, cancels
// it; the readers of every daemon sharing the database work on every running batch and record
// each order's outcome against it, so that any daemon can say how far a batch is. A batch
// finishes when tessera-registry has no open order left in its reach.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "platform/actor.h"
#include "platform/clock.h"

namespace tessera::personalization {

enum class BatchState { kCreated, kRunning, kPaused, kCancelled, kFinished };
// "created", "running", …: as the database and the log name a state.
std::string_view BatchStateName(BatchState state);
std::optional<BatchState> BatchStateNamed(std::string_view name);

// Which orders a batch takes (tessera-registry's ClaimOrders reach).
struct BatchReach {
  std::string province_sigla;       // a province's orders, or
  std::string istat;                // one comune's or prefettura's
  std::vector<std::string> orders;  // and/or only these card numbers and common ids
};

// One reader of one daemon, as it last said (a beat every few seconds while it lives).
struct ReaderStatus {
  std::string station;  // the daemon's name
  int reader = 0;
  int64_t batch_id = 0;     // 0: idle
  std::string card_number;  // empty: idle
  std::string step;         // the step under way
  std::string waiting_for;  // why it cannot go on now, empty while it works
  std::chrono::system_clock::time_point card_since{}, beat_at{};
};

struct BatchProgress {
  int cards_produced = 0, cards_failed = 0;
  int workstations_produced = 0, workstations_failed = 0;
  int open_orders = -1;         // at tessera-registry when last asked; -1 not yet known
  double cards_per_second = 0;  // over the last minute
  std::vector<std::string> recent_failures;  // "<order>: <why>", newest first, at most 10
};

struct Batch {
  int64_t id = 0;
  std::string name;
  BatchReach reach;
  BatchState state = BatchState::kCreated;
  std::string created_by;
  std::chrono::system_clock::time_point created_at{}, updated_at{};
  BatchProgress progress;
  std::vector<ReaderStatus> readers;  // those on this batch now (GetBatch, WatchBatch)
};

// What an operator's act on batches is: the caller and the idempotency key.
struct BatchRequest {
  Actor actor;
  std::string request_id;
};

enum class BatchAction { kRun, kPause, kCancel };

// One order's end as a reader records it against its batch.
struct OrderResult {
  int64_t batch_id = 0;
  bool card = true;
  std::string order;               // card number or common id
  std::string certificate_serial;  // produced; else empty
  std::string failure;             // failed for good; else empty
  // A card's holder and ordering office, for its lot (CardToMake).
  std::string codice_fiscale, surname, name, office, office_name, province_sigla;
};

class BatchStore {
 public:
  virtual ~BatchStore() = default;

  // The batch, new, or the one created before with this request id (`repeated`);
  // ALREADY_EXISTS if that id was used for another name or reach or another act.
  struct Created {
    Batch batch;
    bool repeated = false;
  };
  virtual absl::StatusOr<Created> Create(const std::string& name, const BatchReach& reach,
                                         const BatchRequest& request, Clock::TimePoint now) = 0;
  // Moves the batch from `from` to `to` if it is in `from` (FAILED_PRECONDITION naming its
  // state otherwise; NOT_FOUND for an unknown id), recording the act under its request id; a
  // retry of the same act on the same batch is answered OK without a change.
  virtual absl::Status ChangeState(int64_t id, const std::vector<BatchState>& from, BatchState to,
                                   BatchAction action, const BatchRequest& request,
                                   Clock::TimePoint now) = 0;
  // NOT_FOUND for an unknown id. With its progress and the readers that beat since `live_since`.
  virtual absl::StatusOr<Batch> Get(int64_t id, Clock::TimePoint live_since,
                                    Clock::TimePoint now) = 0;
  // Newest first, without readers; the ended ones (latest 100) only if asked.
  virtual absl::StatusOr<std::vector<Batch>> List(bool include_ended) = 0;

  // For the readers: running batches, oldest first.
  virtual absl::StatusOr<std::vector<Batch>> Running() = 0;
  // An order's outcome against its batch: once per order (a repeat is a no-op).
  virtual absl::Status RecordResult(const OrderResult& result, Clock::TimePoint now) = 0;
  // The registry's count of open orders in the batch's reach; at 0 a running or paused batch
  // is finished.
  virtual absl::Status RecordOpenOrders(int64_t id, int open, Clock::TimePoint now) = 0;
  virtual absl::Status Beat(const ReaderStatus& reader) = 0;
};

// The rules of batches: what a name and a reach may be, and which act is allowed in which
// state. Every change goes through here.
class Batches {
 public:
  Batches(BatchStore& store, const Clock& clock) : store_(store), clock_(clock) {}

  absl::StatusOr<BatchStore::Created> Create(const std::string& name, const BatchReach& reach,
                                             const BatchRequest& request);
  // Run also resumes a paused batch.
  absl::StatusOr<Batch> Change(int64_t id, BatchAction action, const BatchRequest& request);
  absl::StatusOr<Batch> Get(int64_t id);
  absl::StatusOr<std::vector<Batch>> List(bool include_ended) { return store_.List(include_ended); }

  // A reader that has not beaten for this long is not shown (its daemon died or stopped).
  static constexpr std::chrono::seconds kReaderSilence{30};

 private:
  BatchStore& store_;
  const Clock& clock_;
};

// INVALID_ARGUMENT naming the field: a sigla is two capital letters, an ISTAT code 6 digits,
// at most one of the two, at most 1000 orders each a card number (16 digits) or a common id
// (10). Whether the province or comune exists is tessera-registry's answer at the first claim.
absl::Status CheckReach(const BatchReach& reach);

}  // namespace tessera::personalization
