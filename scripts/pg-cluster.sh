#!/bin/sh
# A throw-away PostgreSQL cluster for the tests and the benchmark, in a temporary folder.
#
#   sh scripts/pg-cluster.sh start DIR   prints the URL of a running cluster: postgres://akm:…@127.0.0.1:PORT/postgres
#   sh scripts/pg-cluster.sh stop DIR    stops it and removes DIR
#   sh scripts/pg-cluster.sh halt DIR    stops it (as a restart would), keeping DIR
#   sh scripts/pg-cluster.sh resume DIR  starts a halted cluster again, on the same port
#
# DIR must be an empty temporary folder. PostgreSQL refuses to run as root: as root the
# cluster runs as the `postgres` system user the Debian package creates (DIR is handed to it),
# otherwise as the current user. It listens on 127.0.0.1 only, on a free port, with password
# (scram-sha-256) authentication. fsync is off (nothing in it needs to survive a crash of the
# machine) unless AKM_PG_FSYNC=on, as the benchmark sets it to measure what a real server does.
set -eu

bindir() {
  for dir in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -t/ -k5 -n -r); do
    if [ -x "$dir/pg_ctl" ]; then
      echo "$dir"
      return 0
    fi
  done
  if command -v pg_ctl >/dev/null 2>&1; then
    dirname "$(command -v pg_ctl)"
    return 0
  fi
  return 1
}

as_owner() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

free_port() {
  node -e "const s = require('net').createServer().listen(0, '127.0.0.1', () => { console.log(s.address().port); s.close(); })"
}

command=${1:-}
dir=${2:-}
[ -n "$dir" ] || { echo "usage: $0 start|stop|halt|resume DIR" >&2; exit 2; }

case "$command" in
  start)
    bin=$(bindir) || { echo "PostgreSQL is not installed (apt-get install postgresql)" >&2; exit 1; }
    [ "$(id -u)" = 0 ] && chown postgres "$dir"
    chmod 700 "$dir"
    password=$(od -An -tx1 -N18 /dev/urandom | tr -d ' \n')
    printf '%s\n' "$password" > "$dir/pwfile"
    [ "$(id -u)" = 0 ] && chown postgres "$dir/pwfile"
    as_owner "$bin/initdb" -D "$dir/data" -U akm --pwfile="$dir/pwfile" --auth=scram-sha-256 \
      -E UTF8 --locale=C.UTF-8 --no-sync >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; exit 1; }
    rm -f "$dir/pwfile"
    port=$(free_port)
    echo "-c listen_addresses=127.0.0.1 -p $port -k $dir -c fsync=${AKM_PG_FSYNC:-off} -c max_connections=300" \
      > "$dir/options"
    as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 -o "$(cat "$dir/options")" \
      start >/dev/null || { cat "$dir/server.log" >&2; exit 1; }
    echo "postgres://akm:$password@127.0.0.1:$port/postgres"
    ;;
  halt)
    bin=$(bindir) || exit 1
    as_owner "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null
    ;;
  resume)
    bin=$(bindir) || exit 1
    as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 -o "$(cat "$dir/options")" \
      start >/dev/null || { cat "$dir/server.log" >&2; exit 1; }
    ;;
  stop)
    if bin=$(bindir) && [ -d "$dir/data" ]; then
      as_owner "$bin/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
    fi
    rm -rf "$dir"
    ;;
  *)
    echo "usage: $0 start|stop|halt|resume DIR" >&2
    exit 2
    ;;
esac
