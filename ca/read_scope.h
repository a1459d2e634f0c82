// Which certificates a caller of tessera-ca may read (GetCertificate, ListCertificates): the
// one place these rules live. The Ministry and tessera's services read everything; a
// workstation only the workstation certificates of its own comune (or prefettura), so a
// comune cannot read another's nor any operator card (no national list of codici fiscali);
// an operator card, a person with no office until card login exists, only itself. A list is
// narrowed in the store's query (CertificateFilter::scope), never after fetching.
#pragma once

#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "platform/actor.h"

namespace tessera::ca {

struct ReadScope {
  enum class Kind {
    kEverything,          // tessera's services (the Ministry's CLI among them)
    kComuneWorkstations,  // workstation and comune_server certificates with CN=<istat>....
    kOwnCertificate,      // the certificate with `serial` only
    kNothing,
  };
  Kind kind = Kind::kNothing;
  std::string istat;   // kComuneWorkstations: 6 digits (a prefettura: province code + "000")
  std::string serial;  // kOwnCertificate: lower-case hex
  std::string rule;    // the rule's name and sense, for a refusal

  // OK if a certificate of this profile, subject (RFC 2253, CN first) and serial is within
  // the scope; PERMISSION_DENIED naming the rule otherwise.
  absl::Status Allows(std::string_view profile, std::string_view subject,
                      std::string_view serial) const;
};

ReadScope ReadScopeOf(const Actor& reader);

}  // namespace tessera::ca
