#!/usr/bin/env bash
# Local infrastructure for indgang, without Docker: Apache Kafka (KRaft, one
# node), a MongoDB-compatible store (mongod if on PATH, else FerretDB v1 on
# Debian's PostgreSQL with GIN indexes; INDGANG_STORE picks one) and the
# Mailpit mail catcher, all on 127.0.0.1.
#
#   bash deploy/infra.sh install   # fetch/build what is missing into ~/.cache/indgang
#   bash deploy/infra.sh up        # install if needed, start, wait until ready, create topics
#   bash deploy/infra.sh down      # stop what `up` started (data is kept in var/)
#   bash deploy/infra.sh status    # what runs where
#
# A server is skipped when its env var points elsewhere: KAFKA_BOOTSTRAP_SERVERS
# (no Kafka), MONGODB_URI (no store), SMTP_HOST (no mail catcher).
# INDGANG_STORE=auto (default: mongod if on PATH, else postgresql) | mongod |
# postgresql (FerretDB on PostgreSQL) | sqlite (FerretDB on SQLite, the fallback).
# See deploy/README.md.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CACHE="${INDGANG_CACHE:-$HOME/.cache/indgang}"
BIN="$CACHE/bin"
SRC="$CACHE/src"

KAFKA_VERSION=4.1.1
FERRETDB_MODULE=github.com/FerretDB/FerretDB
FERRETDB_VERSION=v1.24.2
MAILPIT_MODULE=github.com/axllent/mailpit
MAILPIT_VERSION=v1.33.1
KAFKA_LIBS="$CACHE/kafka-$KAFKA_VERSION/libs"

VAR="$ROOT/var"
RUN="$VAR/run"
LOG="$VAR/log"

HOST=127.0.0.1
KAFKA_PORT=9092
KAFKA_CONTROLLER_PORT=9093
STORE_PORT=27017
MAIL_SMTP_PORT=1025
MAIL_HTTP_PORT=8025
READY_TIMEOUT="${INDGANG_READY_TIMEOUT:-120}"

# Go lives in /usr/local/go/bin on our machines; make sure it is found.
[[ -d /usr/local/go/bin ]] && PATH="$PATH:/usr/local/go/bin"
if [[ -z "${UV:-}" ]]; then
    if command -v uv >/dev/null 2>&1; then UV=uv; else UV="python3 -m uv"; fi
fi

log() { printf '[infra] %s\n' "$*"; }
warn() { printf '[infra] WARNING: %s\n' "$*" >&2; }
die() {
    printf '[infra] ERROR: %s\n' "$*" >&2
    exit 1
}
now() { date +%s; }

# ---------------------------------------------------------------- helpers ---

# port_open PORT [HOST]: something accepts TCP connections there.
port_open() {
    timeout 2 bash -c "exec 3<>/dev/tcp/${2:-$HOST}/$1" 2>/dev/null
}

# running NAME PATTERN: var/run/NAME.pid names a live process whose command
# line contains PATTERN (guards against a recycled pid). Prints the pid.
running() {
    local pidfile="$RUN/$1.pid" pid
    [[ -f "$pidfile" ]] || return 1
    pid="$(cat "$pidfile" 2>/dev/null)"
    [[ "$pid" =~ ^[0-9]+$ ]] || return 1
    kill -0 "$pid" 2>/dev/null || return 1
    tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$2" || return 1
    echo "$pid"
}

# start_bg NAME LOGFILE CMD...: start CMD detached in its own session (so a
# Ctrl-C in the calling terminal does not reach it), stdout/stderr appended to
# LOGFILE, pid written to var/run/NAME.pid by the process itself.
start_bg() {
    local name="$1" logfile="$2"
    shift 2
    local pidfile="$RUN/$name.pid"
    rm -f "$pidfile"
    printf '\n===== %s: starting %s\n' "$(date -Is)" "$name" >>"$logfile"
    # shellcheck disable=SC2016 # $$ and $@ expand in the child bash
    (cd "$ROOT" && exec setsid bash -c 'echo $$ >"$0"; exec "$@"' "$pidfile" "$@" \
        >>"$logfile" 2>&1 </dev/null 9>&-) &
    for _ in $(seq 50); do
        [[ -s "$pidfile" ]] && return 0
        sleep 0.1
    done
    die "$name did not start (no pid file); see $logfile"
}

# stop_bg NAME PATTERN [TIMEOUT]: SIGTERM the process group, wait, then SIGKILL.
stop_bg() {
    local name="$1" pattern="$2" wait_s="${3:-30}" pid pgid target
    if ! pid="$(running "$name" "$pattern")"; then
        rm -f "$RUN/$name.pid"
        log "$name: not running"
        return 0
    fi
    pgid="$(ps -o pgid= -p "$pid" 2>/dev/null | tr -d ' ')"
    if [[ "$pgid" == "$pid" ]]; then target="-$pid"; else target="$pid"; fi
    log "$name: stopping (pid $pid)"
    kill -TERM -- "$target" 2>/dev/null || true
    for _ in $(seq $((wait_s * 10))); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
        warn "$name: still running after ${wait_s}s, sending SIGKILL"
        kill -KILL -- "$target" 2>/dev/null || true
        sleep 0.5
    fi
    rm -f "$RUN/$name.pid"
}

# fail_with_log WHAT LOGFILE...: error with the tail of the logs.
fail_with_log() {
    local what="$1" f
    shift
    for f in "$@"; do
        [[ -f "$f" ]] || continue
        printf '[infra] ----- last lines of %s -----\n' "$f" >&2
        tail -n 40 "$f" >&2
    done
    die "$what"
}

need() { command -v "$1" >/dev/null 2>&1; }

apt_install() {
    if need apt-get && [[ "$(id -u)" == 0 ]]; then
        log "installing $* with apt-get"
        if [[ -z "${_APT_UPDATED:-}" ]]; then
            DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
            _APT_UPDATED=1
        fi
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
    else
        return 1
    fi
}

# ---------------------------------------------------------------- install ---

install_kafka() {
    local pom="$ROOT/deploy/kafka/pom.xml" stamp="$CACHE/kafka-$KAFKA_VERSION/.installed" want
    want="$(sha256sum "$pom" | cut -c1-64)"
    if [[ -f "$stamp" && "$(cat "$stamp")" == "$want" ]] &&
        compgen -G "$KAFKA_LIBS/kafka_2.13-$KAFKA_VERSION.jar" >/dev/null; then
        return 0
    fi
    need java || apt_install openjdk-17-jre-headless || die "java (17+) is needed for Kafka"
    need mvn || apt_install maven || die "mvn is needed to fetch the Kafka jars"
    log "Kafka $KAFKA_VERSION: resolving jars from Maven Central into $KAFKA_LIBS"
    rm -rf "$KAFKA_LIBS" "$KAFKA_LIBS.tmp"
    mkdir -p "$(dirname "$KAFKA_LIBS")"
    mvn -q -B -f "$pom" dependency:copy-dependencies \
        -DoutputDirectory="$KAFKA_LIBS.tmp" -DincludeScope=runtime >"$CACHE/mvn.log" 2>&1 ||
        fail_with_log "mvn could not resolve the Kafka jars" "$CACHE/mvn.log"
    mv "$KAFKA_LIBS.tmp" "$KAFKA_LIBS"
    echo "$want" >"$stamp"
}

# go_module_src MODULE VERSION DEST: a writable copy of a module's source.
go_module_src() {
    local module="$1" version="$2" dest="$3" dir
    need go || die "go is needed to build $module"
    dir="$(cd /tmp && GO111MODULE=on GOFLAGS=-mod=mod go mod download -json "$module@$version" |
        sed -n 's/^[[:space:]]*"Dir": "\(.*\)",\{0,1\}$/\1/p')"
    [[ -n "$dir" && -d "$dir" ]] || die "go mod download $module@$version failed"
    rm -rf "$dest"
    mkdir -p "$(dirname "$dest")"
    cp -r "$dir" "$dest"
    chmod -R u+w "$dest"
}

# FerretDB is built from its module source rather than with `go install`:
# a `go install`ed v1.24.2 panics at start ("Invalid build/version/version.txt
# file content") because build/version/version.txt is generated at release time
# and is not part of the module.
#
# The build also serialises FerretDB's update, findAndModify and delete per collection
# (deploy/ferretdb/): v1 runs them as read-modify-write without a transaction and loses
# concurrent updates to one document, which MongoDB never does and our outbox relies on.
#
# It makes an `update` command release each statement's query when that statement is
# done: v1.24.2 defers it to the end of the command, so each statement that matches a
# document holds one of the 50 pooled PostgreSQL connections, and a bulk write of 50
# or more updates waits forever for a connection it holds itself (the whole store
# hangs). The outbox relay and batch consumers send such bulks.
#
# It drops the per-query resource tracking of release builds (a debugging aid).
#
# And it fixes the SQLite backend's `_id` lookups: v1.24.2 queries `_id` as
# `_ferretdb_sjson->'$._id'` but indexes `_ferretdb_sjson->"_id"`, and SQLite matches
# index expressions literally, so every find/update/delete by `_id` scanned the table.
FERRETDB_PATCH="$ROOT/deploy/ferretdb/serialized_writes.go"
install_ferretdb() {
    local bin="$BIN/ferretdb" src="$SRC/ferretdb-$FERRETDB_VERSION"
    local stamp="$bin.patch" want
    # Bump "serialize-4" when the patching below changes.
    want="serialize-4-sqlite-id-update-close-notrack-$(sha256sum "$FERRETDB_PATCH" | cut -c1-16)"
    if [[ -x "$bin" ]] && "$bin" --version 2>/dev/null | grep -q "version: $FERRETDB_VERSION" &&
        [[ "$(cat "$stamp" 2>/dev/null)" == "$want" ]]; then
        return 0
    fi
    log "FerretDB $FERRETDB_VERSION: building from module source (about a minute)"
    go_module_src "$FERRETDB_MODULE" "$FERRETDB_VERSION" "$src"
    echo "$FERRETDB_VERSION" >"$src/build/version/version.txt"
    cp "$FERRETDB_PATCH" "$src/internal/handler/zz_indgang_serialized_writes.go"
    local cmd
    # Inserts are not read-modify-write (a taken `_id` or unique key is refused by the
    # backend's unique index), so they run beside the serialised commands.
    for cmd in MsgUpdate MsgFindAndModify MsgDelete; do
        grep -l "^func (h \*Handler) $cmd(" "$src"/internal/handler/msg_*.go | while read -r file; do
            sed -i "/^func (h \\*Handler) $cmd(/a\\\tdefer lockNamespace(msg)()" "$file"
        done
        grep -A2 "^func (h \*Handler) $cmd(" "$src"/internal/handler/msg_*.go | grep -q lockNamespace ||
            die "patching FerretDB's $cmd failed"
    done
    local update="$src/internal/handler/msg_update.go"
    sed -i 's|^\t\tdefer closer.Close()$|\t\t// closed after this statement (below), not at the end of the command|' "$update"
    sed -i 's|^\t\tresult, err := common.UpdateDocument(ctx, c, "update", iter, \&u)$|&\n\t\tcloser.Close()|' "$update"
    grep -q '^		closer.Close()$' "$update" && ! grep -q '^		defer closer.Close()$' "$update" ||
        die "patching FerretDB's update command (release each statement's query) failed"
    # Per-iterator stack-trace profiles (`resource.Track`) are a debugging aid that costs
    # a runtime.Callers and a finalizer for every query; debug builds keep them.
    local resource="$src/internal/util/resource/resource.go"
    sed -i '/^func Track(obj any, token \*Token) {$/a\\tif !debugbuild.Enabled {\n\t\treturn\n\t}' "$resource"
    sed -i '/^func Untrack(obj any, token \*Token) {$/a\\tif !debugbuild.Enabled {\n\t\treturn\n\t}' "$resource"
    [[ "$(grep -c '^	if !debugbuild.Enabled {$' "$resource")" == 2 ]] ||
        die "patching FerretDB's resource tracking failed"
    local meta="$src/internal/backends/sqlite/metadata/metadata.go"
    sed -i "s|IDColumn = DefaultColumn + \"->'\$._id'\"|IDColumn = DefaultColumn + \"->'_id'\"|" "$meta"
    grep -qF "IDColumn = DefaultColumn + \"->'_id'\"" "$meta" || die "patching FerretDB's SQLite _id column failed"
    mkdir -p "$BIN"
    (cd "$src" && go build -trimpath -o "$bin.tmp" ./cmd/ferretdb) || die "building FerretDB failed"
    mv "$bin.tmp" "$bin"
    echo "$want" >"$stamp"
    rm -rf "$src"
}

# npm_install_lenient: `npm ci`; if the registry lacks some locked versions
# (404 on a tarball, or no version matching a range), let npm re-resolve just
# those packages, a few times over.
npm_install_lenient() {
    npm ci --ignore-scripts --no-audit --no-fund --loglevel=error >npm.log 2>&1 && return 0
    local out
    for _ in $(seq 20); do
        out="$(grep -v EBADENGINE npm.log || true)"
        node - "$out" <<'EOF' || return 1
// Drops the package that failed from package-lock.json (and relaxes its range
// in package.json when no version matches), so npm resolves it again.
const fs = require("fs");
const out = process.argv[2];
let name = null;
let m = out.match(/404 Not Found - GET https?:\/\/[^/]+\/((?:@[^/]+(?:\/|%2[fF]))?[^/]+)\/-\//);
if (m) name = decodeURIComponent(m[1]);
let relax = false;
m = out.match(/No matching version found for (@?[^@\s]+)@/);
if (!name && m) { name = m[1]; relax = true; }
if (!name) { console.error(out.split("\n").slice(-15).join("\n")); process.exit(1); }
console.error(`[infra] npm: re-resolving ${name}${relax ? " (any version)" : ""}`);
const lock = JSON.parse(fs.readFileSync("package-lock.json"));
for (const k of Object.keys(lock.packages || {})) {
  const tail = k.split("node_modules/").pop();
  if (tail === name || tail.startsWith(name + "-")) delete lock.packages[k];
}
fs.writeFileSync("package-lock.json", JSON.stringify(lock, null, 2));
if (relax) {
  const pkg = JSON.parse(fs.readFileSync("package.json"));
  for (const d of ["dependencies", "devDependencies"]) if (pkg[d] && pkg[d][name]) pkg[d][name] = "*";
  fs.writeFileSync("package.json", JSON.stringify(pkg, null, 2));
}
EOF
        npm install --ignore-scripts --no-audit --no-fund --loglevel=error >npm.log 2>&1 && return 0
    done
    return 1
}

# Mailpit is built from its module source: the `go install`ed binary serves
# the API but no web UI, because the UI (server/ui/dist) is built with npm at
# release time and is not part of the Go module. Without node/npm, or if the
# UI build fails, the binary is built without UI (API and SMTP still work).
install_mailpit() {
    local bin="$BIN/mailpit" stamp="$BIN/.mailpit-$MAILPIT_VERSION" src="$SRC/mailpit-$MAILPIT_VERSION"
    if [[ -x "$bin" && -f "$stamp" ]]; then
        return 0
    fi
    log "Mailpit $MAILPIT_VERSION: building from module source (web UI with npm, then go build)"
    go_module_src "$MAILPIT_MODULE" "$MAILPIT_VERSION" "$src"
    local ui=api-only
    if need node && need npm; then
        if (cd "$src" && npm_install_lenient && npm run build >>npm.log 2>&1) &&
            [[ -f "$src/server/ui/dist/app.js" ]]; then
            ui=ui
        else
            warn "Mailpit web UI could not be built (see $src/npm.log); building API-only"
        fi
    else
        warn "node/npm not found: Mailpit is built without its web UI (API and SMTP work)"
    fi
    mkdir -p "$BIN"
    (cd "$src" && go build -trimpath \
        -ldflags "-s -w -X github.com/axllent/mailpit/config.Version=$MAILPIT_VERSION" \
        -o "$bin.tmp" .) || die "building Mailpit failed"
    mv "$bin.tmp" "$bin"
    echo "$ui" >"$stamp"
    [[ "$ui" == ui ]] && rm -rf "$src"
    return 0
}

use_mongod() { [[ "$(store_kind)" == mongod ]]; }

# PostgreSQL's server binaries (Debian keeps them off PATH, per major version).
PG_BIN=""
find_postgres() {
    local dir
    for dir in /usr/lib/postgresql/*/bin; do
        [[ -x "$dir/postgres" && -x "$dir/initdb" ]] && PG_BIN="$dir"
    done
    [[ -n "$PG_BIN" ]]
}

# Debian's PostgreSQL (Debian 12: 15) for FerretDB's PostgreSQL backend.
install_postgres() {
    find_postgres && return 0
    apt_install postgresql || return 1
    find_postgres
}

# store_kind: mongod | postgresql | sqlite, from INDGANG_STORE (default auto:
# mongod when it is on PATH, else FerretDB on PostgreSQL when PostgreSQL is or can
# be installed, else FerretDB on SQLite). See deploy/README.md for why.
STORE_KIND=""
store_kind() {
    if [[ -z "$STORE_KIND" ]]; then
        case "${INDGANG_STORE:-auto}" in
        mongod | postgresql | sqlite) STORE_KIND="$INDGANG_STORE" ;;
        auto)
            if need mongod; then
                STORE_KIND=mongod
            elif find_postgres || [[ -x "$(command -v apt-get)" && "$(id -u)" == 0 ]]; then
                STORE_KIND=postgresql
            else
                STORE_KIND=sqlite
            fi
            ;;
        *) die "INDGANG_STORE must be auto, mongod, postgresql or sqlite (not '$INDGANG_STORE')" ;;
        esac
    fi
    echo "$STORE_KIND"
}

cmd_install() {
    mkdir -p "$CACHE" "$BIN"
    local what="${1:-all}"
    if [[ "$what" == all || "$what" == kafka ]]; then install_kafka; fi
    if [[ "$what" == all || "$what" == store ]]; then
        case "$(store_kind)" in
        mongod) [[ "$what" == all ]] && install_ferretdb ;;
        postgresql)
            install_postgres || die "PostgreSQL could not be installed (apt-get install postgresql, as root); INDGANG_STORE=sqlite runs FerretDB on SQLite instead"
            install_ferretdb
            ;;
        sqlite) install_ferretdb ;;
        esac
    fi
    if [[ "$what" == all || "$what" == mail ]]; then install_mailpit; fi
    return 0
}

# ------------------------------------------------------------------ kafka ---

kafka_java() {
    java -cp "$KAFKA_LIBS/*" "$@"
}

# kafka_ready HOST PORT: a Metadata request is answered with >= 1 broker and
# a known controller (plain Python, no client library, no JVM start-up).
kafka_ready() {
    if ! need python3; then
        timeout 30 java -cp "$KAFKA_LIBS/*" org.apache.kafka.tools.TopicCommand \
            --bootstrap-server "$1:$2" --list >/dev/null 2>&1
        return
    fi
    python3 - "$1" "$2" <<'EOF'
import socket, struct, sys
host, port = sys.argv[1], int(sys.argv[2])
try:
    with socket.create_connection((host, port), timeout=3) as s:
        s.settimeout(5)
        client = b"indgang-infra"
        # Metadata v4 (header v1): no topics, no auto-creation.
        body = struct.pack(">hhih", 3, 4, 1, len(client)) + client + struct.pack(">ib", 0, 0)
        s.sendall(struct.pack(">i", len(body)) + body)
        def read(n):
            buf = b""
            while len(buf) < n:
                chunk = s.recv(n - len(buf))
                if not chunk:
                    raise OSError("closed")
                buf += chunk
            return buf
        (size,) = struct.unpack(">i", read(4))
        resp = read(size)
    corr, _throttle, nbrokers = struct.unpack(">iii", resp[:12])
    off, ok = 12, nbrokers >= 1 and corr == 1
    for _ in range(nbrokers):
        off += 4
        (hl,) = struct.unpack(">h", resp[off:off + 2]); off += 2 + hl + 4
        (rl,) = struct.unpack(">h", resp[off:off + 2]); off += 2 + max(rl, 0)
    (cl,) = struct.unpack(">h", resp[off:off + 2]); off += 2 + max(cl, 0)
    (controller,) = struct.unpack(">i", resp[off:off + 4])
    sys.exit(0 if ok and controller >= 0 else 1)
except Exception:
    sys.exit(1)
EOF
}

start_kafka() {
    if [[ -n "${KAFKA_BOOTSTRAP_SERVERS:-}" ]]; then
        log "Kafka: KAFKA_BOOTSTRAP_SERVERS=$KAFKA_BOOTSTRAP_SERVERS is set, not starting one"
        return 0
    fi
    local pid
    if pid="$(running kafka kafka.Kafka)"; then
        log "Kafka: already running (pid $pid)"
        return 0
    fi
    if port_open "$KAFKA_PORT"; then
        warn "Kafka: $HOST:$KAFKA_PORT is in use by a process not started from this checkout; using it"
        return 0
    fi
    local dir="$VAR/kafka" cfg="$VAR/kafka/server.properties"
    mkdir -p "$dir/data"
    sed -e "s#@DATA_DIR@#$dir/data#g" -e "s#@HOST@#$HOST#g" \
        -e "s#@PORT@#$KAFKA_PORT#g" -e "s#@CONTROLLER_PORT@#$KAFKA_CONTROLLER_PORT#g" \
        "$ROOT/deploy/kafka/server.properties" >"$cfg"
    if [[ ! -f "$dir/data/meta.properties" ]]; then
        local cid
        if [[ -s "$dir/cluster.id" ]]; then
            cid="$(cat "$dir/cluster.id")"
        else
            cid="$(kafka_java kafka.tools.StorageTool random-uuid 2>/dev/null | tail -n1)"
            [[ -n "$cid" ]] || die "Kafka: could not generate a cluster id"
            echo "$cid" >"$dir/cluster.id"
        fi
        log "Kafka: formatting storage in var/kafka/data (cluster id $cid)"
        kafka_java kafka.tools.StorageTool format --standalone -t "$cid" -c "$cfg" \
            >>"$LOG/kafka-storage.log" 2>&1 ||
            fail_with_log "Kafka: storage format failed" "$LOG/kafka-storage.log"
    elif [[ ! -s "$dir/cluster.id" ]]; then
        sed -n 's/^cluster.id=//p' "$dir/data/meta.properties" >"$dir/cluster.id"
    fi
    log "Kafka $KAFKA_VERSION: starting on $HOST:$KAFKA_PORT (controller $HOST:$KAFKA_CONTROLLER_PORT)"
    # shellcheck disable=SC2086
    start_bg kafka "$LOG/kafka-stdout.log" \
        java ${KAFKA_HEAP_OPTS:--Xms256m -Xmx768m} -XX:+UseG1GC -XX:MaxGCPauseMillis=20 \
        -XX:+ExitOnOutOfMemoryError -Djava.awt.headless=true \
        -Dkafka.logs.dir="$LOG" -Dlog4j2.configurationFile="$ROOT/deploy/kafka/log4j2.xml" \
        -cp "$KAFKA_LIBS/*" kafka.Kafka "$cfg"
}

wait_kafka() {
    [[ -n "${KAFKA_BOOTSTRAP_SERVERS:-}" ]] && return 0
    local deadline=$(($(now) + READY_TIMEOUT))
    while true; do
        if [[ -f "$RUN/kafka.pid" ]] && ! running kafka kafka.Kafka >/dev/null; then
            fail_with_log "Kafka exited during start-up" "$LOG/kafka-stdout.log" "$LOG/kafka.log"
        fi
        if port_open "$KAFKA_PORT" && kafka_ready "$HOST" "$KAFKA_PORT"; then
            log "Kafka: ready on $HOST:$KAFKA_PORT"
            return 0
        fi
        if (($(now) > deadline)); then
            fail_with_log "Kafka not ready after ${READY_TIMEOUT}s" "$LOG/kafka-stdout.log" "$LOG/kafka.log"
        fi
        sleep 0.5
    done
}

# ------------------------------------------------------------------ store ---

# store_ping HOST PORT: OP_MSG {ping: 1} answered with ok: 1.
store_ping() {
    need python3 || return 0 # TCP check already done
    python3 - "$1" "$2" <<'EOF'
import socket, struct, sys
host, port = sys.argv[1], int(sys.argv[2])
def cstr(s): return s.encode() + b"\0"
elems = b"\x10" + cstr("ping") + struct.pack("<i", 1)
db = cstr("admin")
elems += b"\x02" + cstr("$db") + struct.pack("<i", len(db)) + db
doc = struct.pack("<i", 4 + len(elems) + 1) + elems + b"\0"
payload = struct.pack("<I", 0) + b"\0" + doc
msg = struct.pack("<iiii", 16 + len(payload), 1, 0, 2013) + payload
try:
    with socket.create_connection((host, port), timeout=3) as s:
        s.settimeout(5)
        s.sendall(msg)
        buf = b""
        while len(buf) < 4 or len(buf) < struct.unpack("<i", buf[:4])[0]:
            chunk = s.recv(65536)
            if not chunk:
                break
            buf += chunk
    # ok is a double (0x01) or int32 (0x10) equal to 1
    i = buf.find(b"ok\0")
    ok = i > 0 and (
        (buf[i - 1] == 0x01 and struct.unpack("<d", buf[i + 3:i + 11])[0] == 1.0)
        or (buf[i - 1] == 0x10 and struct.unpack("<i", buf[i + 3:i + 7])[0] == 1)
    )
    sys.exit(0 if ok else 1)
except Exception:
    sys.exit(1)
EOF
}

# The process name that `running store` checks for.
store_marker() { if use_mongod; then echo mongod; else echo ferretdb; fi; }

# ------------------------------------------------------------- postgresql ---

PG_DIR="$VAR/postgres"
PG_DATA="$PG_DIR/data"
PG_SOCKET="$PG_DIR/run"
PG_DATABASE=ferretdb

# as_postgres CMD...: run CMD as the `postgres` user when we are root (PostgreSQL
# refuses to run as root), else as ourselves.
as_postgres() {
    if [[ "$(id -u)" == 0 ]]; then
        setpriv --reuid=postgres --regid=postgres --init-groups --reset-env -- \
            env PATH="$PG_BIN:/usr/bin:/bin" "$@"
    else
        "$@"
    fi
}

# The postgres user must be able to reach var/postgres: a clone in a private
# directory (mktemp -d is 0700) gets o+x (traverse only, no listing) on the way.
pg_make_reachable() {
    [[ "$(id -u)" == 0 ]] || return 0
    id postgres >/dev/null 2>&1 || die "PostgreSQL is installed but there is no 'postgres' user"
    mkdir -p "$PG_DATA" "$PG_SOCKET"
    chown postgres: "$PG_DIR" "$PG_DATA" "$PG_SOCKET"
    chmod 700 "$PG_DATA"
    local dir="$PG_DIR"
    while [[ "$dir" != / ]]; do
        dir="$(dirname "$dir")"
        if ! setpriv --reuid=postgres --regid=postgres --init-groups test -x "$dir" 2>/dev/null; then
            log "PostgreSQL: letting the postgres user traverse $dir (chmod o+x)"
            chmod o+x "$dir"
        fi
    done
}

start_postgres() {
    find_postgres || die "PostgreSQL's server is not installed (bash deploy/infra.sh install)"
    local pid
    if pid="$(running postgres "$PG_BIN/postgres")"; then
        log "PostgreSQL: already running (pid $pid)"
        return 0
    fi
    pg_make_reachable
    if [[ ! -f "$PG_DATA/PG_VERSION" ]]; then
        log "PostgreSQL: initialising var/postgres/data ($("$PG_BIN/postgres" --version))"
        as_postgres "$PG_BIN/initdb" -D "$PG_DATA" -U postgres -A trust -E UTF8 --locale=C.UTF-8 \
            >>"$LOG/postgres-initdb.log" 2>&1 ||
            fail_with_log "PostgreSQL: initdb failed" "$LOG/postgres-initdb.log"
    fi
    log "PostgreSQL: starting (socket only, in var/postgres/run)"
    # Settings on the command line, so the data directory keeps initdb's defaults:
    # - no TCP listener: FerretDB connects through the socket;
    # - plan_cache_mode=force_custom_plan: FerretDB binds the field name as a
    #   parameter, and a generic plan cannot use an expression index;
    # - durability as PostgreSQL ships it (fsync, synchronous_commit on).
    local as=()
    [[ "$(id -u)" == 0 ]] && as=(setpriv --reuid=postgres --regid=postgres --init-groups --)
    start_bg postgres "$LOG/postgres.log" \
        "${as[@]}" "$PG_BIN/postgres" -D "$PG_DATA" -k "$PG_SOCKET" \
        -c listen_addresses= -c plan_cache_mode=force_custom_plan \
        -c shared_buffers=256MB -c max_connections=120 \
        -c log_min_messages=warning -c log_checkpoints=off
}

wait_postgres() {
    local deadline=$(($(now) + READY_TIMEOUT))
    while ! "$PG_BIN/pg_isready" -q -h "$PG_SOCKET" -U postgres -d postgres; do
        if ! running postgres "$PG_BIN/postgres" >/dev/null; then
            fail_with_log "PostgreSQL exited during start-up" "$LOG/postgres.log"
        fi
        (($(now) > deadline)) && fail_with_log "PostgreSQL not ready after ${READY_TIMEOUT}s" "$LOG/postgres.log"
        sleep 0.2
    done
    local psql=("$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$PG_SOCKET" -U postgres)
    if [[ "$("${psql[@]}" -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '$PG_DATABASE'")" != 1 ]]; then
        "${psql[@]}" -d postgres -c "CREATE DATABASE $PG_DATABASE" >/dev/null
    fi
    # GIN twins for FerretDB's indexes, so equality filters are index lookups.
    "${psql[@]}" -d "$PG_DATABASE" -f "$ROOT/deploy/postgres/gin_twins.sql" >/dev/null 2>>"$LOG/postgres.log" ||
        fail_with_log "PostgreSQL: installing the GIN twin trigger failed" "$LOG/postgres.log"
    log "PostgreSQL: ready (database $PG_DATABASE, GIN twin trigger installed)"
}

stop_postgres() {
    find_postgres || return 0
    local pid
    if ! pid="$(running postgres "$PG_BIN/postgres")"; then
        rm -f "$RUN/postgres.pid"
        return 0
    fi
    log "postgres: stopping (pid $pid, fast shutdown)"
    kill -INT "$pid" 2>/dev/null || true
    for _ in $(seq 300); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
    rm -f "$RUN/postgres.pid"
}

# ------------------------------------------------------------------ store ---

start_store() {
    if [[ -n "${MONGODB_URI:-}" ]]; then
        log "Store: MONGODB_URI is set, not starting one"
        return 0
    fi
    local pid kind
    kind="$(store_kind)"
    if pid="$(running store "$(store_marker)")"; then
        log "Store ($kind): already running (pid $pid)"
        return 0
    fi
    if port_open "$STORE_PORT"; then
        warn "Store: $HOST:$STORE_PORT is in use by a process not started from this checkout; using it"
        return 0
    fi
    case "$kind" in
    mongod)
        mkdir -p "$VAR/mongo"
        log "Store: starting mongod ($(command -v mongod)) on $HOST:$STORE_PORT"
        start_bg store "$LOG/mongod-stdout.log" \
            mongod --dbpath "$VAR/mongo" --bind_ip "$HOST" --port "$STORE_PORT" \
            --logpath "$LOG/mongod.log" --logappend
        ;;
    postgresql)
        start_postgres
        wait_postgres
        mkdir -p "$VAR/ferretdb/state"
        log "Store: starting FerretDB $FERRETDB_VERSION (PostgreSQL in var/postgres) on $HOST:$STORE_PORT"
        # GOGC=400: FerretDB allocates heavily per document (JSON decoding); collecting
        # less often cut its CPU by about a sixth under load for ~100 MB more heap.
        start_bg store "$LOG/ferretdb.log" \
            env DO_NOT_TRACK=1 GOGC="${FERRETDB_GOGC:-400}" "$BIN/ferretdb" --handler=postgresql \
            --postgresql-url="postgres:///$PG_DATABASE?host=$PG_SOCKET&user=postgres" \
            --listen-addr="$HOST:$STORE_PORT" --state-dir="$VAR/ferretdb/state" \
            --debug-addr=- --telemetry=disable --log-level=WARN --log-format=text
        ;;
    sqlite)
        mkdir -p "$VAR/ferretdb/data" "$VAR/ferretdb/state"
        log "Store: starting FerretDB $FERRETDB_VERSION (SQLite in var/ferretdb) on $HOST:$STORE_PORT"
        start_bg store "$LOG/ferretdb.log" \
            env DO_NOT_TRACK=1 GOGC="${FERRETDB_GOGC:-400}" "$BIN/ferretdb" --handler=sqlite --sqlite-url="file:$VAR/ferretdb/data/" \
            --listen-addr="$HOST:$STORE_PORT" --state-dir="$VAR/ferretdb/state" \
            --debug-addr=- --telemetry=disable --log-level=WARN --log-format=text
        ;;
    esac
}

wait_store() {
    [[ -n "${MONGODB_URI:-}" ]] && return 0
    local deadline=$(($(now) + READY_TIMEOUT)) kind logs
    kind="$(store_kind)"
    if [[ "$kind" == mongod ]]; then logs=("$LOG/mongod-stdout.log" "$LOG/mongod.log"); else logs=("$LOG/ferretdb.log"); fi
    while true; do
        if [[ -f "$RUN/store.pid" ]] && ! running store "$(store_marker)" >/dev/null; then
            fail_with_log "Store ($kind) exited during start-up" "${logs[@]}"
        fi
        if port_open "$STORE_PORT" && store_ping "$HOST" "$STORE_PORT"; then
            log "Store ($kind): ready on mongodb://$HOST:$STORE_PORT"
            return 0
        fi
        if (($(now) > deadline)); then
            fail_with_log "Store ($kind) not ready after ${READY_TIMEOUT}s" "${logs[@]}"
        fi
        sleep 0.3
    done
}

# ------------------------------------------------------------------- mail ---

start_mail() {
    if [[ -n "${SMTP_HOST:-}" ]]; then
        log "Mail: SMTP_HOST=$SMTP_HOST is set, not starting a mail catcher"
        return 0
    fi
    local pid
    if pid="$(running mailpit mailpit)"; then
        log "Mailpit: already running (pid $pid)"
        return 0
    fi
    if port_open "$MAIL_SMTP_PORT" || port_open "$MAIL_HTTP_PORT"; then
        warn "Mailpit: $HOST:$MAIL_SMTP_PORT or :$MAIL_HTTP_PORT is in use by a process not started from this checkout; using it"
        return 0
    fi
    mkdir -p "$VAR/mailpit"
    log "Mailpit $MAILPIT_VERSION: starting (SMTP $HOST:$MAIL_SMTP_PORT, UI http://$HOST:$MAIL_HTTP_PORT)"
    start_bg mailpit "$LOG/mailpit.log" \
        "$BIN/mailpit" --listen "$HOST:$MAIL_HTTP_PORT" --smtp "$HOST:$MAIL_SMTP_PORT" \
        --database "$VAR/mailpit/mailpit.db" --disable-version-check \
        --smtp-auth-accept-any --smtp-auth-allow-insecure --smtp-disable-rdns
}

wait_mail() {
    [[ -n "${SMTP_HOST:-}" ]] && return 0
    local deadline=$(($(now) + READY_TIMEOUT))
    while true; do
        if [[ -f "$RUN/mailpit.pid" ]] && ! running mailpit mailpit >/dev/null; then
            fail_with_log "Mailpit exited during start-up" "$LOG/mailpit.log"
        fi
        if curl -fsS -o /dev/null --max-time 3 "http://$HOST:$MAIL_HTTP_PORT/api/v1/messages" 2>/dev/null &&
            port_open "$MAIL_SMTP_PORT"; then
            log "Mailpit: ready (API http://$HOST:$MAIL_HTTP_PORT/api/v1/messages)"
            if [[ "$(cat "$BIN/.mailpit-$MAILPIT_VERSION" 2>/dev/null)" == api-only ]]; then
                warn "Mailpit was built without its web UI: use the API (http://$HOST:$MAIL_HTTP_PORT/api/v1/messages)"
            fi
            return 0
        fi
        if (($(now) > deadline)); then
            fail_with_log "Mailpit not ready after ${READY_TIMEOUT}s" "$LOG/mailpit.log"
        fi
        sleep 0.3
    done
}

# ----------------------------------------------------------------- topics ---

create_topics() {
    if [[ -n "${INDGANG_SKIP_TOPICS:-}" ]]; then
        log "Topics: INDGANG_SKIP_TOPICS is set, skipping"
        return 0
    fi
    if ! grep -qsE '^[[:space:]]*"?indgang-topics"?[[:space:]]*=' \
        "$ROOT"/pyproject.toml "$ROOT"/*/pyproject.toml "$ROOT"/services/*/pyproject.toml; then
        log "Topics: no 'indgang-topics' console script in the workspace yet; skipping (auto-create is on)"
        return 0
    fi
    log "Topics: uv run --frozen indgang-topics"
    # shellcheck disable=SC2086
    (cd "$ROOT" && KAFKA_BOOTSTRAP_SERVERS="${KAFKA_BOOTSTRAP_SERVERS:-$HOST:$KAFKA_PORT}" \
        $UV run --frozen indgang-topics </dev/null) || die "indgang-topics failed"
}

# --------------------------------------------------------------- commands ---

lock() {
    mkdir -p "$RUN" "$LOG"
    exec 9>"$RUN/infra.lock"
    if need flock; then
        flock -w 600 9 || die "another deploy/infra.sh is running (lock $RUN/infra.lock)"
    fi
}

where() {
    echo
    echo "Infrastructure:"
    if [[ -n "${KAFKA_BOOTSTRAP_SERVERS:-}" ]]; then
        echo "  Kafka   $KAFKA_BOOTSTRAP_SERVERS (external)"
    else
        echo "  Kafka   $HOST:$KAFKA_PORT          (log var/log/kafka.log, data var/kafka/data)"
    fi
    if [[ -n "${MONGODB_URI:-}" ]]; then
        echo "  Store   $MONGODB_URI (external)"
    else
        local data
        case "$(store_kind)" in mongod) data=var/mongo ;; postgresql) data="var/postgres, FerretDB on PostgreSQL" ;; *) data="var/ferretdb, FerretDB on SQLite" ;; esac
        echo "  Store   mongodb://$HOST:$STORE_PORT  ($(store_kind); data $data)"
    fi
    if [[ -n "${SMTP_HOST:-}" ]]; then
        echo "  Mail    SMTP $SMTP_HOST:${SMTP_PORT:-25} (external)"
    else
        echo "  Mail    SMTP $HOST:$MAIL_SMTP_PORT, UI http://$HOST:$MAIL_HTTP_PORT  (API /api/v1/messages)"
    fi
    echo "  Logs    var/log/    Stop: bash deploy/infra.sh down"
}

cmd_up() {
    local t0
    t0="$(now)"
    lock
    [[ -n "${KAFKA_BOOTSTRAP_SERVERS:-}" ]] || cmd_install kafka
    [[ -n "${MONGODB_URI:-}" ]] || cmd_install store
    [[ -n "${SMTP_HOST:-}" ]] || cmd_install mail
    start_kafka
    start_store
    start_mail
    wait_store
    wait_mail
    wait_kafka
    create_topics
    where
    log "up took $(($(now) - t0))s"
}

cmd_down() {
    lock
    stop_bg mailpit mailpit 10
    stop_bg store "$(store_marker)" 30
    stop_postgres
    stop_bg kafka kafka.Kafka 60
    log "stopped; data kept in var/ (remove var/ to start from scratch)"
}

cmd_status() {
    mkdir -p "$RUN"
    local rc=0 pid
    printf '%-8s %-9s %-8s %s\n' SERVER STATE PID ADDRESS
    if [[ -n "${KAFKA_BOOTSTRAP_SERVERS:-}" ]]; then
        printf '%-8s %-9s %-8s %s\n' kafka external - "$KAFKA_BOOTSTRAP_SERVERS"
    elif pid="$(running kafka kafka.Kafka)"; then
        printf '%-8s %-9s %-8s %s\n' kafka running "$pid" "$HOST:$KAFKA_PORT (controller :$KAFKA_CONTROLLER_PORT)"
    else
        printf '%-8s %-9s %-8s %s\n' kafka stopped - "$HOST:$KAFKA_PORT"
        rc=3
    fi
    if [[ -n "${MONGODB_URI:-}" ]]; then
        printf '%-8s %-9s %-8s %s\n' store external - "$MONGODB_URI"
    elif pid="$(running store "$(store_marker)")"; then
        printf '%-8s %-9s %-8s %s\n' store running "$pid" "mongodb://$HOST:$STORE_PORT ($(store_kind))"
    else
        printf '%-8s %-9s %-8s %s\n' store stopped - "mongodb://$HOST:$STORE_PORT ($(store_kind))"
        rc=3
    fi
    if [[ -z "${MONGODB_URI:-}" && "$(store_kind)" == postgresql ]] && find_postgres; then
        if pid="$(running postgres "$PG_BIN/postgres")"; then
            printf '%-8s %-9s %-8s %s\n' postgres running "$pid" "socket var/postgres/run (FerretDB's backend)"
        else
            printf '%-8s %-9s %-8s %s\n' postgres stopped - "socket var/postgres/run (FerretDB's backend)"
            rc=3
        fi
    fi
    if [[ -n "${SMTP_HOST:-}" ]]; then
        printf '%-8s %-9s %-8s %s\n' mail external - "$SMTP_HOST:${SMTP_PORT:-25}"
    elif pid="$(running mailpit mailpit)"; then
        printf '%-8s %-9s %-8s %s\n' mail running "$pid" "smtp $HOST:$MAIL_SMTP_PORT, http://$HOST:$MAIL_HTTP_PORT"
    else
        printf '%-8s %-9s %-8s %s\n' mail stopped - "smtp $HOST:$MAIL_SMTP_PORT, http://$HOST:$MAIL_HTTP_PORT"
        rc=3
    fi
    return "$rc"
}

case "${1:-}" in
install) cmd_install all ;;
up) cmd_up ;;
down) cmd_down ;;
status) cmd_status ;;
*)
    echo "usage: $0 install|up|down|status" >&2
    exit 2
    ;;
esac
