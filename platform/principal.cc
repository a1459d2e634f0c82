#include "platform/principal.h"

#include <botan/data_src.h>
#include <botan/pkix_types.h>
#include <botan/x509cert.h>

#include "absl/strings/str_cat.h"

namespace tessera {

std::string_view PrincipalKindName(PrincipalKind kind) {
  switch (kind) {
    case PrincipalKind::kService:
      return "service";
    case PrincipalKind::kWorkstation:
      return "workstation";
    case PrincipalKind::kOperator:
      return "operator";
    case PrincipalKind::kAccessCode:
      return "access_code";
  }
  return "unknown";
}

absl::StatusOr<Principal> PrincipalFromCertificatePem(std::string_view pem) {
  try {
    Botan::DataSource_Memory source(reinterpret_cast<const uint8_t*>(pem.data()), pem.size());
    Botan::X509_Certificate cert(source);
    const Botan::X509_DN& subject = cert.subject_dn();
    const std::string common_name = subject.get_first_attribute("X520.CommonName");
    if (common_name.empty()) {
      return absl::UnauthenticatedError("client certificate: subject has no CN");
    }
    for (const std::string& unit : subject.get_attribute("X520.OrganizationalUnit")) {
      if (unit == kServicesUnit) return Principal{PrincipalKind::kService, common_name};
      if (unit == kWorkstationsUnit) return Principal{PrincipalKind::kWorkstation, common_name};
      if (unit == kOperatorsUnit) return Principal{PrincipalKind::kOperator, common_name};
    }
    return absl::UnauthenticatedError(
        "client certificate: subject is in no known branch (OU=Servizi, Postazioni, Operatori)");
  } catch (const std::exception& e) {
    return absl::UnauthenticatedError(absl::StrCat("client certificate: unreadable: ", e.what()));
  }
}

}  // namespace tessera
