#include "ca/workstation_bundle.h"

#include <botan/auto_rng.h>
#include <botan/data_src.h>
#include <botan/ecdsa.h>
#include <botan/pkcs8.h>
#include <botan/x509self.h>

#include <optional>
#include <regex>

#include "absl/strings/str_cat.h"
#include "ca/pkcs12.h"
#include "platform/log.h"
#include "platform/request_id.h"
#include "platform/status_macros.h"

namespace tessera::ca {
namespace {

// Binds each sealed blob to its bundle and its part, so no blob opens in another row or slot.
std::string SealContext(const std::string& request_id, const char* part) {
  return absl::StrCat("workstation-bundle ", request_id, " ", part);
}

absl::Status CheckRequest(const WorkstationBundleRequest& request) {
  TESSERA_RETURN_IF_ERROR(CheckRequestId(request.request_id));
  static const std::regex kIstat("[0-9]{6}");
  if (!std::regex_match(request.istat, kIstat)) {
    return absl::InvalidArgumentError("istat: the comune's ISTAT code, 6 digits");
  }
  if (request.progressive < 1 || request.progressive > 9999) {
    return absl::InvalidArgumentError(absl::StrCat(
        "progressive: 1 to 9999 (", kComuneServerProgressive, " is the comune's own)"));
  }
  return absl::OkStatus();
}

// Refusals that a retry of the same request would meet again.
bool IsFinalRefusal(const absl::Status& status) {
  return absl::IsInvalidArgument(status) || absl::IsFailedPrecondition(status) ||
         absl::IsAlreadyExists(status);
}

}  // namespace

absl::StatusOr<WorkstationBundle> WorkstationBundles::Issue(const WorkstationBundleRequest& request,
                                                            const Actor& actor) {
  TESSERA_RETURN_IF_ERROR(CheckRequest(request));
  TESSERA_RETURN_IF_ERROR(CheckActor(actor));
  const std::string profile =
      request.progressive == kComuneServerProgressive ? "comune_server" : "workstation";

  TESSERA_ASSIGN_OR_RETURN(BundleRecord fresh, Seal(request));
  TESSERA_ASSIGN_OR_RETURN(BundleRecord bundle, store_.Begin(fresh, actor));
  if (bundle.istat != request.istat || bundle.progressive != request.progressive) {
    return absl::AlreadyExistsError(absl::StrCat("request_id: '", request.request_id,
                                                 "' was already used for another workstation"));
  }
  // Pending (new, or left by a crash or a concurrent call): go on with the key it recorded.
  if (!bundle.complete()) {
    TESSERA_ASSIGN_OR_RETURN(bundle, Finish(bundle, profile, actor));
  }
  TESSERA_ASSIGN_OR_RETURN(CertificateRecord certificate, authority_.Get(bundle.serial));
  return Open(bundle, certificate);
}

absl::StatusOr<WorkstationBundle> WorkstationBundles::Get(const std::string& serial,
                                                          const Actor& actor) {
  TESSERA_RETURN_IF_ERROR(CheckSerial(serial));
  TESSERA_RETURN_IF_ERROR(CheckActor(actor));
  // Read before the download's transaction (which holds a connection of the pool); the
  // transaction checks revocation again under a lock.
  absl::StatusOr<CertificateRecord> certificate = authority_.Get(serial);
  if (absl::IsNotFound(certificate.status())) {
    return absl::NotFoundError(absl::StrCat("serial ", serial, ": no workstation bundle"));
  }
  if (!certificate.ok()) return certificate.status();
  std::optional<WorkstationBundle> opened;
  TESSERA_ASSIGN_OR_RETURN(
      BundleRecord bundle,
      store_.Download(serial, actor, [&](const BundleRecord& bundle) -> absl::Status {
        if (!bundle.complete()) {
          return absl::FailedPreconditionError(
              absl::StrCat("serial ", serial, ": the bundle is not complete; retry request_id '",
                           bundle.request_id, "'"));
        }
        if (bundle.revoked) {
          return absl::FailedPreconditionError(absl::StrCat(
              "serial ", serial, ": the certificate is revoked; it must not be installed"));
        }
        TESSERA_ASSIGN_OR_RETURN(opened, Open(bundle, *certificate));
        return absl::OkStatus();
      }));
  LogEvent(spdlog::level::info, "bundle_downloaded",
           {{"serial", serial}, {"request_id", bundle.request_id}}, ActorLogFields(actor));
  return *std::move(opened);
}

// A new key and password, sealed: what Begin commits if the request is new (a retry finds its
// own recorded and these are dropped unused).
absl::StatusOr<BundleRecord> WorkstationBundles::Seal(const WorkstationBundleRequest& request) {
  Botan::AutoSeeded_RNG rng;
  const Botan::ECDSA_PrivateKey key(rng, Botan::EC_Group("secp256r1"));
  BundleRecord fresh{
      .request_id = request.request_id, .istat = request.istat, .progressive = request.progressive};
  TESSERA_ASSIGN_OR_RETURN(fresh.sealed_key, sealer_.Seal(Secret(Botan::PKCS8::BER_encode(key)),
                                                          SealContext(request.request_id, "key")));
  TESSERA_ASSIGN_OR_RETURN(
      fresh.sealed_password,
      sealer_.Seal(RandomPassword(), SealContext(request.request_id, "password")));
  return fresh;
}

// Certificate for the pending bundle's key, then the PKCS#12 file, sealed and stored.
absl::StatusOr<BundleRecord> WorkstationBundles::Finish(const BundleRecord& pending,
                                                        const std::string& profile,
                                                        const Actor& actor) {
  TESSERA_ASSIGN_OR_RETURN(
      Secret pkcs8, sealer_.Unseal(pending.sealed_key, SealContext(pending.request_id, "key")));
  TESSERA_ASSIGN_OR_RETURN(
      Secret password,
      sealer_.Unseal(pending.sealed_password, SealContext(pending.request_id, "password")));
  std::unique_ptr<Botan::Private_Key> key;
  Botan::AutoSeeded_RNG rng;
  try {
    Botan::DataSource_Memory source(pkcs8.bytes());
    key = Botan::PKCS8::load_key(source);
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat("sealed key unreadable: ", e.what()));
  }
  // The CA builds the subject from istat and progressive; the request only carries the key.
  const Botan::PKCS10_Request csr =
      Botan::X509::create_cert_req(Botan::X509_Cert_Options("workstation"), *key, "SHA-256", rng);
  absl::StatusOr<CertificateRecord> certificate =
      authority_.Issue({.request_id = pending.request_id,
                        .profile = profile,
                        .csr_der = csr.BER_encode(),
                        .subject = {.istat = pending.istat, .progressive = pending.progressive}},
                       actor);
  if (!certificate.ok()) {
    if (IsFinalRefusal(certificate.status())) {
      absl::Status abandoned = store_.Abandon(pending.request_id);
      if (!abandoned.ok()) {
        LogEvent(spdlog::level::warn, "bundle_abandon_failed",
                 {{"request_id", pending.request_id}, {"error", std::string(abandoned.message())}});
      }
    }
    return certificate.status();
  }

  auto issuer = authority_.issuers().find(certificate->issuer);
  if (issuer == authority_.issuers().end()) {
    return absl::InternalError(absl::StrCat("issuer '", certificate->issuer, "' not held"));
  }
  const Botan::X509_Certificate& issuer_certificate = issuer->second->certificate();
  const Botan::X509_Certificate leaf(certificate->der);
  TESSERA_ASSIGN_OR_RETURN(
      Botan::secure_vector<uint8_t> pkcs12,
      CreatePkcs12({.private_key_pkcs8 = pkcs8.bytes(),
                    .certificate_der = certificate->der,
                    .chain_der = {issuer_certificate.BER_encode(), root_der_},
                    .friendly_name = leaf.subject_dn().get_first_attribute("CN")},
                   password));
  TESSERA_ASSIGN_OR_RETURN(
      std::vector<uint8_t> sealed_pkcs12,
      sealer_.Seal(Secret(std::move(pkcs12)), SealContext(pending.request_id, "pkcs12")));
  TESSERA_ASSIGN_OR_RETURN(BundleRecord stored, store_.Complete(pending.request_id, sealed_pkcs12));
  LogEvent(spdlog::level::info, "workstation_bundle",
           {{"request_id", pending.request_id},
            {"serial", certificate->serial},
            {"subject", certificate->subject}},
           ActorLogFields(actor));
  return stored;
}

absl::StatusOr<WorkstationBundle> WorkstationBundles::Open(const BundleRecord& bundle,
                                                           const CertificateRecord& certificate) {
  TESSERA_ASSIGN_OR_RETURN(Secret pkcs12, sealer_.Unseal(bundle.sealed_pkcs12,
                                                         SealContext(bundle.request_id, "pkcs12")));
  TESSERA_ASSIGN_OR_RETURN(
      Secret password,
      sealer_.Unseal(bundle.sealed_password, SealContext(bundle.request_id, "password")));
  return WorkstationBundle{
      .certificate = certificate, .pkcs12 = pkcs12.bytes(), .password = std::move(password)};
}

}  // namespace tessera::ca
