#!/usr/bin/env bash
# A private SoftHSM token store, never the system's: writes DIR/softhsm2.conf pointing at
# DIR/tokens and prints the variables to export. Source it or eval its output:
#   eval "$(tests/scripts/softhsm-env.sh DIR)"
set -euo pipefail
dir=${1:?usage: softhsm-env.sh DIR}
mkdir -p "$dir/tokens"
dir=$(cd "$dir" && pwd)
cat >"$dir/softhsm2.conf" <<CONF
directories.tokendir = $dir/tokens
objectstore.backend = file
log.level = ERROR
slots.removable = false
CONF
module=/usr/lib/softhsm/libsofthsm2.so
echo "export SOFTHSM2_CONF=$dir/softhsm2.conf"
echo "export TESSERA_PKCS11_MODULE=$module"
