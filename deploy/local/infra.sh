#!/usr/bin/env bash
# Local infrastructure without Docker: Kafka (single KRaft node, jars from Maven Central), FerretDB
# (MongoDB wire protocol on SQLite, built from the Go module proxy) and Mailpit (SMTP sink + HTTP API).
#
#   deploy/local/infra.sh up       fetch/build once, start what is not running, wait until each answers, create topics
#   deploy/local/infra.sh down     stop what this state folder started (SIGTERM, then SIGKILL after a deadline)
#   deploy/local/infra.sh status   one line per component
#   deploy/local/infra.sh reset    down, then delete data and logs (keeps jars and binaries)
#
# State (jars, binaries, data, logs, pid files) lives in $CX_INFRA_DIR (default <repo>/.infra, git-ignored).
# Downloads and builds are also kept in a tool cache outside the repo ($CX_TOOL_CACHE, default
# ${XDG_CACHE_HOME:-~/.cache}/clusterxchange) so a fresh clone or state folder starts without network or rebuild.
# Every listener is on 127.0.0.1. See deploy/local/README.md.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
INFRA=${CX_INFRA_DIR:-$REPO/.infra}
TOOL_CACHE=${CX_TOOL_CACHE:-${XDG_CACHE_HOME:-${HOME:-/tmp}/.cache}/clusterxchange}

HOST=127.0.0.1
KAFKA_PORT=${CX_KAFKA_PORT:-9092}
KAFKA_CONTROLLER_PORT=${CX_KAFKA_CONTROLLER_PORT:-9093}
FERRETDB_PORT=${CX_FERRETDB_PORT:-27017}
SMTP_PORT=${CX_SMTP_PORT:-1025}
MAILPIT_PORT=${CX_MAILPIT_PORT:-8025}
KAFKA_HEAP=${CX_KAFKA_HEAP:-512m}
MAILPIT_MAX_MESSAGES=${CX_MAILPIT_MAX_MESSAGES:-5000}
FERRETDB_LOG_LEVEL=${CX_FERRETDB_LOG_LEVEL:-info}
READY_TIMEOUT=${CX_INFRA_TIMEOUT:-120}   # seconds each component may take to answer
STOP_TIMEOUT=${CX_INFRA_STOP_TIMEOUT:-30} # seconds after SIGTERM before SIGKILL
LOCK_TIMEOUT=${CX_INFRA_LOCK_TIMEOUT:-1200} # seconds to wait for another infra.sh run (a cold build takes minutes)

MAILPIT_VERSION=v1.27.11
MAVEN_DEPENDENCY_PLUGIN=org.apache.maven.plugins:maven-dependency-plugin:3.8.1
KAFKA_POM=$HERE/kafka/pom.xml
KAFKA_VERSION=$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$KAFKA_POM")
FERRETDB_VERSION=$(sed -n 's:^require github.com/FerretDB/FerretDB \(v[^ ]*\)$:\1:p' "$HERE/ferretdb/go.mod")

RUN=$INFRA/run
LOGS=$INFRA/logs
DATA=$INFRA/data
BIN=$INFRA/bin

COMPONENTS=(kafka ferretdb mailpit)
LOCK_FDS=()  # file descriptors of the locks held (see with_lock); the services must not inherit them

# ---------------------------------------------------------------------------------------------- helpers

say() { printf '%s\n' "$*"; }
fail() {
  printf 'infra: %s\n' "$*" >&2
  [[ ${COMMAND:-} == up ]] && printf 'infra: what did start keeps running; "%s down" stops it\n' "$0" >&2
  exit 1
}
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

need() { command -v "$1" >/dev/null 2>&1 || fail "$1 is not installed (needed for $2)"; }

# Go lives in /usr/local/go/bin on this kind of machine; CI's environment may not have it on PATH.
if ! command -v go >/dev/null 2>&1 && [[ -x /usr/local/go/bin/go ]]; then PATH=/usr/local/go/bin:$PATH; fi

python_cmd() {
  if [[ -n ${CX_PYTHON:-} ]]; then echo "$CX_PYTHON"
  elif [[ -x $REPO/.venv/bin/python ]]; then echo "$REPO/.venv/bin/python"
  else echo "uv run --no-sync --project $REPO python"
  fi
}

# Whether something accepts TCP connections on 127.0.0.1:$1.
port_open() { timeout 2 bash -c "exec 3<>/dev/tcp/$HOST/$1" 2>/dev/null; }

# Who listens on a port, if the system tells us (for messages only).
port_owner() {
  command -v ss >/dev/null 2>&1 || return 0
  ss -Hltnp "sport = :$1" 2>/dev/null | sed -n 's/.*users:((\("[^"]*",pid=[0-9]*\).*/\1/p' | head -1
}

ports_of() {
  case $1 in
    kafka) echo "$KAFKA_PORT $KAFKA_CONTROLLER_PORT" ;;
    ferretdb) echo "$FERRETDB_PORT" ;;
    mailpit) echo "$SMTP_PORT $MAILPIT_PORT" ;;
  esac
}

pid_file() { echo "$RUN/$1.pid"; }

# Whether a process exists and has not exited. A zombie counts as gone: this machine's init reaps orphans
# a second or two late, and `kill -0` still succeeds on a zombie.
alive() {
  local state
  kill -0 "$1" 2>/dev/null || return 1
  state=$(sed 's/^.*) \(.\).*$/\1/' "/proc/$1/stat" 2>/dev/null) || return 1
  [[ $state != Z ]]
}

# The pid of a component started from this state folder and still alive, or nothing. The command line must
# name this state folder, so a recycled pid (or another checkout's instance) is never taken for ours.
running_pid() {
  local file pid cmdline tries=0
  file=$(pid_file "$1")
  [[ -f $file ]] || return 0
  pid=$(<"$file")
  if [[ $pid =~ ^[0-9]+$ ]] && alive "$pid"; then
    # A process in the middle of exec reads an empty cmdline for a moment (the kernel installs the new memory
    # before it writes the arguments there): read again before calling it someone else's.
    while cmdline=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null) && [[ -z $cmdline ]] && ((tries++ < 20)); do
      sleep 0.05
    done
    if [[ $cmdline == *"$INFRA/"* ]]; then
      echo "$pid"
      return 0
    fi
  fi
  rm -f "$file"
}

log_tail() {
  local log=$LOGS/$1.log
  if [[ -f $log ]]; then
    printf -- '--- last lines of %s ---\n' "$log" >&2
    tail -n "${2:-40}" "$log" >&2
    printf -- '---\n' >&2
  fi
}

# Start "$@" detached (own session, so Ctrl-C in the caller's terminal does not reach it) with output
# appended to the component's log; the pid file gets the pid of the process itself (the shell execs it).
# The lock descriptors are closed first: a service that inherited one would hold infra.sh's lock for its lifetime.
launch() {
  local name=$1; shift
  local log=$LOGS/$name.log
  printf '=== %s: infra.sh starting %s\n' "$(date -u +%FT%TZ)" "$name" >>"$log"
  (
    for fd in "${LOCK_FDS[@]}"; do exec {fd}>&-; done
    # shellcheck disable=SC2016 # expanded by the inner shell
    exec setsid bash -c 'echo $$ >"$0"; exec "$@"' "$(pid_file "$name")" "$@" </dev/null >>"$log" 2>&1
  ) &
  local deadline=$((SECONDS + 5))
  until [[ -s $(pid_file "$name") ]]; do
    ((SECONDS < deadline)) || fail "$name did not start (no pid file)"
    sleep 0.05
  done
}

# Hard-link (same file system) or copy a file or folder tree.
install_copy() {
  rm -rf "$2"
  cp -al "$1" "$2" 2>/dev/null || cp -a "$1" "$2"
}

key_of() { cat "$@" | sha256sum | cut -c1-12; }

# An offline-first module proxy: the local module cache, then the configured proxy for what is missing.
go_proxy() {
  local cache configured
  cache=$(go env GOMODCACHE)/cache/download
  configured=$(go env GOPROXY)
  if [[ -d $cache ]]; then echo "file://$cache,$configured"; else echo "$configured"; fi
}

# ---------------------------------------------------------------------------------------------- artifacts

# Run "$@" holding an exclusive lock on file $1, so that two infra.sh runs (say, two test sessions sharing
# the tool cache) never build the same thing at once; the second waits, then finds the result.
with_lock() {
  local file=$1 fd; shift
  mkdir -p "$(dirname "$file")"
  (
    exec {fd}>"$file"
    LOCK_FDS+=("$fd")
    flock -n "$fd" || { say "waiting for another infra.sh that holds $file..."; flock -w "$LOCK_TIMEOUT" "$fd"; } \
      || fail "timed out after ${LOCK_TIMEOUT}s waiting for $file"
    "$@"
  )
}

# Kafka's jars: Maven copies them (from ~/.m2, downloading only what is missing) into the tool cache once per
# pom content; each state folder gets a hard-linked copy in $INFRA/kafka/libs.
ensure_kafka_libs() {
  local key cached libs=$INFRA/kafka/libs
  key=$(key_of "$KAFKA_POM")
  [[ -f $libs/.cx-key && $(<"$libs/.cx-key") == "$key" ]] && return 0
  cached=$TOOL_CACHE/kafka/$KAFKA_VERSION-$key
  [[ -f $cached/.complete ]] || with_lock "$TOOL_CACHE/kafka.lock" fetch_kafka_libs "$cached"
  mkdir -p "$INFRA/kafka"
  install_copy "$cached/libs" "$libs"
  echo "$key" >"$libs/.cx-key"
}

fetch_kafka_libs() {
  local cached=$1 started tmp
  [[ -f $cached/.complete ]] && return 0
  need java "Kafka"; need mvn "fetching Kafka's jars"
  started=$(now)
  say "kafka: copying Kafka $KAFKA_VERSION jars with Maven (downloads into ~/.m2 the first time)..."
  mkdir -p "$(dirname "$cached")"
  tmp=$(mktemp -d "$cached.tmp.XXXXXX")
  local mvn_args=(-B -q -f "$KAFKA_POM" "$MAVEN_DEPENDENCY_PLUGIN:copy-dependencies"
                  -DoutputDirectory="$tmp/libs" -DincludeScope=runtime)
  # Offline first: with a warm ~/.m2 this needs no network at all.
  if ! mvn -o "${mvn_args[@]}" >"$tmp/mvn.log" 2>&1; then
    mvn "${mvn_args[@]}" >"$tmp/mvn.log" 2>&1 \
      || { cat "$tmp/mvn.log" >&2; rm -rf "$tmp"; fail "maven could not fetch Kafka's jars"; }
  fi
  compgen -G "$tmp/libs/log4j-slf4j-impl-*.jar" >/dev/null || { rm -rf "$tmp"; fail "no SLF4J binding among Kafka's jars"; }
  rm -f "$tmp/mvn.log" && touch "$tmp/.complete" && chmod 755 "$tmp"
  rm -rf "$cached" && mv "$tmp" "$cached"
  say "kafka: $(find "$cached/libs" -name '*.jar' | wc -l) jars, $(du -sh "$cached/libs" | cut -f1), in $(elapsed "$started")s"
}

# FerretDB: built from deploy/local/ferretdb (a wrapper module around FerretDB's embeddable package) once per
# content of main.go/go.mod/go.sum, kept in the tool cache, copied to $INFRA/bin/ferretdb.
ensure_ferretdb() {
  local src=$HERE/ferretdb key cached
  key=$(key_of "$src/main.go" "$src/go.mod" "$src/go.sum")
  [[ -x $BIN/ferretdb && -f $BIN/.ferretdb.key && $(<"$BIN/.ferretdb.key") == "$key" ]] && return 0
  cached=$TOOL_CACHE/bin/ferretdb-$FERRETDB_VERSION-$key
  [[ -f $cached && -x $cached ]] || with_lock "$TOOL_CACHE/ferretdb.lock" build_ferretdb "$src" "$cached"
  mkdir -p "$BIN"
  install_copy "$cached" "$BIN/ferretdb"
  echo "$key" >"$BIN/.ferretdb.key"
}

build_ferretdb() {
  local src=$1 cached=$2 started tmp
  [[ -f $cached && -x $cached ]] && return 0
  need go "building FerretDB"
  started=$(now)
  say "ferretdb: building FerretDB $FERRETDB_VERSION (SQLite, CGO_ENABLED=0; the first build downloads modules and takes minutes)..."
  mkdir -p "$(dirname "$cached")"
  tmp=$(mktemp "$cached.tmp.XXXXXX")
  (cd "$src" && CGO_ENABLED=0 GOFLAGS='' GOPROXY=$(go_proxy) \
     go build -mod=readonly -trimpath -buildvcs=false -o "$tmp" .) \
    || { rm -f "$tmp"; fail "building FerretDB failed"; }
  chmod 755 "$tmp" && rm -rf "$cached" && mv "$tmp" "$cached"
  say "ferretdb: built in $(elapsed "$started")s ($(du -h "$cached" | cut -f1))"
}

# Mailpit: `go install github.com/axllent/mailpit@VERSION` into the tool cache once, copied to $INFRA/bin.
# (Built from the module proxy it has no web-UI assets; SMTP and the REST API are complete.)
ensure_mailpit() {
  local cached=$TOOL_CACHE/bin/mailpit-$MAILPIT_VERSION
  [[ -x $BIN/mailpit && -f $BIN/.mailpit.key && $(<"$BIN/.mailpit.key") == "$MAILPIT_VERSION" ]] && return 0
  [[ -f $cached && -x $cached ]] || with_lock "$TOOL_CACHE/mailpit.lock" build_mailpit "$cached"
  mkdir -p "$BIN"
  install_copy "$cached" "$BIN/mailpit"
  echo "$MAILPIT_VERSION" >"$BIN/.mailpit.key"
}

build_mailpit() {
  local cached=$1 started tmp
  [[ -f $cached && -x $cached ]] && return 0
  need go "building Mailpit"
  started=$(now)
  say "mailpit: go install github.com/axllent/mailpit@$MAILPIT_VERSION (the first build downloads modules)..."
  mkdir -p "$(dirname "$cached")"
  tmp=$(mktemp -d "$cached.tmp.XXXXXX")
  # Run outside any module, so no go.mod/go.work of the repo is consulted.
  (cd "$tmp" && CGO_ENABLED=0 GOFLAGS='' GOPROXY=$(go_proxy) GOBIN="$tmp" \
     go install -trimpath -buildvcs=false "github.com/axllent/mailpit@$MAILPIT_VERSION") \
    || { rm -rf "$tmp"; fail "building Mailpit failed"; }
  rm -rf "$cached" && mv "$tmp/mailpit" "$cached" && rm -rf "$tmp"
  say "mailpit: built in $(elapsed "$started")s ($(du -h "$cached" | cut -f1))"
}

# ---------------------------------------------------------------------------------------------- start

# A Kafka cluster id: 16 random bytes, base64url without padding (Kafka's Uuid.toString), not starting with '-'.
new_cluster_id() {
  local id
  while :; do
    id=$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n')
    [[ $id == -* ]] || { echo "$id"; return; }
  done
}

kafka_java_opts() {
  echo "-Xms$KAFKA_HEAP -Xmx$KAFKA_HEAP -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:InitiatingHeapOccupancyPercent=35" \
       "-XX:+ExplicitGCInvokesConcurrent -XX:MaxInlineLevel=15 -Djava.awt.headless=true" \
       "-Dlog4j2.configurationFile=$HERE/kafka/log4j2.properties -Dkafka.logs.dir=$LOGS ${CX_KAFKA_OPTS:-}"
}

start_kafka() {
  local props=$INFRA/kafka/server.properties data=$DATA/kafka
  mkdir -p "$data"
  local escaped=${data//\\/\\\\}; escaped=${escaped//&/\\&}; escaped=${escaped//|/\\|}
  sed -e "s|@@DATA_DIR@@|$escaped|g" -e "s|@@KAFKA_PORT@@|$KAFKA_PORT|g" \
      -e "s|@@CONTROLLER_PORT@@|$KAFKA_CONTROLLER_PORT|g" "$HERE/kafka/server.properties" >"$props.tmp"
  mv "$props.tmp" "$props"
  if [[ ! -f $data/meta.properties ]]; then
    # shellcheck disable=SC2046
    java -Xmx256m $(kafka_java_opts | sed 's/-Xm[sx][^ ]*//g') -cp "$INFRA/kafka/libs/*" kafka.tools.StorageTool \
      format --cluster-id "$(new_cluster_id)" --config "$props" --standalone --ignore-formatted \
      >>"$LOGS/kafka.log" 2>&1 || { log_tail kafka; fail "formatting Kafka's storage failed"; }
  fi
  # shellcheck disable=SC2046
  launch kafka java $(kafka_java_opts) -cp "$INFRA/kafka/libs/*" kafka.Kafka "$props"
}

start_ferretdb() {
  mkdir -p "$DATA/ferretdb"
  launch ferretdb "$BIN/ferretdb" -listen-addr "$HOST:$FERRETDB_PORT" -sqlite-dir "$DATA/ferretdb" \
    -log-level "$FERRETDB_LOG_LEVEL"
}

start_mailpit() {
  mkdir -p "$DATA/mailpit"
  launch mailpit "$BIN/mailpit" --smtp "$HOST:$SMTP_PORT" --listen "$HOST:$MAILPIT_PORT" \
    --database "$DATA/mailpit/mailpit.db" --max "$MAILPIT_MAX_MESSAGES" \
    --smtp-disable-rdns --disable-version-check --pop3 "$HOST:1110"  # POP3 stays off: it needs an auth file
}

# Start a component unless it runs already; a port held by a process not started from this state folder
# is used as it is (it must still pass the readiness check).
start_component() {
  local name=$1 pid port owner busy="" free=""
  pid=$(running_pid "$name")
  if [[ -n $pid ]]; then
    say "$name: already running (pid $pid)"
    return 0
  fi
  for port in $(ports_of "$name"); do
    if port_open "$port"; then
      owner=$(port_owner "$port")
      busy+=" $port${owner:+ ($owner)}"
    else
      free+=" $port"
    fi
  done
  if [[ -n $busy && -z $free ]]; then
    say "$name: port(s)$busy already served by a process not started from $INFRA; using it as is"
    return 0
  elif [[ -n $busy ]]; then
    fail "$name: port(s)$busy in use by another process (choose others with the CX_*_PORT variables)"
  fi
  "start_$name"
  pid=$(running_pid "$name")
  [[ -n $pid ]] || { log_tail "$name" 20; fail "$name exited right after starting"; }
  say "$name: started (pid $pid, log $LOGS/$name.log)"
}

# Poll with a deadline until the TCP ports of component $1 accept connections, giving up early if process $2
# (empty: not started from here) has exited.
wait_ports() {
  local name=$1 pid=$2 port deadline=$((SECONDS + READY_TIMEOUT))
  for port in $(ports_of "$name"); do
    until port_open "$port"; do
      if [[ -n $pid ]] && ! alive "$pid"; then
        fail "$name exited before listening on $HOST:$port"
      fi
      ((SECONDS < deadline)) || fail "$name did not listen on $HOST:$port within ${READY_TIMEOUT}s"
      sleep 0.1
    done
  done
}

# Whether a component answers its own protocol: the TCP ports first, then a ping (FerretDB, through pymongo),
# /readyz (Mailpit), or metadata plus topic creation (Kafka). Each polls until READY_TIMEOUT and gives up
# early when the process started from here exits.
check_ready() {
  local name=$1 pid py watch=()
  COMMAND=check  # no "what did start" hint from fail() in here
  # The raw pid file (start_component has just checked it): a process that dies now must still be watched.
  pid=$(cat "$(pid_file "$name")" 2>/dev/null || true)
  [[ -n $pid ]] && watch=(--watch-pid "$pid")
  py=$(python_cmd)
  wait_ports "$name" "$pid"
  case $name in
    ferretdb) $py "$HERE/probe.py" mongo "mongodb://$HOST:$FERRETDB_PORT/" --timeout "$READY_TIMEOUT" "${watch[@]}" ;;
    mailpit) $py "$HERE/probe.py" http "http://$HOST:$MAILPIT_PORT/readyz" --timeout "$READY_TIMEOUT" "${watch[@]}" ;;
    kafka) CX_KAFKA_PORT=$KAFKA_PORT $py "$HERE/create_topics.py" --bootstrap "$HOST:$KAFKA_PORT" \
             --timeout "$READY_TIMEOUT" "${watch[@]}" ;;
  esac
}

ready_message() {
  case $1 in
    ferretdb) echo "ferretdb: answers ping on mongodb://$HOST:$FERRETDB_PORT" ;;
    mailpit) echo "mailpit: ready, SMTP $HOST:$SMTP_PORT, API http://$HOST:$MAILPIT_PORT/api/v1/" ;;
    kafka) echo "kafka: answers on $HOST:$KAFKA_PORT" ;;
  esac
}

cmd_up() {
  local started name failed=""
  local -A checks=()
  started=$(now)
  mkdir -p "$RUN" "$LOGS" "$DATA" "$BIN"
  ensure_kafka_libs
  ensure_ferretdb
  ensure_mailpit
  # Start all three, then check all three at once: Kafka's JVM start overlaps the rest.
  for name in "${COMPONENTS[@]}"; do start_component "$name"; done
  for name in "${COMPONENTS[@]}"; do
    check_ready "$name" >"$RUN/ready-$name.out" 2>&1 &
    checks[$name]=$!
  done
  for name in ferretdb mailpit kafka; do
    if wait "${checks[$name]}"; then
      cat "$RUN/ready-$name.out"
      ready_message "$name"
    else
      cat "$RUN/ready-$name.out" >&2
      log_tail "$name"
      failed+=" $name"
    fi
    rm -f "$RUN/ready-$name.out"
  done
  [[ -z $failed ]] || fail "not ready:$failed"
  say "infra: up in $(elapsed "$started")s (state in $INFRA)"
}

# ---------------------------------------------------------------------------------------------- stop

# Stop the given components: SIGTERM to all at once, wait for each until STOP_TIMEOUT, then SIGKILL.
stop_components() {
  local name pid port busy started deadline
  local -A pids=()
  started=$(now)
  for name in "$@"; do
    pid=$(running_pid "$name")
    if [[ -n $pid ]]; then
      pids[$name]=$pid
      kill -TERM "$pid" 2>/dev/null || true
      continue
    fi
    busy=""
    for port in $(ports_of "$name"); do if port_open "$port"; then busy+=" $port"; fi; done
    if [[ -n $busy ]]; then say "$name: not started from $INFRA (port(s)$busy held by another process; left alone)"
    else say "$name: not running"; fi
  done
  deadline=$((SECONDS + STOP_TIMEOUT))
  for name in "$@"; do
    [[ -n ${pids[$name]:-} ]] || continue
    pid=${pids[$name]}
    while alive "$pid" && ((SECONDS < deadline)); do sleep 0.1; done
    if alive "$pid"; then
      say "$name: still running ${STOP_TIMEOUT}s after SIGTERM; sending SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
      while alive "$pid"; do sleep 0.1; done
    fi
    rm -f "$(pid_file "$name")"
    printf '=== %s: infra.sh stopped %s (pid %s)\n' "$(date -u +%FT%TZ)" "$name" "$pid" >>"$LOGS/$name.log"
    say "$name: stopped (pid $pid, $(elapsed "$started")s after SIGTERM)"
  done
}

cmd_down() {
  stop_components mailpit ferretdb kafka
}

cmd_status() {
  local name pid port state
  for name in "${COMPONENTS[@]}"; do
    pid=$(running_pid "$name")
    state=""
    for port in $(ports_of "$name"); do
      if port_open "$port"; then state+=" $HOST:$port=open"; else state+=" $HOST:$port=closed"; fi
    done
    if [[ -n $pid ]]; then
      printf '%-9s running  pid %-8s%s  log %s\n' "$name" "$pid" "$state" "$LOGS/$name.log"
    elif [[ $state == *open* ]]; then
      printf '%-9s foreign  (not started from %s)%s\n' "$name" "$INFRA" "$state"
    else
      printf '%-9s stopped %s\n' "$name" "$state"
    fi
  done
}

cmd_reset() {
  cmd_down
  rm -rf -- "$DATA" "$LOGS" "$RUN" "$INFRA/kafka/server.properties"
  say "infra: data and logs deleted from $INFRA (jars and binaries kept)"
}

COMMAND=${1:-}
case $COMMAND in
  up|down|reset) mkdir -p "$INFRA" && with_lock "$INFRA/infra.lock" "cmd_$COMMAND" ;;
  status) cmd_status ;;
  *) sed -n '2,14s/^# \{0,1\}//p' "$0" >&2; exit 2 ;;
esac
