#!/usr/bin/env bash
# fuzz.sh [SECONDS] [TARGET...]: build tarn's fuzz targets (fuzz/, cargo fuzz + libFuzzer) and
# run each for SECONDS (default 30), starting from the committed seeds (fuzz/seeds/<target>) and
# the corpus earlier runs grew (fuzz/corpus/<target>, not committed). Targets: json_request,
# expr_parser, item_decoder (default: all). Prints one line at the end:
#   fuzz: N passed, N failed
# A crash leaves its input in fuzz/artifacts/<target>/; reproduce it with
#   RUSTC_BOOTSTRAP=1 cargo fuzz run -O <target> fuzz/artifacts/<target>/<file>   (in fuzz/)
#
# cargo fuzz needs a nightly compiler; on a stable toolchain this sets RUSTC_BOOTSTRAP=1, which
# unlocks the -Z flags it passes. Environment:
#   TARN_FUZZ_SANITIZER   address (default) | none   (none: no AddressSanitizer, faster)
#   TARN_FUZZ_JOBS        parallel fuzzing jobs per target (default 1)
set -uo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
seconds=${1:-30}
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  targets=(json_request expr_parser item_decoder)
fi
sanitizer=${TARN_FUZZ_SANITIZER:-address}
jobs=${TARN_FUZZ_JOBS:-1}
export CARGO_BUILD_JOBS=${CARGO_BUILD_JOBS:-2}

if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "fuzz: installing cargo-fuzz"
  cargo install --locked cargo-fuzz || { echo "fuzz: cannot install cargo-fuzz"; echo "fuzz: 0 passed, ${#targets[@]} failed"; exit 1; }
fi
if ! rustc --version | grep -q nightly; then
  export RUSTC_BOOTSTRAP=1
fi

cd "$root/fuzz"
echo "fuzz: building ${targets[*]} (sanitizer: $sanitizer)"
if ! cargo fuzz build -O -s "$sanitizer"; then
  echo "fuzz: the build failed"
  echo "fuzz: 0 passed, ${#targets[@]} failed"
  exit 1
fi

parallel=()
if [ "$jobs" -gt 1 ]; then
  parallel=(-jobs="$jobs" -workers="$jobs")
fi
passed=0
failed=0
for t in "${targets[@]}"; do
  mkdir -p "corpus/$t"
  echo "fuzz: running $t for ${seconds}s"
  # -rss_limit_mb: an input that makes the decoder allocate without bound is a finding too.
  if cargo fuzz run -O -s "$sanitizer" "$t" "corpus/$t" "seeds/$t" -- \
      -max_total_time="$seconds" -rss_limit_mb=2048 -max_len=65536 -timeout=10 \
      "${parallel[@]}" -print_final_stats=1 2>&1 | tail -n 25; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
    echo "fuzz: $t FAILED; the input is in fuzz/artifacts/$t/"
  fi
done
echo "fuzz: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
