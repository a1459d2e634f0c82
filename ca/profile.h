// Certificate profiles as data: what the CA puts in each kind of certificate. Loaded from a
// TOML file (deploy/ca/profiles.toml is the default) and validated before the CA starts, so a
// typo in a profile stops start-up instead of producing a bad certificate.
#pragma once

#include <botan/pkix_enums.h>

#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace tessera::ca {

// The organization at the top of every tessera subject, under C=IT.
inline constexpr char kOrganization[] = "Ministero dell'Interno";

// Which subject data a profile's common name is made from.
enum class SubjectKind { kOperator, kWorkstation, kService, kOcspResponder };

struct Profile {
  std::string name;  // "operator", "workstation", "comune_server", ...
  // Name of the issuing CA that signs it ("operators", "workstations"), or kEachIssuer: every
  // issuing CA signs its own (OCSP responders).
  std::string issuer;
  SubjectKind subject_kind = SubjectKind::kOperator;
  // Organizational units from the root of the tree down; the subject is
  // C=IT, O=<organization>, OU=<units[0]>, OU=<units[1]>, ..., CN=<common name>.
  std::string country = "IT";
  std::string organization = kOrganization;
  std::vector<std::string> units;
  // Template with {codice_fiscale}, {istat}, {progressive} (4 digits) or {service}.
  std::string common_name;
  std::vector<std::string> key_usage;           // RFC 5280 names: "digitalSignature", ...
  std::vector<std::string> rsa_key_usage;       // added when the subject key is RSA
  std::vector<std::string> extended_key_usage;  // "clientAuth", "serverAuth", "OCSPSigning"
  int validity_months = 0;         // notAfter = notBefore + months - 1 s (required, or days)
  int validity_days = 0;           // used instead of months when > 0 (OCSP)
  bool ocsp_no_check = false;      // id-pkix-ocsp-nocheck (responder certificates)
  bool subject_alt_names = false;  // DNS/IP SANs from the subject data (TLS services)
  // Workstation profiles: the one progressive this profile is for (comune_server: 99), which
  // no other workstation profile may then use; 0: any progressive not reserved so.
  int progressive = 0;
  // false: only the key ceremony and tessera-ca itself issue it; IssueCertificate refuses it
  // (a service identity or an OCSP signing certificate is never handed out on request).
  bool requestable = true;
  // Service profiles: the service names `tessera ca renew-service` may issue a certificate
  // for (RenewServiceCertificate). Empty: none; the ceremony alone makes them. Only names
  // listed here can be minted on request, so a Ministry CLI cannot make itself another
  // service's identity unless the file says so.
  std::vector<std::string> renewable_services;
};

inline constexpr char kEachIssuer[] = "*";

// The profile of delegated OCSP responder certificates, and the name (CKA_ID on the online
// token, CN) of issuing CA `issuer`'s responder: "ocsp-operators".
inline constexpr char kOcspResponderProfile[] = "ocsp_responder";
inline std::string OcspResponderName(const std::string& issuer) { return "ocsp-" + issuer; }

class ProfileSet {
 public:
  // Parses and validates every profile; errors name the profile and the field.
  static absl::StatusOr<ProfileSet> Parse(const std::string& toml, const std::string& source);
  static absl::StatusOr<ProfileSet> LoadFile(const std::string& path);

  // NOT_FOUND naming the profile when there is none.
  absl::StatusOr<const Profile*> Find(const std::string& name) const;
  // INVALID_ARGUMENT ("subject.progressive: …") when `progressive` is reserved for another
  // workstation profile, or `profile` is reserved for another progressive.
  absl::Status CheckProgressive(const Profile& profile, int progressive) const;
  const std::map<std::string, Profile>& all() const { return profiles_; }

 private:
  std::map<std::string, Profile> profiles_;
};

// RFC 5280 key usage names tessera knows and their bits, in bit order: the one table the
// profile check, the certificate builder and the linter share.
const std::vector<std::pair<std::string, Botan::Key_Constraints>>& KnownKeyUsages();
bool IsKnownKeyUsage(const std::string& name);
// Extended key usage names tessera knows and their OIDs.
const std::map<std::string, std::string>& KnownExtendedKeyUsages();

}  // namespace tessera::ca
