#!/usr/bin/env bash
# profile.sh: where a tarn server spends its CPU under one workload, with `perf`.
#
#   bash bench/profile.sh [--workload get] [--seconds 10] [--connections 16] [--in-memory]
#
# Builds tarn and tarn-loadgen (release, which keeps line tables for symbols), starts
# `tarn serve` (on disk, or --in-memory), seeds it, then records the server with
# `perf record --call-graph dwarf` while tarn-loadgen runs the workload. Prints the load's
# figures, CPU time by crate (self time, from the symbols' paths: `serde_json`, `fjall`,
# `hyper`, `kernel`...), the hottest functions by self time, the hottest by inclusive time, and
# the stages of a request (HTTP, JSON, handler, store, sync, hand-offs) in % and µs per request.
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
# One at a time: built together, their shared dependencies would get the union of both
# crates' features, a tarn unlike the one `cargo build --release -p tarn` makes.
cargo build --release -p tarn >&2 && cargo build --release -p tarn-loadgen >&2
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
# Counted over the same window: journal syncs and the server's context switches.
perf stat -x, -e syscalls:sys_enter_fsync,syscalls:sys_enter_fdatasync,context-switches \
    -p "$tarn_pid" -o "$RUN/perf-stat.csv" -- sleep "$((seconds + 1))" 2>/dev/null &
stat_pid=$!
sleep 0.5
"$LOADGEN" run --endpoint "$endpoint" --workload "$workload" --seconds "$seconds" --warmup 0 \
    --connections "$connections" --label "tarn ${mode[0]#--}" --server-pid "$tarn_pid" \
    2>&1 >"$RUN/measurement.json" | sed 's/^loadgen: //'
wait "$perf_pid" || true
wait "$stat_pid" || true
cpu_us=$(sed -n 's/.*"server_cpu_us_per_request":\([0-9.]*\).*/\1/p' "$RUN/measurement.json")
requests=$(sed -n 's/.*"requests":\([0-9]*\).*/\1/p' "$RUN/measurement.json")

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
    END { for (c in total) printf "%7.2f%%  %s\n", total[c], c }' "$flat" | sort -rn | head -n 20 || true
echo
echo "Hottest functions (self time):"
head -n 25 "$flat" | cut -c1-180
echo
echo "Hottest functions (inclusive time, with callees):"
perf report -i "$RUN/perf.data" --children --sort sym -g none --stdio --percent-limit 4 2>/dev/null \
    | grep -E '^ +[0-9.]+%' | head -n 40 | cut -c1-180 || true
echo
# Stages of a request, by the inclusive share of the server's samples in the function that
# starts each (the largest share among a pattern's matches). Stages nest (the store's share
# holds the sync's), so the column does not add up to 100%; µs = share x server CPU/request.
printf "Where a request's server CPU goes (inclusive; server CPU %.0f µs/request):\n" "${cpu_us:-0}"
perf report -i "$RUN/perf.data" --children --sort sym -g none --stdio --percent-limit 0.1 \
    2>/dev/null | grep -E '^ +[0-9.]+%' >"$RUN/inclusive.txt" || true
while IFS='|' read -r label pattern; do
    awk -v pat="$pattern" -v label="$label" -v cpu="${cpu_us:-0}" '
        index($0, pat) { pct = $1; sub(/%/, "", pct); if (pct + 0 > best) best = pct + 0 }
        END { printf "%7.2f%%  %6.1f µs  %s\n", best, best * cpu / 100, label }' "$RUN/inclusive.txt"
done <<'STAGES'
HTTP: read the socket (recv)|] __libc_recv
HTTP: parse request heads (hyper)|Http1Transaction>::parse
HTTP: write the answer (writev, incl. loopback delivery)|] __GI___writev
HTTP: wait for sockets (epoll)|] epoll_wait
request id (uuid v4)|uuid::v4::<impl uuid::Uuid>::new_v4
tracing span per request|] tracing::span::Span::new
JSON: parse the request body|] serde_json::de::from_slice
JSON: serialize the answer|Serialize for serde_json::value::Value>::serialize
API handler (JSON <-> items, checks, store call)|] tarn::api::ops::items::
store: whole operation (the database's write and read paths)|<impl tarn_store::db::Db>::
store: journal append (fjall WriteBatch::commit)|] fjall::batch::WriteBatch::commit
store: group commit (sync and waiting for it)|] tarn_store::db::group_commit::GroupCommit::sync
store: fsync of the journal|] fjall::db::Database::persist
hand-off to the blocking pool (spawn_blocking)|] tokio::runtime::blocking::pool::spawn_blocking
threads sleeping/waking (futex)|] do_futex
context switches (kernel schedule)|] schedule
STAGES
echo
echo "Per request (counted while recording; the window is 1 s longer than the load's):"
awk -F, -v n="${requests:-0}" '$1 ~ /^[0-9]+$/ && n > 0 {
        printf "%9.3f  %s\n", $1 / n, $3
    }' "$RUN/perf-stat.csv" 2>/dev/null || true
echo
echo "perf data: ${RUN#"$REPO"/}/perf.data"
