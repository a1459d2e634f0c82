#include "hsm/token_key.h"

#include <botan/ber_dec.h>
#include <botan/ecdsa.h>
#include <botan/emsa.h>
#include <botan/hash.h>
#include <botan/hash_id.h>
#include <botan/pk_ops.h>
#include <botan/rsa.h>

#include "absl/strings/str_cat.h"
#include "hsm/error.h"
#include "platform/status_macros.h"

namespace tessera::hsm {
namespace {

enum class SignScheme { kEcdsa, kRsaPkcs1 };

// Botan passes the padding as e.g. "EMSA1(SHA-256)" (ECDSA) or "EMSA3(SHA-256)" (RSA).
std::unique_ptr<Botan::HashFunction> HashFromPadding(const std::string& padding,
                                                     SignScheme scheme) {
  const size_t open = padding.find('(');
  const size_t close = padding.rfind(')');
  if (open == std::string::npos || close == std::string::npos || close < open) {
    throw Botan::Invalid_Argument("token key: unsupported padding " + padding);
  }
  const std::string scheme_name = padding.substr(0, open);
  const bool ok =
      scheme == SignScheme::kEcdsa
          ? scheme_name == "EMSA1"
          : (scheme_name == "EMSA3" || scheme_name == "EMSA_PKCS1" || scheme_name == "PKCS1v15");
  if (!ok) throw Botan::Invalid_Argument("token key: unsupported padding " + padding);
  return Botan::HashFunction::create_or_throw(padding.substr(open + 1, close - open - 1));
}

// Hashes in software as data arrives; the token signs the digest once.
class TokenSignatureOperation final : public Botan::PK_Ops::Signature {
 public:
  TokenSignatureOperation(std::shared_ptr<Token> token, CK_OBJECT_HANDLE key, SignScheme scheme,
                          std::unique_ptr<Botan::HashFunction> hash, size_t signature_length)
      : token_(std::move(token)),
        key_(key),
        scheme_(scheme),
        hash_(std::move(hash)),
        signature_length_(signature_length) {}

  void update(const uint8_t msg[], size_t msg_len) override { hash_->update(msg, msg_len); }

  Botan::secure_vector<uint8_t> sign(Botan::RandomNumberGenerator&) override {
    Botan::secure_vector<uint8_t> input = hash_->final();
    CK_MECHANISM_TYPE mechanism = CKM_ECDSA;
    if (scheme_ == SignScheme::kRsaPkcs1) {
      std::vector<uint8_t> digest_info = Botan::pkcs_hash_id(hash_->name());
      input.insert(input.begin(), digest_info.begin(), digest_info.end());
      mechanism = CKM_RSA_PKCS;
    }
    absl::StatusOr<Token::Lease> lease = token_->Acquire();
    if (!lease.ok()) throw TokenKeyError(lease.status());
    absl::StatusOr<std::vector<uint8_t>> signature = (*lease)->Sign(key_, mechanism, input);
    if (!signature.ok()) throw TokenKeyError(signature.status());
    return Botan::secure_vector<uint8_t>(signature->begin(), signature->end());
  }

  size_t signature_length() const override { return signature_length_; }

 private:
  std::shared_ptr<Token> token_;
  CK_OBJECT_HANDLE key_;
  SignScheme scheme_;
  std::unique_ptr<Botan::HashFunction> hash_;
  size_t signature_length_;
};

class EcdsaTokenKey final : public Botan::ECDSA_PublicKey, public virtual Botan::Private_Key {
 public:
  EcdsaTokenKey(std::shared_ptr<Token> token, CK_OBJECT_HANDLE key, const Botan::EC_Group& group,
                const Botan::PointGFp& point)
      // EC_PublicKey is a virtual base: the most derived class must construct it.
      : Botan::EC_PublicKey(group, point),
        Botan::ECDSA_PublicKey(group, point),
        token_(std::move(token)),
        key_(key) {}

  std::string algo_name() const override { return "ECDSA"; }
  // Without these Botan writes a raw r||s signature that openssl and certtool reject.
  size_t message_parts() const override { return 2; }
  size_t message_part_size() const override { return domain().get_order().bytes(); }

  Botan::secure_vector<uint8_t> private_key_bits() const override {
    throw Botan::Not_Implemented("the private key never leaves the token");
  }

  std::unique_ptr<Botan::PK_Ops::Signature> create_signature_op(Botan::RandomNumberGenerator&,
                                                                const std::string& padding,
                                                                const std::string&) const override {
    return std::make_unique<TokenSignatureOperation>(token_, key_, SignScheme::kEcdsa,
                                                     HashFromPadding(padding, SignScheme::kEcdsa),
                                                     2 * message_part_size());
  }

 private:
  std::shared_ptr<Token> token_;
  CK_OBJECT_HANDLE key_;
};

class RsaTokenKey final : public Botan::RSA_PublicKey, public virtual Botan::Private_Key {
 public:
  RsaTokenKey(std::shared_ptr<Token> token, CK_OBJECT_HANDLE key, const Botan::BigInt& n,
              const Botan::BigInt& e)
      : Botan::RSA_PublicKey(n, e), token_(std::move(token)), key_(key) {}

  std::string algo_name() const override { return "RSA"; }

  Botan::secure_vector<uint8_t> private_key_bits() const override {
    throw Botan::Not_Implemented("the private key never leaves the token");
  }

  std::unique_ptr<Botan::PK_Ops::Signature> create_signature_op(Botan::RandomNumberGenerator&,
                                                                const std::string& padding,
                                                                const std::string&) const override {
    return std::make_unique<TokenSignatureOperation>(
        token_, key_, SignScheme::kRsaPkcs1, HashFromPadding(padding, SignScheme::kRsaPkcs1),
        get_n().bytes());
  }

 private:
  std::shared_ptr<Token> token_;
  CK_OBJECT_HANDLE key_;
};

absl::StatusOr<std::unique_ptr<Botan::Private_Key>> MakeKey(std::shared_ptr<Token> token,
                                                            Session& session,
                                                            CK_OBJECT_HANDLE private_key,
                                                            CK_OBJECT_HANDLE public_key) {
  TESSERA_ASSIGN_OR_RETURN(CK_ULONG key_type, session.GetUlongAttribute(private_key, CKA_KEY_TYPE));
  try {
    if (key_type == CKK_EC) {
      TESSERA_ASSIGN_OR_RETURN(std::vector<uint8_t> params,
                               session.GetAttribute(public_key, CKA_EC_PARAMS));
      TESSERA_ASSIGN_OR_RETURN(std::vector<uint8_t> point_der,
                               session.GetAttribute(public_key, CKA_EC_POINT));
      Botan::EC_Group group(params);
      // CKA_EC_POINT is a DER OCTET STRING around the uncompressed point.
      std::vector<uint8_t> point;
      Botan::BER_Decoder(point_der).decode(point, Botan::OCTET_STRING).verify_end();
      return std::unique_ptr<Botan::Private_Key>(new EcdsaTokenKey(
          std::move(token), private_key, group, group.OS2ECP(point.data(), point.size())));
    }
    if (key_type == CKK_RSA) {
      TESSERA_ASSIGN_OR_RETURN(std::vector<uint8_t> n,
                               session.GetAttribute(public_key, CKA_MODULUS));
      TESSERA_ASSIGN_OR_RETURN(std::vector<uint8_t> e,
                               session.GetAttribute(public_key, CKA_PUBLIC_EXPONENT));
      return std::unique_ptr<Botan::Private_Key>(
          new RsaTokenKey(std::move(token), private_key, Botan::BigInt(n), Botan::BigInt(e)));
    }
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat("token key: public key unreadable: ", e.what()));
  }
  return absl::UnimplementedError(absl::StrCat("token key: key type ", key_type, " unsupported"));
}

}  // namespace

absl::StatusOr<std::unique_ptr<Botan::Private_Key>> LoadTokenKey(std::shared_ptr<Token> token,
                                                                 std::span<const uint8_t> id) {
  TESSERA_ASSIGN_OR_RETURN(Token::Lease lease, token->Acquire());
  TESSERA_ASSIGN_OR_RETURN(CK_OBJECT_HANDLE private_key, lease->FindById(CKO_PRIVATE_KEY, id));
  TESSERA_ASSIGN_OR_RETURN(CK_OBJECT_HANDLE public_key, lease->FindById(CKO_PUBLIC_KEY, id));
  return MakeKey(std::move(token), *lease, private_key, public_key);
}

absl::StatusOr<std::vector<TokenCertificate>> ListCertificates(std::shared_ptr<Token> token) {
  TESSERA_ASSIGN_OR_RETURN(Token::Lease lease, token->Acquire());
  Attributes match;
  match.Ulong(CKA_CLASS, CKO_CERTIFICATE).Ulong(CKA_CERTIFICATE_TYPE, CKC_X_509);
  TESSERA_ASSIGN_OR_RETURN(std::vector<CK_OBJECT_HANDLE> found, lease->FindObjects(match));
  std::vector<TokenCertificate> certificates;
  for (CK_OBJECT_HANDLE object : found) {
    TESSERA_ASSIGN_OR_RETURN(std::vector<uint8_t> id, lease->GetAttribute(object, CKA_ID));
    TESSERA_ASSIGN_OR_RETURN(std::vector<uint8_t> der, lease->GetAttribute(object, CKA_VALUE));
    certificates.push_back({std::move(id), std::move(der)});
  }
  return certificates;
}

absl::StatusOr<std::unique_ptr<Botan::Private_Key>> GenerateTokenKey(std::shared_ptr<Token> token,
                                                                     const KeyPairSpec& spec) {
  TESSERA_ASSIGN_OR_RETURN(Token::Lease lease, token->Acquire());
  TESSERA_ASSIGN_OR_RETURN(KeyPair pair, lease->GenerateKeyPair(spec));
  return MakeKey(std::move(token), *lease, pair.private_key, pair.public_key);
}

absl::StatusOr<OwnKey> LoadOrMakeOwnKey(std::shared_ptr<Token> token, const std::string& label) {
  const std::vector<uint8_t> id(label.begin(), label.end());
  absl::StatusOr<std::unique_ptr<Botan::Private_Key>> key = LoadTokenKey(token, id);
  if (key.ok()) return OwnKey{.key = *std::move(key)};
  if (key.status().code() != absl::StatusCode::kNotFound) return key.status();
  TESSERA_ASSIGN_OR_RETURN(
      std::unique_ptr<Botan::Private_Key> made,
      GenerateTokenKey(token, {.algorithm = KeyAlgorithm::kEcP256, .id = id, .label = label}));
  return OwnKey{.key = std::move(made), .made = true};
}

absl::Status SignatureFailure(const std::exception& e, const std::string& what,
                              absl::StatusCode otherwise) {
  if (const auto* token = dynamic_cast<const TokenKeyError*>(&e); token != nullptr) {
    return absl::Status(token->status().code(),
                        absl::StrCat(what, ": ", token->status().message()));
  }
  return absl::Status(otherwise, absl::StrCat(what, ": ", e.what()));
}

}  // namespace tessera::hsm
