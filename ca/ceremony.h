// The key ceremony: creates the offline root key on its own token and the self-signed root
// certificate; the issuing CAs' keys on the online HSM token and their certificates signed by
// the root; a delegated OCSP responder per issuing CA (key on the HSM, id-kp-OCSPSigning,
// id-pkix-ocsp-nocheck); and tessera's own service certificates for mTLS. It writes every
// certificate as PEM (and onto the tokens beside the keys), logs each step to the audit log,
// and refuses to overwrite an existing token or output.
#pragma once

#include <botan/x509cert.h>

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "ca/profile.h"
#include "hsm/session.h"
#include "platform/clock.h"
#include "platform/secret.h"

namespace tessera::ca {

struct CaSpec {
  std::string name;         // "root", "operators", "workstations": file and CKA_ID name
  std::string common_name;  // "Tessera Root CA"
  hsm::KeyAlgorithm algorithm = hsm::KeyAlgorithm::kEcP256;
  int validity_years = 10;
};

struct ServiceSpec {
  std::string name;  // "tessera-ca"
  std::vector<std::string> dns_names;
  std::vector<std::string> ip_addresses;
};

struct CeremonyConfig {
  std::string module_path;
  std::string root_token;    // label of the offline root token, created by the ceremony
  std::string online_token;  // label of the CA's online HSM token, created by the ceremony
  CaSpec root;
  int root_crl_validity_days = 365;  // [root] crl_validity_days: nextUpdate of the root's CRL
  std::vector<CaSpec> issuing;
  std::string base_url;  // tessera-ca's HTTP endpoint: <base>/crl/<ca>.crl, /ocsp, /ca/<ca>.crt
  std::vector<ServiceSpec> services;
  std::string output_dir;
  std::string profiles_path;

  // Parses the ceremony file; errors name the key. Relative paths are relative to the file.
  static absl::StatusOr<CeremonyConfig> LoadFile(const std::string& path);
};

// The file (in the output directory) holding every leaf certificate the ceremony signed:
// service identities and OCSP responders. tessera-ca records them at start-up.
inline constexpr char kCeremonyIssuedFile[] = "issued.pem";

// Every certificate in a PEM file (kCeremonyIssuedFile), for tessera-ca to record at start.
// INVALID_ARGUMENT naming the file if one is unreadable.
absl::StatusOr<std::vector<Botan::X509_Certificate>> ReadCertificatesFile(const std::string& path);
// The DER of the one certificate in a PEM file (the root, which lives offline).
absl::StatusOr<std::vector<uint8_t>> ReadCertificateDer(const std::string& path);

struct CeremonyPins {
  Secret root_so_pin, root_user_pin;      // offline root token
  Secret online_so_pin, online_user_pin;  // online HSM token
};

struct CeremonyRecord {
  std::vector<std::string> files;                                 // every file written
  std::vector<std::pair<std::string, std::string>> fingerprints;  // name, SHA-256 of the DER
};

absl::StatusOr<CeremonyRecord> RunCeremony(const CeremonyConfig& config, const CeremonyPins& pins,
                                           const Clock& clock);

}  // namespace tessera::ca
