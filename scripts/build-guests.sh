#!/usr/bin/env bash
# build-guests.sh: build every sample function in functions/ and check each output is a
# WebAssembly component: the crates of the functions/ workspace for wasm32-wasip2 (release), and
# the Python (functions/<name>/app.py) and JavaScript (functions/<name>/app.js) functions through
# scripts/build-guest.sh.
#
# Outputs: functions/target/wasm32-wasip2/release/<name>.wasm (name with `-` -> `_`, e.g.
# todo_api.wasm, todo_api_python.wasm, hello_js.wasm; under $CARGO_TARGET_DIR instead when that
# is set). Pass names to build only those:
#   scripts/build-guests.sh todo-api hello todo-api-js
# A Python or JS component newer than its source, the SDK and the build scripts is kept as it is
# (componentize-py and componentize-js take tens of seconds each).
# Sets the toolchains up first (scripts/guest-toolchain.sh for Rust, scripts/build-guest.sh for
# Python and JS) unless they are there already. TARN_SKIP_SCRIPT_GUESTS=1 builds the crates only.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
FUNCTIONS="$REPO/functions"
ENV_FILE="${TARN_GUEST_ENV_FILE:-$FUNCTIONS/target/guest-toolchain.env}"
TARGET=wasm32-wasip2
OUT="${CARGO_TARGET_DIR:-$FUNCTIONS/target}/$TARGET/release"
JOBS="${CARGO_BUILD_JOBS:-2}"

# The toolchain env file is reused while it still describes a working toolchain.
toolchain_ok() {
    [ -f "$ENV_FILE" ] || return 1
    # shellcheck disable=SC1090
    source "$ENV_FILE"
    case "${TARN_GUEST_ROUTE:-}" in
        rustup) rustup target list --installed 2>/dev/null | grep -qx "$TARGET" ;;
        debian) [ -x "${RUSTC:-}" ] && "$RUSTC" --print sysroot >/dev/null 2>&1 \
                    && [ -f "$("$RUSTC" --print sysroot)/lib/rustlib/$TARGET/lib/.tarn-std" ] ;;
        *) return 1 ;;
    esac
}
if ! toolchain_ok; then
    TARN_GUEST_ENV_FILE="$ENV_FILE" "$REPO/scripts/guest-toolchain.sh" >/dev/null
    toolchain_ok || { echo "build-guests: no usable wasm toolchain" >&2; exit 1; }
fi

# The Python and JS functions: folders of functions/ with an app.py or app.js.
script_lang() { # NAME -> python | js | nothing
    if [ -f "$FUNCTIONS/$1/app.py" ]; then echo python; elif [ -f "$FUNCTIONS/$1/app.js" ]; then echo js; fi
}
crates=() scripted=()
if [ $# -gt 0 ]; then
    for name in "$@"; do
        if [ -n "$(script_lang "$name")" ]; then scripted+=("$name"); else crates+=("$name"); fi
    done
else
    mapfile -t crates < <(sed -n '/^members/,/\]/p' "$FUNCTIONS/Cargo.toml" | grep -o '"[^"]*"' | tr -d '"')
    if [ -z "${TARN_SKIP_SCRIPT_GUESTS:-}" ]; then
        for dir in "$FUNCTIONS"/*/; do
            name="$(basename "$dir")"
            [ -n "$(script_lang "$name")" ] && scripted+=("$name")
        done
    fi
fi

start=$(date +%s)
if [ $# -eq 0 ] || [ ${#crates[@]} -gt 0 ]; then
    pkgs=()
    for p in "${crates[@]}"; do pkgs+=(-p "$p"); done
    [ $# -gt 0 ] || pkgs=(--workspace)
    echo "build-guests: cargo build --release --target $TARGET (route ${TARN_GUEST_ROUTE:-?})" >&2
    (cd "$FUNCTIONS" && cargo build --release --target "$TARGET" -j"$JOBS" "${pkgs[@]}")
fi

# A scripted component is stale when its source, its SDK or the build scripts are newer.
stale() { # OUT LANG SRC
    [ -f "$1" ] || return 0
    local sdk
    if [ "$2" = python ]; then sdk="$REPO/guest-sdk/python/tarn"; else sdk="$REPO/guest-sdk/js/src $REPO/guest-sdk/js/wit $REPO/guest-sdk/js/tools"; fi
    # shellcheck disable=SC2086
    [ -n "$(find "$3" $sdk "$REPO/scripts/build-guest.sh" "$REPO/guest-sdk/wit" -newer "$1" -type f -print -quit)" ]
}
mkdir -p "$OUT"
for name in "${scripted[@]}"; do
    lang="$(script_lang "$name")"
    src="$FUNCTIONS/$name/app.$([ "$lang" = python ] && echo py || echo js)"
    wasm="$OUT/${name//-/_}.wasm"
    if stale "$wasm" "$lang" "$src"; then
        "$REPO/scripts/build-guest.sh" "$lang" "$src" "$wasm"
    fi
done

status=0
for name in "${crates[@]}" "${scripted[@]}"; do
    wasm="$OUT/${name//-/_}.wasm"
    # A component starts with \0asm, version 0x0d, layer 1 (a core module has 01 00 00 00).
    header="$(head -c 8 "$wasm" 2>/dev/null | od -An -tx1 | tr -d ' \n')"
    if [ "$header" = "0061736d0d000100" ]; then
        printf 'build-guests: %-44s component, %s bytes\n' "${wasm#"$REPO"/}" "$(wc -c < "$wasm")"
    else
        echo "build-guests: ${wasm#"$REPO"/} is missing or not a component (header '$header')" >&2
        status=1
    fi
done
echo "build-guests: done in $(( $(date +%s) - start )) s" >&2
exit $status
