// Batches in PostgreSQL (schema "perso", migrations/V002__batches.sql).
#pragma once

#include "personalization/batches.h"
#include "platform/pg_pool.h"

namespace tessera::personalization {

class PgBatchStore final : public BatchStore {
 public:
  explicit PgBatchStore(pg::ConnectionPool& pool) : pool_(pool) {}

  absl::StatusOr<Created> Create(const std::string& name, const BatchReach& reach,
                                 const BatchRequest& request, Clock::TimePoint now) override;
  absl::Status ChangeState(int64_t id, const std::vector<BatchState>& from, BatchState to,
                           BatchAction action, const BatchRequest& request,
                           Clock::TimePoint now) override;
  absl::StatusOr<Batch> Get(int64_t id, Clock::TimePoint live_since, Clock::TimePoint now) override;
  absl::StatusOr<std::vector<Batch>> List(bool include_ended) override;
  absl::StatusOr<std::vector<Batch>> Running() override;
  absl::Status RecordResult(const OrderResult& result, Clock::TimePoint now) override;
  absl::Status RecordOpenOrders(int64_t id, int open, Clock::TimePoint now) override;
  absl::Status Beat(const ReaderStatus& reader) override;

 private:
  pg::ConnectionPool& pool_;
};

}  // namespace tessera::personalization
