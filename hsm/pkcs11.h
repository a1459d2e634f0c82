// The PKCS#11 C API, from p11-kit's header (standard CK_* names).
#pragma once

#include <p11-kit/pkcs11.h>
