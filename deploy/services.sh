#!/usr/bin/env bash
# The indgang services as background processes on 127.0.0.1, each from its
# console script in the uv workspace (run `uv sync --frozen` first; `make up`
# does). Needs the infrastructure (deploy/infra.sh up).
#
#   bash deploy/services.sh up       # start those not running, wait for /health/ready
#   bash deploy/services.sh down     # stop them
#   bash deploy/services.sh status   # what runs where
#   bash deploy/services.sh down reporting   # only the services named (also up)
#
# The environment is passed through (KAFKA_BOOTSTRAP_SERVERS, MONGODB_URI,
# SMTP_HOST, SMTP_PORT, LOG_LEVEL, ...); unset ones default to the servers
# started by deploy/infra.sh for the same instance (INDGANG_VAR, INDGANG_PORT_OFFSET;
# Kafka's bootstrap list from $INDGANG_VAR/run/kafka.bootstrap, which names all three
# brokers under KAFKA_BROKERS=3). Logs: var/log/<service>.log, pids:
# var/run/<service>.pid (in INDGANG_VAR). The services' own HTTP ports are not offset.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
case "${INDGANG_VAR:-var}" in
/*) VAR="${INDGANG_VAR%/}" ;;
*) VAR="$ROOT/${INDGANG_VAR:-var}" ;;
esac
VAR="${VAR%/}"
RUN="$VAR/run"
LOG="$VAR/log"
PORT_OFFSET="${INDGANG_PORT_OFFSET:-0}"
[[ "$PORT_OFFSET" =~ ^[0-9]+$ ]] || {
    echo "[services] ERROR: INDGANG_PORT_OFFSET must be a number" >&2
    exit 2
}
HOST=127.0.0.1
READY_TIMEOUT="${INDGANG_READY_TIMEOUT:-60}"
# "webhooks" is the development webhook receiver standing in for a department system.
SERVICES=(intake routing notifications guide reporting webhooks)

if [[ -z "${UV:-}" ]]; then
    if command -v uv >/dev/null 2>&1; then UV=uv; else UV="python3 -m uv"; fi
fi

# Defaults that match deploy/infra.sh; anything already set wins.
if [[ -z "${KAFKA_BOOTSTRAP_SERVERS:-}" && -s "$RUN/kafka.bootstrap" ]]; then
    KAFKA_BOOTSTRAP_SERVERS="$(cat "$RUN/kafka.bootstrap")"
fi
export KAFKA_BOOTSTRAP_SERVERS="${KAFKA_BOOTSTRAP_SERVERS:-$HOST:$((9092 + PORT_OFFSET))}"
export MONGODB_URI="${MONGODB_URI:-mongodb://$HOST:$((27017 + PORT_OFFSET))}"
export SMTP_HOST="${SMTP_HOST:-$HOST}"
export SMTP_PORT="${SMTP_PORT:-$((1025 + PORT_OFFSET))}"
# A development machine: the services allow the development users, keys and secrets
# below and in deploy/dev/ (ENVIRONMENT=production, their default, refuses them).
export ENVIRONMENT="${ENVIRONMENT:-development}"
# Development wiring of notifications: the job centre's "system" is the local
# webhook receiver (plain HTTP on loopback), and subscriptions are editable with
# the development admin key.
export SUBSCRIPTIONS_FILE="${SUBSCRIPTIONS_FILE:-deploy/dev/subscriptions.toml}"
export WEBHOOK_ALLOW_PLAIN_HTTP="${WEBHOOK_ALLOW_PLAIN_HTTP:-true}"
export ADMIN_API_KEY="${ADMIN_API_KEY:-dev-admin-key}"
# Reporting's key for BI tools (X-Reports-Key), public like the admin key.
export REPORTS_API_KEY="${REPORTS_API_KEY:-dev-reports-key}"
# Traces: to an OTLP collector when OTEL_EXPORTER_OTLP_ENDPOINT is set, else as JSON
# lines in var/traces/ (make trace REF=<reference> prints one inquiry's; docs/observability.md).
if [[ -z "${OTEL_EXPORTER_OTLP_ENDPOINT:-}" ]]; then
    export TRACES_DIR="${TRACES_DIR:-$VAR/traces}"
fi

log() { printf '[services] %s\n' "$*"; }
die() {
    printf '[services] ERROR: %s\n' "$*" >&2
    exit 1
}
now() { date +%s; }

port_of() {
    case "$1" in
    intake) echo 8001 ;;
    routing) echo 8002 ;;
    notifications) echo 8003 ;;
    guide) echo 8004 ;;
    reporting) echo 8005 ;;
    webhooks) echo 8090 ;;
    *) return 1 ;;
    esac
}

command_marker() {
    if [[ "$1" == webhooks ]]; then echo webhook_receiver.py; else echo "indgang-$1"; fi
}

command_of() {
    if [[ "$1" == webhooks ]]; then
        echo "$UV run --frozen --no-sync python deploy/dev/webhook_receiver.py"
    else
        echo "$UV run --frozen --no-sync indgang-$1"
    fi
}

# running NAME: var/run/NAME.pid names a live process started by this script.
running() {
    local pidfile="$RUN/$1.pid" pid
    [[ -f "$pidfile" ]] || return 1
    pid="$(cat "$pidfile" 2>/dev/null)"
    [[ "$pid" =~ ^[0-9]+$ ]] || return 1
    kill -0 "$pid" 2>/dev/null || return 1
    tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$(command_marker "$1")" || return 1
    echo "$pid"
}

ready() {
    curl -fsS -o /dev/null --max-time 2 "http://$HOST:$(port_of "$1")/health/ready" 2>/dev/null
}

port_open() {
    timeout 2 bash -c "exec 3<>/dev/tcp/$HOST/$1" 2>/dev/null
}

start_one() {
    local name="$1" pid port pidfile logfile
    port="$(port_of "$name")"
    pidfile="$RUN/$name.pid"
    logfile="$LOG/$name.log"
    if pid="$(running "$name")"; then
        log "$name: already running (pid $pid)"
        return 0
    fi
    if port_open "$port"; then
        die "$name: port $HOST:$port is in use by a process not started by this script"
    fi
    rm -f "$pidfile"
    printf '\n===== %s: starting %s\n' "$(date -Is)" "$name" >>"$logfile"
    # Own session (setsid) so a Ctrl-C in the terminal does not reach it; the
    # process writes its own pid. HTTP_PORT is dropped so each service keeps
    # its own default port.
    # shellcheck disable=SC2046,SC2086,SC2016
    (cd "$ROOT" && exec env -u HTTP_PORT setsid bash -c 'echo $$ >"$0"; exec "$@"' "$pidfile" \
        $(command_of "$name") >>"$logfile" 2>&1 </dev/null) &
    for _ in $(seq 50); do
        [[ -s "$pidfile" ]] && break
        sleep 0.1
    done
    [[ -s "$pidfile" ]] || die "$name did not start; see $logfile"
    log "$name: starting on http://$HOST:$port (pid $(cat "$pidfile"), log ${LOG#"$ROOT"/}/$name.log)"
}

stop_one() {
    local name="$1" pid pgid target
    if ! pid="$(running "$name")"; then
        rm -f "$RUN/$name.pid"
        log "$name: not running"
        return 0
    fi
    pgid="$(ps -o pgid= -p "$pid" 2>/dev/null | tr -d ' ')"
    if [[ "$pgid" == "$pid" ]]; then target="-$pid"; else target="$pid"; fi
    log "$name: stopping (pid $pid)"
    kill -TERM -- "$target" 2>/dev/null || true
    for _ in $(seq 150); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
        log "$name: still running after 15s, sending SIGKILL"
        kill -KILL -- "$target" 2>/dev/null || true
    fi
    rm -f "$RUN/$name.pid"
}

cmd_up() {
    local t0 name
    t0="$(now)"
    mkdir -p "$RUN" "$LOG"
    [[ -x "$ROOT/.venv/bin/python" ]] || die "no .venv: run 'uv sync --frozen' (or 'make sync') first"
    for name in "${SERVICES[@]}"; do
        start_one "$name"
    done
    local deadline=$(($(now) + READY_TIMEOUT)) pending=("${SERVICES[@]}") still
    while ((${#pending[@]})); do
        still=()
        for name in "${pending[@]}"; do
            if ready "$name"; then
                log "$name: ready"
            elif ! running "$name" >/dev/null; then
                printf '[services] ----- last lines of %s -----\n' "${LOG#"$ROOT"/}/$name.log" >&2
                tail -n 40 "$LOG/$name.log" >&2
                die "$name exited during start-up"
            else
                still+=("$name")
            fi
        done
        pending=("${still[@]+"${still[@]}"}")
        ((${#pending[@]})) || break
        if (($(now) > deadline)); then
            for name in "${pending[@]}"; do
                printf '[services] ----- last lines of %s -----\n' "${LOG#"$ROOT"/}/$name.log" >&2
                tail -n 40 "$LOG/$name.log" >&2
            done
            die "not ready after ${READY_TIMEOUT}s: ${pending[*]} (GET /health/ready)"
        fi
        sleep 0.5
    done
    echo
    echo "Services:"
    for name in "${SERVICES[@]}"; do
        printf '  %-14s http://%s:%s   (log %s/%s.log)\n' "$name" "$HOST" "$(port_of "$name")" "${LOG#"$ROOT"/}" "$name"
    done
    log "up took $(($(now) - t0))s"
}

cmd_down() {
    local name
    for name in "${SERVICES[@]}"; do
        stop_one "$name" &
    done
    wait
}

cmd_status() {
    local rc=0 name pid state
    printf '%-14s %-9s %-8s %s\n' SERVICE STATE PID URL
    for name in "${SERVICES[@]}"; do
        if pid="$(running "$name")"; then
            if ready "$name"; then state=ready; else state=starting; fi
        else
            pid=- state=stopped rc=3
        fi
        printf '%-14s %-9s %-8s %s\n' "$name" "$state" "$pid" "http://$HOST:$(port_of "$name")"
    done
    return "$rc"
}

# Names after the command: only those services (e.g. `down reporting` for a rebuild).
if (($# > 1)); then
    for name in "${@:2}"; do
        port_of "$name" >/dev/null || die "unknown service: $name"
    done
    SERVICES=("${@:2}")
fi

case "${1:-}" in
up) cmd_up ;;
down) cmd_down ;;
status) cmd_status ;;
*)
    echo "usage: $0 up|down|status [service ...]" >&2
    exit 2
    ;;
esac
