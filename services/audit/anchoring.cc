#include "services/audit/anchoring.h"

#include <botan/hash.h>
#include <botan/hex.h>
#include <botan/x509_key.h>

#include "absl/strings/str_cat.h"
#include "hsm/token_key.h"
#include "platform/files.h"
#include "platform/log.h"
#include "platform/status_macros.h"

namespace tessera::audit_service {

absl::StatusOr<std::unique_ptr<AuditAnchoring>> AuditAnchoring::Start(
    const Config& config, std::shared_ptr<hsm::Token> token, pg::ConnectionPool& pool,
    const std::string& schema, const Clock& clock) {
  TESSERA_ASSIGN_OR_RETURN(std::string label, config.StringOr("audit.anchor_key", "audit-anchor"));
  TESSERA_ASSIGN_OR_RETURN(int64_t seconds, config.IntOr("audit.anchor_seconds", 60));
  TESSERA_ASSIGN_OR_RETURN(std::string public_key_file,
                           config.StringOr("audit.public_key_file", ""));
  if (seconds < 1 || seconds > 3600) {
    return absl::InvalidArgumentError("audit.anchor_seconds: 1 to 3600");
  }
  absl::StatusOr<hsm::OwnKey> key = hsm::LoadOrMakeOwnKey(token, label);
  if (!key.ok()) {
    return absl::Status(key.status().code(),
                        absl::StrCat("audit.anchor_key '", label, "': ", key.status().message()));
  }
  const std::vector<uint8_t> spki = Botan::X509::BER_encode(*key->key);
  const std::string fingerprint =
      Botan::hex_encode(Botan::HashFunction::create_or_throw("SHA-256")->process(spki));
  if (!public_key_file.empty()) {
    TESSERA_RETURN_IF_ERROR(WriteFile(public_key_file, Botan::X509::PEM_encode(*key->key)));
  }
  LogEvent(spdlog::level::info, "audit_anchor_key",
           {{"label", label},
            {"made", key->made ? "true" : "false"},
            {"sha256", fingerprint},
            {"public_key_file", public_key_file.empty() ? "-" : public_key_file}});
  std::unique_ptr<AuditAnchoring> started(new AuditAnchoring());
  started->token_ = std::move(token);
  started->key_ = std::move(key->key);
  started->anchoring_ = std::make_unique<audit::ChainAnchoring>(pool, schema, *started->key_, clock,
                                                                std::chrono::seconds(seconds));
  started->anchoring_->Start();
  return started;
}

}  // namespace tessera::audit_service
