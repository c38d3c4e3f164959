#!/usr/bin/env bash
# `make run`: infrastructure, services, gateway and demo data on loopback; Ctrl-C stops everything.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$ROOT"

cleanup() {
  trap - INT TERM HUP EXIT
  if [[ -n "${waiting:-}" ]]; then kill "$waiting" 2>/dev/null || true; fi
  echo; echo "== stopping"
  bash deploy/local/services.sh stop || true
  bash deploy/local/infra.sh down || true
}
# HUP too: a closed terminal must stop what it started. (make forwards TERM to this script.)
trap cleanup EXIT
trap 'cleanup; exit 130' INT
trap 'cleanup; exit 143' TERM
trap 'cleanup; exit 129' HUP

echo "== infrastructure"
bash deploy/local/infra.sh up
echo "== services"
bash deploy/local/services.sh start
if [[ -f deploy/local/seed_demo.py ]]; then
  echo "== demo data"
  .venv/bin/python deploy/local/seed_demo.py
fi

cat <<URLS

ClusterXchange is running:
  web pages and API gateway       http://127.0.0.1:8080/
  development sign-in (issuer)    http://127.0.0.1:8090/.well-known/openid-configuration
    a token for curl:             .venv/bin/cx-dev-token --organisation "Test Cluster"
  catalogue API docs              http://127.0.0.1:8101/docs
  applications API docs           http://127.0.0.1:8102/docs
  matcher API docs                http://127.0.0.1:8103/docs
  notifier API docs               http://127.0.0.1:8104/docs
  mail sink (Mailpit API/UI)      http://127.0.0.1:8025/
  Kafka bootstrap                 127.0.0.1:9092
  MongoDB protocol (FerretDB)     mongodb://127.0.0.1:27017
Logs: .run/*.log and .infra/logs/. Press Ctrl-C to stop everything.
URLS
# Waiting on a background sleep, not a foreground one: bash runs a trap only once the foreground command has
# ended, so `sleep 3600` in the foreground kept everything running for up to an hour after a SIGTERM.
while true; do
  sleep 3600 &
  waiting=$!
  wait "$waiting" || true
done
