#!/usr/bin/env bash
# Runs the worker, the mail gateway and the web server together (what `make run` starts).
# Ctrl+C or TERM stops all three and waits for them; if one of them ends on its own, the others
# are stopped too. Exit status: 130 after Ctrl+C, 143 after TERM, else the status of the one
# that ended first.
set -u
BIN=${BIN:-.venv/bin}
HOST=${HOST:-127.0.0.1}
PORT=${PORT:-8000}
MAIL_PORT=${MAIL_PORT:-2525}
pids=()

stop() {
  trap '' INT TERM  # a second Ctrl+C while stopping changes nothing
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null; done
  exit "$1"
}
trap 'stop 130' INT
trap 'stop 143' TERM

echo "starting the worker, the mail gateway (SMTP $HOST:$MAIL_PORT) and the web server on http://$HOST:$PORT (Ctrl+C stops all)"
"$BIN/aftersales" worker & pids+=($!)
"$BIN/aftersales" mail-in --host "$HOST" --port "$MAIL_PORT" & pids+=($!)
"$BIN/aftersales" serve --host "$HOST" --port "$PORT" & pids+=($!)
wait -n
stop $?
