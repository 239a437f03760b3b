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
#   bash deploy/infra.sh settle    # after a bulk load: vacuum, analyse, checkpoint now
#   bash deploy/infra.sh psql [ARGS]   # psql on FerretDB's PostgreSQL database
#   bash deploy/infra.sh kill SERVER   # SIGKILL one server (chaos tests; no graceful stop)
#   bash deploy/infra.sh start SERVER  # start it again and wait until it is ready
#     SERVER: kafka (one broker) | kafka-1 | kafka-2 | kafka-3 (KAFKA_BROKERS=3) |
#             store (FerretDB and its PostgreSQL, or mongod) | mail
#
# Instances: INDGANG_VAR (default var; relative to the repository root or absolute)
# holds an instance's data, pid files and logs; INDGANG_PORT_OFFSET (default 0) is
# added to every port (Kafka 9092/9093, store 27017, mail 1025/8025), so two
# instances run side by side. KAFKA_BROKERS=3 (default 1) runs a three-node KRaft
# cluster on KAFKA port + 0/2/4 (controllers + 1/3/5); its bootstrap list is written
# to $INDGANG_VAR/run/kafka.bootstrap.
#
# A server is skipped when its env var points elsewhere: KAFKA_BOOTSTRAP_SERVERS
# (no Kafka), MONGODB_URI (no store), SMTP_HOST or INDGANG_NO_MAIL=1 (no mail catcher).
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

# The instance: its directory and its port offset.
case "${INDGANG_VAR:-var}" in
/*) VAR="${INDGANG_VAR%/}" ;;
*) VAR="$ROOT/${INDGANG_VAR:-var}" ;;
esac
VAR="${VAR%/}"
# How the instance's directory is shown: relative to the checkout when inside it.
VAR_SHOW="${VAR#"$ROOT"/}"
RUN="$VAR/run"
LOG="$VAR/log"
PORT_OFFSET="${INDGANG_PORT_OFFSET:-0}"
if ! [[ "$PORT_OFFSET" =~ ^[0-9]+$ ]] || ((PORT_OFFSET > 30000)); then
    printf '[infra] ERROR: INDGANG_PORT_OFFSET must be a number from 0 to 30000 (not %s)\n' "$PORT_OFFSET" >&2
    exit 2
fi
KAFKA_NODES="${KAFKA_BROKERS:-1}"
if [[ "$KAFKA_NODES" != 1 && "$KAFKA_NODES" != 3 ]]; then
    printf '[infra] ERROR: KAFKA_BROKERS must be 1 or 3 (not %s)\n' "$KAFKA_NODES" >&2
    exit 2
fi

HOST=127.0.0.1
KAFKA_PORT=$((9092 + PORT_OFFSET))
KAFKA_CONTROLLER_PORT=$((9093 + PORT_OFFSET))
STORE_PORT=$((27017 + PORT_OFFSET))
MAIL_SMTP_PORT=$((1025 + PORT_OFFSET))
MAIL_HTTP_PORT=$((8025 + PORT_OFFSET))
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
    # A process in the middle of exec (start_bg's bash becoming the server) shows an
    # empty command line for a moment, as does a zombie: read again before deciding, so
    # a server that is starting is not taken for one that exited (make prove's start-up
    # once failed on exactly that).
    local cmdline=""
    for _ in 1 2 3 4 5; do
        cmdline="$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null)" || cmdline=""
        [[ -n "$cmdline" ]] && break
        sleep 0.1
    done
    [[ "$cmdline" == *"$2"* ]] || return 1
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
# The build also serialises FerretDB's update, findAndModify and delete (deploy/ferretdb/):
# v1 runs them as read-modify-write without a transaction and loses concurrent updates
# to one document, which MongoDB never does and our outbox relies on. A command whose
# statements all filter on one scalar `_id` locks those documents; any other, its collection.
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
#
# On PostgreSQL, an insert or update that sends one statement runs without BEGIN/COMMIT
# (deploy/ferretdb/autocommit.go): the transaction only added two round trips.
FERRETDB_PATCH="$ROOT/deploy/ferretdb/serialized_writes.go"
FERRETDB_AUTOCOMMIT="$ROOT/deploy/ferretdb/autocommit.go"
FERRETDB_LITERAL_KEYS="$ROOT/deploy/ferretdb/literal_keys.go"
install_ferretdb() {
    local bin="$BIN/ferretdb" src="$SRC/ferretdb-$FERRETDB_VERSION"
    local stamp="$bin.patch" want
    # Bump "serialize-5" when the patching below changes.
    want="serialize-5-sqlite-id-update-close-notrack-autocommit-keys-$(cat "$FERRETDB_PATCH" "$FERRETDB_AUTOCOMMIT" "$FERRETDB_LITERAL_KEYS" | sha256sum | cut -c1-16)"
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
    # Single-statement inserts and updates on PostgreSQL run without BEGIN/COMMIT
    # (deploy/ferretdb/autocommit.go says why).
    local coll="$src/internal/backends/postgresql/collection.go"
    cp "$FERRETDB_AUTOCOMMIT" "$src/internal/backends/postgresql/zz_indgang_autocommit.go"
    sed -i '/^func (c \*collection) InsertAll(/,/^}/s|^\terr = pool.InTransaction(ctx, p, func(tx pgx.Tx) error {$|\terr = inTransactionIf(ctx, p, len(params.Docs) > c.r.BatchSize, func(tx execer) error {|' "$coll"
    sed -i '/^func (c \*collection) UpdateAll(/,/^}/s|^\terr = pool.InTransaction(ctx, p, func(tx pgx.Tx) error {$|\terr = inTransactionIf(ctx, p, len(params.Docs) > 1, func(tx execer) error {|' "$coll"
    # (collection.go then no longer uses the pool package itself)
    sed -i '\|^\t"github.com/FerretDB/FerretDB/internal/backends/postgresql/metadata/pool"$|d' "$coll"
    [[ "$(grep -c '^	err = inTransactionIf(ctx, p, ' "$coll")" == 2 ]] ||
        die "patching FerretDB's PostgreSQL inserts and updates (autocommit) failed"
    # A top-level equality names its field in the SQL, not as a parameter, so that
    # a prepared statement's generic plan can use the field's index
    # (deploy/ferretdb/literal_keys.go says why).
    local query="$src/internal/backends/postgresql/query.go"
    cp "$FERRETDB_LITERAL_KEYS" "$src/internal/backends/postgresql/zz_indgang_literal_keys.go"
    sed -i '/^func filterEqual(/,/^}/{
        s|fmt.Sprintf(sql, metadata.DefaultColumn, operator, p.Next(), p.Next())|fmt.Sprintf(sql, metadata.DefaultColumn, operator, indgangKeySQL(p, k), p.Next())|
        s|args = append(args, k, |args = append(indgangKeyArgs(args, k), |
    }' "$query"
    [[ "$(grep -c 'indgangKeySQL(p, k), p.Next())' "$query")" == 4 &&
        "$(grep -c 'append(indgangKeyArgs(args, k), ' "$query")" == 4 ]] ||
        die "patching FerretDB's PostgreSQL equality filters (literal keys) failed"
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

# own_postgres: this instance's store is FerretDB on a PostgreSQL of its own (not a
# store named by MONGODB_URI, not mongod or SQLite), and PG_BIN is set.
own_postgres() {
    [[ -z "${MONGODB_URI:-}" && "$(store_kind)" == postgresql ]] && find_postgres
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

# kafka_ready HOST PORT [NODE_ID] [MIN_BROKERS]: a Metadata request is answered
# with >= MIN_BROKERS (default 1) live brokers, NODE_ID among them if given, and a
# known controller (plain Python, no client library, no JVM start-up).
kafka_ready() {
    if ! need python3; then
        timeout 30 java -cp "$KAFKA_LIBS/*" org.apache.kafka.tools.TopicCommand \
            --bootstrap-server "$1:$2" --list >/dev/null 2>&1
        return
    fi
    python3 - "$1" "$2" "${3:-}" "${4:-1}" <<'EOF'
import socket, struct, sys
host, port = sys.argv[1], int(sys.argv[2])
node_id = int(sys.argv[3]) if sys.argv[3] else None
min_brokers = int(sys.argv[4])
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
    off, ids = 12, set()
    for _ in range(nbrokers):
        (broker,) = struct.unpack(">i", resp[off:off + 4]); off += 4
        ids.add(broker)
        (hl,) = struct.unpack(">h", resp[off:off + 2]); off += 2 + hl + 4
        (rl,) = struct.unpack(">h", resp[off:off + 2]); off += 2 + max(rl, 0)
    (cl,) = struct.unpack(">h", resp[off:off + 2]); off += 2 + max(cl, 0)
    (controller,) = struct.unpack(">i", resp[off:off + 4])
    ok = corr == 1 and len(ids) >= min_brokers and (node_id is None or node_id in ids)
    sys.exit(0 if ok and controller >= 0 else 1)
except Exception:
    sys.exit(1)
EOF
}

# Kafka runs as one node (server "kafka", data var/kafka/data) or, with
# KAFKA_BROKERS=3, as three (servers "kafka-1".."kafka-3", data
# var/kafka/node-<id>/data), each broker and controller, node i on
# KAFKA_PORT + 2(i-1) and KAFKA_CONTROLLER_PORT + 2(i-1).
kafka_servers() {
    if ((KAFKA_NODES == 1)); then echo kafka; else seq -f 'kafka-%g' "$KAFKA_NODES"; fi
}
node_port() { echo $((KAFKA_PORT + 2 * ($1 - 1))); }
node_controller_port() { echo $((KAFKA_CONTROLLER_PORT + 2 * ($1 - 1))); }

# kafka_bootstrap: the bootstrap list of this instance's Kafka.
kafka_bootstrap() {
    if [[ -n "${KAFKA_BOOTSTRAP_SERVERS:-}" ]]; then
        echo "$KAFKA_BOOTSTRAP_SERVERS"
        return
    fi
    local i list=()
    for i in $(seq "$KAFKA_NODES"); do list+=("$HOST:$(node_port "$i")"); done
    (IFS=,; echo "${list[*]}")
}

# kafka_logdir NAME: where log4j2 writes NAME's kafka.log.
kafka_logdir() { if [[ "$1" == kafka ]]; then echo "$LOG"; else echo "$LOG/$1"; fi; }

# kafka_cluster_id FILE: the cluster id kept in FILE (made on first use).
kafka_cluster_id() {
    local cid
    if [[ -s "$1" ]]; then
        cat "$1"
        return
    fi
    cid="$(kafka_java kafka.tools.StorageTool random-uuid 2>/dev/null | tail -n1)"
    [[ -n "$cid" ]] || die "Kafka: could not generate a cluster id"
    echo "$cid" >"$1"
    echo "$cid"
}

start_kafka() {
    if [[ -n "${KAFKA_BOOTSTRAP_SERVERS:-}" ]]; then
        log "Kafka: KAFKA_BOOTSTRAP_SERVERS=$KAFKA_BOOTSTRAP_SERVERS is set, not starting one"
        return 0
    fi
    local name i
    # The single broker and the cluster's node 1 share a port: one mode per instance.
    if ((KAFKA_NODES == 1)); then
        for name in kafka-1 kafka-2 kafka-3; do
            if running "$name" kafka.Kafka >/dev/null; then
                die "Kafka: the three-broker cluster runs in $VAR_SHOW ($name); stop it first (KAFKA_BROKERS=3 bash deploy/infra.sh down)"
            fi
        done
        start_kafka_single
    else
        if running kafka kafka.Kafka >/dev/null; then
            die "Kafka: the single broker runs in $VAR_SHOW; stop it first (bash deploy/infra.sh down)"
        fi
        for i in $(seq "$KAFKA_NODES"); do start_kafka_node "$i"; done
    fi
    kafka_bootstrap >"$RUN/kafka.bootstrap.tmp"
    mv "$RUN/kafka.bootstrap.tmp" "$RUN/kafka.bootstrap"
}

kafka_jvm() {
    local name="$1" heap="$2" cfg="$3"
    # shellcheck disable=SC2086
    start_bg "$name" "$LOG/$name-stdout.log" \
        java $heap -XX:+UseG1GC -XX:MaxGCPauseMillis=20 \
        -XX:+ExitOnOutOfMemoryError -Djava.awt.headless=true \
        -Dkafka.logs.dir="$(kafka_logdir "$name")" -Dlog4j2.configurationFile="$ROOT/deploy/kafka/log4j2.xml" \
        -cp "$KAFKA_LIBS/*" kafka.Kafka "$cfg"
}

start_kafka_single() {
    local pid
    if pid="$(running kafka kafka.Kafka)"; then
        log "Kafka: already running (pid $pid)"
        return 0
    fi
    if port_open "$KAFKA_PORT"; then
        warn "Kafka: $HOST:$KAFKA_PORT is in use by a process not started from $VAR_SHOW; using it"
        return 0
    fi
    local dir="$VAR/kafka" cfg="$VAR/kafka/server.properties"
    mkdir -p "$dir/data"
    sed -e "s#@DATA_DIR@#$dir/data#g" -e "s#@HOST@#$HOST#g" \
        -e "s#@PORT@#$KAFKA_PORT#g" -e "s#@CONTROLLER_PORT@#$KAFKA_CONTROLLER_PORT#g" \
        "$ROOT/deploy/kafka/server.properties" >"$cfg"
    if [[ ! -f "$dir/data/meta.properties" ]]; then
        local cid
        cid="$(kafka_cluster_id "$dir/cluster.id")"
        log "Kafka: formatting storage in $VAR_SHOW/kafka/data (cluster id $cid)"
        kafka_java kafka.tools.StorageTool format --standalone -t "$cid" -c "$cfg" \
            >>"$LOG/kafka-storage.log" 2>&1 ||
            fail_with_log "Kafka: storage format failed" "$LOG/kafka-storage.log"
    elif [[ ! -s "$dir/cluster.id" ]]; then
        sed -n 's/^cluster.id=//p' "$dir/data/meta.properties" >"$dir/cluster.id"
    fi
    log "Kafka $KAFKA_VERSION: starting on $HOST:$KAFKA_PORT (controller $HOST:$KAFKA_CONTROLLER_PORT)"
    kafka_jvm kafka "${KAFKA_HEAP_OPTS:--Xms256m -Xmx768m}" "$cfg"
}

# start_kafka_node I: node I of the cluster (broker + controller, static quorum of
# all nodes, storage formatted once with the cluster id they share).
start_kafka_node() {
    local i="$1" name="kafka-$1" pid port cport
    port="$(node_port "$i")"
    cport="$(node_controller_port "$i")"
    if pid="$(running "$name" kafka.Kafka)"; then
        log "Kafka node $i: already running (pid $pid)"
        return 0
    fi
    if port_open "$port" || port_open "$cport"; then
        die "Kafka node $i: $HOST:$port or :$cport is in use by a process not started from $VAR_SHOW"
    fi
    local dir="$VAR/kafka/node-$i" cfg="$VAR/kafka/node-$i/server.properties" voters=() j
    for j in $(seq "$KAFKA_NODES"); do voters+=("$j@$HOST:$(node_controller_port "$j")"); done
    mkdir -p "$dir/data" "$(kafka_logdir "$name")"
    sed -e "s#@DATA_DIR@#$dir/data#g" -e "s#@HOST@#$HOST#g" -e "s#@NODE_ID@#$i#g" \
        -e "s#@PORT@#$port#g" -e "s#@CONTROLLER_PORT@#$cport#g" \
        -e "s#@VOTERS@#$(IFS=,; echo "${voters[*]}")#g" \
        "$ROOT/deploy/kafka/server-cluster.properties" >"$cfg"
    if [[ ! -f "$dir/data/meta.properties" ]]; then
        local cid
        cid="$(kafka_cluster_id "$VAR/kafka/cluster-$KAFKA_NODES.id")"
        log "Kafka node $i: formatting storage in $VAR_SHOW/kafka/node-$i/data (cluster id $cid)"
        kafka_java kafka.tools.StorageTool format -t "$cid" -c "$cfg" \
            >>"$LOG/$name-storage.log" 2>&1 ||
            fail_with_log "Kafka node $i: storage format failed" "$LOG/$name-storage.log"
    fi
    log "Kafka $KAFKA_VERSION node $i: starting on $HOST:$port (controller $HOST:$cport)"
    kafka_jvm "$name" "${KAFKA_NODE_HEAP_OPTS:--Xms128m -Xmx384m}" "$cfg"
}

# wait_kafka_server NAME: NAME answers Metadata; a cluster node once it is among
# the live brokers, and at `up` once all nodes are.
wait_kafka_server() {
    local name="$1" min="${2:-1}" port id="" logdir deadline=$(($(now) + READY_TIMEOUT))
    if [[ "$name" == kafka ]]; then
        port="$KAFKA_PORT"
    else
        id="${name#kafka-}"
        port="$(node_port "$id")"
    fi
    logdir="$(kafka_logdir "$name")"
    while true; do
        if [[ -f "$RUN/$name.pid" ]] && ! running "$name" kafka.Kafka >/dev/null; then
            fail_with_log "Kafka ($name) exited during start-up" "$LOG/$name-stdout.log" "$logdir/kafka.log"
        fi
        if port_open "$port" && kafka_ready "$HOST" "$port" "$id" "$min"; then
            log "Kafka ($name): ready on $HOST:$port"
            return 0
        fi
        if (($(now) > deadline)); then
            fail_with_log "Kafka ($name) not ready after ${READY_TIMEOUT}s" "$LOG/$name-stdout.log" "$logdir/kafka.log"
        fi
        sleep 0.5
    done
}

wait_kafka() {
    [[ -n "${KAFKA_BOOTSTRAP_SERVERS:-}" ]] && return 0
    local name
    for name in $(kafka_servers); do wait_kafka_server "$name" "$KAFKA_NODES"; done
}

# stop_kafka: every Kafka node of this instance, whichever mode it was started in
# (the cluster's nodes at once, so none waits for a quorum that is going away).
stop_kafka() {
    local name
    for name in kafka kafka-1 kafka-2 kafka-3; do
        if running "$name" kafka.Kafka >/dev/null; then
            stop_bg "$name" kafka.Kafka 60 &
        else
            rm -f "$RUN/$name.pid"
        fi
    done
    wait
    rm -f "$RUN/kafka.bootstrap"
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
# A unix socket path is limited to 107 bytes: an instance deep in the file system
# keeps its socket in /tmp, in a directory named after the instance.
if ((${#PG_SOCKET} + 14 > 100)); then # + "/.s.PGSQL.5432"
    PG_SOCKET="/tmp/indgang-pg-$(printf '%s' "$VAR" | sha256sum | cut -c1-12)"
fi
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
        log "PostgreSQL: initialising $VAR_SHOW/postgres/data ($("$PG_BIN/postgres" --version))"
        as_postgres "$PG_BIN/initdb" -D "$PG_DATA" -U postgres -A trust -E UTF8 --locale=C.UTF-8 \
            >>"$LOG/postgres-initdb.log" 2>&1 ||
            fail_with_log "PostgreSQL: initdb failed" "$LOG/postgres-initdb.log"
    fi
    log "PostgreSQL: starting (socket only, in ${PG_SOCKET#"$ROOT"/})"
    # Settings on the command line, so the data directory keeps initdb's defaults:
    # - no TCP listener: FerretDB connects through the socket;
    # - plan_cache_mode left at auto: FerretDB (as built here) names a field in its SQL,
    #   so a prepared statement's generic plan uses the field's index and PostgreSQL
    #   plans it once per connection, not at every execution;
    # - enable_seqscan off: that generic plan is made from the statistics of the moment,
    #   and a collection that was nearly empty then (a new store, a new bench stack) got a
    #   sequential scan that stayed cached while the collection grew: routing's two
    #   per-inquiry case lookups then read every case (deploy/README.md). Every hot-path
    #   filter has an index, and a filter without one still runs as a sequential scan;
    # - durability as PostgreSQL ships it (fsync, synchronous_commit on);
    # - checkpoints and autovacuum runs over 1 s logged: they take the store's CPU and
    #   disk in bursts, and a bench step that ran beside one should be told apart.
    local as=()
    [[ "$(id -u)" == 0 ]] && as=(setpriv --reuid=postgres --regid=postgres --init-groups --)
    start_bg postgres "$LOG/postgres.log" \
        "${as[@]}" "$PG_BIN/postgres" -D "$PG_DATA" -k "$PG_SOCKET" \
        -c listen_addresses= \
        -c shared_buffers=256MB -c max_connections=120 -c enable_seqscan=off \
        -c log_min_messages=warning -c log_checkpoints=on \
        -c log_autovacuum_min_duration=1000
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
        warn "Store: $HOST:$STORE_PORT is in use by a process not started from $VAR_SHOW; using it"
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
        log "Store: starting FerretDB $FERRETDB_VERSION (PostgreSQL in $VAR_SHOW/postgres) on $HOST:$STORE_PORT"
        # GOGC=400: FerretDB allocates heavily per document (JSON decoding); collecting
        # less often cut its CPU by about a sixth under load for ~100 MB more heap.
        start_bg store "$LOG/ferretdb.log" \
            env DO_NOT_TRACK=1 GOGC="${FERRETDB_GOGC:-400}" "$BIN/ferretdb" --handler=postgresql \
            --postgresql-url="postgres:///$PG_DATABASE?host=$PG_SOCKET&user=postgres" \
            --listen-addr="$HOST:$STORE_PORT" --state-dir="$VAR/ferretdb/state" \
            --debug-addr="${FERRETDB_DEBUG_ADDR:--}" --telemetry=disable --log-level=WARN --log-format=text
        ;;
    sqlite)
        mkdir -p "$VAR/ferretdb/data" "$VAR/ferretdb/state"
        log "Store: starting FerretDB $FERRETDB_VERSION (SQLite in $VAR_SHOW/ferretdb) on $HOST:$STORE_PORT"
        start_bg store "$LOG/ferretdb.log" \
            env DO_NOT_TRACK=1 GOGC="${FERRETDB_GOGC:-400}" "$BIN/ferretdb" --handler=sqlite --sqlite-url="file:$VAR/ferretdb/data/" \
            --listen-addr="$HOST:$STORE_PORT" --state-dir="$VAR/ferretdb/state" \
            --debug-addr="${FERRETDB_DEBUG_ADDR:--}" --telemetry=disable --log-level=WARN --log-format=text
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

# no_mail: this instance runs no mail catcher (SMTP_HOST points elsewhere, or
# INDGANG_NO_MAIL=1).
no_mail() { [[ -n "${SMTP_HOST:-}" || "${INDGANG_NO_MAIL:-}" == 1 ]]; }

start_mail() {
    if [[ -n "${SMTP_HOST:-}" ]]; then
        log "Mail: SMTP_HOST=$SMTP_HOST is set, not starting a mail catcher"
        return 0
    fi
    if [[ "${INDGANG_NO_MAIL:-}" == 1 ]]; then
        log "Mail: INDGANG_NO_MAIL=1, not starting a mail catcher"
        return 0
    fi
    local pid
    if pid="$(running mailpit mailpit)"; then
        log "Mailpit: already running (pid $pid)"
        return 0
    fi
    if port_open "$MAIL_SMTP_PORT" || port_open "$MAIL_HTTP_PORT"; then
        warn "Mailpit: $HOST:$MAIL_SMTP_PORT or :$MAIL_HTTP_PORT is in use by a process not started from $VAR_SHOW; using it"
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
    no_mail && return 0
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
    # The local cluster replicates three times (min.insync.replicas 2); an external
    # Kafka gets its own default.replication.factor.
    local factor="${KAFKA_TOPIC_REPLICATION_FACTOR:-}"
    [[ -z "$factor" && -z "${KAFKA_BOOTSTRAP_SERVERS:-}" ]] && factor="$KAFKA_NODES"
    log "Topics: uv run --frozen indgang-topics (replication factor ${factor:-from the cluster})"
    # shellcheck disable=SC2086
    (cd "$ROOT" && KAFKA_BOOTSTRAP_SERVERS="$(kafka_bootstrap)" KAFKA_TOPIC_REPLICATION_FACTOR="$factor" \
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
    echo "Infrastructure ($VAR_SHOW, port offset $PORT_OFFSET):"
    if [[ -n "${KAFKA_BOOTSTRAP_SERVERS:-}" ]]; then
        echo "  Kafka   $KAFKA_BOOTSTRAP_SERVERS (external)"
    elif ((KAFKA_NODES == 1)); then
        echo "  Kafka   $HOST:$KAFKA_PORT          (log $VAR_SHOW/log/kafka.log, data $VAR_SHOW/kafka/data)"
    else
        echo "  Kafka   $(kafka_bootstrap)  ($KAFKA_NODES brokers; logs $VAR_SHOW/log/kafka-<id>/, data $VAR_SHOW/kafka/node-<id>)"
    fi
    if [[ -n "${MONGODB_URI:-}" ]]; then
        echo "  Store   $MONGODB_URI (external)"
    else
        local data
        case "$(store_kind)" in mongod) data=$VAR_SHOW/mongo ;; postgresql) data="$VAR_SHOW/postgres, FerretDB on PostgreSQL" ;; *) data="$VAR_SHOW/ferretdb, FerretDB on SQLite" ;; esac
        echo "  Store   mongodb://$HOST:$STORE_PORT  ($(store_kind); data $data)"
    fi
    if [[ -n "${SMTP_HOST:-}" ]]; then
        echo "  Mail    SMTP $SMTP_HOST:${SMTP_PORT:-25} (external)"
    elif no_mail; then
        echo "  Mail    none (INDGANG_NO_MAIL=1)"
    else
        echo "  Mail    SMTP $HOST:$MAIL_SMTP_PORT, UI http://$HOST:$MAIL_HTTP_PORT  (API /api/v1/messages)"
    fi
    echo "  Logs    $VAR_SHOW/log/    Stop: bash deploy/infra.sh down"
}

cmd_up() {
    local t0
    t0="$(now)"
    lock
    [[ -n "${KAFKA_BOOTSTRAP_SERVERS:-}" ]] || cmd_install kafka
    [[ -n "${MONGODB_URI:-}" ]] || cmd_install store
    no_mail || cmd_install mail
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
    stop_kafka
    log "stopped; data kept in $VAR_SHOW/ (remove it to start from scratch)"
}

# kill_hard NAME PATTERN: SIGKILL NAME's process group (a crash: no shutdown hook,
# no flush) and wait until it is gone.
kill_hard() {
    local name="$1" pattern="$2" pid pgid target
    if ! pid="$(running "$name" "$pattern")"; then
        rm -f "$RUN/$name.pid"
        log "$name: not running"
        return 0
    fi
    pgid="$(ps -o pgid= -p "$pid" 2>/dev/null | tr -d ' ')"
    if [[ "$pgid" == "$pid" ]]; then target="-$pid"; else target="$pid"; fi
    log "$name: SIGKILL (pid $pid)"
    kill -KILL -- "$target" 2>/dev/null || true
    for _ in $(seq 100); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.05
    done
    kill -0 "$pid" 2>/dev/null && die "$name: still alive after SIGKILL (pid $pid)"
    rm -f "$RUN/$name.pid"
}

# check_kafka_server NAME: NAME is a Kafka server of this instance's mode.
check_kafka_server() {
    [[ -z "${KAFKA_BOOTSTRAP_SERVERS:-}" ]] || die "KAFKA_BOOTSTRAP_SERVERS is set: Kafka is not this instance's"
    if [[ "$1" == kafka ]]; then
        ((KAFKA_NODES == 1)) || die "kafka is the single broker; the cluster's nodes are kafka-1..kafka-$KAFKA_NODES"
    else
        ((KAFKA_NODES > 1)) || die "$1 is a node of the three-broker cluster: set KAFKA_BROKERS=3"
        [[ "${1#kafka-}" -le "$KAFKA_NODES" ]] || die "there is no $1 (KAFKA_BROKERS=$KAFKA_NODES)"
    fi
}

check_store_server() {
    [[ -z "${MONGODB_URI:-}" ]] || die "MONGODB_URI is set: the store is not this instance's"
    case "$1" in
    mongod) use_mongod || die "the store is $(store_kind), not mongod: use 'store'" ;;
    postgres) [[ "$(store_kind)" == postgresql ]] || die "the store does not run on PostgreSQL here" ;;
    esac
}

cmd_kill() {
    local server="${1:-}"
    case "$server" in
    kafka | kafka-[1-3])
        check_kafka_server "$server"
        kill_hard "$server" kafka.Kafka
        ;;
    store | mongod)
        check_store_server "$server"
        kill_hard store "$(store_marker)"
        if [[ "$(store_kind)" == postgresql ]] && find_postgres; then
            kill_hard postgres "$PG_BIN/postgres"
        fi
        ;;
    postgres)
        check_store_server "$server"
        find_postgres && kill_hard postgres "$PG_BIN/postgres"
        ;;
    mail) kill_hard mailpit mailpit ;;
    *) die "kill: which server? kafka | kafka-1 | kafka-2 | kafka-3 | store | mongod | postgres | mail" ;;
    esac
}

cmd_start() {
    local server="${1:-}"
    case "$server" in
    kafka | kafka-[1-3])
        check_kafka_server "$server"
        lock
        if [[ "$server" == kafka ]]; then start_kafka_single; else start_kafka_node "${server#kafka-}"; fi
        kafka_bootstrap >"$RUN/kafka.bootstrap"
        wait_kafka_server "$server"
        ;;
    store | mongod | postgres)
        # PostgreSQL recovers from its WAL on start (crash recovery), then FerretDB.
        check_store_server "$server"
        lock
        if [[ "$server" == postgres ]]; then
            start_postgres
            wait_postgres
        else
            start_store
            wait_store
        fi
        ;;
    mail)
        no_mail && die "this instance runs no mail catcher (SMTP_HOST or INDGANG_NO_MAIL=1)"
        lock
        start_mail
        wait_mail
        ;;
    *) die "start: which server? kafka | kafka-1 | kafka-2 | kafka-3 | store | mongod | postgres | mail" ;;
    esac
}

cmd_status() {
    mkdir -p "$RUN"
    local rc=0 pid name i
    printf '%-8s %-9s %-8s %s\n' SERVER STATE PID ADDRESS
    if [[ -n "${KAFKA_BOOTSTRAP_SERVERS:-}" ]]; then
        printf '%-8s %-9s %-8s %s\n' kafka external - "$KAFKA_BOOTSTRAP_SERVERS"
    else
        for name in $(kafka_servers); do
            if [[ "$name" == kafka ]]; then i=1; else i="${name#kafka-}"; fi
            if pid="$(running "$name" kafka.Kafka)"; then
                printf '%-8s %-9s %-8s %s\n' "$name" running "$pid" "$HOST:$(node_port "$i") (controller :$(node_controller_port "$i"))"
            else
                printf '%-8s %-9s %-8s %s\n' "$name" stopped - "$HOST:$(node_port "$i")"
                rc=3
            fi
        done
        # Nodes of the other mode still running in this instance.
        for name in kafka kafka-1 kafka-2 kafka-3; do
            kafka_servers | grep -qx "$name" && continue
            if pid="$(running "$name" kafka.Kafka)"; then
                printf '%-8s %-9s %-8s %s\n' "$name" running "$pid" "(not KAFKA_BROKERS=$KAFKA_NODES; 'down' stops it)"
            fi
        done
    fi
    if [[ -n "${MONGODB_URI:-}" ]]; then
        printf '%-8s %-9s %-8s %s\n' store external - "$MONGODB_URI"
    elif pid="$(running store "$(store_marker)")"; then
        printf '%-8s %-9s %-8s %s\n' store running "$pid" "mongodb://$HOST:$STORE_PORT ($(store_kind))"
    else
        printf '%-8s %-9s %-8s %s\n' store stopped - "mongodb://$HOST:$STORE_PORT ($(store_kind))"
        rc=3
    fi
    if own_postgres; then
        if pid="$(running postgres "$PG_BIN/postgres")"; then
            printf '%-8s %-9s %-8s %s\n' postgres running "$pid" "socket ${PG_SOCKET#"$ROOT"/} (FerretDB's backend)"
        else
            printf '%-8s %-9s %-8s %s\n' postgres stopped - "socket ${PG_SOCKET#"$ROOT"/} (FerretDB's backend)"
            rc=3
        fi
    fi
    if [[ -n "${SMTP_HOST:-}" ]]; then
        printf '%-8s %-9s %-8s %s\n' mail external - "$SMTP_HOST:${SMTP_PORT:-25}"
    elif no_mail; then
        printf '%-8s %-9s %-8s %s\n' mail none - "INDGANG_NO_MAIL=1"
    elif pid="$(running mailpit mailpit)"; then
        printf '%-8s %-9s %-8s %s\n' mail running "$pid" "smtp $HOST:$MAIL_SMTP_PORT, http://$HOST:$MAIL_HTTP_PORT"
    else
        printf '%-8s %-9s %-8s %s\n' mail stopped - "smtp $HOST:$MAIL_SMTP_PORT, http://$HOST:$MAIL_HTTP_PORT"
        rc=3
    fi
    return "$rc"
}

# After a bulk load (the bench's preload): let the store do now what it would otherwise
# do in bursts during the next minutes (PostgreSQL's autovacuum and analyze of the new
# rows, a checkpoint of the dirty pages), so what is measured next is the data, not
# its digestion. A store with that data has had all of it done long ago.
cmd_settle() {
    if ! own_postgres; then
        log "Settle: the store is not this instance's PostgreSQL, nothing to do"
        return 0
    fi
    running postgres "$PG_BIN/postgres" >/dev/null || die "settle: PostgreSQL is not running"
    local t0
    t0=$(now)
    # Clients, as wait_postgres runs psql: over the socket as the postgres role.
    "$PG_BIN/vacuumdb" -q -h "$PG_SOCKET" -U postgres -d "$PG_DATABASE" --analyze ||
        die "settle: vacuumdb failed"
    "$PG_BIN/psql" -X -q -h "$PG_SOCKET" -U postgres -d "$PG_DATABASE" -c CHECKPOINT ||
        die "settle: CHECKPOINT failed"
    log "Settle: vacuumed, analysed and checkpointed in $(($(now) - t0))s"
}

# psql ARGS...: psql on this instance's store database (FerretDB's, on PostgreSQL) as the
# postgres role, over the socket: for looking at plans and statistics, and for the tests
# that check what FerretDB's SQL does there.
cmd_psql() {
    if ! own_postgres; then
        die "psql: the store is not this instance's PostgreSQL"
    fi
    running postgres "$PG_BIN/postgres" >/dev/null || die "psql: PostgreSQL is not running"
    exec "$PG_BIN/psql" -X -h "$PG_SOCKET" -U postgres -d "$PG_DATABASE" "$@"
}

case "${1:-}" in
install) cmd_install all ;;
psql) shift && cmd_psql "$@" ;;
settle) cmd_settle ;;
up) cmd_up ;;
down) cmd_down ;;
status) cmd_status ;;
kill) cmd_kill "${2:-}" ;;
start) cmd_start "${2:-}" ;;
*)
    echo "usage: $0 install|up|down|status|settle|psql [ARGS]|kill SERVER|start SERVER" >&2
    exit 2
    ;;
esac
