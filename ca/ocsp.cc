#include "ca/ocsp.h"

#include <botan/ber_dec.h>
#include <botan/bigint.h>
#include <botan/der_enc.h>
#include <botan/pkix_types.h>

#include <ctime>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "ca/internal/signing.h"
#include "platform/random.h"

namespace tessera::ca {
namespace {

const Botan::OID kNonce("1.3.6.1.5.5.7.48.1.2");
const Botan::OID kBasicResponse("1.3.6.1.5.5.7.48.1.1");
constexpr char kSha1[] = "1.3.14.3.2.26";
constexpr char kSha256[] = "2.16.840.1.101.3.4.2.1";

const auto kExplicit = [](uint32_t n) { return Botan::ASN1_Tag(n); };
const Botan::ASN1_Tag kContextConstructed =
    Botan::ASN1_Tag(Botan::CONTEXT_SPECIFIC | Botan::CONSTRUCTED);

// OCSP times are always GeneralizedTime (RFC 6960 §4.2.1).
Botan::X509_Time Generalized(std::chrono::system_clock::time_point t) {
  const std::time_t seconds = std::chrono::system_clock::to_time_t(t);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char text[16];
  std::strftime(text, sizeof text, "%Y%m%d%H%M%SZ", &utc);
  return Botan::X509_Time(text, Botan::GENERALIZED_TIME);
}

std::string Hex(const Botan::BigInt& n) {
  std::string hex = absl::AsciiStrToLower(n.to_hex_string());
  const size_t first = hex.find_first_not_of('0');
  return first == std::string::npos ? "0" : hex.substr(first);
}

void EncodeCertId(Botan::DER_Encoder& der, const OcspCertId& id) {
  der.start_cons(Botan::SEQUENCE)
      .encode(Botan::AlgorithmIdentifier(Botan::OID(id.hash_oid),
                                         Botan::AlgorithmIdentifier::USE_NULL_PARAM))
      .encode(id.issuer_name_hash, Botan::OCTET_STRING)
      .encode(id.issuer_key_hash, Botan::OCTET_STRING)
      .encode(Botan::BigInt("0x" + id.serial))
      .end_cons();
}

}  // namespace

absl::StatusOr<OcspRequestData> ParseOcspRequest(std::span<const uint8_t> der,
                                                 size_t max_certificates) {
  OcspRequestData out;
  try {
    Botan::BER_Decoder outer(der.data(), der.size());
    Botan::BER_Decoder request = outer.start_cons(Botan::SEQUENCE);
    Botan::BER_Decoder tbs = request.start_cons(Botan::SEQUENCE);
    while (tbs.more_items()) {
      Botan::BER_Object object = tbs.get_next_object();
      if (object.is_a(Botan::SEQUENCE, Botan::CONSTRUCTED)) {  // requestList
        Botan::BER_Decoder list(object);
        while (list.more_items()) {
          Botan::BER_Decoder single = list.start_cons(Botan::SEQUENCE);
          Botan::BER_Decoder cert_id = single.start_cons(Botan::SEQUENCE);
          Botan::AlgorithmIdentifier hash;
          OcspCertId id;
          Botan::BigInt serial;
          cert_id.decode(hash)
              .decode(id.issuer_name_hash, Botan::OCTET_STRING)
              .decode(id.issuer_key_hash, Botan::OCTET_STRING)
              .decode(serial)
              .verify_end();
          id.hash_oid = hash.get_oid().to_string();
          if (id.hash_oid != kSha1 && id.hash_oid != kSha256) {
            return absl::InvalidArgumentError("ocsp: CertID hash must be SHA-1 or SHA-256");
          }
          if (serial.is_negative() || serial.bytes() > 20) {
            return absl::InvalidArgumentError("ocsp: serial number out of range");
          }
          id.serial = Hex(serial);
          out.certificates.push_back(std::move(id));
          if (out.certificates.size() > max_certificates) {
            return absl::InvalidArgumentError("ocsp: too many certificates in one request");
          }
        }
      } else if (object.is_a(2, kContextConstructed)) {  // requestExtensions
        Botan::BER_Decoder extensions = Botan::BER_Decoder(object).start_cons(Botan::SEQUENCE);
        while (extensions.more_items()) {
          Botan::BER_Decoder extension = extensions.start_cons(Botan::SEQUENCE);
          Botan::OID oid;
          bool critical = false;
          std::vector<uint8_t> value;
          extension.decode(oid)
              .decode_optional(critical, Botan::BOOLEAN, Botan::UNIVERSAL, false)
              .decode(value, Botan::OCTET_STRING);
          if (oid == kNonce) out.nonce = value;
        }
      }
      // [0] version and [1] requestorName carry nothing the responder needs.
    }
  } catch (const std::exception&) {
    return absl::InvalidArgumentError("ocsp: not a DER-encoded OCSPRequest");
  }
  if (out.certificates.empty()) {
    return absl::InvalidArgumentError("ocsp: the request names no certificate");
  }
  return out;
}

absl::StatusOr<std::vector<uint8_t>> SignOcspResponse(
    const std::vector<OcspSingleResponse>& responses, const OcspResponseTimes& times,
    const std::optional<std::vector<uint8_t>>& nonce, const Botan::X509_Certificate& responder,
    const Botan::Private_Key& responder_key) {
  try {
    Botan::RandomNumberGenerator& rng = ThreadRng();
    auto [algorithm, signer] = MakeSigner(responder_key, rng);

    std::vector<uint8_t> data;
    Botan::DER_Encoder der(data);
    der.start_cons(Botan::SEQUENCE)
        .start_cons(kExplicit(2), kContextConstructed)  // responderID byKey
        .encode(responder.subject_public_key_bitstring_sha1(), Botan::OCTET_STRING)
        .end_cons()
        .encode(Generalized(times.produced_at))
        .start_cons(Botan::SEQUENCE);
    for (const OcspSingleResponse& single : responses) {
      der.start_cons(Botan::SEQUENCE);
      EncodeCertId(der, single.id);
      switch (single.status) {
        case OcspCertStatus::kGood:
          der.add_object(Botan::ASN1_Tag(0), Botan::CONTEXT_SPECIFIC, nullptr, 0);
          break;
        case OcspCertStatus::kUnknown:
          der.add_object(Botan::ASN1_Tag(2), Botan::CONTEXT_SPECIFIC, nullptr, 0);
          break;
        case OcspCertStatus::kRevoked:
          der.start_cons(Botan::ASN1_Tag(1), kContextConstructed)
              .encode(Generalized(single.revoked_at));
          if (single.reason != 0) {
            der.start_cons(kExplicit(0), kContextConstructed)
                .encode(static_cast<size_t>(single.reason), Botan::ENUMERATED, Botan::UNIVERSAL)
                .end_cons();
          }
          der.end_cons();
          break;
      }
      der.encode(Generalized(times.this_update))
          .start_cons(kExplicit(0), kContextConstructed)
          .encode(Generalized(times.next_update))
          .end_cons()
          .end_cons();
    }
    der.end_cons();
    if (nonce.has_value()) {
      der.start_cons(kExplicit(1), kContextConstructed)
          .start_cons(Botan::SEQUENCE)
          .start_cons(Botan::SEQUENCE)
          .encode(kNonce)
          .encode(*nonce, Botan::OCTET_STRING)
          .end_cons()
          .end_cons()
          .end_cons();
    }
    der.end_cons();

    const std::vector<uint8_t> signature = signer->sign_message(data, rng);
    std::vector<uint8_t> basic;
    Botan::DER_Encoder(basic)
        .start_cons(Botan::SEQUENCE)
        .raw_bytes(data)
        .encode(algorithm)
        .encode(signature, Botan::BIT_STRING)
        .start_cons(kExplicit(0), kContextConstructed)
        .start_cons(Botan::SEQUENCE)
        .encode(responder)
        .end_cons()
        .end_cons()
        .end_cons();
    std::vector<uint8_t> response;
    Botan::DER_Encoder(response)
        .start_cons(Botan::SEQUENCE)
        .encode(size_t{0}, Botan::ENUMERATED, Botan::UNIVERSAL)  // successful
        .start_cons(kExplicit(0), kContextConstructed)
        .start_cons(Botan::SEQUENCE)
        .encode(kBasicResponse)
        .encode(basic, Botan::OCTET_STRING)
        .end_cons()
        .end_cons()
        .end_cons();
    return response;
  } catch (const std::exception& e) {
    return absl::UnavailableError(absl::StrCat("signing the OCSP response failed: ", e.what()));
  }
}

std::vector<uint8_t> OcspErrorResponse(OcspError error) {
  std::vector<uint8_t> response;
  Botan::DER_Encoder(response)
      .start_cons(Botan::SEQUENCE)
      .encode(static_cast<size_t>(error), Botan::ENUMERATED, Botan::UNIVERSAL)
      .end_cons();
  return response;
}

}  // namespace tessera::ca
