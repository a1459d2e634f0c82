#!/usr/bin/env bash
# A private, throwaway PostgreSQL 15 cluster: initdb in a fresh temp dir, unix socket in that
# dir, a free TCP port on 127.0.0.1, fsync left on. PostgreSQL refuses to run as root, so as
# root the cluster runs as the unprivileged user `tessera-pg` (deploy/setup.sh creates it).
#
#   pg-cluster.sh start ENV_FILE   starts a cluster, writes PG* variables to ENV_FILE
#   pg-cluster.sh stop ENV_FILE    stops it and removes its directory
#
# ENV_FILE holds PGHOST (the socket dir), PGPORT, PGUSER, TESSERA_PG_DIR and
# TESSERA_PG_TEMPLATE (a database to copy fresh test databases from).
set -euo pipefail

cmd=${1:?usage: pg-cluster.sh start|stop ENV_FILE}
env_file=${2:?usage: pg-cluster.sh start|stop ENV_FILE}
pg_bin=$(ls -d /usr/lib/postgresql/15/bin 2>/dev/null || true)
[ -x "$pg_bin/initdb" ] || { echo "pg-cluster: PostgreSQL 15 server not installed (run deploy/setup.sh)" >&2; exit 1; }

as_pg() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u tessera-pg -- "$@"; else "$@"; fi
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

case "$cmd" in
  start)
    dir=$(mktemp -d /tmp/tessera-pg.XXXXXX)
    [ "$(id -u)" -eq 0 ] && chown tessera-pg "$dir"
    as_pg "$pg_bin/initdb" -D "$dir/data" -U tessera --auth=trust --encoding=UTF8 \
      --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; exit 1; }
    # Listen on loopback only; trust is fine for a private throwaway cluster.
    for attempt in 1 2 3 4 5; do
      port=$(free_port)
      if as_pg "$pg_bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start \
          -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=on -c max_connections=200" \
          >/dev/null; then
        break
      fi
      [ "$attempt" -eq 5 ] && { cat "$dir/server.log" >&2; exit 1; }
    done
    "$pg_bin/psql" -h "$dir" -p "$port" -U tessera -d postgres -qAt \
      -c "CREATE DATABASE tessera_template" >/dev/null
    cat >"$env_file" <<ENV
PGHOST=$dir
PGPORT=$port
PGUSER=tessera
TESSERA_PG_DIR=$dir
TESSERA_PG_TEMPLATE=tessera_template
ENV
    echo "pg-cluster: PostgreSQL 15 on 127.0.0.1:$port, socket $dir" >&2
    ;;
  stop)
    [ -f "$env_file" ] || exit 0
    dir=$(sed -n 's/^TESSERA_PG_DIR=//p' "$env_file")
    if [ -n "$dir" ] && [ -d "$dir/data" ]; then
      as_pg "$pg_bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
      rm -rf "$dir"
    fi
    rm -f "$env_file"
    ;;
  *)
    echo "usage: pg-cluster.sh start|stop ENV_FILE" >&2; exit 2 ;;
esac
