#!/usr/bin/env bash
# tessera's main job, as far as it exists: builds, starts a private PostgreSQL cluster and
# private SoftHSM tokens under a work dir, starts tessera-ca over mTLS, and walks through
# what works so far, printing each step. Work dir: $TESSERA_WORK (default ./work/demo),
# recreated on every run; PostgreSQL and tessera-ca are stopped on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

deploy/setup.sh
cmake --preset default >/dev/null
cmake --build --preset default >/dev/null
bin=$root/build/bin

work=${TESSERA_WORK:-$root/work/demo}
rm -rf "$work"
mkdir -p "$work/pki"
step() { printf '\n== %s\n' "$*"; }

ca_pid=""
cleanup() {
  [ -n "$ca_pid" ] && kill "$ca_pid" 2>/dev/null && wait "$ca_pid" 2>/dev/null || true
  tests/scripts/pg-cluster.sh stop "$work/pg.env" || true
}
trap cleanup EXIT

step "PostgreSQL 15: a private cluster (fsync on, loopback only)"
tests/scripts/pg-cluster.sh start "$work/pg.env"
set -a; . "$work/pg.env"; set +a
psql -qAt -d postgres -c "SELECT '  ' || split_part(version(), ',', 1) || ', fsync=' || current_setting('fsync') || ', port ' || current_setting('port')"

step "SoftHSM: a private token directory (not the system's)"
eval "$(tests/scripts/softhsm-env.sh "$work/softhsm")"
echo "  SOFTHSM2_CONF=$SOFTHSM2_CONF"
# Demo PINs: random, kept in the environment of this script only, never printed.
export TESSERA_SO_PIN=$(openssl rand -hex 8) TESSERA_USER_PIN=$(openssl rand -hex 4)
export TESSERA_HSM_MODULE=$TESSERA_PKCS11_MODULE

step "Key ceremony: offline root token, issuing CAs + OCSP responders on the online token"
export TESSERA_ROOT_SO_PIN=$(openssl rand -hex 8) TESSERA_ROOT_PIN=$(openssl rand -hex 4)
export TESSERA_CA_SO_PIN=$(openssl rand -hex 8) TESSERA_CA_PIN=$(openssl rand -hex 4)
sed -e "s|^dir = .*|dir = \"$work/pki\"|" -e "s|^profiles = .*|profiles = \"$root/deploy/ca/profiles.toml\"|" \
  deploy/ca/ceremony.toml >"$work/ceremony.toml"
"$bin/tessera" ceremony --config "$work/ceremony.toml" 2>"$work/ceremony-audit.log" | sed 's/^/  /'
echo "  audit log: $(wc -l <"$work/ceremony-audit.log") steps in $work/ceremony-audit.log"
printf '  openssl verify: '
openssl verify -x509_strict -CAfile "$work/pki/root.pem" -untrusted "$work/pki/operators.pem" \
  "$work/pki/operators.pem" "$work/pki/workstations.pem" "$work/pki/ocsp-operators.pem" | tr '\n' ' '
echo
openssl x509 -in "$work/pki/operators.pem" -noout -subject -nameopt RFC2253 | sed 's/^/  operators CA /'

step "tessera-ca: gRPC over mTLS (client certificate required), default-deny policy"
cat >"$work/ca.toml" <<TOML
[grpc]
listen = "127.0.0.1:0"
port_file = "$work/ca.port"
[tls]
certificate_chain = "$work/pki/tessera-ca.pem"
private_key = "$work/pki/tessera-ca.key"
client_ca_bundle = "$work/pki/bundle.pem"
TOML
"$bin/tessera-ca" --config "$work/ca.toml" 2>"$work/ca.log" &
ca_pid=$!
for _ in $(seq 1 200); do [ -s "$work/ca.port" ] && break; sleep 0.05; done
[ -s "$work/ca.port" ] || { cat "$work/ca.log"; exit 1; }
port=$(cat "$work/ca.port")
echo "  tessera-ca pid $ca_pid listening on 127.0.0.1:$port"
printf '  health as tessera-cli:         '
"$bin/tessera" health --target "localhost:$port" --ca "$work/pki/bundle.pem" \
  --cert "$work/pki/tessera-cli.pem" --key "$work/pki/tessera-cli.key"
printf '  health with no client certificate: '
if "$bin/tessera" health --target "localhost:$port" --ca "$work/pki/bundle.pem" 2>"$work/noclient.log"; then
  echo "UNEXPECTEDLY ACCEPTED"; exit 1
fi
echo "refused ($(cut -c1-80 "$work/noclient.log"))"

step "An operator card: token, key pair generated on it, CSR signed on it"
card=0580010000000001
"$bin/tessera" token init --label "$card" | sed 's/^/  /'
"$bin/tessera" token csr --label "$card" --key-id card-key --cn RSSMRA80A01H501U \
  --out "$work/card.csr.pem" | sed 's/^/  /'
printf '  openssl req -verify: '
openssl req -in "$work/card.csr.pem" -noout -verify 2>&1 | tail -1
echo "  pkcs11-tool sees on the card:"
# The private key object is CKA_PRIVATE: listing it needs a login. The demo PIN is random and
# thrown away with the work dir; tessera itself never takes a PIN as an argument.
pkcs11-tool --module "$TESSERA_PKCS11_MODULE" --token-label "$card" --login \
  --pin "$TESSERA_USER_PIN" -O 2>/dev/null | grep -E "Object;|label:|ID:|Usage:|Access:" | sed 's/^/    /'

step "Done"
echo "  PostgreSQL, SoftHSM tokens and tessera-ca over mTLS worked end to end."
echo "  Files are in $work (tessera-ca log: $work/ca.log). Stopping services."
