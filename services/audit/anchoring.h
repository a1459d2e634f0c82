// A service's audit chain anchored with a key on its own HSM token. Config keys:
//   audit.anchor_key       label of the anchor key on the service's token (default
//                          "audit-anchor"; made there, EC P-256, at the first start)
//   audit.anchor_seconds   how often the chain's head is signed, 1 to 3600 (default 60)
//   audit.public_key_file  where the key's public half is written (PEM, 0644) at each start,
//                          for `tessera audit verify --anchor-key`; optional
#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "audit/pg_chain.h"
#include "hsm/token.h"
#include "platform/clock.h"
#include "platform/config.h"
#include "platform/pg_pool.h"

namespace tessera::audit_service {

class AuditAnchoring {
 public:
  // Loads (or makes) the key, writes its public half, logs its fingerprint (event
  // audit_anchor_key) and starts signing the head of `schema`'s chain.
  static absl::StatusOr<std::unique_ptr<AuditAnchoring>> Start(const Config& config,
                                                               std::shared_ptr<hsm::Token> token,
                                                               pg::ConnectionPool& pool,
                                                               const std::string& schema,
                                                               const Clock& clock);
  void Stop() { anchoring_->Stop(); }

 private:
  AuditAnchoring() = default;
  std::shared_ptr<hsm::Token> token_;
  std::unique_ptr<Botan::Private_Key> key_;
  std::unique_ptr<audit::ChainAnchoring> anchoring_;  // last: it uses the key
};

}  // namespace tessera::audit_service
