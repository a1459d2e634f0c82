// A workstation order is made once tessera-ca has issued its bundle (key pair, certificate and
// chain, which the CA keeps sealed for the comune's ALP to download): personalization asks for
// it and reports the certificate's serial. The password and the PKCS#12 never pass through here.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace tessera::personalization {

// A workstation's common id split: "0570010099" is owner 057001 (a comune's ISTAT code, or a
// prefettura's province code + 000) and progressive 99 (the comune's server).
struct WorkstationId {
  std::string owner;
  uint32_t progressive = 0;
};
// INVALID_ARGUMENT unless 10 digits with a progressive of 1..9999.
absl::StatusOr<WorkstationId> ParseCommonId(std::string_view common_id);

class BundleIssuer {
 public:
  virtual ~BundleIssuer() = default;
  // The serial (lower-case hex) of the workstation's bundled certificate, issued once whatever
  // the retries.
  virtual absl::StatusOr<std::string> IssueBundle(const WorkstationId& workstation) = 0;
};

}  // namespace tessera::personalization
