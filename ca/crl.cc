#include "ca/crl.h"

#include <botan/bigint.h>
#include <botan/der_enc.h>
#include <botan/pkix_types.h>
#include <botan/x509_obj.h>

#include "absl/strings/str_cat.h"
#include "ca/internal/signing.h"
#include "platform/random.h"

namespace tessera::ca {
namespace {

const Botan::OID kReasonCode("2.5.29.21");
const Botan::OID kAuthorityKeyId("2.5.29.35");
const Botan::OID kCrlNumber("2.5.29.20");

// Extension ::= SEQUENCE { extnID, critical DEFAULT FALSE, extnValue OCTET STRING }
void AddExtension(Botan::DER_Encoder& der, const Botan::OID& oid,
                  const std::vector<uint8_t>& value) {
  der.start_cons(Botan::SEQUENCE).encode(oid).encode(value, Botan::OCTET_STRING).end_cons();
}

}  // namespace

absl::StatusOr<std::vector<uint8_t>> SignCrl(const CrlContent& content,
                                             const Botan::X509_Certificate& issuer,
                                             const Botan::Private_Key& issuer_key) {
  try {
    Botan::RandomNumberGenerator& rng = ThreadRng();
    auto [algorithm, signer] = MakeSigner(issuer_key, rng);

    Botan::secure_vector<uint8_t> tbs;
    Botan::DER_Encoder der(tbs);
    der.start_cons(Botan::SEQUENCE)
        .encode(size_t{1})  // v2
        .encode(algorithm)
        .encode(issuer.subject_dn())
        .encode(Botan::X509_Time(content.this_update))
        .encode(Botan::X509_Time(content.next_update));
    if (!content.entries.empty()) {
      der.start_cons(Botan::SEQUENCE);
      for (const RevokedEntry& entry : content.entries) {
        der.start_cons(Botan::SEQUENCE)
            .encode(Botan::BigInt("0x" + entry.serial))
            .encode(Botan::X509_Time(entry.revoked_at));
        if (entry.reason != 0) {
          std::vector<uint8_t> reason;
          Botan::DER_Encoder(reason).encode(static_cast<size_t>(entry.reason), Botan::ENUMERATED,
                                            Botan::UNIVERSAL);
          der.start_cons(Botan::SEQUENCE);
          AddExtension(der, kReasonCode, reason);
          der.end_cons();
        }
        der.end_cons();
      }
      der.end_cons();
    }
    std::vector<uint8_t> key_id;
    Botan::DER_Encoder(key_id)
        .start_cons(Botan::SEQUENCE)
        .encode(issuer.subject_key_id(), Botan::OCTET_STRING, Botan::ASN1_Tag(0),
                Botan::CONTEXT_SPECIFIC)
        .end_cons();
    std::vector<uint8_t> number;
    Botan::DER_Encoder(number).encode(static_cast<size_t>(content.number));
    der.start_cons(Botan::ASN1_Tag(0),
                   Botan::ASN1_Tag(Botan::CONTEXT_SPECIFIC | Botan::CONSTRUCTED))
        .start_cons(Botan::SEQUENCE);
    AddExtension(der, kAuthorityKeyId, key_id);
    AddExtension(der, kCrlNumber, number);
    der.end_cons().end_cons();
    der.end_cons();

    return Botan::X509_Object::make_signed(signer.get(), rng, algorithm, tbs);
  } catch (const std::exception& e) {
    return absl::UnavailableError(absl::StrCat("signing the CRL failed: ", e.what()));
  }
}

}  // namespace tessera::ca
