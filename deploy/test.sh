#!/usr/bin/env bash
# Builds tessera and runs every test (labels unit, pg, hsm, e2e) with ctest.
# Extra arguments go to ctest, e.g. `deploy/test.sh -L hsm`.
# TESSERA_PRESET=asan runs the same tests under AddressSanitizer + UBSan.
set -euo pipefail
cd "$(dirname "$0")/.."
deploy/setup.sh
preset=${TESSERA_PRESET:-default}
cmake --preset "$preset" >/dev/null
cmake --build --preset "$preset"
ctest --preset "$preset" -j "$(nproc)" "$@"
