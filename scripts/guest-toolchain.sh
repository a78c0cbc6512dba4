#!/usr/bin/env bash
# guest-toolchain.sh: make this machine able to build wasm32-wasip2 guests (tarn functions).
#
# Route A (rustup): `rustup target add wasm32-wasip2`, bounded by a timeout because the
#   host behind it is unreliable.
# Route B (debian): Debian's rustc-web packages (bookworm-security) unpacked with
#   `apt-get download` + `dpkg -x` into a cache dir (nothing installed system-wide), and the
#   wasm std built once from rust-src with -Zbuild-std and installed into that rustc's sysroot.
#   Route B is taken when route A fails, or when forced with TARN_GUEST_TOOLCHAIN=debian.
#
# Either way the script writes an env file (default: functions/target/guest-toolchain.env) that
# scripts/build-guests.sh sources, and prints it. Works unattended (CI=true, no stdin).
#
# Environment:
#   TARN_GUEST_TOOLCHAIN   auto (default) | rustup | debian
#   TARN_TOOLCHAIN_CACHE   route B cache dir (default: ${XDG_CACHE_HOME:-$HOME/.cache}/tarn/guest-toolchain)
#   TARN_GUEST_ENV_FILE    where to write the env file
#   TARN_GUEST_TARGETS     wasm targets to prepare (default: "wasm32-wasip2 wasm32-wasip1")
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
MODE="${TARN_GUEST_TOOLCHAIN:-auto}"
TARGETS="${TARN_GUEST_TARGETS:-wasm32-wasip2 wasm32-wasip1}"
ENV_FILE="${TARN_GUEST_ENV_FILE:-$REPO/functions/target/guest-toolchain.env}"
CACHE="${TARN_TOOLCHAIN_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/tarn/guest-toolchain}"
START=$(date +%s)

log() { echo "guest-toolchain: $*" >&2; }

write_env() { # $1 = route, rest = lines
    local route="$1"; shift
    mkdir -p "$(dirname "$ENV_FILE")"
    {
        echo "# written by scripts/guest-toolchain.sh; sourced by scripts/build-guests.sh"
        echo "export TARN_GUEST_ROUTE=$route"
        for line in "$@"; do echo "$line"; done
    } > "$ENV_FILE"
    log "route $route ready in $(( $(date +%s) - START )) s; env file $ENV_FILE:"
    cat "$ENV_FILE"
}

command -v cargo >/dev/null || {
    log "cargo is required (install rustup, or 'apt-get install cargo-web' from bookworm-security)"
    exit 1
}

# ---------------------------------------------------------------- route A: rustup
rustup_has_targets() {
    local installed t
    installed="$(rustup target list --installed 2>/dev/null)" || return 1
    for t in $TARGETS; do grep -qx "$t" <<<"$installed" || return 1; done
}

route_rustup() {
    command -v rustup >/dev/null || { log "no rustup"; return 1; }
    if ! rustup_has_targets; then
        local t
        for t in $TARGETS; do
            log "rustup target add $t (60 s limit)"
            timeout 60 rustup target add "$t" </dev/null >&2 || log "rustup target add $t failed or timed out"
        done
    fi
    rustup_has_targets || return 1
    write_env rustup "unset RUSTC RUSTC_BOOTSTRAP"
}

# ---------------------------------------------------------------- route B: debian rustc-web
# Prints the names $1 depends on (Depends only), without virtual packages.
deps_of() { apt-cache depends "$1" 2>/dev/null | awk '/^ *Depends: [^<]/ {print $2}'; }

route_debian() {
    local root="$CACHE/root" stamp="$CACHE/root/.tarn-ready"
    if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$TARGETS" ]; then
        log "debian toolchain already prepared in $root"
    else
        command -v apt-get >/dev/null || { log "route debian needs apt-get"; return 1; }
        if [ "$(id -u)" = 0 ]; then
            log "apt-get update"
            apt-get update -q >&2 || log "apt-get update failed; using the current lists"
        fi
        # Resolve versioned names so the script survives Debian's next rust update:
        # libstd-rust-web-dev -> libstd-rust-web-1.NN -> libllvmNN -> lld-NN.
        local libstd llvmlib llvmver
        libstd="$(deps_of libstd-rust-web-dev | grep -m1 '^libstd-rust-web-1\.')"
        llvmlib="$(deps_of "$libstd" | grep -m1 '^libllvm[0-9]')"
        llvmver="${llvmlib#libllvm}"
        [ -n "$libstd" ] && [ -n "$llvmver" ] || { log "cannot resolve rustc-web packages (is bookworm-security in apt sources?)"; return 1; }
        local pkgs=(rustc-web libstd-rust-web-dev "$libstd" rust-web-src rust-web-llvm "$llvmlib" "lld-$llvmver" wasi-libc)
        # Shared libraries those need (transitively) that this machine lacks; a fresh bookworm
        # may miss e.g. libz3-4, libxml2 and its libicu72.
        local p d extra=() queue=("$libstd" "$llvmlib" "lld-$llvmver")
        while [ ${#queue[@]} -gt 0 ]; do
            p="${queue[0]}"; queue=("${queue[@]:1}")
            for d in $(deps_of "$p"); do
                case " ${pkgs[*]} ${extra[*]} " in *" $d "*) continue ;; esac
                dpkg -s "$d" >/dev/null 2>&1 && continue
                extra+=("$d"); queue+=("$d")
            done
        done
        log "packages: ${pkgs[*]} ${extra[*]}"
        rm -rf "$CACHE/debs" "$root"; mkdir -p "$CACHE/debs" "$root"
        (cd "$CACHE/debs" && apt-get download "${pkgs[@]}" "${extra[@]}" >&2) || { log "apt-get download failed"; return 1; }
        for f in "$CACHE"/debs/*.deb; do dpkg -x "$f" "$root"; done
        rm -rf "$CACHE/debs"
        log "unpacked in $(( $(date +%s) - START )) s"
    fi

    export RUSTC="$root/usr/bin/rustc"
    export LD_LIBRARY_PATH="$root/usr/lib/x86_64-linux-gnu${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
    export PATH="$root/usr/bin:$PATH"
    "$RUSTC" --version >&2 || { log "the unpacked rustc does not run"; return 1; }

    if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$TARGETS" ]; then
        local sysroot t crate="$CACHE/std-crate" tmp="$CACHE/std-target"
        sysroot="$("$RUSTC" --print sysroot)"
        mkdir -p "$crate/src"
        printf '[package]\nname = "tarn-empty"\nversion = "0.0.0"\nedition = "2021"\n[workspace]\n[profile.release]\npanic = "abort"\n' > "$crate/Cargo.toml"
        echo '' > "$crate/src/lib.rs"
        for t in $TARGETS; do
            [ -f "$sysroot/lib/rustlib/$t/lib/.tarn-std" ] && continue
            log "building std for $t (about a minute)"
            (cd "$crate" && RUSTC_BOOTSTRAP=1 RUSTFLAGS=-Cembed-bitcode=yes \
                cargo build -q --release -j2 --target "$t" -Zbuild-std=std,panic_abort --target-dir "$tmp" </dev/null >&2)
            local dest="$sysroot/lib/rustlib/$t/lib"
            mkdir -p "$dest/self-contained"
            find "$tmp/$t/release/deps" -maxdepth 1 \( -name 'lib*.rlib' -o -name 'lib*.rmeta' \) ! -name 'libtarn_empty*' \
                -exec cp {} "$dest/" \;
            local crt
            for crt in crt1-command.o crt1-reactor.o libc.a; do
                local src
                src="$(find "$root/usr/lib" -path '*wasm32-wasi*' -name "$crt" | grep -m1 -v threads || true)"
                [ -n "$src" ] && ln -sf "$src" "$dest/self-contained/$crt"
            done
            touch "$dest/.tarn-std"
        done
        rm -rf "$tmp"
        echo "$TARGETS" > "$stamp"
    fi
    write_env debian \
        "export RUSTC='$RUSTC'" \
        "export LD_LIBRARY_PATH='$root/usr/lib/x86_64-linux-gnu'\${LD_LIBRARY_PATH:+:\$LD_LIBRARY_PATH}" \
        "export PATH='$root/usr/bin':\$PATH"
}

case "$MODE" in
    rustup) route_rustup ;;
    debian) route_debian ;;
    auto) route_rustup || { log "route rustup unavailable, falling back to debian"; route_debian; } ;;
    *) log "TARN_GUEST_TOOLCHAIN must be auto, rustup or debian"; exit 2 ;;
esac
