#!/usr/bin/env bash
# The embedded check: proves the library is no_std on Cortex-M, builds every board firmware, runs the
# emulated boards under QEMU, and prints each firmware's flash/RAM.
#
#   bash scripts/embedded-check.sh                 # everything
#   bash scripts/embedded-check.sh --no-qemu       # skip a step: --no-lib --no-boards --no-sizes
#                                                  #   --no-qemu --no-selftest
#   bash scripts/embedded-check.sh --only qemu     # one step: lib | boards | sizes | qemu | selftest
#   bash scripts/embedded-check.sh --board qemu-m0 # restrict board steps to some boards (repeatable)
#
# Steps:
#   lib    `cargo build --release -Zbuild-std=core` of the root crate (library only) for
#          thumbv7em-none-eabihf and thumbv6m-none-eabi, with default features and with
#          `defmt,serde,update,op-float,in-place` (thumbv6m: `cargo check`), and `cargo check` of
#          thumbv8m.main-none-eabihf (Cortex-M33, DSP on) and riscv32imc with `defmt,serde,update`
#          and riscv32imac (the boards step
#          builds and runs the library on the first two). A std dependency anywhere fails here.
#   boards every boards/<name>/ with a Cargo.toml and a binary (src/main.rs or src/bin/), built in
#          release from its own directory, so its .cargo/config.toml applies ([build] target must be set
#          there). New boards are picked up automatically.
#   sizes  flash (vector table, RP2040 boot2, RP2350 IMAGE_DEF block, ESP app descriptor, code,
#          read-only data, initialised data) and static RAM (.data, .bss, .uninit) of each firmware,
#          from the ELF section headers (llvm-size-22).
#   qemu   every built board whose .cargo/config.toml runner is qemu-system-arm or
#          qemu-system-riscv32 is run with
#          `cargo run --release` under `timeout` ($QEMU_TIMEOUT s, default 300). The firmware exits
#          through semihosting; a non-zero exit code or a timeout fails the check.
#   selftest proves the QEMU check can fail: each QEMU board is rebuilt with BOARD_SELFTEST=mismatch
#          (the first conformance output and the graph runs' score hashes are altered before
#          comparison, see boards/common/src/selftest.rs) and must then report those failures and
#          exit non-zero. Costs one relink per board.
#
# All embedded artifacts go to target/embedded (never the host's target/debug or target/release); the
# boards share it so `core` and common dependencies are compiled once per target and profile.
# The Debian toolchain is installed first if missing (scripts/toolchain.sh).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TARGET_DIR="${EMBEDDED_TARGET_DIR:-$ROOT/target/embedded}"
QEMU_TIMEOUT="${QEMU_TIMEOUT:-300}"

usage() { awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "${BASH_SOURCE[0]}"; }

declare -A RUN=([lib]=1 [boards]=1 [sizes]=1 [qemu]=1 [selftest]=1)
BOARDS_WANTED=()
while [ $# -gt 0 ]; do
    case "$1" in
        --no-lib | --no-boards | --no-qemu | --no-sizes | --no-selftest) RUN[${1#--no-}]=0 ;;
        --only)
            shift
            [ -n "${RUN[${1:-}]+x}" ] || { echo "unknown step: ${1:-}" >&2; exit 2; }
            for s in "${!RUN[@]}"; do RUN[$s]=0; done
            RUN[$1]=1
            ;;
        --board) shift; BOARDS_WANTED+=("${1:?--board needs a name}") ;;
        -h | --help) usage; exit 0 ;;
        *) echo "unknown argument: $1 (see --help)" >&2; exit 2 ;;
    esac
    shift
done

# ---------------------------------------------------------------------------------------------------
section() { printf '\n==> %s\n' "$*"; }
fail() { printf '\nembedded-check: FAILED: %s\n' "$*" >&2; exit 1; }
T_START=$SECONDS
declare -a TIMINGS=()
timed() { # timed NAME CMD...: runs CMD, records its duration
    local name="$1" t0=$SECONDS
    shift
    "$@"
    TIMINGS+=("$(printf '%-8s %4ds' "$name" $((SECONDS - t0)))")
}

section "toolchain"
# shellcheck source=scripts/toolchain.sh
source "$ROOT/scripts/toolchain.sh" || fail "Debian cross toolchain unavailable"
CARGO="$EMBEDDED_CARGO"
export CARGO_TARGET_DIR="$TARGET_DIR"
echo "$("$RUSTC" --version); $("$CARGO" --version); $(qemu-system-arm --version | head -1); $(qemu-system-riscv32 --version | head -1 | sed 's/ version / riscv32 /')"
echo "target dir: $TARGET_DIR"

# ---------------------------------------------------------------------------------------------------
step_lib() {
    section "lib: no_std builds of edge-reflex"
    local spec command target features
    # command:target:features. The optional features together (the host CI builds each alone); on
    # the other cores they are type-checked only: the code is the same as on thumbv7em, what matters
    # there is that nothing needs std or atomics the core lacks, which `check` proves as well as
    # `build`. thumbv8m.main is checked for the Cortex-M33 (target-cpu, hence the DSP kernels'
    # path). The full builds of the library for thumbv8m.main and riscv32imc are the boards step's
    # qemu-m33, rp-pico2, qemu-rv32 and esp32c3 (built, and the QEMU ones run, there), so this step
    # only type-checks them, which keeps it short.
    for spec in build:thumbv7em-none-eabihf: build:thumbv7em-none-eabihf:defmt,serde,update,op-float,in-place \
        build:thumbv6m-none-eabi: check:thumbv6m-none-eabi:defmt,serde,update,op-float,in-place \
        check:thumbv8m.main-none-eabihf:defmt,serde,update \
        check:riscv32imc-unknown-none-elf:defmt,serde,update check:riscv32imac-unknown-none-elf:; do
        command="${spec%%:*}"
        spec="${spec#*:}"
        target="${spec%%:*}"
        features="${spec#*:}"
        echo "--- $command $target ${features:+--features $features}"
        (cd "$ROOT" && CARGO_TARGET_THUMBV8M_MAIN_NONE_EABIHF_RUSTFLAGS="-C target-cpu=cortex-m33" \
            "$CARGO" "$command" --release --quiet -Zbuild-std=core --target "$target" \
            -p edge-reflex --lib ${features:+--features "$features"}) ||
            fail "edge-reflex does not $command for $target ${features:+with $features}"
    done
    echo "lib: ok"
}

# Boards: directories under boards/ with a Cargo.toml and a binary target.
ALL_BOARDS=()
for manifest in "$ROOT"/boards/*/Cargo.toml; do
    [ -e "$manifest" ] || continue
    dir="$(dirname "$manifest")"
    [ -f "$dir/src/main.rs" ] || [ -d "$dir/src/bin" ] || continue
    ALL_BOARDS+=("$(basename "$dir")")
done
BOARDS=()
if [ ${#BOARDS_WANTED[@]} -gt 0 ]; then
    for b in "${BOARDS_WANTED[@]}"; do
        [ -f "$ROOT/boards/$b/Cargo.toml" ] || fail "no board boards/$b"
        BOARDS+=("$b")
    done
else
    BOARDS=("${ALL_BOARDS[@]}")
fi

# The [build] target of a board's .cargo/config.toml.
board_target() {
    local config="$ROOT/boards/$1/.cargo/config.toml"
    [ -f "$config" ] || return 1
    sed -n 's/^[[:space:]]*target[[:space:]]*=[[:space:]]*"\([^"]*\)".*/\1/p' "$config" | head -1
}

# The executables a board's release build produced (cargo lists them; the build is fresh by then).
board_elfs() {
    (cd "$ROOT/boards/$1" && "$CARGO" build --release --quiet -Zbuild-std=core --message-format=json) |
        grep -o '"executable":"[^"]*"' | sed 's/"executable":"\(.*\)"/\1/'
}

step_boards() {
    section "boards: release builds (${BOARDS[*]:-none})"
    [ ${#BOARDS[@]} -gt 0 ] || { echo "no boards found"; return 0; }
    local b t0
    for b in "${BOARDS[@]}"; do
        [ -n "$(board_target "$b")" ] ||
            fail "boards/$b/.cargo/config.toml must set [build] target"
        t0=$SECONDS
        echo "--- $b ($(board_target "$b"))"
        (cd "$ROOT/boards/$b" && "$CARGO" build --release --quiet -Zbuild-std=core) ||
            fail "board $b does not build"
        echo "    built in $((SECONDS - t0))s"
    done
}

is_qemu_board() {
    grep -Eq '^[[:space:]]*runner[[:space:]]*=.*qemu-system-(arm|riscv32)' "$ROOT/boards/$1/.cargo/config.toml" 2>/dev/null
}

step_qemu() {
    local b rc t0 ran=0 failed=()
    for b in "${BOARDS[@]}"; do
        is_qemu_board "$b" || continue
        section "qemu: $b (timeout ${QEMU_TIMEOUT}s)"
        ran=$((ran + 1))
        t0=$SECONDS
        set +e
        (cd "$ROOT/boards/$b" &&
            timeout --kill-after=10 "$QEMU_TIMEOUT" "$CARGO" run --release --quiet -Zbuild-std=core)
        rc=$?
        set -e
        if [ $rc = 124 ] || [ $rc = 137 ]; then
            echo "qemu: $b TIMED OUT after ${QEMU_TIMEOUT}s"
            failed+=("$b")
        elif [ $rc != 0 ]; then
            echo "qemu: $b exited with $rc"
            failed+=("$b")
        else
            echo "qemu: $b passed in $((SECONDS - t0))s"
        fi
    done
    [ $ran -gt 0 ] || echo "no QEMU boards selected"
    [ ${#failed[@]} = 0 ] || fail "QEMU board(s) failed: ${failed[*]}"
}

step_selftest() {
    local b rc log ran=0 failed=()
    section "selftest: an altered output must fail each QEMU board"
    for b in "${BOARDS[@]}"; do
        is_qemu_board "$b" || continue
        ran=$((ran + 1))
        log="$TARGET_DIR/selftest-$b.log"
        set +e
        (cd "$ROOT/boards/$b" && BOARD_SELFTEST=mismatch timeout --kill-after=10 "$QEMU_TIMEOUT" \
            "$CARGO" run --release --quiet -Zbuild-std=core) >"$log" 2>&1
        rc=$?
        set -e
        # The first case must fail on its first sample's first output, every graph run must differ
        # from the host, and the firmware must exit non-zero.
        if [ $rc != 0 ] && [ $rc != 124 ] && [ $rc != 137 ] &&
            grep -m1 '^case ' "$log" | grep -q 'FAIL .*sample 0 output 0' &&
            ! grep '^graph ' "$log" | grep -vq 'FAIL'; then
            echo "selftest: $b failed as it must ($(grep -m1 '^case ' "$log" | tr -s ' '); $(grep -c '^graph .*FAIL' "$log") graph run(s) differ)"
        else
            echo "selftest: $b did NOT fail on an altered output (exit $rc); its log:"
            sed 's/^/    /' "$log"
            failed+=("$b")
        fi
    done
    [ $ran -gt 0 ] || echo "no QEMU boards selected"
    # Leave the normal firmware in place (the selftest build replaced it).
    for b in "${BOARDS[@]}"; do
        is_qemu_board "$b" || continue
        (cd "$ROOT/boards/$b" && "$CARGO" build --release --quiet -Zbuild-std=core)
    done
    [ ${#failed[@]} = 0 ] || fail "the QEMU check cannot fail on: ${failed[*]}"
}

# Prints "flash ram" in bytes for an ELF (sections by name, from llvm-size -A).
elf_size() {
    llvm-size-22 -A "$1" | awk '
        $1 == ".vector_table" || $1 == ".boot2" || $1 == ".start_block" || $1 == ".flash.appdesc" || $1 == ".trap" || $1 == ".rwtext" || $1 == ".text" || $1 == ".rodata" || $1 == ".gnu.sgstubs" { flash += $2 }
        $1 == ".data" { flash += $2; ram += $2 }
        $1 == ".bss" || $1 == ".uninit" { ram += $2 }
        END { printf "%d %d\n", flash, ram }'
}

# The LENGTH of a region (FLASH or RAM) in a board's memory.x, in bytes (empty when not found).
region_bytes() {
    local memx="$ROOT/boards/$1/memory.x" len
    [ -f "$memx" ] || return 0
    len="$(grep -E "^[[:space:]]*$2[[:space:]]*(\([^)]*\))?[[:space:]]*:" "$memx" | head -1 |
        sed -n 's/.*LENGTH[[:space:]]*=[[:space:]]*\([0-9A-Fa-fxX]*[KkMm]\{0,1\}\).*/\1/p')"
    case "$len" in
        "") ;;
        *[Kk]) echo $((${len%?} * 1024)) ;;
        *[Mm]) echo $((${len%?} * 1024 * 1024)) ;;
        *) echo $((len)) ;;
    esac
}

# "(P% of N KiB)", with "!" appended above 90 % (little room left for the code to grow).
pct() {
    [ -n "$2" ] && [ "$2" -gt 0 ] &&
        awk -v a="$1" -v b="$2" 'BEGIN { printf "(%.1f%% of %d KiB)%s", 100 * a / b, b / 1024, (a > 0.9 * b) ? "!" : "" }'
}

step_sizes() {
    section "sizes: flash / static RAM from the release ELFs"
    local b elf flash ram
    printf '%-20s %-20s %10s %-24s %10s %s\n' board firmware "flash B" "" "RAM B" ""
    for b in "${BOARDS[@]}"; do
        while read -r elf; do
            [ -n "$elf" ] || continue
            read -r flash ram < <(elf_size "$elf")
            printf '%-20s %-20s %10d %-24s %10d %s\n' "$b" "$(basename "$elf")" "$flash" \
                "$(pct "$flash" "$(region_bytes "$b" FLASH)")" "$ram" \
                "$(pct "$ram" "$(region_bytes "$b" RAM)")"
        done < <(board_elfs "$b")
    done
    echo "(RAM is static data only; the stack takes the rest of RAM. \"!\": over 90 % used.)"
}

[ "${RUN[lib]}" = 1 ] && timed lib step_lib
[ "${RUN[boards]}" = 1 ] && timed boards step_boards
[ "${RUN[sizes]}" = 1 ] && timed sizes step_sizes
[ "${RUN[qemu]}" = 1 ] && timed qemu step_qemu
[ "${RUN[selftest]}" = 1 ] && timed selftest step_selftest

section "embedded-check: OK in $((SECONDS - T_START))s"
printf '  %s\n' "${TIMINGS[@]}"
