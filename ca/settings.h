// tessera-ca's settings, read from its config file (and TESSERA_* overrides) and checked in one
// place: every limit here is a rule of the CA (how long a CRL or OCSP answer lives, how much
// of the machine the public endpoint may take), so it lives beside the CA, not in main.cc.
// The keys are listed in services/ca/main.cc and the README ("Configuration").
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "ca/crl_publisher.h"
#include "ca/ocsp_renewal.h"
#include "ca/ocsp_responder.h"
#include "ca/profile.h"
#include "platform/config.h"

namespace tessera::ca {

// The public plain-HTTP endpoint (CRLs, CA certificates, OCSP): it faces anyone, so it is
// bounded in connections, memory and CPU, and reads the database through its own few
// connections.
struct HttpSettings {
  std::string host;
  int port = 0;           // 0: the OS picks
  std::string port_file;  // where to write the port bound; "" for none
  int threads = 2;
  unsigned max_connections = 4096;
  unsigned per_ip_connections = 256;
  unsigned idle_timeout_seconds = 10;
  size_t connection_memory = 32 * 1024;
  unsigned listen_backlog = 1024;
  int nice = 5;
  size_t db_connections = 4;
  std::chrono::milliseconds db_wait{250};
};

struct CaSettings {
  std::string conninfo;
  size_t max_connections = 8;
  std::string module_path;  // PKCS#11 module
  std::string token_label;  // the online token the ceremony created
  std::vector<std::string> issuers;
  std::string root_certificate_path;
  std::string root_crl_path;  // default: root.crl beside the root certificate
  std::string profiles_path;
  std::string base_url;
  std::string ceremony_certificates_path;  // default: the ceremony's issued.pem beside the root
  std::string bundle_seal_key;             // label of the AES key sealing workstation bundles
  HttpSettings http;
  CrlPolicy crl;
  OcspPolicy ocsp;
  OcspRenewalPolicy ocsp_renewal;
};

// Every key read and every value checked: INVALID_ARGUMENT naming the key and its range.
absl::StatusOr<CaSettings> ReadCaSettings(const Config& config);

// A responder's certificate is renewed before it expires: ocsp.renew_before_days must be below
// the ocsp_responder profile's validity. INVALID_ARGUMENT naming the key otherwise.
absl::Status CheckOcspRenewal(const OcspRenewalPolicy& renewal, const ProfileSet& profiles);

}  // namespace tessera::ca
