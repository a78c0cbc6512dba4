#!/usr/bin/env bash
# build-guests.sh: build every crate of the functions/ workspace for wasm32-wasip2 (release)
# and check each output is a WebAssembly component.
#
# Outputs: functions/target/wasm32-wasip2/release/<crate_name>.wasm (crate name with `-` -> `_`,
# e.g. todo_api.wasm, raw_http.wasm; under $CARGO_TARGET_DIR instead when that is set). Pass crate names to build only those:
#   scripts/build-guests.sh todo-api hello
# Sets the toolchain up first (scripts/guest-toolchain.sh) unless its env file exists already.
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

pkgs=()
for p in "$@"; do pkgs+=(-p "$p"); done
[ ${#pkgs[@]} -gt 0 ] || pkgs=(--workspace)

start=$(date +%s)
echo "build-guests: cargo build --release --target $TARGET (route ${TARN_GUEST_ROUTE:-?})" >&2
(cd "$FUNCTIONS" && cargo build --release --target "$TARGET" -j"$JOBS" "${pkgs[@]}")

# The crates to check: the ones asked for, or every workspace member.
if [ $# -gt 0 ]; then
    names=("$@")
else
    mapfile -t names < <(sed -n '/^members/,/\]/p' "$FUNCTIONS/Cargo.toml" | grep -o '"[^"]*"' | tr -d '"')
fi
status=0
for name in "${names[@]}"; do
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
