#include "vreader/keys.h"

#include <botan/data_src.h>
#include <botan/der_enc.h>
#include <botan/ecdsa.h>
#include <botan/pkcs8.h>
#include <botan/pubkey.h>
#include <botan/rsa.h>
#include <botan/system_rng.h>

#include <algorithm>
#include <set>

namespace tessera::vreader {
namespace {

// DER of OID 1.2.840.10045.3.1.7 (P-256), the only curve the card knows.
const Bytes kP256Params = {0x06, 0x08, 0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x03, 0x01, 0x07};
constexpr size_t kP256SignatureLen = 64;  // r || s

// What a key pair template may say; anything else is CKR_ATTRIBUTE_TYPE_INVALID.
const std::set<CK_ATTRIBUTE_TYPE> kSettable = {
    CKA_CLASS,      CKA_KEY_TYPE,     CKA_TOKEN,          CKA_PRIVATE,
    CKA_MODIFIABLE, CKA_COPYABLE,     CKA_DESTROYABLE,    CKA_LABEL,
    CKA_ID,         CKA_SUBJECT,      CKA_START_DATE,     CKA_END_DATE,
    CKA_SENSITIVE,  CKA_EXTRACTABLE,  CKA_SIGN,           CKA_VERIFY,
    CKA_ENCRYPT,    CKA_DECRYPT,      CKA_WRAP,           CKA_UNWRAP,
    CKA_DERIVE,     CKA_SIGN_RECOVER, CKA_VERIFY_RECOVER, CKA_ALWAYS_AUTHENTICATE,
    CKA_EC_PARAMS,  CKA_MODULUS_BITS, CKA_PUBLIC_EXPONENT};

Bytes Encode(const Botan::BigInt& n) { return Botan::BigInt::encode(n); }

// Template values over defaults; the class and key type a template names must be these.
CK_RV BuildObject(const Attrs& tmpl, const Attrs& defaults, CK_OBJECT_CLASS object_class,
                  CK_KEY_TYPE key_type, Object& out) {
  for (const auto& [type, value] : tmpl) {
    if (!kSettable.contains(type)) return CKR_ATTRIBUTE_TYPE_INVALID;
  }
  if (GetUlong(tmpl, CKA_CLASS).value_or(object_class) != object_class ||
      GetUlong(tmpl, CKA_KEY_TYPE).value_or(key_type) != key_type) {
    return CKR_TEMPLATE_INCONSISTENT;
  }
  out.attrs = defaults;
  for (const auto& [type, value] : tmpl) out.attrs[type] = value;
  out.attrs[CKA_CLASS] = UlongBytes(object_class);
  out.attrs[CKA_KEY_TYPE] = UlongBytes(key_type);
  out.attrs[CKA_LOCAL] = BoolBytes(true);
  return CKR_OK;
}

Attrs CommonDefaults(CK_MECHANISM_TYPE mechanism) {
  return {{CKA_TOKEN, BoolBytes(false)},
          {CKA_MODIFIABLE, BoolBytes(true)},
          {CKA_COPYABLE, BoolBytes(false)},
          {CKA_DESTROYABLE, BoolBytes(true)},
          {CKA_LABEL, {}},
          {CKA_ID, {}},
          {CKA_SUBJECT, {}},
          {CKA_START_DATE, {}},
          {CKA_END_DATE, {}},
          {CKA_DERIVE, BoolBytes(false)},
          {CKA_KEY_GEN_MECHANISM, UlongBytes(mechanism)}};
}

Attrs PublicDefaults(CK_MECHANISM_TYPE mechanism) {
  Attrs attrs = CommonDefaults(mechanism);
  attrs.insert({{CKA_PRIVATE, BoolBytes(false)},
                {CKA_VERIFY, BoolBytes(true)},
                {CKA_ENCRYPT, BoolBytes(false)},
                {CKA_WRAP, BoolBytes(false)},
                {CKA_VERIFY_RECOVER, BoolBytes(false)},
                {CKA_TRUSTED, BoolBytes(false)}});
  return attrs;
}

Attrs PrivateDefaults(CK_MECHANISM_TYPE mechanism) {
  Attrs attrs = CommonDefaults(mechanism);
  attrs.insert({{CKA_PRIVATE, BoolBytes(true)},
                {CKA_SIGN, BoolBytes(true)},
                {CKA_DECRYPT, BoolBytes(false)},
                {CKA_UNWRAP, BoolBytes(false)},
                {CKA_SIGN_RECOVER, BoolBytes(false)},
                {CKA_ALWAYS_AUTHENTICATE, BoolBytes(false)},
                {CKA_WRAP_WITH_TRUSTED, BoolBytes(false)}});
  return attrs;
}

// The card never lets a private key out, whatever the template asked.
void SealPrivate(Object& priv, std::unique_ptr<Botan::Private_Key> key) {
  for (CK_ATTRIBUTE_TYPE type : {CKA_SENSITIVE, CKA_ALWAYS_SENSITIVE, CKA_NEVER_EXTRACTABLE}) {
    priv.attrs[type] = BoolBytes(true);
  }
  priv.attrs[CKA_EXTRACTABLE] = BoolBytes(false);
  const Botan::secure_vector<uint8_t> pkcs8 = Botan::PKCS8::BER_encode(*key);
  priv.attrs[kCardSecret] = Bytes(pkcs8.begin(), pkcs8.end());
  priv.key = std::move(key);
}

CK_RV GenerateEc(const Attrs& pub_t, const Attrs& priv_t, Object& pub, Object& priv) {
  auto params = pub_t.find(CKA_EC_PARAMS);
  if (params == pub_t.end()) return CKR_TEMPLATE_INCOMPLETE;
  if (params->second != kP256Params) return CKR_CURVE_NOT_SUPPORTED;
  if (CK_RV rv =
          BuildObject(pub_t, PublicDefaults(CKM_EC_KEY_PAIR_GEN), CKO_PUBLIC_KEY, CKK_EC, pub);
      rv != CKR_OK) {
    return rv;
  }
  if (CK_RV rv =
          BuildObject(priv_t, PrivateDefaults(CKM_EC_KEY_PAIR_GEN), CKO_PRIVATE_KEY, CKK_EC, priv);
      rv != CKR_OK) {
    return rv;
  }
  auto key =
      std::make_unique<Botan::ECDSA_PrivateKey>(Botan::system_rng(), Botan::EC_Group("secp256r1"));
  // SoftHSM's CKA_EC_POINT: a DER OCTET STRING around the uncompressed point.
  const std::vector<uint8_t> point = key->public_point().encode(Botan::PointGFp::UNCOMPRESSED);
  Bytes point_der;
  Botan::DER_Encoder(point_der).encode(point, Botan::OCTET_STRING);
  pub.attrs[CKA_EC_POINT] = point_der;
  pub.attrs[CKA_EC_PARAMS] = kP256Params;
  priv.attrs[CKA_EC_PARAMS] = kP256Params;
  SealPrivate(priv, std::move(key));
  return CKR_OK;
}

CK_RV GenerateRsa(const Attrs& pub_t, const Attrs& priv_t, Object& pub, Object& priv) {
  std::optional<CK_ULONG> bits = GetUlong(pub_t, CKA_MODULUS_BITS);
  if (!bits) return CKR_TEMPLATE_INCOMPLETE;
  if (*bits != 2048 && *bits != 3072) return CKR_KEY_SIZE_RANGE;
  Botan::BigInt e(65537);
  if (auto given = pub_t.find(CKA_PUBLIC_EXPONENT); given != pub_t.end()) {
    e = Botan::BigInt(given->second.data(), given->second.size());
    if (e < 3 || e.is_even() || e.bits() > 32) return CKR_ATTRIBUTE_VALUE_INVALID;
  }
  if (CK_RV rv = BuildObject(pub_t, PublicDefaults(CKM_RSA_PKCS_KEY_PAIR_GEN), CKO_PUBLIC_KEY,
                             CKK_RSA, pub);
      rv != CKR_OK) {
    return rv;
  }
  if (CK_RV rv = BuildObject(priv_t, PrivateDefaults(CKM_RSA_PKCS_KEY_PAIR_GEN), CKO_PRIVATE_KEY,
                             CKK_RSA, priv);
      rv != CKR_OK) {
    return rv;
  }
  auto key = std::make_unique<Botan::RSA_PrivateKey>(Botan::system_rng(), *bits, e.to_u32bit());
  for (Object* object : {&pub, &priv}) {
    object->attrs[CKA_MODULUS] = Encode(key->get_n());
    object->attrs[CKA_PUBLIC_EXPONENT] = Encode(key->get_e());
  }
  pub.attrs[CKA_MODULUS_BITS] = UlongBytes(*bits);
  SealPrivate(priv, std::move(key));
  return CKR_OK;
}

// The Botan padding that makes a PK_Signer do what the PKCS#11 mechanism does.
const char* Padding(CK_MECHANISM_TYPE mechanism) {
  switch (mechanism) {
    case CKM_ECDSA:
      return "Raw";  // the input is the digest
    case CKM_ECDSA_SHA256:
      return "EMSA1(SHA-256)";
    case CKM_RSA_PKCS:
      return "EMSA3(Raw)";  // the input is a DigestInfo: type-1 padding only
    case CKM_SHA256_RSA_PKCS:
      return "EMSA3(SHA-256)";
    default:
      return nullptr;
  }
}

}  // namespace

const std::vector<CK_MECHANISM_TYPE>& Mechanisms() {
  static const std::vector<CK_MECHANISM_TYPE> list = {
      CKM_EC_KEY_PAIR_GEN,       CKM_ECDSA,    CKM_ECDSA_SHA256,
      CKM_RSA_PKCS_KEY_PAIR_GEN, CKM_RSA_PKCS, CKM_SHA256_RSA_PKCS};
  return list;
}

bool MechanismInfo(CK_MECHANISM_TYPE type, CK_MECHANISM_INFO& info) {
  info = CK_MECHANISM_INFO{};
  switch (type) {
    case CKM_EC_KEY_PAIR_GEN:
      info = {256, 256,
              CKF_HW | CKF_GENERATE_KEY_PAIR | CKF_EC_F_P | CKF_EC_NAMEDCURVE | CKF_EC_UNCOMPRESS};
      return true;
    case CKM_ECDSA:
    case CKM_ECDSA_SHA256:
      info = {256, 256, CKF_HW | CKF_SIGN | CKF_EC_F_P | CKF_EC_NAMEDCURVE | CKF_EC_UNCOMPRESS};
      return true;
    case CKM_RSA_PKCS_KEY_PAIR_GEN:
      info = {2048, 3072, CKF_HW | CKF_GENERATE_KEY_PAIR};
      return true;
    case CKM_RSA_PKCS:
    case CKM_SHA256_RSA_PKCS:
      info = {2048, 3072, CKF_HW | CKF_SIGN};
      return true;
    default:
      return false;
  }
}

CK_RV GenerateKeyPair(CK_MECHANISM_TYPE mechanism, const Attrs& pub_template,
                      const Attrs& priv_template, Object& pub, Object& priv) {
  try {
    if (mechanism == CKM_EC_KEY_PAIR_GEN) return GenerateEc(pub_template, priv_template, pub, priv);
    if (mechanism == CKM_RSA_PKCS_KEY_PAIR_GEN) {
      return GenerateRsa(pub_template, priv_template, pub, priv);
    }
  } catch (const std::exception&) {
    return CKR_DEVICE_ERROR;
  }
  return CKR_MECHANISM_INVALID;
}

CK_RV CheckSignKey(const Object& key, CK_MECHANISM_TYPE mechanism, CK_ULONG& signature_len) {
  if (Padding(mechanism) == nullptr) return CKR_MECHANISM_INVALID;
  if (GetUlong(key.attrs, CKA_CLASS) != CKO_PRIVATE_KEY) return CKR_KEY_TYPE_INCONSISTENT;
  if (!GetBool(key.attrs, CKA_SIGN).value_or(false)) return CKR_KEY_FUNCTION_NOT_PERMITTED;
  const bool ec = mechanism == CKM_ECDSA || mechanism == CKM_ECDSA_SHA256;
  if (GetUlong(key.attrs, CKA_KEY_TYPE) != (ec ? CKK_EC : CKK_RSA)) {
    return CKR_KEY_TYPE_INCONSISTENT;
  }
  if (ec) {
    signature_len = kP256SignatureLen;
  } else {
    auto modulus = key.attrs.find(CKA_MODULUS);
    if (modulus == key.attrs.end()) return CKR_KEY_HANDLE_INVALID;
    signature_len = modulus->second.size();
  }
  return CKR_OK;
}

CK_RV Sign(Object& key, CK_MECHANISM_TYPE mechanism, const Bytes& data, Bytes& signature) {
  CK_ULONG length = 0;
  if (CK_RV rv = CheckSignKey(key, mechanism, length); rv != CKR_OK) return rv;
  // PKCS#1 v1.5 type 1 needs 11 bytes of padding around the DigestInfo.
  if (mechanism == CKM_RSA_PKCS && data.size() + 11 > length) return CKR_DATA_LEN_RANGE;
  if (mechanism == CKM_ECDSA && data.empty()) return CKR_DATA_LEN_RANGE;
  try {
    if (key.key == nullptr) {
      auto secret = key.attrs.find(kCardSecret);
      if (secret == key.attrs.end()) return CKR_KEY_HANDLE_INVALID;
      Botan::DataSource_Memory source(secret->second);
      key.key = Botan::PKCS8::load_key(source);
    }
    Botan::PK_Signer signer(*key.key, Botan::system_rng(), Padding(mechanism));
    signature = signer.sign_message(data, Botan::system_rng());
  } catch (const std::exception&) {
    return CKR_DEVICE_ERROR;
  }
  return CKR_OK;
}

}  // namespace tessera::vreader
