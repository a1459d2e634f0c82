#!/usr/bin/env bash
# tessera's main job, as far as it exists: builds, starts a private PostgreSQL cluster and
# private SoftHSM tokens under a work dir, starts tessera-ca, tessera-registry, tessera-perso and
# tessera-dispatch over mTLS (and a local SMTP server, Debian's aiosmtpd), and walks through
# what works so far (census, personalized cards, sealed lots, deliveries at the Ministry and at
# the prefettura with receipts, registrations at the comune, the second halves by mail, card
# logins), printing each step. Work dir: $TESSERA_WORK (default ./work/demo), recreated on every
# run; every process it started is stopped on exit.
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
registry_pid=""
perso_pid=""
dispatch_pid=""
smtp_pid=""
cleanup() {
  [ -n "$dispatch_pid" ] && kill "$dispatch_pid" 2>/dev/null && wait "$dispatch_pid" 2>/dev/null || true
  [ -n "$smtp_pid" ] && kill "$smtp_pid" 2>/dev/null && wait "$smtp_pid" 2>/dev/null || true
  [ -n "$perso_pid" ] && kill "$perso_pid" 2>/dev/null && wait "$perso_pid" 2>/dev/null || true
  [ -n "$ca_pid" ] && kill "$ca_pid" 2>/dev/null && wait "$ca_pid" 2>/dev/null || true
  [ -n "$registry_pid" ] && kill "$registry_pid" 2>/dev/null && wait "$registry_pid" 2>/dev/null || true
  tests/scripts/pg-cluster.sh stop "$work/pg.env" || true
}
trap cleanup EXIT

# The CLI keeps a person's session here (tessera login): the Ministry's machine's, once its
# operator has logged in with his card.
export XDG_CONFIG_HOME="$work/ministry"

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
# Kept in shell variables, not exported: each process gets only the PIN it needs (the ceremony
# all four, tessera-ca its token's user PIN, tessera-registry none).
root_so_pin=$(openssl rand -hex 8) root_pin=$(openssl rand -hex 4)
ca_so_pin=$(openssl rand -hex 8) ca_pin=$(openssl rand -hex 4)
# The CRL, OCSP and caIssuers URLs the ceremony writes into every certificate must reach
# tessera-ca: pick a free port now, for both the ceremony's urls.base and tessera-ca's
# http.listen.
http_port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
http="http://127.0.0.1:$http_port"
sed -e "s|^dir = .*|dir = \"$work/pki\"|" -e "s|^profiles = .*|profiles = \"$root/deploy/ca/profiles.toml\"|" \
  -e "s|^base = .*|base = \"$http\"|" deploy/ca/ceremony.toml >"$work/ceremony.toml"
TESSERA_ROOT_SO_PIN=$root_so_pin TESSERA_ROOT_PIN=$root_pin TESSERA_CA_SO_PIN=$ca_so_pin \
  TESSERA_CA_PIN=$ca_pin "$bin/tessera" ceremony --config "$work/ceremony.toml" \
  2>"$work/ceremony-audit.log" | sed 's/^/  /'
echo "  audit log: $(wc -l <"$work/ceremony-audit.log") steps in $work/ceremony-audit.log"
printf '  openssl verify: '
openssl verify -x509_strict -CAfile "$work/pki/root.pem" -untrusted "$work/pki/operators.pem" \
  "$work/pki/operators.pem" "$work/pki/workstations.pem" "$work/pki/ocsp-operators.pem" | tr '\n' ' '
echo
openssl x509 -in "$work/pki/operators.pem" -noout -subject -nameopt RFC2253 | sed 's/^/  operators CA /'
printf '  the root'"'"'s first CRL (root.crl, signed on the offline token): '
openssl crl -inform DER -in "$work/pki/root.crl" -CAfile "$work/pki/root.pem" -noout -verify -crlnumber 2>&1 | tr '\n' ' '
echo

step "tessera-ca: gRPC over mTLS (client certificate required), default-deny policy"
psql -qAt -d postgres -c "CREATE DATABASE tessera"
cat >"$work/ca.toml" <<TOML
[grpc]
listen = "127.0.0.1:0"
port_file = "$work/ca.port"
[tls]
certificate_chain = "$work/pki/tessera-ca.pem"
private_key = "$work/pki/tessera-ca.key"
client_ca_bundle = "$work/pki/bundle.pem"
[db]
conninfo = "host=$PGHOST port=$PGPORT user=$PGUSER dbname=tessera"
[hsm]
module = "$TESSERA_PKCS11_MODULE"
token = "tessera-ca"
[ca]
issuers = "operators,workstations"
root_certificate = "$work/pki/root.pem"
profiles = "$root/deploy/ca/profiles.toml"
base_url = "$http"
[http]
listen = "127.0.0.1:$http_port"
port_file = "$work/ca.http-port"
[crl]
validity_hours = 24
refresh_hours = 12
[audit]
anchor_seconds = 5
public_key_file = "$work/ca-audit.pem"
TOML
# Only its own PIN, from a 0600 credentials file (as systemd's LoadCredential hands it over);
# tessera-ca reads it and takes it out of its environment. The root's PINs go nowhere: the
# root token stays offline.
(umask 077; printf '%s\n' "$ca_pin" >"$work/ca.pin")
env -u TESSERA_SO_PIN -u TESSERA_USER_PIN TESSERA_CA_PIN_FILE="$work/ca.pin" \
  "$bin/tessera-ca" --config "$work/ca.toml" 2>"$work/ca.log" &
ca_pid=$!
for _ in $(seq 1 200); do [ -s "$work/ca.port" ] && break; sleep 0.05; done
[ -s "$work/ca.port" ] || { cat "$work/ca.log"; exit 1; }
port=$(cat "$work/ca.port")
echo "  tessera-ca pid $ca_pid listening on 127.0.0.1:$port (schema ca migrated, issuers loaded from the HSM)"
export TESSERA_TARGET="localhost:$port" TESSERA_TLS_CA="$work/pki/bundle.pem"
export TESSERA_TLS_CERT="$work/pki/tessera-cli.pem" TESSERA_TLS_KEY="$work/pki/tessera-cli.key"
printf '  health as tessera-cli:               '
"$bin/tessera" health
printf '  health with no client certificate:   '
if TESSERA_TLS_CERT= TESSERA_TLS_KEY= "$bin/tessera" health 2>"$work/noclient.log"; then
  echo "UNEXPECTEDLY ACCEPTED"; exit 1
fi
echo "refused ($(cut -c1-60 "$work/noclient.log"))"

step "An operator card: key pair generated on the card, certificate from tessera-ca, written back"
card=0580010000000001
"$bin/tessera" token init --label "$card" | sed 's/^/  /'
"$bin/tessera" token csr --label "$card" --key-id card-key --cn RSSMRA85T10A562S \
  --out "$work/card.csr.pem" | sed 's/^/  /'
printf '  openssl req -verify: '
openssl req -in "$work/card.csr.pem" -noout -verify 2>&1 | tail -1
"$bin/tessera" ca issue --profile operator --csr "$work/card.csr.pem" --cf RSSMRA85T10A562S \
  --request-id "card-$card" --out "$work/card.pem" | sed 's/^/  /'
printf '  the same request again (a retry): '
"$bin/tessera" ca issue --profile operator --csr "$work/card.csr.pem" --cf RSSMRA85T10A562S \
  --request-id "card-$card" --json | python3 -c 'import json,sys; print("serial", json.load(sys.stdin)["serial"], "(same certificate, nothing signed)")'
printf '  openssl verify: '
openssl verify -x509_strict -CAfile "$work/pki/root.pem" -untrusted "$work/pki/operators.pem" "$work/card.pem"
openssl x509 -in "$work/card.pem" -noout -subject -enddate -nameopt RFC2253 | sed 's/^/  /'
"$bin/tessera" token write-cert --label "$card" --key-id card-key --cert "$work/card.pem" | sed 's/^/  /'
echo "  pkcs11-tool sees on the card:"
# The private key object is CKA_PRIVATE: listing it needs a login. The demo PIN is random and
# thrown away with the work dir; tessera itself never takes a PIN as an argument.
pkcs11-tool --module "$TESSERA_PKCS11_MODULE" --token-label "$card" --login \
  --pin "$TESSERA_USER_PIN" -O 2>/dev/null | grep -E "Object;|label:|ID:|subject:|Access:" | sed 's/^/    /'

step "Workstation bundles: key made by the CA, PKCS#12 with a random password (sealed on the HSM)"
# The password goes to <out>.pass (mode 0600), never to the screen unless --show-password.
"$bin/tessera" ca bundle --istat 058091 --progressive 1 --out "$work/0580910001.p12" \
  | sed 's/^/  /'
"$bin/tessera" ca bundle --istat 058091 --progressive 99 --out "$work/0580910099.p12" \
  | sed 's/^/  /'
echo "  openssl pkcs12 -info (algorithms inside the file):"
openssl pkcs12 -in "$work/0580910001.p12" -passin "file:$work/0580910001.p12.pass" -info -noout 2>&1 \
  | sort -u | sed 's/^/    /'
echo "  NSS pk12util -l:"
pk12util -l "$work/0580910001.p12" -w "$work/0580910001.p12.pass" 2>&1 \
  | grep -E "Friendly Name|Subject:|Encryption algorithm" | sort -u | sed 's/^/    /'
openssl pkcs12 -in "$work/0580910001.p12" -passin "file:$work/0580910001.p12.pass" -nokeys -clcerts \
  -out "$work/ws.pem" 2>/dev/null
printf '  openssl verify: '
openssl verify -x509_strict -CAfile "$work/pki/root.pem" -untrusted "$work/pki/workstations.pem" "$work/ws.pem"
printf '  a second bundle for the same workstation: '
"$bin/tessera" ca bundle --istat 058091 --progressive 1 --out "$work/again.p12" 2>&1 || true
printf '  a wrong check character: '
"$bin/tessera" ca issue --profile operator --csr "$work/card.csr.pem" --cf RSSMRA85T10A562X 2>&1 || true

step "Revoking the workstation: CRL and OCSP follow"
ws_serial=$(openssl x509 -in "$work/ws.pem" -noout -serial | cut -d= -f2 | tr 'A-F' 'a-f' | sed 's/^0*//')
"$bin/tessera" ca revoke --serial "$ws_serial" --reason 5 | sed "s/^/  /"
# Fetched where the certificate's CRL distribution point says.
crl_url=$(openssl x509 -in "$work/ws.pem" -noout -ext crlDistributionPoints | grep -o 'http://[^ ]*')
for _ in $(seq 1 50); do  # the CRL publisher re-signs within a second of a revocation
  python3 -c 'import sys,urllib.request; open(sys.argv[2],"wb").write(urllib.request.urlopen(sys.argv[1]).read())' \
    "$crl_url" "$work/workstations.crl"
  openssl crl -inform DER -in "$work/workstations.crl" -noout -text | grep -qi "$ws_serial" && break
  sleep 0.1
done
echo "  $crl_url (from the certificate):"
openssl crl -inform DER -in "$work/workstations.crl" -CAfile "$work/pki/bundle.pem" -noout -verify -text 2>&1 \
  | grep -E "verify|CRL Number|Serial Number|Cessation|Next Update" -A1 | grep -v "^--" | sed 's/^/    /'
# Asked where the certificates themselves say (their AIA), not where this script knows it is.
ocsp_url=$(openssl x509 -in "$work/ws.pem" -noout -ocsp_uri)
echo "  OCSP ($ocsp_url, from the certificate), asked with openssl ocsp (answers are pre-signed:"
echo "  no nonce, which openssl notes with a warning):"
openssl ocsp -issuer "$work/pki/workstations.pem" -cert "$work/ws.pem" -CAfile "$work/pki/bundle.pem" \
  -url "$ocsp_url" 2>&1 | grep -E "verify|ws.pem|Reason|nonce" | sed 's/^/    /'
openssl ocsp -issuer "$work/pki/operators.pem" -cert "$work/card.pem" -CAfile "$work/pki/bundle.pem" \
  -url "$(openssl x509 -in "$work/card.pem" -noout -ocsp_uri)" 2>&1 | grep -E "verify|card.pem" | sed 's/^/    /' 
echo "  every CRL of the chain, as the certificates point at them (openssl verify -crl_check_all):"
fetch_crl() {  # URL of a certificate's CRL distribution point -> PEM file
  local url
  url=$(openssl x509 -in "$1" -noout -ext crlDistributionPoints | grep -o 'http://[^ ]*')
  python3 -c 'import sys,urllib.request; open(sys.argv[2],"wb").write(urllib.request.urlopen(sys.argv[1]).read())' \
    "$url" "$2.der"
  openssl crl -inform DER -in "$2.der" -out "$2"
}
fetch_crl "$work/pki/operators.pem" "$work/root-crl.pem"
fetch_crl "$work/card.pem" "$work/operators-crl.pem"
fetch_crl "$work/ws.pem" "$work/workstations-crl.pem"
printf '    card (root.crl + operators.crl):       '
openssl verify -crl_check_all -CAfile "$work/pki/root.pem" -untrusted "$work/pki/operators.pem" \
  -CRLfile "$work/root-crl.pem" -CRLfile "$work/operators-crl.pem" "$work/card.pem" 2>&1 | tail -1
printf '    workstation (root.crl + workstations.crl): '
if openssl verify -crl_check_all -CAfile "$work/pki/root.pem" -untrusted "$work/pki/workstations.pem" \
  -CRLfile "$work/root-crl.pem" -CRLfile "$work/workstations-crl.pem" "$work/ws.pem" >"$work/ws-verify.txt" 2>&1; then
  echo "UNEXPECTEDLY VALID"; exit 1
fi
grep -o -m1 "certificate revoked" "$work/ws-verify.txt"
echo "  certificates recorded:"
"$bin/tessera" ca list | sed 's/^/    /'

step "tessera-registry: the census of the province of Rieti (73 real comuni)"
# The token of the key that signs login sessions (made on it at the registry's first start);
# its PIN goes to tessera-registry only, in a 0600 credentials file.
session_pin=$(openssl rand -hex 4)
TESSERA_USER_PIN=$session_pin "$bin/tessera" token init --label registry-sessions >/dev/null
(umask 077; printf '%s\n' "$session_pin" >"$work/session.pin")
cat >"$work/registry.toml" <<TOML
[grpc]
listen = "127.0.0.1:0"
port_file = "$work/registry.port"
[tls]
certificate_chain = "$work/pki/tessera-registry.pem"
private_key = "$work/pki/tessera-registry.key"
client_ca_bundle = "$work/pki/bundle.pem"
[db]
conninfo = "host=$PGHOST port=$PGPORT user=$PGUSER dbname=tessera"
[registry]
email_rules = "$root/deploy/reference/personal_email.txt"
[ca]
target = "localhost:$port"
[revocation]
crl_url = "$http/crl"
[session]
module = "$TESSERA_PKCS11_MODULE"
token = "registry-sessions"
[audit]
anchor_seconds = 5
public_key_file = "$work/registry-audit.pem"
TOML
env -u TESSERA_SO_PIN -u TESSERA_USER_PIN TESSERA_SESSION_PIN_FILE="$work/session.pin" \
  "$bin/tessera-registry" --config "$work/registry.toml" 2>"$work/registry.log" &
registry_pid=$!
for _ in $(seq 1 200); do [ -s "$work/registry.port" ] && break; sleep 0.05; done
[ -s "$work/registry.port" ] || { cat "$work/registry.log"; exit 1; }
registry() { "$bin/tessera" --target "localhost:$(cat "$work/registry.port")" "$@"; }
echo "  tessera-registry pid $registry_pid listening on 127.0.0.1:$(cat "$work/registry.port") (schema registry migrated)"
printf '  reference data (deploy/reference): '
registry registry load-reference --dir "$root/deploy/reference"
sample=deploy/sample/census_rieti.csv
switch_over=$(date -d '+30 days' +%F)
for istat in $(tail -n +2 "$sample" | cut -d';' -f1 | sort -u); do
  registry registry declare --istat "$istat" --workstations 2 --employees 5 \
    --switch-over "$switch_over" >/dev/null
done
echo "  monitoring sheets recorded for $(tail -n +2 "$sample" | cut -d';' -f1 | sort -u | wc -l) comuni (2 workstations, 5 employees, switch-over $switch_over)"
echo "  a file with mistakes (a PEC as personal mailbox, a wrong check character, 30 February):"
python3 - "$sample" "$work/census-bad.csv" <<'PY'
import sys
rows = open(sys.argv[1], encoding="utf-8").read().split("\n")
f = rows[2].split(";"); f[21] = f[21].replace("@comune.it", "@pec.it"); rows[2] = ";".join(f)
f = rows[5].split(";"); f[16] = f[16][:15] + ("A" if f[16][15] != "A" else "B"); rows[5] = ";".join(f)
f = rows[9].split(";"); f[17] = "30/02/1980"; rows[9] = ";".join(f)
open(sys.argv[2], "w", encoding="utf-8").write("\n".join(rows))
PY
registry census import "$work/census-bad.csv" 2>&1 | sed 's/^/    /' || true
printf '  the correct file: '
registry census import "$sample"
echo "  the draft of Accumoli (057001):"
registry census show --istat 057001 | sed 's/^/    /'
echo "  Amatrice (057002) has no certificate yet: the Ministry issues it a census access code"
amatrice_code=$(registry --json registry access-code --istat 057002 |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["access_code"])')
echo "    $amatrice_code (shown once; only its SHA-256 is stored)"
amatrice() { TESSERA_TLS_CERT= TESSERA_TLS_KEY= TESSERA_ACCESS_CODE="$amatrice_code" registry "$@"; }
printf '  Amatrice, over TLS without a certificate, with its code: '
amatrice census show --istat 057002 | head -1
printf '  Amatrice asking for Accumoli'"'"'s census: '
amatrice census show --istat 057001 2>&1 | head -1 || true
for istat in $(tail -n +2 "$sample" | cut -d';' -f1 | sort -u); do
  registry census submit --istat "$istat" >"$work/submit-$istat.txt"
done
echo "  every comune submitted; Accumoli's orders:"
sed 's/^/    /' "$work/submit-057001.txt"
echo "  Amatrice censuses Paolo Costa too (its own mailbox and profiles; one person, one card):"
grep -E 'submitted|no new card' "$work/submit-057002.txt" | sed 's/^/    /'
psql -qAt -d tessera -c "SELECT '    ' || c.owner || ': ' || u.email || ' ' || array_to_string(u.profiles, ',') FROM registry.census_users u JOIN registry.censuses c ON c.id = u.census_id WHERE u.codice_fiscale = 'CSTPLA83S10A241X' ORDER BY c.owner"
psql -qAt -d tessera -c "SELECT '  orders waiting for personalization: ' || (SELECT count(*) FROM registry.card_orders WHERE state = 'LAVORAZIONE') || ' cards, ' || (SELECT count(*) FROM registry.workstation_orders WHERE state = 'LAVORAZIONE') || ' workstation certificates'"
echo "  the Ministry names its own operator (a census never gives Ministry rights):"
registry registry ministry-operator add --cf RSSMRA85T10H501O --surname Rossi --name Mario \
  --birth-date 1985-12-10 --birth-place Roma --birth-province RM --sex M \
  --email mario.rossi@interno.it --reason "operatore del Ministero (demo)" | sed 's/^/    /'
registry registry ministry-operator list | sed 's/^/    /'
echo "  the prefettura of Rieti censuses its security administrator (deploy/sample/census_prefettura_rieti.json):"
registry census save "$root/deploy/sample/census_prefettura_rieti.json" | sed 's/^/    /'
registry census submit --province RI | sed 's/^/    /'
printf '  Amatrice'"'"'s access code after its census was submitted: '
amatrice census show --istat 057002 2>&1 | head -1 || true
printf '  Accumoli submitting the same census again (a retry): '
registry census submit --istat 057001 2>&1 | head -1 || true

step "A stolen workstation: revoked at tessera-ca, shut out of tessera-registry"
# Amatrice's first workstation certificate, as its ALP would install it.
ca_cli() { "$bin/tessera" --target "localhost:$port" "$@"; }
ca_cli ca bundle --istat 057002 --progressive 1 --out "$work/0570020001.p12" >/dev/null
# A workstation bundle's certificate and key as PEM files (<name>.pem, <name>.key 0600), as the
# machine's browser or the CLI uses them.
install_bundle() {  # FILE.p12 NAME
  openssl pkcs12 -in "$1" -passin "file:$1.pass" -nokeys -clcerts -out "$work/$2.pem" 2>/dev/null
  openssl pkcs12 -in "$1" -passin "file:$1.pass" -nocerts -nodes -out "$work/$2.key" 2>/dev/null
  chmod 600 "$work/$2.key"
}
install_bundle "$work/0570020001.p12" ama-ws
workstation() { registry --cert "$work/ama-ws.pem" --key "$work/ama-ws.key" "$@"; }
printf '  workstation 0570020001 reads its census: '
workstation census show --istat 057002 | head -1
ama_serial=$(openssl x509 -in "$work/ama-ws.pem" -noout -serial | cut -d= -f2 | tr 'A-F' 'a-f' | sed 's/^0*//')
printf '  the comune reports it stolen: '
ca_cli ca revoke --serial "$ama_serial" --reason 1 | head -1
start=$(date +%s.%N)
elapsed() { python3 -c 'import sys, time; print(f"{time.time() - float(sys.argv[1]):.1f}")' "$start"; }
for _ in $(seq 1 120); do
  workstation census show --istat 057002 >/dev/null 2>"$work/stolen.err" || break
  sleep 0.5
done
echo "  refused $(elapsed) s later (the registry fetches the CRLs every 10 s): $(head -1 "$work/stolen.err")"
echo "  refusals in the registry log: $(grep -c 'client certificate: revoked' "$work/registry.log" || true)"

step "tessera-perso: the province's cards and workstation bundles, in a batch on 4 readers"
# The vault: a token of its own whose AES key (created at the daemon's first start) seals the
# PIN/PUK/password halves. Its PIN goes to tessera-perso only, in a 0600 credentials file.
vault_pin=$(openssl rand -hex 4)
TESSERA_USER_PIN=$vault_pin "$bin/tessera" token init --label perso-vault >/dev/null
(umask 077; printf '%s\n' "$vault_pin" >"$work/vault.pin")
cat >"$work/perso.toml" <<TOML
[grpc]
listen = "127.0.0.1:0"
port_file = "$work/perso.port"
[tls]
certificate_chain = "$work/pki/tessera-perso.pem"
private_key = "$work/pki/tessera-perso.key"
client_ca_bundle = "$work/pki/bundle.pem"
[db]
conninfo = "host=$PGHOST port=$PGPORT user=$PGUSER dbname=tessera"
[revocation]
crl_url = "$http/crl"
[ca]
target = "localhost:$port"
[registry]
target = "localhost:$(cat "$work/registry.port")"
[perso]
station = "demo-station"
readers = 4
spool = "$work/spool"
[cards]
module = "$TESSERA_PKCS11_MODULE"
archive = "$work/card-archive"
[vault]
module = "$TESSERA_PKCS11_MODULE"
token = "perso-vault"
[audit]
anchor_seconds = 5
public_key_file = "$work/perso-audit.pem"
TOML
env -u TESSERA_SO_PIN -u TESSERA_USER_PIN TESSERA_VAULT_PIN_FILE="$work/vault.pin" \
  "$bin/tessera-perso" --config "$work/perso.toml" 2>"$work/perso.log" &
perso_pid=$!
for _ in $(seq 1 200); do [ -s "$work/perso.port" ] && break; sleep 0.05; done
[ -s "$work/perso.port" ] || { cat "$work/perso.log"; exit 1; }
perso() { "$bin/tessera" --target "localhost:$(cat "$work/perso.port")" "$@"; }
echo "  tessera-perso pid $perso_pid listening on 127.0.0.1:$(cat "$work/perso.port") (schema perso migrated)"
batch=$(perso --json batch create --name "Rieti and the Ministry, first issue" --run |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
echo "  batch $batch created and running; watching it (a live view on a terminal):"
perso batch watch "$batch" | sed 's/^/    /'
psql -qAt -d tessera -c "SELECT '  registry: ' || state || ' ' || count(*) || ' card orders' FROM registry.card_orders GROUP BY state UNION ALL SELECT '  registry: ' || state || ' ' || count(*) || ' workstation orders' FROM registry.workstation_orders GROUP BY state"
for _ in $(seq 1 100); do  # the daemon seals the ended batch's lots within seconds
  [ "$(perso --json lot list | python3 -c 'import json,sys; print(sum(1 for l in json.load(sys.stdin)["lots"] if l["cards_file"]))')" != 0 ] && break
  sleep 0.2
done
echo "  lots sealed, one per office (the Ministry's own among them):"
perso lot list | sed -n "1,6s/^/    /p"
echo "    ... $(perso --json lot list | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["lots"]))') lots in all"
lot=$(perso --json lot list | python3 -c 'import json,sys; print([l["lot_number"] for l in json.load(sys.stdin)["lots"] if l["office"] == "057001"][0])')
perso lot show "$lot" | sed 's/^/    /'
faces=$(perso --json lot show "$lot" | python3 -c 'import json,sys; print(json.load(sys.stdin)["cards_file"])')
envelopes=$(perso --json lot show "$lot" | python3 -c 'import json,sys; print(json.load(sys.stdin)["envelopes_file"])')
echo "  the card faces ($(pdfinfo "$faces" | awk '/^Pages/ {print $2}') ID-1 pages), first card, as pdftotext reads it:"
pdftotext -l 1 "$faces" - | tr -d '\f' | grep -v '^$' | sed 's/^/    /'
echo "  the envelope sheets: $(stat -c '%A' "$envelopes") $(pdfinfo "$envelopes" | awk '/^Pages/ {print $2}') A4 pages (the envelope halves; not shown here)"
first_card=$(pdftotext -l 1 "$faces" - | grep -oE '[0-9]{16}' | head -1)
# Produced cards leave the daemon's live SoftHSM store; a sealed lot's tokens are in its own
# token directory, which a softhsm2.conf of its own shows to pkcs11-tool.
lot_dir="$work/card-archive/lot-$lot"
for _ in $(seq 1 100); do [ -d "$lot_dir/$first_card" ] && break; sleep 0.1; done
printf 'directories.tokendir = %s\nobjectstore.backend = file\n' "$lot_dir" >"$work/lot-softhsm2.conf"
lot_p11() { SOFTHSM2_CONF="$work/lot-softhsm2.conf" pkcs11-tool --module "$TESSERA_PKCS11_MODULE" "$@"; }
echo "  the lot's tokens left the live store: $(ls "$lot_dir" | wc -l) in $lot_dir ($(ls "$work/card-archive" | grep -c '^lot-') lot archives)"
echo "  card $first_card, as pkcs11-tool sees it in the lot's archive (no PIN: the public objects):"
lot_p11 --token-label "$first_card" -O 2>/dev/null \
  | grep -E "Object;|label:|ID:|subject:" | sed 's/^/    /'
lot_p11 --token-label "$first_card" --read-object \
  --type cert --id 01 -o "$work/card-$first_card.der" >/dev/null 2>&1
lot_p11 --token-label "$first_card" --read-object \
  --type pubkey --id 01 -o "$work/card-$first_card.pub" >/dev/null 2>&1
printf '    openssl verify of its certificate: '
openssl x509 -inform DER -in "$work/card-$first_card.der" -out "$work/card-$first_card.pem"
openssl verify -x509_strict -CAfile "$work/pki/root.pem" -untrusted "$work/pki/operators.pem" "$work/card-$first_card.pem"
printf '    the key on the card is the certificate'"'"'s: '
if cmp -s <(openssl pkey -pubin -inform DER -in "$work/card-$first_card.pub" -outform DER) \
  <(openssl x509 -in "$work/card-$first_card.pem" -noout -pubkey | openssl pkey -pubin -outform DER); then
  echo yes
else
  echo "NO"; exit 1
fi
step "tessera-dispatch: lots to the prefettura, delivered with a protocol number; second halves by mail"
# The mail relay: a local SMTP server (Debian's aiosmtpd) that keeps every message in a Maildir.
smtp_port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
/usr/bin/python3 -m aiosmtpd -n -l "127.0.0.1:$smtp_port" -c aiosmtpd.handlers.Mailbox "$work/mail" \
  2>"$work/smtp.log" &
smtp_pid=$!
# Its own token: the AES key sealing a mail with codes in it until it is sent, the audit key.
dispatch_vault_pin=$(openssl rand -hex 4)
TESSERA_USER_PIN=$dispatch_vault_pin "$bin/tessera" token init --label dispatch-vault >/dev/null
(umask 077; printf '%s\n' "$dispatch_vault_pin" >"$work/dispatch.pin")
cat >"$work/dispatch.toml" <<TOML
[grpc]
listen = "127.0.0.1:0"
port_file = "$work/dispatch.port"
[tls]
certificate_chain = "$work/pki/tessera-dispatch.pem"
private_key = "$work/pki/tessera-dispatch.key"
client_ca_bundle = "$work/pki/bundle.pem"
[db]
conninfo = "host=$PGHOST port=$PGPORT user=$PGUSER dbname=tessera"
[revocation]
crl_url = "$http/crl"
[registry]
target = "localhost:$(cat "$work/registry.port")"
[perso]
target = "localhost:$(cat "$work/perso.port")"
[intake]
poll_seconds = 1
[vault]
module = "$TESSERA_PKCS11_MODULE"
token = "dispatch-vault"
[mail]
relay = "smtp://127.0.0.1:$smtp_port"
from = "anpr-carte@interno.example"
tls = "off"
poll_seconds = 1
personal_email_rules = "$root/deploy/reference/personal_email.txt"
[audit]
anchor_seconds = 5
public_key_file = "$work/dispatch-audit.pem"
TOML
env -u TESSERA_SO_PIN -u TESSERA_USER_PIN TESSERA_VAULT_PIN_FILE="$work/dispatch.pin" \
  "$bin/tessera-dispatch" --config "$work/dispatch.toml" 2>"$work/dispatch.log" &
dispatch_pid=$!
for _ in $(seq 1 200); do [ -s "$work/dispatch.port" ] && break; sleep 0.05; done
[ -s "$work/dispatch.port" ] || { cat "$work/dispatch.log"; exit 1; }
dispatch() { "$bin/tessera" --target "localhost:$(cat "$work/dispatch.port")" "$@"; }
echo "  tessera-dispatch pid $dispatch_pid listening on 127.0.0.1:$(cat "$work/dispatch.port"); SMTP (aiosmtpd) on 127.0.0.1:$smtp_port"
lots_of() { dispatch --json delivery lots --office "$1" | python3 -c 'import json,sys; print(" ".join(l["lot_number"] for l in json.load(sys.stdin)["lots"]))'; }
for _ in $(seq 1 100); do [ -n "$(lots_of ministero 2>/dev/null)" ] && [ -n "$(lots_of 057001 2>/dev/null)" ] && break; sleep 0.2; done
echo "  every sealed lot taken over (cards SPEDITA): $(psql -qAt -d tessera -c "SELECT count(*) || ' lots, ' || (SELECT count(*) FROM dispatch.cards) || ' cards; ' || (SELECT count(*) FROM dispatch.outbox WHERE kind = 'cards_at_prefettura') || ' notices to the comuni''s PEC' FROM dispatch.lots")"
for _ in $(seq 1 100); do ls "$work/mail/new" 2>/dev/null | grep -q . && break; sleep 0.2; done
echo "  the first, as the SMTP server received it:"
/usr/bin/python3 - "$work/mail" <<'PY' | sed 's/^/    /'
import mailbox, sys
message = next(m for m in mailbox.Maildir(sys.argv[1], create=False) if "pec" in m["To"])
print("To:", message["To"]); print("Subject:", message["Subject"])
print(message.get_payload(decode=True).decode("utf-8").strip().split("\n\n")[1])
PY
ministry_lot=$(lots_of ministero)
prefettura_lot=$(lots_of 057)
accumoli_lot=$(lots_of 057001)

# A card's PIN: the envelope half (pdftotext of the lot's envelope sheets, before the print is
# confirmed and the file destroyed) and the mail half (the mail to the holder's mailbox).
envelope_pin() {  # lot card -> the PIN's envelope half
  local envelopes
  envelopes=$(perso --json lot show "$1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["envelopes_file"])')
  pdftotext -layout "$envelopes" - | python3 -c '
import re, sys
for page in sys.stdin.read().split("\f"):
    if "Carta N. " + sys.argv[1] in page:
        print(re.search(r"PIN \(prima metà\):\s+(\S+)", page).group(1))' "$2"
}
mail_pin() {  # mailbox -> the PIN's mail half, waiting for the mail
  for _ in $(seq 1 100); do
    half=$(/usr/bin/python3 - "$work/mail" "$1" <<'PY'
import mailbox, re, sys
from email.utils import parseaddr
for message in mailbox.Maildir(sys.argv[1], create=False):
    if parseaddr(message["To"])[1] != sys.argv[2]:
        continue
    half = re.search(r"PIN, seconda metà:\s+(\S+)", message.get_payload(decode=True).decode("utf-8"))
    if half:
        print(half.group(1))
        break
PY
)
    [ -n "$half" ] && { echo "$half"; return; }
    sleep 0.2
  done
  echo "no mail to $1" >&2; return 1
}
card_of() {  # lot holder-cf -> card number
  dispatch --json delivery cards "$1" | python3 -c '
import json, sys
print([c["card_number"] for c in json.load(sys.stdin)["cards"] if c["codice_fiscale"] == sys.argv[1]][0])' "$2"
}
# A lot's cards, as a card reader shows them: a softhsm2.conf naming the lot's token directory.
lot_conf() {
  for _ in $(seq 1 100); do [ -d "$work/card-archive/lot-$1" ] && break; sleep 0.1; done
  printf 'directories.tokendir = %s\nobjectstore.backend = file\n' "$work/card-archive/lot-$1" >"$work/lot-$1.conf"
  echo "$work/lot-$1.conf"
}

echo "  the Ministry's own lot: its machine acts alone until its first operator has logged in"
dispatch delivery lots --office ministero | sed 's/^/    /'
printf '  Giulia Ricci (a comune'"'"'s mayor) collecting the Ministry'"'"'s lot: '
dispatch delivery start --office ministero --collector RCCGLI72M42G157D 2>&1 | head -1 || true
dispatch deliver --office ministero --lot "$ministry_lot" --collector RSSMRA85T10H501O | sed 's/^/    /'
rossi_card=$(card_of "$ministry_lot" RSSMRA85T10H501O)
rossi_pin="$(envelope_pin "$ministry_lot" "$rossi_card")$(mail_pin mario.rossi@interno.it)"
echo "  Mario Rossi's second halves reached mario.rossi@interno.it; with his envelope's halves, his card opens:"
SOFTHSM2_CONF=$(lot_conf "$ministry_lot") TESSERA_USER_PIN=$rossi_pin \
  registry login --token-label "$rossi_card" | sed 's/^/    /'
printf '  the Ministry'"'"'s machine without his session, now (services hear of his login within seconds): '
for _ in $(seq 1 50); do
  XDG_CONFIG_HOME="$work/nobody" dispatch delivery lots --office 057 >/dev/null 2>&1 || break
  sleep 0.2
done
XDG_CONFIG_HOME="$work/nobody" dispatch delivery lots --office 057 2>&1 | head -1 || true

echo "  Rossi hands the prefettura of Rieti its own lot, to its security administrator Anna Ferri:"
dispatch delivery lots --office 057 | sed 's/^/    /'
dispatch deliver --office 057 --lot "$prefettura_lot" --collector FRRNNA75C54H282H | sed 's/^/    /'
ferri_card=$(card_of "$prefettura_lot" FRRNNA75C54H282H)
ferri_pin="$(envelope_pin "$prefettura_lot" "$ferri_card")$(mail_pin anna.ferri.75@example.it)"
# A workstation certificate the batch made, as its office's administrator installs it (tessera-ca
# here checks no sessions: the Ministry's certificate alone fetches the bundle).
install_workstation() {  # OWNER PROGRESSIVE NAME
  local serial
  serial=$(psql -qAt -d tessera -c "SELECT certificate_serial FROM registry.workstation_orders WHERE workstation_owner = '$1' AND progressive = $2")
  XDG_CONFIG_HOME="$work/nobody" ca_cli ca bundle-get --serial "$serial" --out "$work/$3.p12" >/dev/null
  install_bundle "$work/$3.p12" "$3"
}
install_workstation 057000 1 pref-ws
prefettura() { XDG_CONFIG_HOME="$work/prefettura" "$bin/tessera" --cert "$work/pref-ws.pem" --key "$work/pref-ws.key" "$@"; }
echo "  Anna Ferri logs in at the prefettura's workstation 0570000001 with her card:"
SOFTHSM2_CONF=$(lot_conf "$prefettura_lot") TESSERA_USER_PIN=$ferri_pin \
  prefettura --target "localhost:$(cat "$work/registry.port")" login --token-label "$ferri_card" | sed 's/^/    /'
pref_dispatch() { prefettura --target "localhost:$(cat "$work/dispatch.port")" "$@"; }
echo "  at the prefettura's desk: Accumoli's lots, its mayor checked, the lot delivered"
pref_dispatch delivery lots --office 057001 | sed 's/^/    /'
pref_dispatch delivery start --office 057001 --collector RCCGLI72M42G157D | sed 's/^/    /'
printf '  a delegate who is not censused for Accumoli: '
pref_dispatch delivery start --office 057001 --collector FRRNNA75C54H282H 2>&1 | head -1 || true
pref_dispatch deliver --office 057001 --lot "$accumoli_lot" --collector RCCGLI72M42G157D \
  --receipt "$work/receipt-accumoli.pdf" | sed 's/^/    /'
accumoli_protocol=$(pref_dispatch --json delivery cards "$accumoli_lot" | python3 -c 'import json,sys; print(json.load(sys.stdin)["cards"][0]["protocol"])')
echo "  its receipt, $work/receipt-accumoli.pdf ($(pdfinfo "$work/receipt-accumoli.pdf" | awk '/^Pages/ {print $2}') pages: a copy for the prefettura to sign and keep, one for the comune), its first page as pdftotext reads it:"
pdftotext -layout -l 1 "$work/receipt-accumoli.pdf" - | grep -v '^[[:space:]]*$' | sed 's/^/    /'
printf '  reprinted by its protocol number (tessera receipt): '
pref_dispatch receipt "$accumoli_protocol" --out "$work/receipt-reprint.pdf" >/dev/null
cmp -s "$work/receipt-accumoli.pdf" "$work/receipt-reprint.pdf" && echo "the same document" || { echo "A DIFFERENT DOCUMENT"; exit 1; }
printf '  the same command again (a retry): '
pref_dispatch deliver --office 057001 --lot "$accumoli_lot" --collector RCCGLI72M42G157D | head -1
printf '  the prefettura of Rieti asking for Roma'"'"'s lots (another province): '
pref_dispatch delivery lots --office 058091 2>&1 | head -1 || true
printf '  and for the Ministry'"'"'s: '
pref_dispatch delivery lots --office ministero 2>&1 | head -1 || true

step "At the comune: the mayor logs in with her card and registers each card to its holder"
ricci_card=$(card_of "$accumoli_lot" RCCGLI72M42G157D)
ricci_pin="$(envelope_pin "$accumoli_lot" "$ricci_card")$(mail_pin giulia.ricci.0@comune.it)"
install_workstation 057001 1 acc-ws  # Accumoli's first, as its ALP installs it
accumoli() { XDG_CONFIG_HOME="$work/accumoli" "$bin/tessera" --cert "$work/acc-ws.pem" --key "$work/acc-ws.key" "$@"; }
echo "  Giulia Ricci, mayor of Accumoli, at its workstation 0570010001 with her card (PIN: envelope + mail):"
SOFTHSM2_CONF=$(lot_conf "$accumoli_lot") TESSERA_USER_PIN=$ricci_pin \
  accumoli --target "localhost:$(cat "$work/registry.port")" login --token-label "$ricci_card" | sed 's/^/    /'
acc_dispatch() { accumoli --target "localhost:$(cat "$work/dispatch.port")" "$@"; }
printf '  Paolo Costa'"'"'s card registered to Simona Marino: '
costa_card=$(card_of "$accumoli_lot" CSTPLA83S10A241X)
acc_dispatch register --codice-fiscale MRNSMN57R58M427O --card "$costa_card" 2>&1 | head -1 || true
echo "  Accumoli's lot as its mayor sees it (a comune reads its own lots):"
acc_dispatch delivery cards "$accumoli_lot" | sed 's/^/    /'
for entry in $(acc_dispatch --json delivery cards "$accumoli_lot" | python3 -c 'import json,sys; print(" ".join(c["codice_fiscale"] + ":" + c["card_number"] for c in json.load(sys.stdin)["cards"] if c["state"] == "CONSEGNATA"))'); do
  cf=${entry%%:*}
  acc_dispatch register --codice-fiscale "$cf" --card "${entry##*:}" --form "$work/form-$cf.pdf" | sed 's/^/    /'
done
printf '  and the lot of Amatrice, another comune: '
acc_dispatch delivery lots --office 057002 2>&1 | head -1 || true
printf '  Costa'"'"'s card again: '
acc_dispatch register --codice-fiscale CSTPLA83S10A241X --card "$costa_card" --request-id again 2>&1 | head -1 || true
echo "  the form Paolo Costa signs ($work/form-CSTPLA83S10A241X.pdf), as pdftotext reads it:"
pdftotext -layout "$work/form-CSTPLA83S10A241X.pdf" - | grep -v '^[[:space:]]*$' | head -14 | sed 's/^/    /'

step "At the comune: its Amministratore Postazioni downloads the workstation certificates"
# Paolo Costa is Accumoli's ALP. His card is his now (registered above): with its PIN (his
# envelope's half, his mail's half) he logs in at the workstation the Ministry installed, and
# takes every other one from tessera-registry, which fetches the bundles from tessera-ca.
costa_pin="$(envelope_pin "$accumoli_lot" "$costa_card")$(mail_pin paolo.costa.1@comune.it)"
alp() { XDG_CONFIG_HOME="$work/accumoli-alp" "$bin/tessera" --cert "$work/acc-ws.pem" --key "$work/acc-ws.key" --target "localhost:$(cat "$work/registry.port")" "$@"; }
echo "  Paolo Costa logs in at 0570010001 with his card; Accumoli's workstations (tessera workstation list):"
SOFTHSM2_CONF=$(lot_conf "$accumoli_lot") TESSERA_USER_PIN=$costa_pin alp login --token-label "$costa_card" >/dev/null
alp workstation list | sed 's/^/    /'
echo "  \"Scarica tutti\": one zip with every certificate and a text file of their passwords:"
alp workstation download --out "$work/accumoli-postazioni.zip" | head -1 | sed 's/^/    /'
unzip -l "$work/accumoli-postazioni.zip" | sed 's/^/    /'
mkdir -p "$work/accumoli-postazioni"
unzip -q -o "$work/accumoli-postazioni.zip" -d "$work/accumoli-postazioni"
printf '  0570010002.p12 opened by openssl with its password from passwords.txt: '
awk '$1 == "0570010002" {print $3}' "$work/accumoli-postazioni/passwords.txt" | tr -d '\r' |
  openssl pkcs12 -in "$work/accumoli-postazioni/0570010002.p12" -passin stdin -nokeys -clcerts |
  openssl x509 -noout -subject
psql -qAt -d tessera -c "SELECT '  the download, in the registry''s audit chain: ' || person || ' at ' || machine || ', ' || array_to_string(common_ids, ' ') || CASE WHEN archive THEN ' (zip)' ELSE '' END FROM registry.workstation_downloads"
printf '  the mayor asking for them (she is not the ALP): '
accumoli --target "localhost:$(cat "$work/registry.port")" workstation list 2>&1 | head -1 || true

step "Every other comune of the province: its lot to its mayor, each card registered to its holder"
# At the prefettura, Anna Ferri hands each comune's lot to its mayor (receipts in
# $work/receipts, holder forms in $work/forms); the mayor's own card is hers at once and its second halves go out. At the
# comune's first workstation the mayor logs in with that card and registers every other card
# to its holder, whose halves go out then.
mkdir -p "$work/receipts" "$work/forms" "$work/comuni"
mayor_of() {  # ISTAT -> "codice_fiscale email" of its Sindaco/Delegato
  psql -qAt -F ' ' -d tessera -c "SELECT u.codice_fiscale, u.email FROM registry.census_users u JOIN registry.censuses c ON c.id = u.census_id WHERE c.kind = 'comune' AND c.owner = '$1' AND c.state = 'SUBMITTED' AND 'sindaco_delegato' = ANY (u.profiles)"
}
comune_round() {  # ISTAT: delivery, the mayor's login, the registrations; one line
  local istat=$1 lot name mayor email protocol card pin registered=0 entry
  read -r lot name < <(dispatch --json delivery lots --office "$istat" | python3 -c 'import json,sys; l = json.load(sys.stdin)["lots"][0]; print(l["lot_number"], l["office_name"])')
  read -r mayor email < <(mayor_of "$istat")
  protocol=$(pref_dispatch --json deliver --office "$istat" --lot "$lot" --collector "$mayor" \
    --receipt "$work/receipts/$istat.pdf" | python3 -c 'import json,sys; print(json.load(sys.stdin)["protocol"])')
  card=$(card_of "$lot" "$mayor")
  pin="$(envelope_pin "$lot" "$card")$(mail_pin "$email")"
  install_workstation "$istat" 1 "ws-$istat"
  local -a at=(env XDG_CONFIG_HOME="$work/comuni/$istat" "$bin/tessera" --cert "$work/ws-$istat.pem" --key "$work/ws-$istat.key")
  SOFTHSM2_CONF=$(lot_conf "$lot") TESSERA_USER_PIN=$pin \
    "${at[@]}" --target "localhost:$(cat "$work/registry.port")" login --token-label "$card" >/dev/null
  for entry in $("${at[@]}" --target "localhost:$(cat "$work/dispatch.port")" --json delivery cards "$lot" | python3 -c 'import json,sys; print(" ".join(c["codice_fiscale"] + ":" + c["card_number"] for c in json.load(sys.stdin)["cards"] if c["state"] == "CONSEGNATA"))'); do
    "${at[@]}" --target "localhost:$(cat "$work/dispatch.port")" register \
      --codice-fiscale "${entry%%:*}" --card "${entry##*:}" --form "$work/forms/$istat-${entry%%:*}.pdf" >/dev/null
    registered=$((registered + 1))
  done
  printf '    %s %-30s lot %s  %s  mayor %s logged in, %d card(s) registered\n' \
    "$istat" "$name" "$lot" "$protocol" "$mayor" "$registered"
}
for istat in $(tail -n +2 "$sample" | cut -d';' -f1 | sort -u | grep -v '^057001$'); do
  comune_round "$istat"
done
for _ in $(seq 1 100); do [ "$(psql -qAt -d tessera -c "SELECT count(*) FROM dispatch.outbox WHERE sent_at IS NULL")" = 0 ] && break; sleep 0.2; done
echo "  mail sent by tessera-dispatch's outbox, as the local SMTP server received it ($(ls "$work/mail/new" | wc -l) messages):"
echo "  the Ministry follows the outbox (tessera outbox list; bodies never leave the service):"
dispatch outbox list | sed -n '1p;$p' | sed 's/^/    /'
psql -qAt -d tessera -c "SELECT '    ' || kind || ': ' || count(*) FILTER (WHERE sent_at IS NOT NULL) || CASE kind WHEN 'second_halves' THEN ' (every holder: collectors at delivery, the others at registration)' ELSE ' (each comune''s PEC: its lot is at the prefettura)' END FROM dispatch.outbox GROUP BY kind ORDER BY kind"
psql -qAt -d tessera -c "SELECT '  dispatch: ' || state || ' ' || count(*) || ' cards' FROM dispatch.cards GROUP BY state ORDER BY state"

step "The print room confirms the envelopes printed"
printf '  (by Rossi'"'"'s session now) '
perso batch printed "$batch"
if [ -e "$envelopes" ]; then echo "  the envelope file is STILL THERE"; exit 1; fi
echo "  the envelope file is gone from the spool; the card faces stay: $(ls "$(dirname "$faces")" | grep -c cards.pdf) files"

step "The audit chains: every change of each service, hash-chained and anchored on its token"
sleep 5  # one more anchoring period: the last changes signed too
psql -qAt -d tessera -F ' | ' -c "SELECT '  registry #' || sequence, to_char(recorded_at, 'HH24:MI:SS'), actor, action, left(ids_after, 60) FROM registry.audit_records ORDER BY sequence DESC LIMIT 4" | tac
for chain in ca registry perso dispatch; do
  "$bin/tessera" audit verify --database "host=$PGHOST port=$PGPORT user=$PGUSER dbname=tessera" \
    --chain "$chain" --anchor-key "$work/$chain-audit.pem" | sed 's/^/  /'
done

step "Done"
echo "  PostgreSQL, SoftHSM tokens, the key ceremony, tessera-ca, tessera-registry, tessera-perso and"
echo "  tessera-dispatch over mTLS worked end to end:"
psql -qAt -d tessera -c "SELECT '    cards ' || state || ': ' || count(*) FROM dispatch.cards GROUP BY state ORDER BY state"
psql -qAt -d tessera -c "SELECT '    deliveries: ' || count(*) || ' (' || min(protocol) || ', ' || (array_agg(protocol ORDER BY id))[2] || ' … ' || (array_agg(protocol ORDER BY id DESC))[1] || ')' FROM dispatch.deliveries"
psql -qAt -d tessera -c "SELECT '    mails sent: ' || count(*) FILTER (WHERE sent_at IS NOT NULL) || ', waiting: ' || count(*) FILTER (WHERE sent_at IS NULL AND failed_at IS NULL) FROM dispatch.outbox"
echo "    PDFs written: $(ls "$work"/receipt-accumoli.pdf "$work"/receipts/*.pdf | wc -l) delivery receipts, $(ls "$work"/form-*.pdf "$work"/forms/*.pdf | wc -l) holder forms"
echo "    card logins: Mario Rossi (Ministry), Anna Ferri (prefettura of Rieti), Giulia Ricci and"
echo "    Paolo Costa (Accumoli), the mayors of the other $(ls "$work/comuni" | wc -l) comuni, each with the PIN their"
echo "    envelope and their mail made together"
echo "    workstation certificates downloaded by Accumoli's ALP: $work/accumoli-postazioni.zip"
echo "  Files are in $work (logs: $work/ca.log, $work/registry.log, $work/perso.log,"
echo "  $work/dispatch.log; mail: $work/mail). Stopping."
