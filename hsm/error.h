// Turns PKCS#11 return codes into absl::Status values that name the call and the code,
// e.g. "C_Login: CKR_PIN_INCORRECT".
#pragma once

#include <string_view>

#include "absl/status/status.h"
#include "hsm/pkcs11.h"

namespace tessera::hsm {

// "CKR_PIN_INCORRECT" for CKR_PIN_INCORRECT; "CKR_0x..." for codes we do not know.
std::string CkrName(CK_RV rv);

// OK for CKR_OK; otherwise a status whose code reflects what the caller can do about it
// (wrong PIN: PERMISSION_DENIED, missing token: UNAVAILABLE, bad data: INVALID_ARGUMENT).
absl::Status CkStatus(std::string_view call, CK_RV rv);

}  // namespace tessera::hsm
