#!/usr/bin/env bash
# bigtable.sh: GetItem and Query on a table of 10 million 1 KB items (about 10 GB) against the
# same on a table of 10 thousand, in one run against one tarn, and tarn's resident memory.
#
#   bash bench/bigtable.sh [--big 10000000] [--small 10000] [--seconds 10] [--warmup 2]
#                          [--rounds 3] [--connections 16] [--cache-size 256MiB]
#                          [--dir bench/.work] [--keep] [--out BENCHMARKS.md | --out -]
#
# 1. checks the free space where the data goes (--dir; the big table needs about 1.6 KB per
#    item on disk while it loads, so 16 GB for 10 M items) and refuses to start without it;
# 2. builds tarn and tarn-loadgen in release;
# 3. starts `tarn serve` (durable, --cache-size as given, default tarn's own) on a fresh data
#    directory, loads both tables through BatchWriteItem (8 connections; most of the time of
#    the run: about 10 minutes for 10 M items here), then runs `tarn-loadgen bigtable`: rounds
#    of GetItem and Query on the small and the big table in turn, the server's CPU per request
#    and its resident memory (/proc: VmRSS, VmHWM);
# 4. writes the report between `<!-- bigtable:begin -->` and `<!-- bigtable:end -->` in --out
#    (default BENCHMARKS.md; `-` only prints it), and deletes the data directory (--keep keeps
#    it, to run again without loading).
#
# Environment: CARGO_TARGET_DIR (default target); TARN_BIN, a tarn binary to measure instead of
# building one (e.g. the release build already made).
#
# Not part of scripts/test.sh: it takes a quarter of an hour and 10 GB.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO"

big=10000000
small=10000
seconds=10
warmup=2
rounds=3
connections=16
cache_size=
dir="$REPO/bench/.work"
keep=0
out="$REPO/BENCHMARKS.md"
while [ $# -gt 0 ]; do
    case "$1" in
        --big) big=$2; shift ;;
        --small) small=$2; shift ;;
        --seconds) seconds=$2; shift ;;
        --warmup) warmup=$2; shift ;;
        --rounds) rounds=$2; shift ;;
        --connections) connections=$2; shift ;;
        --cache-size) cache_size=$2; shift ;;
        --dir) dir=$2; shift ;;
        --keep) keep=1 ;;
        --out) out=$2; shift ;;
        -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        *) echo "bigtable: unknown option $1 (see --help)" >&2; exit 2 ;;
    esac
    shift
done
log() { printf 'bigtable: %s\n' "$*" >&2; }

mkdir -p "$dir"
data="$dir/bigtable-data"
need_kb=$(( (big + small) * 16 / 10 ))
free_kb=$(df -Pk "$dir" | awk 'NR == 2 { print $4 }')
if [ ! -d "$data" ] && [ "$free_kb" -lt "$need_kb" ]; then
    log "$((free_kb / 1048576)) GB free in $dir, $((need_kb / 1048576)) GB needed for $big items; free some space or pass --dir"
    exit 1
fi

TARGET=${CARGO_TARGET_DIR:-$REPO/target}
if [ -n "${TARN_BIN:-}" ]; then
    # A given tarn (an existing build) is measured as it is: only the load generator is built.
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

port=$("$LOADGEN" free-port)
cache_args=()
[ -n "$cache_size" ] && cache_args=(--cache-size "$cache_size")
"$TARN" serve --data-dir "$data" --listen "127.0.0.1:$port" --functions-listen 127.0.0.1:0 \
    --admin-listen 127.0.0.1:0 "${cache_args[@]}" >"$dir/bigtable-tarn.log" 2>&1 &
tarn_pid=$!
cleanup() {
    kill "$tarn_pid" 2>/dev/null || true
    wait "$tarn_pid" 2>/dev/null || true
    if [ "$keep" = 0 ]; then rm -rf "$data"; fi
}
trap cleanup EXIT INT TERM
for _ in $(seq 1 300); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.1; done

started=$(date +%s)
report="$dir/bigtable-report.md"
body=$("$LOADGEN" bigtable --endpoint "http://127.0.0.1:$port" --server-pid "$tarn_pid" \
    --big "$big" --small "$small" --seconds "$seconds" --warmup "$warmup" --rounds "$rounds" \
    --connections "$connections")
elapsed=$(($(date +%s) - started))
disk=$(du -sh "$data" 2>/dev/null | cut -f1)
cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo 2>/dev/null | head -n 1)
{
    echo "Run of \`bash bench/bigtable.sh --big $big --small $small --seconds $seconds --rounds $rounds\`"
    echo "on $(date -u +%Y-%m-%d), tarn $(git rev-parse --short HEAD 2>/dev/null || echo '?')$(git diff --quiet 2>/dev/null || echo ' (with local changes)'):"
    echo "$(nproc) cores (${cpu:-unknown CPU}), tarn durable with --cache-size ${cache_size:-default (256MiB)},"
    echo "$connections connections, $warmup s warm-up + $seconds s measured per cell, median of $rounds rounds;"
    echo "data directory ${disk:-?} after loading; $elapsed s in all; load average at the end $(cut -d' ' -f1-3 /proc/loadavg)."
    echo
    echo "$body"
} >"$report"

if [ "$out" = "-" ]; then
    cat "$report"
else
    if [ -f "$out" ] && grep -q '<!-- bigtable:begin -->' "$out" && grep -q '<!-- bigtable:end -->' "$out"; then
        awk -v report="$report" '
            /<!-- bigtable:begin -->/ { print; while ((getline line < report) > 0) print line; skip = 1; next }
            /<!-- bigtable:end -->/ { skip = 0 }
            !skip { print }' "$out" >"$out.tmp" && mv "$out.tmp" "$out"
    else
        { echo '<!-- bigtable:begin -->'; cat "$report"; echo '<!-- bigtable:end -->'; } >>"$out"
    fi
    cat "$report"
    log "wrote the report into ${out#"$REPO"/}"
fi
