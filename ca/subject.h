// The subject of a certificate, built by the CA from checked data (never copied from a
// request), in the order of the profile: C, O, OU..., CN from the root of the tree down.
#pragma once

#include <botan/pkix_types.h>

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "ca/profile.h"

namespace tessera::ca {

struct SubjectData {
  std::string codice_fiscale;  // operator: normalized codice fiscale
  std::string istat;           // workstation: 6-digit ISTAT code of the comune
  int progressive = 0;         // workstation: 1..9999 (0099 is the comune's own certificate)
  std::string service;         // service, OCSP responder: [a-z0-9-], 1..64
  std::vector<std::string> dns_names;     // profiles with subject_alt_names: host names
  std::vector<std::string> ip_addresses;  // and/or IPv4 addresses
};

// The subjectAltName of a profile that has one: every name checked, at least one required.
absl::StatusOr<Botan::AlternativeName> BuildAlternativeName(const Profile& profile,
                                                            const SubjectData& data);

// INVALID_ARGUMENT naming the field ("subject.codice_fiscale: check character ...") when a
// value the profile needs is missing or malformed.
absl::StatusOr<std::string> RenderCommonName(const Profile& profile, const SubjectData& data);
absl::StatusOr<Botan::X509_DN> BuildSubject(const Profile& profile, const SubjectData& data);

// A DN value tessera will write: 1..64 printable characters, none of the DN metacharacters
// , = + " \ < > ; # and no control characters (they would forge structure in text forms).
absl::Status CheckDnValue(std::string_view field, std::string_view value);

std::vector<uint8_t> EncodeDn(const Botan::X509_DN& dn);

// RFC 2253 text, most specific first: "CN=RSSMRA85T10A562S,OU=Operatori,...,C=IT" (what
// `openssl x509 -subject -nameopt RFC2253` prints).
std::string Rfc2253(const Botan::X509_DN& dn);

}  // namespace tessera::ca
