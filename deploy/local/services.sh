#!/usr/bin/env bash
# Start or stop the development issuer, the Python services (the five of the platform and the web pages)
# and the nginx gateway on loopback, without Docker.
#   deploy/local/services.sh start|stop|status
# Logs and pid files live in .run/ (git-ignored). Each service's port is its settings' default; the services
# accept the tokens of the development issuer on 127.0.0.1:8090 (their OIDC_ISSUER default), which signs with
# $RUN_DIR/dev-issuer/signing-key.pem (made on first start; cx-dev-token reads it through CX_DEV_ISSUER_KEY_FILE).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
RUN_DIR="${CX_RUN_DIR:-$ROOT/.run}"
PY="$ROOT/.venv/bin/python"
SERVICES=(catalogue:8101 applications:8102 matcher:8103 notifier:8104 exchanges:8106 web:8105)
ISSUER_PORT=8090
export CX_DEV_ISSUER_KEY_FILE="${CX_DEV_ISSUER_KEY_FILE:-$RUN_DIR/dev-issuer/signing-key.pem}"
# Development and tests only: a date written here is the exchanges service's today (absent: the real date), so a
# demo or a browser test can move past an exchange's end date to file its report.
export CX_EXCHANGES_CLOCK_FILE="${CX_EXCHANGES_CLOCK_FILE:-$RUN_DIR/exchanges-today}"
mkdir -p "$RUN_DIR"

answers() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

wait_healthy() { # name port
  local deadline=$((SECONDS + ${CX_START_TIMEOUT:-120}))
  until curl -fsS "http://127.0.0.1:$2/healthz" >/dev/null 2>&1; do
    if ! kill -0 "$(cat "$RUN_DIR/$1.pid")" 2>/dev/null; then
      echo "!! $1 exited; last log lines:" >&2; tail -n 30 "$RUN_DIR/$1.log" >&2; return 1
    fi
    if ((SECONDS > deadline)); then
      echo "!! $1 did not answer on :$2 in time; last log lines:" >&2; tail -n 30 "$RUN_DIR/$1.log" >&2; return 1
    fi
    sleep 0.3
  done
}

running() { [[ -f "$RUN_DIR/$1.pid" ]] && kill -0 "$(cat "$RUN_DIR/$1.pid")" 2>/dev/null; }

start_issuer() {
  if running dev-issuer; then echo "   dev-issuer already running (pid $(cat "$RUN_DIR/dev-issuer.pid"))"; return; fi
  if answers "$ISSUER_PORT"; then echo "!! port $ISSUER_PORT is taken; cannot start the development issuer" >&2; exit 1; fi
  env CX_DEV_ISSUER_PORT="$ISSUER_PORT" "$PY" -m cx_dev_issuer >"$RUN_DIR/dev-issuer.log" 2>&1 &
  echo $! >"$RUN_DIR/dev-issuer.pid"
  wait_healthy dev-issuer "$ISSUER_PORT"
  echo "   dev-issuer http://127.0.0.1:$ISSUER_PORT  (log: ${RUN_DIR#$ROOT/}/dev-issuer.log; tokens: .venv/bin/cx-dev-token)"
}

# The services' shared internal secret (the notifier's contact lookup): made once per checkout, readable by its
# owner only; CX_INTERNAL_TOKEN overrides it.
internal_token() {
  local file="$RUN_DIR/internal-token"
  if [[ -n "${CX_INTERNAL_TOKEN:-}" ]]; then echo "$CX_INTERNAL_TOKEN"; return; fi
  [[ -s "$file" ]] || (umask 077 && head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$file")
  cat "$file"
}

start() {
  export CX_ENVIRONMENT="${CX_ENVIRONMENT:-development}"
  local token; token="$(internal_token)"
  start_issuer
  for entry in "${SERVICES[@]}"; do
    name="${entry%%:*}"; port="${entry##*:}"
    if running "$name"; then
      echo "   $name already running (pid $(cat "$RUN_DIR/$name.pid"))"; continue
    fi
    if answers "$port"; then echo "!! port $port is taken; cannot start $name" >&2; exit 1; fi
    upper="$(echo "$name" | tr a-z A-Z)"
    env "CX_${upper}_ENVIRONMENT=$CX_ENVIRONMENT" "CX_${upper}_INTERNAL_TOKEN=$token" "$PY" -m "cx_$name" >"$RUN_DIR/$name.log" 2>&1 &
    echo $! >"$RUN_DIR/$name.pid"
  done
  for entry in "${SERVICES[@]}"; do
    wait_healthy "${entry%%:*}" "${entry##*:}"
    echo "   ${entry%%:*} http://127.0.0.1:${entry##*:}  (log: ${RUN_DIR#$ROOT/}/${entry%%:*}.log)"
  done
  if [[ "${CX_WITHOUT_GATEWAY:-0}" != 1 ]]; then bash "$ROOT/deploy/gateway/gateway.sh" start; fi
}

stop_pid() { # name
  local pidfile="$RUN_DIR/$1.pid"
  [[ -f "$pidfile" ]] || return 0
  local pid; pid="$(cat "$pidfile")"
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$pidfile"
}

stop() {
  if [[ -x "$ROOT/deploy/gateway/gateway.sh" || -f "$ROOT/deploy/gateway/gateway.sh" ]]; then
    bash "$ROOT/deploy/gateway/gateway.sh" stop || true
  fi
  for entry in "${SERVICES[@]}"; do stop_pid "${entry%%:*}"; done
  stop_pid dev-issuer
  echo "   services stopped"
}

status() {
  if curl -fsS "http://127.0.0.1:$ISSUER_PORT/healthz" >/dev/null 2>&1; then echo "dev-issuer: up on :$ISSUER_PORT"
  else echo "dev-issuer: down"; fi
  for entry in "${SERVICES[@]}"; do
    name="${entry%%:*}"; port="${entry##*:}"
    if curl -fsS "http://127.0.0.1:$port/readyz" >/dev/null 2>&1; then echo "$name: ready on :$port"
    elif answers "$port"; then echo "$name: up on :$port, not ready"
    else echo "$name: down"; fi
  done
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
