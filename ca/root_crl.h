// The offline root's CRL: which issuing CAs the root has revoked. Issuing-CA certificates
// point their CRL distribution point at <base>/crl/root.crl, so relying parties that check
// the whole chain (openssl verify -crl_check_all) need it. The key ceremony signs the first
// (empty); `tessera ceremony root-crl` signs the next one on the offline root token, keeping
// every earlier entry, adding issuing CAs to revoke, with a cRLNumber one higher. tessera-ca
// serves the file (ca.root_crl) and reloads it when it changes.
#pragma once

#include <botan/pk_keys.h>
#include <botan/x509cert.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "ca/ceremony.h"
#include "ca/crl.h"
#include "platform/clock.h"
#include "platform/secret.h"

namespace tessera::ca {

// The file name, in the ceremony's output directory.
inline constexpr char kRootCrlFile[] = "root.crl";

// What the previous root CRL held: read back (its signature checked against `root`).
absl::StatusOr<CrlContent> ReadRootCrl(const std::vector<uint8_t>& der,
                                       const Botan::X509_Certificate& root);

// The first root CRL: number 1, no entries, valid `validity` from `now`.
absl::StatusOr<std::vector<uint8_t>> FirstRootCrl(const Botan::X509_Certificate& root,
                                                  const Botan::Private_Key& root_key,
                                                  Clock::TimePoint now,
                                                  std::chrono::hours validity);

struct CaRevocation {
  std::string ca_name;  // an issuing CA of the ceremony ("workstations")
  int reason = 0;       // 0 unspecified, 2 cACompromise, 3, 4 superseded, 5 cessationOfOperation
};

struct RootCrlResult {
  std::string path;
  uint64_t number = 0;
  size_t entries = 0;
  Clock::TimePoint next_update;
};

// Signs the next root CRL on the offline root token (PIN `root_pin`) and writes it over
// <output_dir>/root.crl. INVALID_ARGUMENT for a CA that is not the ceremony's or a reason a CA
// cannot be revoked for; FAILED_PRECONDITION when there is no earlier root CRL to continue.
absl::StatusOr<RootCrlResult> ReissueRootCrl(const CeremonyConfig& config, const Secret& root_pin,
                                             const std::vector<CaRevocation>& revocations,
                                             const Clock& clock);

}  // namespace tessera::ca
