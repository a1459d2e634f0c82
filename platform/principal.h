// Who is calling: read from the verified TLS client certificate. The subject's branch of the
// tessera tree says the kind (OU=Servizi: a tessera service, OU=Postazioni: a workstation,
// OU=Operatori: an operator card) and the CN names it; the certificate must come from the
// issuing CA trusted for that kind (ClientTrust), so an "operator" certificate made by the
// workstations CA is nobody. A service may also accept callers that have no certificate yet
// but present a one-off access code it issued (kAccessCode: the name is what the code was
// issued for, e.g. a comune's ISTAT code).
#pragma once

#include <botan/x509cert.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace tessera {

enum class PrincipalKind { kService, kWorkstation, kOperator, kAccessCode };
std::string_view PrincipalKindName(PrincipalKind kind);

// The organizational units of each branch, as they appear in certificate subjects.
inline constexpr std::string_view kServicesUnit = "Servizi";
inline constexpr std::string_view kWorkstationsUnit = "Postazioni";
inline constexpr std::string_view kOperatorsUnit = "Operatori";

// A person's session on a certified machine, read from the session token a call carries
// (card login at tessera-registry, access/session_token.h). It is only ever attached to the
// principal of the client certificate the token is bound to.
struct PersonSession {
  std::string id;      // the session (the token's jti): what logout and blocking end
  std::string person;  // codice fiscale, as on record
  // Where the person works in this session: "comune:<ISTAT>", "prefettura:<province code>" or
  // "ministero" (the office of the machine they logged in from).
  std::string office;
  std::vector<std::string> profiles;  // their profiles at that office (census profile keys)
  std::chrono::system_clock::time_point expires_at;

  // Whether the session holds `profile` at an office of kind `office_kind` ("comune",
  // "prefettura" or "ministero", as `office` begins).
  bool Holds(std::string_view profile, std::string_view office_kind) const;
};

struct Principal {
  PrincipalKind kind = PrincipalKind::kService;
  // service name, workstation id (ISTAT + progressive), codice fiscale, or what an access
  // code was issued for
  std::string name;
  // For certificate callers: the issuing CA's name ("operators") and the certificate's serial
  // (lower-case hex), which revocation is checked on and audit records name. Empty for an
  // access code.
  std::string issuer;
  std::string serial;
  // The person logged in at this machine, when the call carries a valid session token bound
  // to this very certificate.
  std::optional<PersonSession> session;
};

// An issuing CA whose certificates may identify callers of the kinds listed.
struct TrustedIssuer {
  std::string name;  // "operators", as tessera-ca names it (its CRL is /crl/<name>.crl)
  std::shared_ptr<const Botan::X509_Certificate> certificate;
  std::vector<PrincipalKind> kinds;
};

// A caller read from a certificate, with what must be checked again on every call of a
// long-lived connection: its expiry (revocation is the RevocationCheck's job).
struct CertificateCaller {
  Principal principal;
  std::chrono::system_clock::time_point not_after;
  std::string sha256;  // of the certificate's DER, lower-case hex: what a session is bound to
};

class ClientTrust {
 public:
  explicit ClientTrust(std::vector<TrustedIssuer> issuers) : issuers_(std::move(issuers)) {}

  // tessera's issuing CAs: services and operator cards from `operators`, workstations from
  // `workstations`, each certificate read from `<name>.pem` in `pki_dir` (the key ceremony
  // writes them there, beside bundle.pem). `names` maps kind to CA name:
  // "service=operators,operator=operators,workstation=workstations".
  static absl::StatusOr<ClientTrust> Load(const std::string& pki_dir, const std::string& names);
  static constexpr char kDefaultNames[] =
      "service=operators,operator=operators,workstation=workstations";

  // UNAUTHENTICATED when the certificate is unreadable, in no known branch, or issued by a CA
  // that is not trusted for its kind. (The TLS handshake has verified the chain and the dates;
  // the caller checks not_after again on each call of a connection that outlives it.)
  absl::StatusOr<CertificateCaller> Identify(std::string_view pem) const;
  absl::StatusOr<CertificateCaller> Identify(const Botan::X509_Certificate& certificate) const;
  // For a certificate no TLS handshake has verified (a card's, presented at login): identified
  // as above, then its signature checked with the key of the CA trusted for its kind, and its
  // validity at `now`. UNAUTHENTICATED naming what failed.
  absl::StatusOr<CertificateCaller> Verify(const Botan::X509_Certificate& certificate,
                                           std::chrono::system_clock::time_point now) const;

  const std::vector<TrustedIssuer>& issuers() const { return issuers_; }

 private:
  std::vector<TrustedIssuer> issuers_;
};

// The SHA-256 of a certificate's DER, lower-case hex (RFC 8705's x5t#S256, before base64url).
std::string CertificateSha256(const Botan::X509_Certificate& certificate);

// A certificate serial as tessera records it: lower-case hex without leading zeros.
std::string SerialHex(const std::vector<uint8_t>& big_endian);

}  // namespace tessera
