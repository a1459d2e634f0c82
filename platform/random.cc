#include "platform/random.h"

#include <botan/auto_rng.h>

namespace tessera {

Botan::RandomNumberGenerator& ThreadRng() {
  thread_local Botan::AutoSeeded_RNG rng;
  return rng;
}

Secret RandomText(size_t length, std::string_view alphabet) {
  const size_t limit = 256 - 256 % alphabet.size();
  Botan::secure_vector<uint8_t> text;
  text.reserve(length);
  while (text.size() < length) {
    const uint8_t byte = ThreadRng().next_byte();
    if (byte < limit) text.push_back(static_cast<uint8_t>(alphabet[byte % alphabet.size()]));
  }
  return Secret(std::move(text));
}

}  // namespace tessera
