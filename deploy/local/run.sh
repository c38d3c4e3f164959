#!/usr/bin/env bash
# `make run`: infrastructure, services, gateway and demo data on loopback; Ctrl-C stops everything.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$ROOT"

cleanup() {
  trap - INT TERM EXIT
  echo; echo "== stopping"
  bash deploy/local/services.sh stop || true
  bash deploy/local/infra.sh down || true
}
trap cleanup INT TERM EXIT

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
while true; do sleep 3600; done
