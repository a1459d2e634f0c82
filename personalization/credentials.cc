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

const Secret& CardCredentials::Get(Credential credential) const {
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

std::string MailHalfContext(std::string_view card_number, Credential credential) {
  return "card " + std::string(card_number) + ": " + std::string(CredentialName(credential)) +
         " mail half";
}

const std::vector<uint8_t>& SealedMailHalves::Get(Credential credential) const {
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

absl::StatusOr<SealedMailHalves> SealMailHalves(const hsm::SecretSealer& sealer,
                                                std::string_view card_number,
                                                const CardCredentials& credentials) {
  auto seal = [&](Credential c) {
    return sealer.Seal(Split(credentials.Get(c)).mail, MailHalfContext(card_number, c));
  };
  SealedMailHalves sealed;
  TESSERA_ASSIGN_OR_RETURN(sealed.pin, seal(Credential::kPin));
  TESSERA_ASSIGN_OR_RETURN(sealed.puk, seal(Credential::kPuk));
  TESSERA_ASSIGN_OR_RETURN(sealed.password, seal(Credential::kPassword));
  return sealed;
}

absl::StatusOr<Secret> OpenMailHalf(const hsm::SecretSealer& sealer, std::string_view card_number,
                                    Credential credential, std::span<const uint8_t> blob) {
  return sealer.Unseal(blob, MailHalfContext(card_number, credential));
}

}  // namespace tessera::personalization
