// SoftHSM's file store, as the personalization daemon archives produced cards out of it.
// SoftHSM keeps each token in a sub-directory of its token directory (SOFTHSM2_CONF's
// `directories.tokendir`), named by a UUID whose last two groups are the token's serial
// number. A process's SoftHSM reads that directory once, at C_Initialize, and then holds every
// token: a token's directory moved out while the module is loaded leaves a slot that fails
// (C_GetTokenInfo answers CKR_GENERAL_ERROR), so the process must not use that slot again
// (hsm::Module::Retire), or the module is finalized while tokens move.
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "hsm/module.h"

namespace tessera::hsm {

// A token of SoftHSM (its manufacturer field).
bool IsSoftHsm(const TokenInfo& token);

// The token directory of the SoftHSM configuration this process uses (SOFTHSM2_CONF, else
// /etc/softhsm/softhsm2.conf).
absl::StatusOr<std::string> SoftHsmTokenDirectory();

// The directory of the token whose serial is `serial` in `token_directory`; NOT_FOUND if none.
absl::StatusOr<std::string> FindSoftHsmToken(const std::string& token_directory,
                                             const std::string& serial);

// Moves the directory of the token whose serial is `serial` out of `token_directory` into
// `destination` (created if missing) as `name` (SoftHSM reads a token from a directory of any
// name), by rename, or by copy then removal when the two are on different file systems.
// NOT_FOUND if no directory of the store has that serial.
absl::Status MoveSoftHsmToken(const std::string& token_directory, const std::string& serial,
                              const std::string& destination, const std::string& name);

}  // namespace tessera::hsm
