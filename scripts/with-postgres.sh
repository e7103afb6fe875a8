#!/bin/sh
# Runs a command beside a throw-away PostgreSQL cluster (scripts/pg-cluster.sh): its URL in
# AKM_TEST_PG_URL, its data folder in AKM_TEST_PG_DATA, removed when the command ends. Without
# PostgreSQL the command runs without them: the PostgreSQL tests are then registered as skipped
# (or fail, under CI=true). A URL already in AKM_TEST_PG_URL is used as it is.
set -eu
here=$(dirname "$0")
if [ -z "${AKM_TEST_PG_URL:-}" ]; then
  dir=$(mktemp -d "${TMPDIR:-/tmp}/akm-pg.XXXXXX")
  if url=$(sh "$here/pg-cluster.sh" start "$dir"); then
    trap 'sh "$here/pg-cluster.sh" stop "$dir"' EXIT
    trap 'exit 130' INT TERM
    export AKM_TEST_PG_URL="$url" AKM_TEST_PG_DATA="$dir/data"
  else
    rm -rf "$dir"
    echo "note: no PostgreSQL cluster could be started (apt-get install postgresql): its tests are skipped" >&2
  fi
fi
"$@"
