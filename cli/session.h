// The person's session the CLI keeps after `tessera login`, and the commands around it. Every
// command sends it (authorization: Bearer …) when it was opened with the machine certificate
// the command connects with; a session about to expire is renewed first.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "cli/common.h"

namespace tessera::cli {

struct StoredSession {
  std::string token;
  std::string session_id;
  std::string codice_fiscale;
  std::string office;
  std::vector<std::string> profiles;
  std::chrono::system_clock::time_point expires_at;
  std::chrono::system_clock::time_point renew_until;
  std::string machine_sha256;   // of the certificate it is bound to, hex
  std::string registry_target;  // where it was opened (renewal, logout)
};

// $TESSERA_SESSION_FILE, else $XDG_CONFIG_HOME/tessera/session.json, else
// ~/.config/tessera/session.json. Written with mode 0600 in a 0700 directory.
std::string SessionFilePath();
// nullopt when there is none.
absl::StatusOr<std::optional<StoredSession>> ReadSession();

// The "Bearer <token>" for a call made with the client certificate `cert_pem`, if the stored
// session is bound to it and current (renewed at the registry first when it has under five
// minutes left); nullopt otherwise.
std::optional<std::string> SessionCredentialFor(const std::string& cert_pem,
                                                const std::string& ca_pem,
                                                const std::string& key_pem);

}  // namespace tessera::cli
