// A service's audit chain as PostgreSQL keeps it (audit/chain.sql, included by the service's
// migrations): records written by triggers in the same transaction as each change, chained at
// COMMIT. Here: reading the chain back, verifying it, and anchoring its head with a key on the
// service's HSM token, every so often.
#pragma once

#include <botan/pk_keys.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "audit/chain.h"
#include "platform/clock.h"
#include "platform/periodic.h"
#include "platform/pg.h"
#include "platform/pg_pool.h"

namespace tessera::audit {

// The records of `schema`'s chain in sequence order, and its anchors (chain = schema).
absl::StatusOr<std::vector<AuditRecord>> ReadRecords(pg::Connection& conn,
                                                     const std::string& schema);
absl::StatusOr<std::vector<Anchor>> ReadAnchors(pg::Connection& conn, const std::string& schema);

// Chains up to `max_records` changes that committed since the last call (audit_chain_pending
// in chain.sql, in rounds of 1,000); how many.
absl::StatusOr<int> ChainPending(pg::Connection& conn, const std::string& schema,
                                 int max_records = 10000);

struct StoredChainReport {
  ChainReport chain;
  int64_t pending = 0;  // changes committed but not chained yet
};
// ReadRecords + ReadAnchors + VerifyChain, in one repeatable-read snapshot.
absl::StatusOr<StoredChainReport> VerifyStoredChain(pg::Connection& conn, const std::string& schema,
                                                    const Botan::Public_Key& anchor_key);

// Chains what is pending, then signs the chain's last record with `key` and stores the anchor,
// unless it is anchored already. Returns the sequence anchored, 0 when there was nothing new. Two
// replicas doing so at once store one anchor.
absl::StatusOr<int64_t> AnchorHead(pg::ConnectionPool& pool, const std::string& schema,
                                   const Botan::Private_Key& key, const Clock& clock);

// ChainPending every `chain_period` and AnchorHead every `anchor_period`, on background
// threads, from Start() until destruction.
class ChainAnchoring {
 public:
  ChainAnchoring(pg::ConnectionPool& pool, std::string schema, const Botan::Private_Key& key,
                 const Clock& clock, std::chrono::milliseconds anchor_period,
                 std::chrono::milliseconds chain_period = std::chrono::milliseconds(250));
  void Start() {
    chain_task_.Start();
    anchor_task_.Start();
  }
  void Stop() {
    anchor_task_.Stop();
    chain_task_.Stop();
  }

 private:
  pg::ConnectionPool& pool_;
  const std::string schema_;
  const Botan::Private_Key& key_;
  const Clock& clock_;
  PeriodicTask chain_task_;  // last two: their threads use the members above
  PeriodicTask anchor_task_;
};

}  // namespace tessera::audit
