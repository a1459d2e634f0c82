// A card's secrets (docs/process.md, "Producing a card"): the PIN opens the card's key; the
// PUK unblocks a PIN locked after three wrong tries, and is the token's security-officer PIN;
// the access password is for the days the card cannot be used. Each is split in two halves:
// the envelope half is printed only into the lot's envelope file, the mail half is sealed
// under a key on the HSM until the holder's registration releases it by e-mail. Whole, they
// exist only in the personalizing process's memory.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "hsm/secret_sealer.h"
#include "platform/random.h"
#include "platform/secret.h"

namespace tessera::personalization {

inline constexpr size_t kPinDigits = 8;
inline constexpr size_t kPukDigits = 8;
inline constexpr size_t kPasswordLength = 12;
// The password's characters: letters and digits a person cannot mistake for one another.
inline constexpr std::string_view kPasswordAlphabet = kReadableAlphabet;

enum class Credential { kPin, kPuk, kPassword };

// "PIN", "PUK", "password": how sheets, mails and sealing contexts name it.
std::string_view CredentialName(Credential credential);

struct CardCredentials {
  Secret pin;       // kPinDigits digits
  Secret puk;       // kPukDigits digits
  Secret password;  // kPasswordLength characters of kPasswordAlphabet

  const Secret& Get(Credential credential) const;
};

// Fresh from the CSPRNG, every character drawn uniformly.
CardCredentials NewCardCredentials();

// A secret's two halves ("metà", seeds 000 and 001 §5.5): the first half of its characters for
// the envelope, the rest for the mail.
struct Halves {
  Secret envelope;
  Secret mail;
};
Halves Split(const Secret& secret);
// The secret the holder types: envelope half, then mail half.
Secret Join(const Halves& halves);

enum class Half { kEnvelope, kMail };

// The associated data a sealed half is bound to ("card 0580910000000001: PIN mail half"): a
// blob copied to another card, credential or half does not open.
std::string HalfContext(std::string_view card_number, Credential credential, Half half);

// One half of each of a card's credentials, sealed (AES-256-GCM under the sealer's key on the
// HSM) for its card, credential and half. Mail halves are kept so until the holder's
// registration releases them by e-mail; envelope halves until the envelope file is printed.
struct SealedHalves {
  std::vector<uint8_t> pin, puk, password;

  const std::vector<uint8_t>& Get(Credential credential) const;
};
absl::StatusOr<SealedHalves> SealHalves(const hsm::SecretSealer& sealer,
                                        std::string_view card_number,
                                        const CardCredentials& credentials, Half half);
// One half back; INVALID_ARGUMENT for a blob altered or sealed for another card, credential or
// half.
absl::StatusOr<Secret> OpenHalf(const hsm::SecretSealer& sealer, std::string_view card_number,
                                Credential credential, Half half, std::span<const uint8_t> blob);
// The whole credentials again from both sealed halves (a resumed card needs its PIN and PUK).
absl::StatusOr<CardCredentials> OpenCredentials(const hsm::SecretSealer& sealer,
                                                std::string_view card_number,
                                                const SealedHalves& envelope,
                                                const SealedHalves& mail);

}  // namespace tessera::personalization
