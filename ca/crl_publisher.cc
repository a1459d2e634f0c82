#include "ca/crl_publisher.h"

#include "platform/log.h"
#include "platform/status_macros.h"

namespace tessera::ca {

absl::StatusOr<bool> CrlPublisher::PublishIfDue(const Issuer& issuer) {
  const std::string& name = issuer.context().name;
  TESSERA_ASSIGN_OR_RETURN(CrlState state, store_.State(name));
  const auto now = std::chrono::floor<std::chrono::seconds>(clock_.Now());
  const bool due = state.der.empty() || state.revision > state.built_revision ||
                   !state.next_update || now + policy_.refresh_before >= *state.next_update;
  if (!due) return false;

  const auto started = std::chrono::steady_clock::now();
  CrlContent content{.number = static_cast<uint64_t>(state.crl_number + 1),
                     .this_update = now,
                     .next_update = now + policy_.validity};
  // The revision is read before the entries: a revocation committed in between is in this
  // CRL and also leaves the revision ahead, so it is published again, never lost.
  TESSERA_ASSIGN_OR_RETURN(content.entries, store_.RevokedEntries(name, now));
  TESSERA_ASSIGN_OR_RETURN(std::vector<uint8_t> der,
                           SignCrl(content, issuer.certificate(), issuer.key()));
  TESSERA_ASSIGN_OR_RETURN(bool stored, store_.Publish(name, state.revision, content, der));
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                      std::chrono::steady_clock::now() - started)
                      .count();
  LogEvent(spdlog::level::info, stored ? "crl_published" : "crl_publish_lost_race",
           {{"issuer", name},
            {"crl_number", std::to_string(content.number)},
            {"entries", std::to_string(content.entries.size())},
            {"ms", std::to_string(ms)}});
  return stored;
}

absl::StatusOr<int> CrlPublisher::RunOnce() {
  int published = 0;
  for (const auto& [name, issuer] : issuers_) {
    TESSERA_ASSIGN_OR_RETURN(bool stored, PublishIfDue(*issuer));
    published += stored ? 1 : 0;
  }
  return published;
}

}  // namespace tessera::ca
