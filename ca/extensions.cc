#include "ca/extensions.h"

#include <botan/asn1_obj.h>
#include <botan/der_enc.h>

namespace tessera::ca {
namespace {

class RawExtension final : public Botan::Certificate_Extension {
 public:
  RawExtension(Botan::OID oid, std::string name, std::vector<uint8_t> value)
      : oid_(std::move(oid)), name_(std::move(name)), value_(std::move(value)) {}
  Botan::OID oid_of() const override { return oid_; }
  std::string oid_name() const override { return name_; }
  Certificate_Extension* copy() const override { return new RawExtension(oid_, name_, value_); }
  void contents_to(Botan::Data_Store&, Botan::Data_Store&) const override {}

 private:
  std::vector<uint8_t> encode_inner() const override { return value_; }
  void decode_inner(const std::vector<uint8_t>&) override {}

  Botan::OID oid_;
  std::string name_;
  std::vector<uint8_t> value_;
};

// GeneralName uniformResourceIdentifier: [6] IMPLICIT IA5String.
void AddUri(Botan::DER_Encoder& der, const std::string& url) {
  der.add_object(Botan::ASN1_Tag(6), Botan::CONTEXT_SPECIFIC, url);
}

}  // namespace

std::unique_ptr<Botan::Certificate_Extension> CrlDistributionPoint(const std::string& url) {
  // SEQUENCE OF DistributionPoint { [0] distributionPoint { [0] fullName { URI } } }
  std::vector<uint8_t> value;
  const auto context = Botan::ASN1_Tag(Botan::CONTEXT_SPECIFIC | Botan::CONSTRUCTED);
  Botan::DER_Encoder der(value);
  der.start_cons(Botan::SEQUENCE)
      .start_cons(Botan::SEQUENCE)
      .start_cons(Botan::ASN1_Tag(0), context)
      .start_cons(Botan::ASN1_Tag(0), context);
  AddUri(der, url);
  der.end_cons().end_cons().end_cons().end_cons();
  return std::make_unique<RawExtension>(Botan::OID(kOidCrlDistributionPoints),
                                        "X509v3.CRLDistributionPoints", std::move(value));
}

std::unique_ptr<Botan::Certificate_Extension> AuthorityInfoAccess(
    const std::string& ocsp_url, const std::string& ca_issuers_url) {
  // SEQUENCE OF AccessDescription { accessMethod OID, accessLocation GeneralName }
  std::vector<uint8_t> value;
  Botan::DER_Encoder der(value);
  der.start_cons(Botan::SEQUENCE);
  if (!ocsp_url.empty()) {
    der.start_cons(Botan::SEQUENCE).encode(Botan::OID("1.3.6.1.5.5.7.48.1"));
    AddUri(der, ocsp_url);
    der.end_cons();
  }
  der.start_cons(Botan::SEQUENCE).encode(Botan::OID("1.3.6.1.5.5.7.48.2"));
  AddUri(der, ca_issuers_url);
  der.end_cons().end_cons();
  return std::make_unique<RawExtension>(Botan::OID(kOidAuthorityInfoAccess),
                                        "PKIX.AuthorityInformationAccess", std::move(value));
}

std::unique_ptr<Botan::Certificate_Extension> OcspNoCheck() {
  std::vector<uint8_t> value;
  Botan::DER_Encoder(value).encode_null();
  return std::make_unique<RawExtension>(Botan::OID(kOidOcspNoCheck), "PKIX.OCSP.NoCheck",
                                        std::move(value));
}

}  // namespace tessera::ca
