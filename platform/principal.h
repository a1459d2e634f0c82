// Who is calling: read from the verified TLS client certificate. The subject's branch of the
// tessera tree says the kind (OU=Servizi: a tessera service, OU=Postazioni: a workstation,
// OU=Operatori: an operator card) and the CN names it. A service may also accept callers that
// have no certificate yet but present a one-off access code it issued (kAccessCode: the name
// is what the code was issued for, e.g. a comune's ISTAT code).
#pragma once

#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace tessera {

enum class PrincipalKind { kService, kWorkstation, kOperator, kAccessCode };
std::string_view PrincipalKindName(PrincipalKind kind);

// The organizational units of each branch, as they appear in certificate subjects.
inline constexpr std::string_view kServicesUnit = "Servizi";
inline constexpr std::string_view kWorkstationsUnit = "Postazioni";
inline constexpr std::string_view kOperatorsUnit = "Operatori";

struct Principal {
  PrincipalKind kind = PrincipalKind::kService;
  // service name, workstation id (ISTAT + progressive), codice fiscale, or what an access
  // code was issued for
  std::string name;
};

// UNAUTHENTICATED when the certificate does not belong to a known branch.
absl::StatusOr<Principal> PrincipalFromCertificatePem(std::string_view pem);

}  // namespace tessera
