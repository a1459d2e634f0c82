#include "platform/random.h"

#include <botan/auto_rng.h>

namespace tessera {

Botan::RandomNumberGenerator& ThreadRng() {
  thread_local Botan::AutoSeeded_RNG rng;
  return rng;
}

}  // namespace tessera
