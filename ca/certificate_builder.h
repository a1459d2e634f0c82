// Turns a profile, checked subject data and a subject public key into the exact certificate
// the CA will sign (a plan). Signing goes through ca::Issuer only (issuer.h: lint, then sign);
// the TBSCertificate encoding and the raw signing it uses are ca/internal/tbs.h.
#pragma once

#include <botan/bigint.h>
#include <botan/pk_keys.h>
#include <botan/pkix_types.h>
#include <botan/rng.h>
#include <botan/x509cert.h>

#include <chrono>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "ca/profile.h"
#include "ca/subject.h"

namespace tessera::ca {

// The issuing CA as leaves point at it.
struct IssuerContext {
  std::string name;  // "operators", "workstations"
  const Botan::X509_Certificate* certificate = nullptr;
  std::string crl_url;         // CRL distribution point, http://…/crl/<name>.crl
  std::string ocsp_url;        // http://…/ocsp
  std::string ca_issuers_url;  // http://…/ca/<name>.crt

  // The URLs tessera-ca serves at `base_url` for the CA called `name`.
  static IssuerContext ForBaseUrl(const std::string& name, const std::string& base_url) {
    return {.name = name,
            .crl_url = base_url + "/crl/" + name + ".crl",
            .ocsp_url = base_url + "/ocsp",
            .ca_issuers_url = base_url + "/ca/" + name + ".crt"};
  }
};

struct CertificatePlan {
  const Profile* profile = nullptr;
  Botan::BigInt serial;
  Botan::X509_DN subject;
  std::vector<uint8_t> subject_public_key;  // SubjectPublicKeyInfo, DER
  std::string subject_key_algorithm;        // "ECDSA" or "RSA"
  std::chrono::system_clock::time_point not_before;
  std::chrono::system_clock::time_point not_after;
  Botan::Extensions extensions;
};

// A fresh serial: 128 bits from the CSPRNG with the top bit clear (positive, at most 16
// octets in DER) and never below 2^64 (so it always carries at least 64 random bits' width).
Botan::BigInt RandomSerial(Botan::RandomNumberGenerator& rng);

// notBefore + validity - 1 s (RFC 5280 validity is inclusive); months are calendar months,
// a day that does not exist in the target month becomes that month's last day.
std::chrono::system_clock::time_point NotAfter(const Profile& profile,
                                               std::chrono::system_clock::time_point not_before);

absl::StatusOr<CertificatePlan> PlanCertificate(const Profile& profile, const SubjectData& data,
                                                const Botan::Public_Key& subject_key,
                                                const IssuerContext& issuer,
                                                const Botan::BigInt& serial,
                                                std::chrono::system_clock::time_point now);

// The signatureAlgorithm `key` signs with and the length of a signature it makes (at most,
// for ECDSA's DER), so an unsigned draft looks like the signed certificate. INVALID_ARGUMENT
// for a key that is neither RSA nor EC.
struct SignatureShape {
  Botan::AlgorithmIdentifier algorithm;
  size_t signature_bytes = 0;
};
absl::StatusOr<SignatureShape> ShapeOf(const Botan::Private_Key& key);

}  // namespace tessera::ca
