// Whether a caller's certificate still opens the door. Every service asks on every call, after
// the TLS handshake and before the policy table, so a certificate revoked while its connection
// stays open is refused from its next call. tessera-ca answers from its own records
// (ca/caller_revocation.h); every other service from the issuing CAs' CRLs
// (platform/crl_revocation.h).
#pragma once

#include "absl/status/status.h"
#include "platform/principal.h"

namespace tessera {

class RevocationCheck {
 public:
  virtual ~RevocationCheck() = default;

  // OK if the caller's certificate (caller.issuer + caller.serial) is not revoked.
  // UNAUTHENTICATED if it is; UNAVAILABLE when its status cannot be known now (database down,
  // a CRL past its nextUpdate): the door stays shut rather than guess.
  virtual absl::Status Check(const Principal& caller) = 0;

  // True if Check may wait on I/O: gRPC then runs the policy check off its I/O threads.
  virtual bool MayBlock() const = 0;

  // OK while every answer Check gives is current; otherwise why not (the health status).
  virtual absl::Status Health() const = 0;
};

}  // namespace tessera
