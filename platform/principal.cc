#include "platform/principal.h"

#include <botan/data_src.h>
#include <botan/hash.h>
#include <botan/hex.h>
#include <botan/pk_keys.h>
#include <botan/pkix_types.h>

#include <algorithm>
#include <filesystem>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "platform/clock.h"
#include "platform/files.h"
#include "platform/status_macros.h"

namespace tessera {
namespace {

absl::StatusOr<PrincipalKind> KindFromName(std::string_view name) {
  for (PrincipalKind kind :
       {PrincipalKind::kService, PrincipalKind::kWorkstation, PrincipalKind::kOperator}) {
    if (PrincipalKindName(kind) == name) return kind;
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "'", std::string(name), "' is no kind of caller (service, operator, workstation)"));
}

absl::StatusOr<PrincipalKind> KindFromUnits(const Botan::X509_DN& subject) {
  for (const std::string& unit : subject.get_attribute("X520.OrganizationalUnit")) {
    if (unit == kServicesUnit) return PrincipalKind::kService;
    if (unit == kWorkstationsUnit) return PrincipalKind::kWorkstation;
    if (unit == kOperatorsUnit) return PrincipalKind::kOperator;
  }
  return absl::UnauthenticatedError(
      "client certificate: subject is in no known branch (OU=Servizi, Postazioni, Operatori)");
}

}  // namespace

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

std::string CertificateSha256(const Botan::X509_Certificate& certificate) {
  auto hash = Botan::HashFunction::create_or_throw("SHA-256");
  return Botan::hex_encode(hash->process(certificate.BER_encode()), false);
}

bool PersonSession::Holds(std::string_view profile, std::string_view office_kind) const {
  const bool office_ok = office == office_kind ||
                         (office.size() > office_kind.size() && office.starts_with(office_kind) &&
                          office[office_kind.size()] == ':');
  return office_ok && std::find(profiles.begin(), profiles.end(), profile) != profiles.end();
}

std::string SerialHex(const std::vector<uint8_t>& big_endian) {
  std::string hex = absl::AsciiStrToLower(Botan::hex_encode(big_endian));
  const size_t first = hex.find_first_not_of('0');
  return first == std::string::npos ? "0" : hex.substr(first);
}

absl::StatusOr<ClientTrust> ClientTrust::Load(const std::string& pki_dir,
                                              const std::string& names) {
  std::vector<TrustedIssuer> issuers;
  for (absl::string_view entry : absl::StrSplit(names, ',', absl::SkipWhitespace())) {
    std::vector<std::string> parts = absl::StrSplit(entry, '=');
    if (parts.size() != 2) {
      return absl::InvalidArgumentError(
          absl::StrCat("trust.issuers: '", std::string(entry), "' is not kind=ca_name"));
    }
    const std::string kind_name(absl::StripAsciiWhitespace(parts[0]));
    const std::string ca_name(absl::StripAsciiWhitespace(parts[1]));
    absl::StatusOr<PrincipalKind> kind = KindFromName(kind_name);
    if (!kind.ok())
      return absl::InvalidArgumentError("trust.issuers: " + std::string(kind.status().message()));
    auto same = std::find_if(issuers.begin(), issuers.end(),
                             [&](const TrustedIssuer& i) { return i.name == ca_name; });
    if (same == issuers.end()) {
      const std::string path = (std::filesystem::path(pki_dir) / (ca_name + ".pem")).string();
      TESSERA_ASSIGN_OR_RETURN(std::string pem, ReadFile(path));
      try {
        Botan::DataSource_Memory source(pem);
        auto certificate = std::make_shared<const Botan::X509_Certificate>(source);
        if (!certificate->is_CA_cert()) {
          return absl::InvalidArgumentError(absl::StrCat(path, ": not a CA certificate"));
        }
        issuers.push_back({ca_name, std::move(certificate), {}});
      } catch (const std::exception& e) {
        return absl::InvalidArgumentError(absl::StrCat(path, ": not a certificate: ", e.what()));
      }
      same = issuers.end() - 1;
    }
    same->kinds.push_back(*kind);
  }
  if (issuers.empty()) return absl::InvalidArgumentError("trust.issuers: no issuing CA named");
  return ClientTrust(std::move(issuers));
}

absl::StatusOr<CertificateCaller> ClientTrust::Identify(std::string_view pem) const {
  try {
    Botan::DataSource_Memory source(reinterpret_cast<const uint8_t*>(pem.data()), pem.size());
    return Identify(Botan::X509_Certificate(source));
  } catch (const std::exception& e) {
    return absl::UnauthenticatedError(absl::StrCat("client certificate: unreadable: ", e.what()));
  }
}

absl::StatusOr<CertificateCaller> ClientTrust::Verify(
    const Botan::X509_Certificate& certificate, std::chrono::system_clock::time_point now) const {
  TESSERA_ASSIGN_OR_RETURN(CertificateCaller caller, Identify(certificate));
  auto issuer = std::find_if(issuers_.begin(), issuers_.end(), [&](const TrustedIssuer& i) {
    return i.name == caller.principal.issuer;
  });
  try {
    std::unique_ptr<Botan::Public_Key> key(issuer->certificate->subject_public_key());
    if (!certificate.check_signature(*key)) {
      return absl::UnauthenticatedError(absl::StrCat(
          "certificate: its signature does not verify with CA '", issuer->name, "''s key"));
    }
  } catch (const std::exception& e) {
    return absl::UnauthenticatedError(absl::StrCat("certificate: unverifiable: ", e.what()));
  }
  if (now < certificate.not_before().to_std_timepoint()) {
    return absl::UnauthenticatedError("certificate: not valid yet");
  }
  if (now >= caller.not_after) {
    return absl::UnauthenticatedError(
        absl::StrCat("certificate: expired at ", UtcText(caller.not_after)));
  }
  return caller;
}

absl::StatusOr<CertificateCaller> ClientTrust::Identify(const Botan::X509_Certificate& cert) const {
  try {
    const Botan::X509_DN& subject = cert.subject_dn();
    const std::string common_name = subject.get_first_attribute("X520.CommonName");
    if (common_name.empty()) {
      return absl::UnauthenticatedError("client certificate: subject has no CN");
    }
    TESSERA_ASSIGN_OR_RETURN(PrincipalKind kind, KindFromUnits(subject));
    // The handshake verified the chain to some CA of the bundle; which one is read from the
    // issuer name and key identifier, and it must be the one trusted for this kind.
    const TrustedIssuer* issuer = nullptr;
    for (const TrustedIssuer& candidate : issuers_) {
      if (cert.issuer_dn() == candidate.certificate->subject_dn() &&
          (cert.authority_key_id().empty() ||
           cert.authority_key_id() == candidate.certificate->subject_key_id())) {
        issuer = &candidate;
        break;
      }
    }
    if (issuer == nullptr) {
      return absl::UnauthenticatedError(absl::StrCat(
          "client certificate: issued by '", cert.issuer_dn().get_first_attribute("CN"),
          "', which is no issuing CA of tessera callers"));
    }
    if (std::find(issuer->kinds.begin(), issuer->kinds.end(), kind) == issuer->kinds.end()) {
      return absl::UnauthenticatedError(
          absl::StrCat("client certificate: a ", std::string(PrincipalKindName(kind)),
                       " certificate issued by CA '", issuer->name, "', which does not certify ",
                       std::string(PrincipalKindName(kind)), "s"));
    }
    return CertificateCaller{
        .principal = {kind, common_name, issuer->name, SerialHex(cert.serial_number())},
        .not_after = cert.not_after().to_std_timepoint(),
        .sha256 = CertificateSha256(cert)};
  } catch (const std::exception& e) {
    return absl::UnauthenticatedError(absl::StrCat("client certificate: unreadable: ", e.what()));
  }
}

}  // namespace tessera
