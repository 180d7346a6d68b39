#!/usr/bin/env bash
# Prints a PostgreSQL URL the tests can create databases on.
# Uses a server already answering on 127.0.0.1:5432 (trust auth); otherwise installs PostgreSQL
# from apt when missing and starts a throwaway cluster on 127.0.0.1:55432 owned by this script.
set -euo pipefail

if [[ -n "${AFTERSALES_TEST_PG_URL:-}" ]]; then
  echo "$AFTERSALES_TEST_PG_URL"; exit 0
fi
if command -v psql >/dev/null && psql "postgresql://postgres@127.0.0.1:5432/postgres" -tAc "select 1" >/dev/null 2>&1; then
  echo "postgresql://postgres@127.0.0.1:5432/postgres"; exit 0
fi

PGPORT=55432
PGDATA="${TMPDIR:-/tmp}/aftersales-pg"
if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  echo "installing PostgreSQL from apt..." >&2
  if [[ $(id -u) -eq 0 ]]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq postgresql >&2
fi
BIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
RUN_AS=()
if [[ $(id -u) -eq 0 ]]; then RUN_AS=(runuser -u postgres --); fi

if ! "${RUN_AS[@]}" "$BIN/pg_ctl" -D "$PGDATA" status >/dev/null 2>&1; then
  rm -rf "$PGDATA"; mkdir -p "$PGDATA"
  [[ $(id -u) -eq 0 ]] && chown postgres:postgres "$PGDATA"
  "${RUN_AS[@]}" "$BIN/initdb" -D "$PGDATA" -U postgres --auth=trust -E UTF8 >/dev/null
  "${RUN_AS[@]}" "$BIN/pg_ctl" -D "$PGDATA" -l "$PGDATA/server.log" \
    -o "-c listen_addresses=127.0.0.1 -p $PGPORT -k $PGDATA -c fsync=off" -w start >&2
fi
echo "postgresql://postgres@127.0.0.1:$PGPORT/postgres"
