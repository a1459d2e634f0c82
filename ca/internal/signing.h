// How tessera-ca signs everything (certificates, CRLs, OCSP answers): SHA-256 with the key's
// own scheme (ECDSA, or RSA PKCS#1 v1.5). One place, so the linter's signature_algorithm rule
// and every signer agree.
#pragma once

#include <botan/pk_keys.h>
#include <botan/pkix_types.h>
#include <botan/pubkey.h>
#include <botan/rng.h>
#include <botan/x509_ca.h>  // choose_sig_format

#include <memory>

namespace tessera::ca {

struct Signer {
  Botan::AlgorithmIdentifier algorithm;  // what goes into the signed structure
  std::unique_ptr<Botan::PK_Signer> signer;
};

// Throws what Botan throws; callers catch at their edge.
inline Signer MakeSigner(const Botan::Private_Key& key, Botan::RandomNumberGenerator& rng) {
  Signer s;
  s.signer.reset(Botan::choose_sig_format(key, rng, "SHA-256", s.algorithm));
  return s;
}

}  // namespace tessera::ca
