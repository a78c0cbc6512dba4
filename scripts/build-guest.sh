#!/usr/bin/env bash
# build-guest.sh: build one tarn function into a WebAssembly component, in any of its languages.
#
#   scripts/build-guest.sh LANG SRC OUT [WORLD]
#
#   LANG   python | js | rust
#   SRC    python: the function's .py file (its folder is on the module path, with the tarn
#                  package from guest-sdk/python);
#          js:     the function's .js/.mjs file (bundled with the tarn-sdk package from
#                  guest-sdk/js, then componentized);
#          rust:   the crate's folder (or its Cargo.toml); built for wasm32-wasip2, release.
#   OUT    the .wasm to write.
#   WORLD  http-handler | stream-handler | schedule-handler. Default for python and js: read off
#          the source (a stream_handler/record_handler decorator or streamHandler/recordHandler
#          call makes a stream handler, schedule_handler/scheduleHandler a schedule handler,
#          anything else an HTTP handler). Rust crates pick their world in code; ignored.
#
# The toolchains are set up on first use, under $TARN_TOOLCHAIN_DIR (default
# <repo>/target/guest-toolchains), and reused after:
#   python: a virtualenv with componentize-py ($COMPONENTIZE_PY_VERSION) from PyPI;
#   js:     componentize-js ($COMPONENTIZE_JS_VERSION), jco and rolldown (the bundler) from npm;
#   rust:   scripts/guest-toolchain.sh (rustup's wasm32-wasip2 target, or Debian's rustc-web).
# A toolchain that cannot be set up (no python3 -m venv, no npm, no network) fails with what to
# install and the command to run again. `scripts/build-guest.sh setup LANG` only sets up.
#
# This script is the one place these steps live: scripts/build-guests.sh calls it for the sample
# functions, and `tarn build` calls it for a manifest's Python and JS sources.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TOOLCHAINS="${TARN_TOOLCHAIN_DIR:-$REPO/target/guest-toolchains}"
COMPONENTIZE_PY_VERSION="${COMPONENTIZE_PY_VERSION:-0.25.1}"
COMPONENTIZE_JS_VERSION="${COMPONENTIZE_JS_VERSION:-0.23.0}"
ROLLDOWN_VERSION="${ROLLDOWN_VERSION:-1.3.4}"
# componentize-js loads preview2-shim at run time without declaring it (0.17.x: it needs the
# default preopen of "/" that later versions dropped).
JS_PACKAGES=("@bytecodealliance/componentize-js@$COMPONENTIZE_JS_VERSION" "@bytecodealliance/jco@1.35.0"
             "@bytecodealliance/preview2-shim@0.17.9" "rolldown@$ROLLDOWN_VERSION")
PY_ENV="$TOOLCHAINS/python-$COMPONENTIZE_PY_VERSION"
JS_ENV="$TOOLCHAINS/js-$COMPONENTIZE_JS_VERSION"

log() { echo "build-guest: $*" >&2; }
die() { log "$*"; exit 1; }

usage() {
    sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//' >&2
    exit 2
}

# ------------------------------------------------------------------------------ toolchains
setup_python() {
    # A virtualenv copied or moved from elsewhere keeps its old paths and no longer runs: set
    # it up again then.
    if [ -f "$PY_ENV/.tarn-ready" ] && "$PY_ENV/bin/componentize-py" --version >/dev/null 2>&1; then
        return 0
    fi
    command -v python3 >/dev/null || die "python3 is required for Python functions (apt-get install python3 python3-venv), then run: scripts/build-guest.sh setup python"
    log "setting up componentize-py $COMPONENTIZE_PY_VERSION in $PY_ENV (first use)"
    rm -rf "$PY_ENV"
    python3 -m venv "$PY_ENV" >&2 \
        || die "python3 -m venv failed (apt-get install python3-venv), then run: scripts/build-guest.sh setup python"
    "$PY_ENV/bin/pip" install --quiet --disable-pip-version-check "componentize-py==$COMPONENTIZE_PY_VERSION" >&2 \
        || die "pip could not install componentize-py==$COMPONENTIZE_PY_VERSION (is PyPI reachable?); run again: scripts/build-guest.sh setup python"
    touch "$PY_ENV/.tarn-ready"
}

setup_js() {
    if [ -f "$JS_ENV/.tarn-ready" ]; then return 0; fi
    command -v node >/dev/null && command -v npm >/dev/null \
        || die "node and npm are required for JavaScript functions (Node.js 18 or newer), then run: scripts/build-guest.sh setup js"
    log "installing componentize-js $COMPONENTIZE_JS_VERSION and rolldown $ROLLDOWN_VERSION into $JS_ENV (first use, about 30 s)"
    mkdir -p "$JS_ENV"
    echo '{"private": true}' > "$JS_ENV/package.json"
    npm install --prefix "$JS_ENV" --save-exact --no-audit --no-fund --loglevel=error \
        "${JS_PACKAGES[@]}" >&2 \
        || die "npm could not install componentize-js (is the npm registry reachable?); run again: scripts/build-guest.sh setup js"
    touch "$JS_ENV/.tarn-ready"
}

setup_rust() {
    local env_file="${TARN_GUEST_ENV_FILE:-$REPO/functions/target/guest-toolchain.env}"
    if [ ! -f "$env_file" ]; then
        TARN_GUEST_ENV_FILE="$env_file" "$REPO/scripts/guest-toolchain.sh" >/dev/null \
            || die "no wasm32-wasip2 toolchain: run scripts/guest-toolchain.sh (rustup, or Debian's rustc-web)"
    fi
    # shellcheck disable=SC1090
    source "$env_file"
}

# ------------------------------------------------------------------------------ builds
# The world a Python or JS source exports, read off its handler decorators or calls.
detect_world() {
    if grep -qE '(stream_handler|record_handler|streamHandler|recordHandler)\b' "$1"; then
        echo stream-handler
    elif grep -qE '(schedule_handler|scheduleHandler)\b' "$1"; then
        echo schedule-handler
    else
        echo http-handler
    fi
}

build_python() { # SRC OUT WORLD
    local src="$1" out="$2" world="$3" dir module
    dir="$(cd "$(dirname "$src")" && pwd)"
    module="$(basename "$src" .py)"
    setup_python
    log "componentize-py ($world): $src -> $out"
    "$PY_ENV/bin/componentize-py" -d "$REPO/guest-sdk/wit" -w "$world" \
        componentize -p "$dir" -p "$REPO/guest-sdk/python" "$module" -o "$out" >&2
}

build_js() { # SRC OUT WORLD
    setup_js
    log "componentize-js ($3): $1 -> $2"
    node "$REPO/guest-sdk/js/tools/build.mjs" --toolchain "$JS_ENV" --world "$3" "$1" "$2" >&2
}

build_rust() { # SRC OUT
    local manifest="$1" wasm
    [ -d "$manifest" ] && manifest="$manifest/Cargo.toml"
    [ -f "$manifest" ] || die "$1: no Cargo.toml"
    setup_rust
    log "cargo build --release --target wasm32-wasip2 ($manifest)"
    # The artifact cargo reports for the crate's cdylib. `tarn-sdk = "0.1"` (as the templates
    # write it) resolves to this checkout's guest-sdk.
    wasm="$(cargo build --release --target wasm32-wasip2 -j"${CARGO_BUILD_JOBS:-2}" \
                --config "patch.crates-io.tarn-sdk.path='$REPO/guest-sdk'" \
                --manifest-path "$manifest" --message-format=json-render-diagnostics \
            | grep -o '"filenames":\["[^"]*\.wasm"' | tail -n 1 | sed 's/.*\["//; s/"$//')"
    [ -n "$wasm" ] && [ -f "$wasm" ] || die "$manifest built no .wasm (is crate-type [\"cdylib\"] set?)"
    cp "$wasm" "$2"
}

# ------------------------------------------------------------------------------ main
[ $# -ge 1 ] || usage
if [ "$1" = setup ]; then
    [ $# -eq 2 ] || usage
    case "$2" in python) setup_python ;; js) setup_js ;; rust) setup_rust ;; *) usage ;; esac
    exit 0
fi
[ $# -ge 3 ] && [ $# -le 4 ] || usage
lang="$1" src="$2" out="$3" world="${4:-}"
[ -e "$src" ] || die "$src: no such file"
mkdir -p "$(dirname "$out")"
case "$world" in ""|http-handler|stream-handler|schedule-handler) ;; *) die "unknown world '$world'";; esac
start=$(date +%s)
case "$lang" in
    python) build_python "$src" "$out" "${world:-$(detect_world "$src")}" ;;
    js) build_js "$src" "$out" "${world:-$(detect_world "$src")}" ;;
    rust) build_rust "$src" "$out" ;;
    *) usage ;;
esac
# A component starts with \0asm, version 0x0d, layer 1 (a core module has 01 00 00 00).
[ "$(head -c 8 "$out" | od -An -tx1 | tr -d ' \n')" = "0061736d0d000100" ] || die "$out is not a component"
log "$out: $(wc -c < "$out") bytes in $(( $(date +%s) - start )) s"
