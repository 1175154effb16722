#!/usr/bin/env bash
# Ensures the Debian cross toolchain for the embedded builds is installed, then exports (when sourced)
# or prints (when run) the environment that uses it.
#
#   source scripts/toolchain.sh        # installs if missing, exports RUSTC/RUSTC_BOOTSTRAP/EMBEDDED_CARGO
#   bash scripts/toolchain.sh          # installs if missing, prints the `export` lines
#   bash scripts/toolchain.sh --check  # only reports what is missing (exit 1 if anything is)
#
# Why Debian's and not rustup's: the rustup toolchain (~/.cargo/bin, first on PATH) has no Cortex-M
# targets and cannot download them (no network but the package registries). Debian's rustc-web ships
# the standard library *sources* (rust-web-src), so cargo builds `core` for any target with
# `-Zbuild-std=core`; RUSTC_BOOTSTRAP=1 unlocks that -Z flag on this stable compiler. rust-web-llvm
# brings rust-lld (the linker of the thumb and riscv32 targets) and LLVM 22's tools (llvm-size-22,
# llvm-nm-22). qemu-system-arm runs the Cortex-M boards, qemu-system-misc the RISC-V one.
#
# Board builds therefore run as:
#   RUSTC=/usr/bin/rustc RUSTC_BOOTSTRAP=1 /usr/bin/cargo build --release -Zbuild-std=core --target ...
# (the boards' .cargo/config.toml already set the target and build-std).

# Sourced or executed? Only set shell options when executed, never in the caller's shell.
(return 0 2>/dev/null) && _tc_sourced=1 || _tc_sourced=0
if [ "$_tc_sourced" = 0 ]; then set -euo pipefail; fi

_tc_packages="rustc-web cargo-web rust-web-src rust-web-llvm lld-22 llvm-22 qemu-system-arm qemu-system-misc"

# Prints one line per missing piece (empty output: all present).
_tc_missing() {
    [ -x /usr/bin/rustc ] || echo "/usr/bin/rustc (rustc-web)"
    [ -x /usr/bin/cargo ] || echo "/usr/bin/cargo (cargo-web)"
    [ -n "$(ls -d /usr/lib/rustlib/src/rust/library/core 2>/dev/null)" ] ||
        echo "core sources for -Zbuild-std (rust-web-src)"
    command -v rust-lld >/dev/null 2>&1 || echo "rust-lld (rust-web-llvm)"
    command -v ld.lld-22 >/dev/null 2>&1 || echo "ld.lld-22 (lld-22)"
    command -v llvm-size-22 >/dev/null 2>&1 || echo "llvm-size-22 (llvm-22)"
    command -v llvm-nm-22 >/dev/null 2>&1 || echo "llvm-nm-22 (llvm-22)"
    command -v qemu-system-arm >/dev/null 2>&1 || echo "qemu-system-arm (qemu-system-arm)"
    command -v qemu-system-riscv32 >/dev/null 2>&1 || echo "qemu-system-riscv32 (qemu-system-misc)"
}

_tc_install() {
    local sudo=""
    if [ "$(id -u)" != 0 ]; then
        if command -v sudo >/dev/null 2>&1; then sudo="sudo"; else
            echo "toolchain: not root and no sudo; install as root: apt-get install -y $_tc_packages" >&2
            return 1
        fi
    fi
    echo "toolchain: installing $_tc_packages" >&2
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -q >&2 || return 1
    # shellcheck disable=SC2086
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q $_tc_packages >&2 || return 1
}

_tc_main() {
    local missing
    missing="$(_tc_missing)"
    if [ "${1:-}" = "--check" ]; then
        if [ -n "$missing" ]; then
            echo "toolchain: missing:" >&2
            echo "$missing" | sed 's/^/  /' >&2
            return 1
        fi
        echo "toolchain: complete ($(/usr/bin/rustc --version))" >&2
        return 0
    fi
    if [ -n "$missing" ]; then
        echo "toolchain: missing:" >&2
        echo "$missing" | sed 's/^/  /' >&2
        _tc_install || return 1
        missing="$(_tc_missing)"
        if [ -n "$missing" ]; then
            echo "toolchain: still missing after install:" >&2
            echo "$missing" | sed 's/^/  /' >&2
            return 1
        fi
    fi
    return 0
}

if [ "$_tc_sourced" = 1 ]; then
    if _tc_main "$@"; then
        export RUSTC=/usr/bin/rustc
        export RUSTC_BOOTSTRAP=1
        export EMBEDDED_CARGO=/usr/bin/cargo
        # Flags from the environment would replace the boards' `-Tlink.x` rustflags.
        unset RUSTFLAGS CARGO_ENCODED_RUSTFLAGS CARGO_BUILD_TARGET CARGO_BUILD_RUSTFLAGS
        _tc_rc=0
    else
        _tc_rc=1
    fi
    unset -f _tc_missing _tc_install _tc_main
    unset _tc_packages _tc_sourced
    return "$_tc_rc"
else
    _tc_main "$@"
    if [ "${1:-}" != "--check" ]; then
        echo "export RUSTC=/usr/bin/rustc RUSTC_BOOTSTRAP=1 EMBEDDED_CARGO=/usr/bin/cargo"
        echo "# then: \$EMBEDDED_CARGO build --release -Zbuild-std=core --target thumbv7em-none-eabihf"
    fi
fi
