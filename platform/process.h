// Keeping a process's secrets (PINs, passwords, access codes) inside it: no core dumps, no
// ptrace by other processes of the same user, and secrets taken out of the environment, where
// children and /proc/<pid>/environ would otherwise see them.
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "platform/secret.h"

namespace tessera {

// prctl(PR_SET_DUMPABLE, 0) (no core dump, no ptrace attach, /proc/<pid>/mem and environ
// closed to the user's other processes) and RLIMIT_CORE 0. Call it first thing in main().
absl::Status HardenProcess();

// The secret in environment variable `name`, taken: the value is overwritten in place (for a
// variable present at exec, that is the copy /proc/<pid>/environ shows) and the variable is
// unset, so neither this process's later readers nor its children see it.
// With `<name>_FILE` set instead (systemd's LoadCredential, e.g.
// TESSERA_CA_PIN_FILE=/run/credentials/tessera-ca.service/pin) the secret is that file's first
// line; a file that group or others may read is refused (FAILED_PRECONDITION).
// NOT_FOUND when neither is set; INVALID_ARGUMENT when both are, or the secret is empty.
absl::StatusOr<Secret> TakeSecretFromEnv(const char* name);

// This machine's host name; `otherwise` when it has none.
std::string HostName(const std::string& otherwise);

}  // namespace tessera
