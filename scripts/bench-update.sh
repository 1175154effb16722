#!/usr/bin/env bash
# Figures of the model update path (docs/updates.md), on the emulated Cortex-M4F (QEMU mps2-an386):
#
#   bash scripts/bench-update.sh
#
# - verify: boards/qemu-update's `verify-bench` firmware (`--features bench`) verifies one bundle
#   (parse, SHA-256 of the body, Ed25519 of the digest) between two markers; the instructions in
#   between are counted with scripts/bench-op-count.c. Bundles of person_detect (the default,
#   ~300 KB, no plan) and of hello_world (~3 KB), so the difference is the SHA-256 of the bytes.
# - flash: the code and read-only data of the update path in the qemu-update firmware, from the
#   symbol sizes (llvm-nm-22 -S -C), grouped by crate/module.
# - RAM: what the firmware prints (the Updater's size, the stack of the whole run and of a verify).
# - salty: the same verification with salty's Ed25519 (`--features bench-salty`), for comparison.
# Prints `update-...` lines; nothing is written to docs/ (the figures there are copied by hand).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=scripts/toolchain.sh
source "$ROOT/scripts/toolchain.sh" >/dev/null
export CARGO_TARGET_DIR="${EMBEDDED_TARGET_DIR:-$ROOT/target/embedded}"
BENCH_DIR="$ROOT/target/bench"
mkdir -p "$BENCH_DIR"
INSN_SO="$BENCH_DIR/bench-op-count.so"
cc -O2 -shared -fPIC -Wall -Wextra -o "$INSN_SO" "$ROOT/scripts/bench-op-count.c"
BOARD="$ROOT/boards/qemu-update"
RELEASE="$CARGO_TARGET_DIR/thumbv7em-none-eabihf/release"
QEMU=(qemu-system-arm -cpu cortex-m4 -machine mps2-an386 -nographic -monitor none -serial none
    -semihosting-config enable=on,target=native)

sym_addr() { llvm-nm-22 "$1" | awk -v s="$2" '$3 == s { print $1; exit }'; }

# Sum of the sizes (code and read-only data) of the symbols of $1 whose demangled name matches $2.
sym_bytes() {
    local total=0 size kind name
    while read -r _ size kind name; do
        case "$kind" in t | T | r | R) ;; *) continue ;; esac
        [[ "$name" =~ $2 ]] && total=$((total + 16#$size))
    done < <(llvm-nm-22 -S -C "$1")
    echo "$total"
}

for features in bench bench-salty; do
    for model in tests/data/conformance/tflm_person_detect/model.tflite \
        tests/data/conformance/tflm_hello_world/model.tflite; do
        (cd "$BOARD" && BENCH_UPDATE_MODEL="$model" "$EMBEDDED_CARGO" build --release --quiet \
            --features "$features" --bin verify-bench)
        elf="$RELEASE/verify-bench"
        out="$BENCH_DIR/verify-m4.insn"
        rm -f "$out"
        line=$("${QEMU[@]}" -plugin "$INSN_SO,start=$(sym_addr "$elf" bench_begin),stop=$(sym_addr "$elf" bench_end),out=$out" \
            -kernel "$elf")
        insns=$(awk '/^insn_region/ { print $2 }' "$out")
        verifier=$(sed -n 's/^verify-bench (\([^)]*\)).*/\1/p' <<<"$line")
        bytes=$(sed -n 's/.*: \([0-9]*\) B bundle.*/\1/p' <<<"$line")
        stack=$(sed -n 's/.*stack \([0-9]*\) B.*/\1/p' <<<"$line")
        ed=$(sym_bytes "$elf" 'ed25519_compact::|salty::|fe25519_|subtle::')
        sha=$(sym_bytes "$elf" 'sha2::')
        echo "update-verify verifier=$verifier model=$model target=m4 bundle=$bytes insns=$insns" \
            "stack=$stack ed25519_flash=$ed sha256_flash=$sha"
    done
done

# Cortex-M0 (the micro:bit, 256 KiB flash): person_detect's bundle does not fit, so a 2,896 B and a
# 98 KB bundle (hello_world, MLPerf Tiny's ResNet-8) give the fixed cost and the cost per byte.
for model in tests/data/mlperf-tiny/mlperf_ic_resnet8/model.tflite \
    tests/data/conformance/tflm_hello_world/model.tflite; do
    (cd "$BOARD" && BENCH_UPDATE_MODEL="$model" "$EMBEDDED_CARGO" build --release --quiet \
        --features bench --bin verify-bench --target thumbv6m-none-eabi)
    elf="$CARGO_TARGET_DIR/thumbv6m-none-eabi/release/verify-bench"
    out="$BENCH_DIR/verify-m0.insn"
    rm -f "$out"
    line=$(qemu-system-arm -cpu cortex-m0 -machine microbit -nographic -monitor none -serial none \
        -semihosting-config enable=on,target=native \
        -plugin "$INSN_SO,start=$(sym_addr "$elf" bench_begin),stop=$(sym_addr "$elf" bench_end),out=$out" \
        -kernel "$elf")
    echo "update-verify verifier=ed25519-compact model=$model target=m0" \
        "bundle=$(sed -n 's/.*: \([0-9]*\) B bundle.*/\1/p' <<<"$line")" \
        "insns=$(awk '/^insn_region/ { print $2 }' "$out")" \
        "stack=$(sed -n 's/.*stack \([0-9]*\) B.*/\1/p' <<<"$line")" \
        "ed25519_flash=$(sym_bytes "$elf" 'ed25519_compact::') sha256_flash=$(sym_bytes "$elf" 'sha2::')"
done

# The firmware as CI builds it (without the bench feature), its run, and its update code.
(cd "$BOARD" && "$EMBEDDED_CARGO" build --release --quiet)
elf="$RELEASE/qemu-update"
run=$("${QEMU[@]}" -kernel "$elf")
echo "update-run $(grep -o 'updater [0-9]* B' <<<"$run" | tr -d ' B' | sed 's/updater/updater=/') \
stack=$(sed -n 's/^stack: \([0-9]*\) of.*/\1/p' <<<"$run")"
declare -A part=()
total=0
while read -r _ size kind name; do
    case "$kind" in t | T | r | R) ;; *) continue ;; esac
    case "$name" in
        *ed25519_compact::*) group=ed25519-compact ;;
        *sha2::*) group=sha2 ;;
        *crc::* | *crc_catalog*) group=crc ;;
        *edge_reflex::update::*) group=edge_reflex::update ;;
        *) continue ;;
    esac
    part[$group]=$((${part[$group]:-0} + 16#$size))
    total=$((total + 16#$size))
done < <(llvm-nm-22 -S -C --size-sort "$elf")
for group in "${!part[@]}"; do echo "update-flash part=$group bytes=${part[$group]}"; done | sort
echo "update-flash part=total bytes=$total"
