#include "ca/ocsp_renewal.h"

#include <botan/auto_rng.h>
#include <botan/x509self.h>

#include "absl/strings/str_cat.h"
#include "platform/log.h"
#include "platform/status_macros.h"

namespace tessera::ca {

absl::StatusOr<int> OcspResponderRenewal::RunOnce() {
  int renewed = 0;
  for (const OcspResponder::Signer& signer : responder_.Signers()) {
    const auto not_after = signer.certificate->not_after().to_std_timepoint();
    if (clock_.Now() + policy_.renew_before < not_after) continue;

    // The CA builds the subject and checks the key; the request only proves the key is ours.
    Botan::AutoSeeded_RNG rng;
    const std::vector<uint8_t> csr =
        Botan::X509::create_cert_req(Botan::X509_Cert_Options(OcspResponderName(signer.issuer)),
                                     *signer.key, "SHA-256", rng)
            .BER_encode();
    const std::string replaced = SerialHex(Botan::BigInt(signer.certificate->serial_number()));
    const Actor self = SystemActor(kSystemActorName);  // tessera-ca's own act, on its own clock
    TESSERA_ASSIGN_OR_RETURN(
        CertificateRecord record,
        authority_.IssueOcspResponder(
            signer.issuer, absl::StrCat("ocsp-renewal:", signer.issuer, ":", replaced), csr, self));
    TESSERA_RETURN_IF_ERROR(responder_.ReplaceCertificate(
        signer.issuer, std::make_shared<const Botan::X509_Certificate>(record.der)));
    LogEvent(spdlog::level::info, "ocsp_responder_renewed",
             {{"issuer", signer.issuer}, {"replaced", replaced}, {"serial", record.serial}},
             ActorLogFields(self));
    ++renewed;
  }
  return renewed;
}

}  // namespace tessera::ca
