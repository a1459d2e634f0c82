#include "personalization/credentials.h"

#include "platform/random.h"
#include "platform/status_macros.h"

namespace tessera::personalization {

std::string_view CredentialName(Credential credential) {
  switch (credential) {
    case Credential::kPin:
      return "PIN";
    case Credential::kPuk:
      return "PUK";
    case Credential::kPassword:
      return "password";
  }
  return "?";
}

namespace {

// The one of three things that goes with `credential`.
template <typename T>
const T& Pick(Credential credential, const T& pin, const T& puk, const T& password) {
  switch (credential) {
    case Credential::kPin:
      return pin;
    case Credential::kPuk:
      return puk;
    case Credential::kPassword:
      break;
  }
  return password;
}

}  // namespace

const Secret& CardCredentials::Get(Credential credential) const {
  return Pick(credential, pin, puk, password);
}

CardCredentials NewCardCredentials() {
  return {.pin = RandomText(kPinDigits, "0123456789"),
          .puk = RandomText(kPukDigits, "0123456789"),
          .password = RandomText(kPasswordLength, kPasswordAlphabet)};
}

Halves Split(const Secret& secret) {
  const auto& bytes = secret.bytes();
  const size_t half = bytes.size() / 2;
  return {.envelope = Secret(Botan::secure_vector<uint8_t>(bytes.begin(), bytes.begin() + half)),
          .mail = Secret(Botan::secure_vector<uint8_t>(bytes.begin() + half, bytes.end()))};
}

Secret Join(const Halves& halves) {
  Botan::secure_vector<uint8_t> whole = halves.envelope.bytes();
  whole.insert(whole.end(), halves.mail.bytes().begin(), halves.mail.bytes().end());
  return Secret(std::move(whole));
}

std::string HalfContext(std::string_view card_number, Credential credential, Half half) {
  return "card " + std::string(card_number) + ": " + std::string(CredentialName(credential)) +
         (half == Half::kEnvelope ? " envelope half" : " mail half");
}

const std::vector<uint8_t>& SealedHalves::Get(Credential credential) const {
  return Pick(credential, pin, puk, password);
}

absl::StatusOr<SealedHalves> SealHalves(const hsm::SecretSealer& sealer,
                                        std::string_view card_number,
                                        const CardCredentials& credentials, Half half) {
  auto seal = [&](Credential c) {
    const Halves halves = Split(credentials.Get(c));
    return sealer.Seal(half == Half::kEnvelope ? halves.envelope : halves.mail,
                       HalfContext(card_number, c, half));
  };
  SealedHalves sealed;
  TESSERA_ASSIGN_OR_RETURN(sealed.pin, seal(Credential::kPin));
  TESSERA_ASSIGN_OR_RETURN(sealed.puk, seal(Credential::kPuk));
  TESSERA_ASSIGN_OR_RETURN(sealed.password, seal(Credential::kPassword));
  return sealed;
}

absl::StatusOr<Secret> OpenHalf(const hsm::SecretSealer& sealer, std::string_view card_number,
                                Credential credential, Half half, std::span<const uint8_t> blob) {
  return sealer.Unseal(blob, HalfContext(card_number, credential, half));
}

absl::StatusOr<CardCredentials> OpenCredentials(const hsm::SecretSealer& sealer,
                                                std::string_view card_number,
                                                const SealedHalves& envelope,
                                                const SealedHalves& mail) {
  auto open = [&](Credential c) -> absl::StatusOr<Secret> {
    TESSERA_ASSIGN_OR_RETURN(Secret first,
                             OpenHalf(sealer, card_number, c, Half::kEnvelope, envelope.Get(c)));
    TESSERA_ASSIGN_OR_RETURN(Secret second,
                             OpenHalf(sealer, card_number, c, Half::kMail, mail.Get(c)));
    return Join({std::move(first), std::move(second)});
  };
  CardCredentials credentials;
  TESSERA_ASSIGN_OR_RETURN(credentials.pin, open(Credential::kPin));
  TESSERA_ASSIGN_OR_RETURN(credentials.puk, open(Credential::kPuk));
  TESSERA_ASSIGN_OR_RETURN(credentials.password, open(Credential::kPassword));
  return credentials;
}

}  // namespace tessera::personalization
