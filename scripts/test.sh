#!/usr/bin/env bash
# Runs every test of the project on a fresh machine: sets up what the tests need (system packages
# through scripts/system-deps.sh, cargo-nextest,
# cargo-modules, cargo-machete, the wasm guest toolchain, a Python virtualenv with boto3), runs the
# guards (rustfmt, clippy with -D warnings, no module cycles in any crate, no unused dependency; each
# counts as one test), builds the guests from functions/,
# runs the Rust tests (unit, property and end-to-end, against the `tarn` binary cargo builds for
# them), the Python boto3 suite against that same binary, the Python and JavaScript guest SDKs'
# unit tests (pytest, node --test), and each fuzz target for a bounded time
# (scripts/fuzz.sh; TARN_FUZZ_SECONDS per target, default 30, 0 to skip; a target that runs its
# time without a crash counts as one passed test), and prints one line:
#   tests: N passed, N failed
set -uo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
export CARGO_BUILD_JOBS=${CARGO_BUILD_JOBS:-2}
export CARGO_TERM_COLOR=never
log_dir=${TARN_TEST_LOGS:-$root/target/test-logs}
mkdir -p "$log_dir"

# A CI run builds once from a clean clone: incremental compilation's caches (several GB for the
# workspace's crates) would only use disk there.
if [ "${CI:-}" = true ]; then
  export CARGO_INCREMENTAL=${CARGO_INCREMENTAL:-0}
fi

started=$(date +%s)
# Each step says when it started and how much disk is free, so a run that fills the disk shows where.
step() {
  printf '\n== %s (at %ss, %s free)\n' "$*" "$(( $(date +%s) - started ))" \
    "$(df -h --output=avail . 2>/dev/null | tail -n 1 | tr -d ' ')"
}
# count WORD LINE: the number before WORD in a runner's summary line ("12 passed" -> 12).
count() { grep -oE "[0-9]+ $1" <<<"$2" | grep -oE '[0-9]+' | tail -n 1; }

step "tools"
bash scripts/system-deps.sh
if ! cargo nextest --version >/dev/null 2>&1; then
  cargo install --locked cargo-nextest || { echo "cannot install cargo-nextest"; exit 1; }
fi
# cargo-modules 0.27 is the newest that builds on Rust 1.95.
if ! cargo modules --version 2>/dev/null | grep -q '0\.27\.'; then
  cargo install --locked cargo-modules --version 0.27.0 || { echo "cannot install cargo-modules"; exit 1; }
fi
if ! cargo machete --version >/dev/null 2>&1; then
  cargo install --locked cargo-machete || { echo "cannot install cargo-machete"; exit 1; }
fi
venv=${TARN_VENV:-$root/target/venv}
if [ ! -x "$venv/bin/pytest" ]; then
  python3 -m venv "$venv" && "$venv/bin/pip" install --quiet --disable-pip-version-check -r tests/python/requirements.txt \
    || { echo "cannot set up the Python test environment"; exit 1; }
fi
# The console's browser tests (tests/python/console/) drive chromium and chromium-driver (from
# scripts/system-deps.sh) with Selenium; a virtualenv made before Selenium was listed gets it here.
if ! "$venv/bin/python" -c "import selenium" 2>/dev/null; then
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r tests/python/requirements.txt \
    || { echo "cannot install the console tests' Python packages"; exit 1; }
fi

step "Guards (rustfmt, clippy, module cycles, unused dependencies)"
guard_passed=0
guard_failed=0
guard() { # guard NAME COMMAND...: one test, passed when the command succeeds
  local name=$1
  shift
  if "$@" >"$log_dir/guard-$name.log" 2>&1; then
    guard_passed=$((guard_passed + 1))
    echo "guard $name: ok"
  else
    guard_failed=$((guard_failed + 1))
    echo "guard $name: FAILED"
    tail -n 40 "$log_dir/guard-$name.log"
  fi
}
guard rustfmt cargo fmt --all -- --check
guard clippy cargo clippy --workspace --all-targets -- -D warnings
guard module-cycles python3 scripts/check-cycles.py
guard unused-dependencies cargo machete

if [ -x scripts/build-guests.sh ] || [ -f scripts/build-guests.sh ]; then
  step "wasm guests (functions/)"
  bash scripts/build-guests.sh || { echo "building the wasm guests failed"; exit 1; }
fi

step "Rust tests (cargo nextest)"
cargo nextest run --workspace --no-fail-fast 2>&1 | tee "$log_dir/nextest.log"
rust_status=${PIPESTATUS[0]}
summary=$(grep -E '^ *Summary' "$log_dir/nextest.log" | tail -n 1)
rust_passed=$(count passed "$summary")
rust_failed=$(count failed "$summary")
rust_passed=${rust_passed:-0}
rust_failed=${rust_failed:-0}
if [ "$rust_status" -ne 0 ] && [ "$rust_failed" -eq 0 ]; then
  rust_failed=1 # the build itself failed, or nextest stopped before its summary
fi

step "Python tests (boto3, AWS CLI)"
TARN_BIN="$root/target/debug/tarn" "$venv/bin/pytest" tests/python -q -p no:cacheprovider 2>&1 | tee "$log_dir/pytest.log"
py_status=${PIPESTATUS[0]}
py_line=$(grep -E '[0-9]+ (passed|failed)' "$log_dir/pytest.log" | tail -n 1)
py_passed=$(count passed "$py_line")
py_failed=$(count failed "$py_line")
py_errors=$(count 'errors?' "$py_line")
py_passed=${py_passed:-0}
py_failed=$(( ${py_failed:-0} + ${py_errors:-0} ))
if [ "$py_status" -ne 0 ] && [ "$py_failed" -eq 0 ]; then
  py_failed=1 # pytest could not run the suite
fi

step "Guest SDK unit tests (Python: pytest on CPython; JavaScript: node --test)"
"$venv/bin/pytest" guest-sdk/python/tests -q -p no:cacheprovider 2>&1 | tee "$log_dir/sdk-python.log"
sdk_py_status=${PIPESTATUS[0]}
sdk_line=$(grep -E '[0-9]+ (passed|failed)' "$log_dir/sdk-python.log" | tail -n 1)
sdk_passed=$(count passed "$sdk_line")
sdk_failed=$(( $(count failed "$sdk_line" || true) + 0 ))
sdk_passed=${sdk_passed:-0}
if [ "$sdk_py_status" -ne 0 ] && [ "$sdk_failed" -eq 0 ]; then sdk_failed=1; fi
if command -v node >/dev/null; then
  (cd guest-sdk/js && node --test test/) 2>&1 | tee "$log_dir/sdk-js.log"
  sdk_js_status=${PIPESTATUS[0]}
  js_pass=$(grep -E '^# pass [0-9]+' "$log_dir/sdk-js.log" | grep -oE '[0-9]+' | tail -n 1)
  js_fail=$(grep -E '^# fail [0-9]+' "$log_dir/sdk-js.log" | grep -oE '[0-9]+' | tail -n 1)
  sdk_passed=$(( sdk_passed + ${js_pass:-0} ))
  sdk_failed=$(( sdk_failed + ${js_fail:-0} ))
  if [ "$sdk_js_status" -ne 0 ] && [ "${js_fail:-0}" -eq 0 ]; then sdk_failed=$(( sdk_failed + 1 )); fi
else
  echo "node not found: the JavaScript SDK's tests did not run"
  sdk_failed=$(( sdk_failed + 1 ))
fi

fuzz_seconds=${TARN_FUZZ_SECONDS:-30}
fuzz_passed=0
fuzz_failed=0
if [ "$fuzz_seconds" -gt 0 ]; then
  step "Fuzz targets (cargo fuzz, ${fuzz_seconds}s each)"
  bash scripts/fuzz.sh "$fuzz_seconds" 2>&1 | tee "$log_dir/fuzz.log"
  fuzz_status=${PIPESTATUS[0]}
  fuzz_line=$(grep -E '^fuzz: [0-9]+ passed' "$log_dir/fuzz.log" | tail -n 1)
  fuzz_passed=$(count passed "$fuzz_line")
  fuzz_failed=$(count failed "$fuzz_line")
  fuzz_passed=${fuzz_passed:-0}
  fuzz_failed=${fuzz_failed:-0}
  if [ "$fuzz_status" -ne 0 ] && [ "$fuzz_failed" -eq 0 ]; then
    fuzz_failed=1
  fi
fi

passed=$(( guard_passed + rust_passed + py_passed + sdk_passed + fuzz_passed ))
failed=$(( guard_failed + rust_failed + py_failed + sdk_failed + fuzz_failed ))
echo
echo "guards: $guard_passed passed, $guard_failed failed"
echo "rust: $rust_passed passed, $rust_failed failed"
echo "python: $py_passed passed, $py_failed failed"
echo "guest sdks: $sdk_passed passed, $sdk_failed failed"
echo "fuzz: $fuzz_passed passed, $fuzz_failed failed"
echo "took $(( $(date +%s) - started ))s"
echo "tests: $passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
