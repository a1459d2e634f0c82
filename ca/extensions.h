// X.509 extensions tessera encodes itself because Botan 2 cannot: it has no encoder for CRL
// distribution points, drops caIssuers from AIA, and knows no id-pkix-ocsp-nocheck.
#pragma once

#include <botan/pkix_types.h>

#include <memory>
#include <string>

namespace tessera::ca {

inline constexpr char kOidOcspNoCheck[] = "1.3.6.1.5.5.7.48.1.5";
inline constexpr char kOidCrlDistributionPoints[] = "2.5.29.31";
inline constexpr char kOidAuthorityInfoAccess[] = "1.3.6.1.5.5.7.1.1";

// One distribution point with one http URI.
std::unique_ptr<Botan::Certificate_Extension> CrlDistributionPoint(const std::string& url);
// OCSP responder (omitted when empty) and caIssuers.
std::unique_ptr<Botan::Certificate_Extension> AuthorityInfoAccess(
    const std::string& ocsp_url, const std::string& ca_issuers_url);
std::unique_ptr<Botan::Certificate_Extension> OcspNoCheck();

}  // namespace tessera::ca
