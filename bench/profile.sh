#!/usr/bin/env bash
# profile.sh: where a tarn server spends its CPU under one workload, with `perf`.
#
#   bash bench/profile.sh [--workload get] [--seconds 10] [--connections 16] [--in-memory]
#
# Builds tarn and tarn-loadgen (release, which keeps line tables for symbols), starts
# `tarn serve` (on disk, or --in-memory), seeds it, then records the server with
# `perf record --call-graph dwarf` while tarn-loadgen runs the workload. Prints the load's
# figures, CPU time by crate (self time, from the symbols' paths: `serde_json`, `fjall`,
# `hyper`, `kernel`...), the hottest functions by self time, and the hottest by inclusive time.
# The perf data stays in bench/.work/profile-<time>/perf.data for `perf report -i`.
# Needs `perf` (Debian: linux-perf) and permission to use it (root, or perf_event_paranoid <= 1).
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO"
workload=get
seconds=10
connections=16
mode=(--data-dir)
while [ $# -gt 0 ]; do
    case "$1" in
        --workload) workload=$2; shift ;;
        --seconds) seconds=$2; shift ;;
        --connections) connections=$2; shift ;;
        --in-memory) mode=(--in-memory) ;;
        -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        *) echo "profile: unknown option $1" >&2; exit 2 ;;
    esac
    shift
done
command -v perf >/dev/null || { echo "profile: perf is not installed (Debian: apt-get install linux-perf)" >&2; exit 1; }

TARGET=${CARGO_TARGET_DIR:-$REPO/target}
RUN="$REPO/bench/.work/profile-$(date +%Y%m%d-%H%M%S)"
mkdir -p "$RUN"
cargo build --release -p tarn -p tarn-loadgen >&2
TARN="$TARGET/release/tarn"
LOADGEN="$TARGET/release/tarn-loadgen"

port=$("$LOADGEN" free-port)
if [ "${mode[0]}" = --data-dir ]; then mode=(--data-dir "$RUN/tarn-data"); fi
"$TARN" serve "${mode[@]}" --listen "127.0.0.1:$port" \
    --functions-listen 127.0.0.1:0 --admin-listen 127.0.0.1:0 >"$RUN/tarn.log" 2>&1 &
tarn_pid=$!
trap 'kill $tarn_pid 2>/dev/null || true; wait $tarn_pid 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.1; done
endpoint="http://127.0.0.1:$port"
"$LOADGEN" setup --endpoint "$endpoint" >&2
# Warm up, then record the server for the measured run.
"$LOADGEN" run --endpoint "$endpoint" --workload "$workload" --seconds 2 --warmup 0 \
    --connections "$connections" >/dev/null 2>&1
perf record -q -F 499 --call-graph dwarf,16384 -p "$tarn_pid" -o "$RUN/perf.data" \
    -- sleep "$((seconds + 1))" 2>"$RUN/perf-record.log" &
perf_pid=$!
sleep 0.5
"$LOADGEN" run --endpoint "$endpoint" --workload "$workload" --seconds "$seconds" --warmup 0 \
    --connections "$connections" --label "tarn ${mode[0]#--}" 2>&1 >/dev/null | sed 's/^loadgen: //'
wait "$perf_pid" || true

flat="$RUN/flat.txt"
perf report -i "$RUN/perf.data" --no-children --sort dso,sym -g none --stdio --percent-limit 0 \
    2>/dev/null | grep -E '^ +[0-9.]+%' >"$flat" || true
echo
echo "CPU time of the server by crate (self time, % of samples):"
awk '{
        pct = $1; sub(/%/, "", pct); dso = $2; sym = "";
        for (i = 4; i <= NF; i++) sym = sym (i > 4 ? " " : "") $i;
        if (dso ~ /kernel/) crate = "kernel";
        else if (dso ~ /^libc/) crate = "libc";
        else {
            s = sym; sub(/^</, "", s); sub(/^&/, "", s); sub(/^mut /, "", s); sub(/^dyn /, "", s);
            n = index(s, "::"); crate = (n > 0) ? substr(s, 1, n - 1) : s;
            if (crate ~ /^(_|0x)/) crate = "(" dso ")";
        }
        total[crate] += pct;
    }
    END { for (c in total) printf "%7.2f%%  %s\n", total[c], c }' "$flat" | sort -rn | head -n 20
echo
echo "Hottest functions (self time):"
head -n 25 "$flat" | cut -c1-180
echo
echo "Hottest functions (inclusive time, with callees):"
perf report -i "$RUN/perf.data" --children --sort sym -g none --stdio --percent-limit 4 2>/dev/null \
    | grep -E '^ +[0-9.]+%' | head -n 40 | cut -c1-180
echo
echo "perf data: ${RUN#"$REPO"/}/perf.data"
