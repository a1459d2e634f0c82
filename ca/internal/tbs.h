// The TBSCertificate, encoded once per use and deterministically: the linter reads it wrapped
// in an unsigned draft (a zero signature of the right length), and only if it passes does the
// issuer's key on the token sign the very same bytes. No second signature, no throwaway key.
// Inside ca/ only: everything else signs through ca::Issuer, which lints first. (The
// linter's own tests use SignPlan to make certificates the linter must refuse.)
#pragma once

#include <botan/pk_keys.h>
#include <botan/rng.h>
#include <botan/x509cert.h>

#include "absl/status/statusor.h"
#include "ca/certificate_builder.h"

namespace tessera::ca {

// The fields of a TBSCertificate (RFC 5280 4.1); always v3 with extensions.
struct TbsFields {
  Botan::BigInt serial;
  Botan::AlgorithmIdentifier signature_algorithm;
  Botan::X509_DN issuer;
  std::chrono::system_clock::time_point not_before;
  std::chrono::system_clock::time_point not_after;
  Botan::X509_DN subject;
  std::vector<uint8_t> subject_public_key;  // SubjectPublicKeyInfo, DER
  const Botan::Extensions* extensions = nullptr;
};

// The DER TBSCertificate, encoded as Botan's X509_CA::make_cert encodes it (a unit test holds
// the two byte for byte).
Botan::secure_vector<uint8_t> EncodeTbs(const TbsFields& fields);

// `tbs` wrapped as a certificate whose signature is `signature_bytes` zeros: what the linter
// reads. It is never verified, stored or handed out.
absl::StatusOr<Botan::X509_Certificate> UnsignedDraft(const Botan::secure_vector<uint8_t>& tbs,
                                                      const SignatureShape& shape);

// `tbs` signed with `key`, whose algorithm must be the one `tbs` names.
absl::StatusOr<Botan::X509_Certificate> SignTbs(const Botan::secure_vector<uint8_t>& tbs,
                                                const Botan::AlgorithmIdentifier& algorithm,
                                                const Botan::Private_Key& key,
                                                Botan::RandomNumberGenerator& rng);

// A plan's TBSCertificate under `issuer`, for a key of `algorithm`.
Botan::secure_vector<uint8_t> PlanTbs(const CertificatePlan& plan, const IssuerContext& issuer,
                                      const Botan::AlgorithmIdentifier& algorithm);

// The plan as the linter sees it: unsigned draft for a key of `shape`.
absl::StatusOr<Botan::X509_Certificate> DraftPlan(const CertificatePlan& plan,
                                                  const IssuerContext& issuer,
                                                  const SignatureShape& shape);

absl::StatusOr<Botan::X509_Certificate> SignPlan(const CertificatePlan& plan,
                                                 const IssuerContext& issuer,
                                                 const Botan::Private_Key& signing_key,
                                                 Botan::RandomNumberGenerator& rng);

}  // namespace tessera::ca
