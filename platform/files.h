// Reading and writing whole files with errors as statuses.
//
// Where a write goes depends on what the path is when it is written:
//   - "-": standard output;
//   - a new path or a regular file: written atomically, i.e. a temporary file with a random
//     name in the same directory (created exclusively, never through a symlink, with its final
//     mode from the moment it exists), fsync'd, renamed over the path, and the directory
//     fsync'd. A key file is never readable by others, not even briefly, a reader never sees
//     half of it, and another user cannot pre-create or symlink the temporary name;
//   - a character device, FIFO or socket (e.g. /dev/null): written through, never replaced
//     by a regular file;
//   - a symlink (ordinary files only; a secret refuses one): /dev/stdout or any other name of
//     what fd 1 is goes to fd 1; a link to a device, FIFO or socket is written through; a link
//     to a regular file has its target replaced atomically and stays a link.
#pragma once

#include <sys/types.h>

#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace tessera {

absl::StatusOr<std::string> ReadFile(const std::string& path);

// For certificates, CRLs, requests, port files: anything others may read.
absl::Status WriteFile(const std::string& path, std::string_view content, mode_t mode = 0644);

// For keys, PKCS#12 files, passwords: mode 0600, and only to "-" or a new or regular file;
// a symlink, device, FIFO or socket at the path is FAILED_PRECONDITION (a copy of the secret
// could end up anywhere) and nothing is written.
absl::Status WriteSecretFile(const std::string& path, std::string_view content);

// A directory only its owner may enter (0700), for files with secrets: created with its parents
// if missing; one that exists must be a directory that group and others cannot read
// (FAILED_PRECONDITION naming the mode otherwise).
absl::Status MakePrivateDirectory(const std::string& path);

}  // namespace tessera
