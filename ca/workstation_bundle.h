// Workstation certificates, the one exception to keys-on-tokens that the process makes: the
// CA generates the key, issues the certificate and hands both out as a PKCS#12 file with a
// random password, which the comune's ALP downloads later (docs/process.md, "Workstation
// certificates"). Key, password and file are kept only sealed under an AES key on the HSM.
//
// Crash-safe and idempotent on request_id: the sealed key and password are committed before
// the certificate is asked for; the certificate goes through CertificateAuthority::Issue under
// the same request_id (so it is signed at most once); the sealed PKCS#12 is stored last. A
// retry resumes wherever a crash stopped and returns the same key, certificate and password.
#pragma once

#include <botan/x509cert.h>

#include <string>

#include "absl/status/statusor.h"
#include "ca/authority.h"
#include "ca/bundle_store.h"
#include "hsm/secret_sealer.h"
#include "platform/secret.h"

namespace tessera::ca {

// Label (and CKA_ID) of the AES key on the CA's online token that seals bundles; the key
// ceremony creates it.
inline constexpr char kBundleSealKeyLabel[] = "workstation-bundles";
// The comune's own certificate (installed on its servers) has this progressive and the
// comune_server profile; every other progressive is a workstation.
inline constexpr int kComuneServerProgressive = 99;

struct WorkstationBundleRequest {
  std::string request_id;  // idempotency key, 1..128 of [A-Za-z0-9._:-]
  std::string istat;       // 6-digit ISTAT code of the comune
  int progressive = 0;     // 1..9999
};

struct WorkstationBundle {
  CertificateRecord certificate;
  Botan::secure_vector<uint8_t> pkcs12;  // DER: key, certificate, issuing CA, root
  Secret password;
};

class WorkstationBundles {
 public:
  WorkstationBundles(CertificateAuthority& authority, BundleStore& store, hsm::SecretSealer sealer,
                     std::vector<uint8_t> root_der)
      : authority_(authority),
        store_(store),
        sealer_(std::move(sealer)),
        root_der_(std::move(root_der)) {}

  // `actor` asked for it (recorded on the bundle and on its certificate). INVALID_ARGUMENT
  // naming the field; FAILED_PRECONDITION when the workstation already has a live
  // certificate (or one being issued); ALREADY_EXISTS for a request_id used for something
  // else; UNAVAILABLE when the database or the token is down.
  absl::StatusOr<WorkstationBundle> Issue(const WorkstationBundleRequest& request,
                                          const Actor& actor);
  // The stored bundle of a certificate, for the ALP's download; every download is recorded
  // for `actor` (ca.bundle_downloads) before the bundle is returned. NOT_FOUND for a serial
  // that is not a workstation bundle; FAILED_PRECONDITION once the certificate is revoked
  // (and no download recorded).
  absl::StatusOr<WorkstationBundle> Get(const std::string& serial, const Actor& actor);

 private:
  absl::StatusOr<BundleRecord> Seal(const WorkstationBundleRequest& request);
  absl::StatusOr<BundleRecord> Finish(const BundleRecord& pending, const std::string& profile,
                                      const Actor& actor);
  absl::StatusOr<WorkstationBundle> Open(const BundleRecord& bundle,
                                         const CertificateRecord& certificate);

  CertificateAuthority& authority_;
  BundleStore& store_;
  hsm::SecretSealer sealer_;
  std::vector<uint8_t> root_der_;
};

}  // namespace tessera::ca
