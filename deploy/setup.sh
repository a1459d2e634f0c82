#!/usr/bin/env bash
# Installs every Debian 12 package tessera needs to build, test and run its demo, and the
# unprivileged user the private PostgreSQL clusters run as. Idempotent and non-interactive:
# on a fresh machine it is the only install step.
set -euo pipefail

packages=(
  # toolchain
  build-essential cmake ninja-build ccache pkg-config git clang-format
  # libraries
  libbotan-2-dev libssl-dev libp11-kit-dev libpq-dev
  libgrpc++-dev libprotobuf-dev protobuf-compiler protobuf-compiler-grpc libabsl-dev
  libspdlog-dev libfmt-dev libtomlplusplus-dev nlohmann-json3-dev libcpp-httplib-dev libmicrohttpd-dev
  libcli11-dev libjwt-dev libargon2-dev libcurl4-openssl-dev libzip-dev
  # print files: PDF pages, text and barcodes; the fonts they embed
  libcairo2-dev libpango1.0-dev libzint-dev fonts-dejavu-core
  libgtest-dev libgmock-dev
  # tokens, database and the independent checkers tests use
  softhsm2 opensc p11-kit postgresql-15 postgresql-client-15
  openssl gnutls-bin libnss3-tools curl wrk poppler-utils python3-jwt python3-aiosmtpd unzip
  # process helpers
  procps util-linux python3 tzdata
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"

if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# PostgreSQL refuses to run as root; test clusters and the demo cluster run as this user.
if ! id tessera-pg >/dev/null 2>&1; then
  $SUDO useradd --system --no-create-home --shell /usr/sbin/nologin tessera-pg
fi
echo "setup: ok"
