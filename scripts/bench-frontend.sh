#!/usr/bin/env bash
# Instruction counts of the signal front-end on the emulated Cortex-M4F (QEMU mps2-an386) and
# Cortex-M0 (QEMU microbit), with the counting plugin of scripts/bench.sh (scripts/bench-op-count.c):
# boards/bench-frontend runs each measured piece between bench_begin and bench_end (see its
# src/main.rs), and this script prints the rows of docs/benchmarks.md's "Signal front-ends" section:
#
#   - micro_speech front-end, per 20 ms frame (320 new samples; mean and largest of frames 1..48 of
#     yes_1000ms; frame 0 takes the first 480 samples and is left out);
#   - the micro_speech model, one inference;
#   - keyword spotting per 20 ms frame: front-end + model / 4 (model every 4th frame), and on the
#     Cortex-M4F the whole graph measured (Window -> MicroSpeechStage -> EveryNth(4) -> model, fed
#     sample by sample, 100 frames with 25 inferences);
#   - microfft's 256-point real FFT (`rfft_256`, one call);
#   - the share of a 64 MHz core (1,280,000 instructions per 20 ms at one instruction per cycle) that
#     keyword spotting takes, computed and (M4) measured through the graph.
#
#   bash scripts/bench-frontend.sh            # both targets
#   bash scripts/bench-frontend.sh --target m4
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TARGET_DIR="${EMBEDDED_TARGET_DIR:-$ROOT/target/embedded}"
TARGETS=(m4 m0)
while [ $# -gt 0 ]; do
    case "$1" in
        --target) shift; TARGETS=("${1:?--target needs m4 or m0}") ;;
        -h | --help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
        *) echo "unknown argument: $1" >&2; exit 2 ;;
    esac
    shift
done

source "$ROOT/scripts/toolchain.sh" >/dev/null
mkdir -p "$ROOT/target/bench"
PLUGIN="$ROOT/target/bench/bench-op-count.so"
cc -O2 -shared -fPIC -Wall -Wextra -o "$PLUGIN" "$ROOT/scripts/bench-op-count.c"

echo "| target | front-end per 20 ms frame (mean / max) | model per inference | keyword spotting per frame: front-end + model / 4 | graph per frame (measured) | 64 MHz core at 1 insn/cycle | microfft rfft_256 |"
echo "| --- | --- | --- | --- | --- | --- | --- |"
for t in "${TARGETS[@]}"; do
    case "$t" in
        m4) triple=thumbv7em-none-eabihf machine="-machine mps2-an386 -cpu cortex-m4" name="Cortex-M4F" ;;
        m0) triple=thumbv6m-none-eabi machine="-machine microbit -cpu cortex-m0" name="Cortex-M0" ;;
        *) echo "unknown target: $t" >&2; exit 2 ;;
    esac
    (cd "$ROOT/boards/bench-frontend" && CARGO_TARGET_DIR="$TARGET_DIR" "$EMBEDDED_CARGO" build -q \
        --release -Zbuild-std=core --target "$triple")
    elf="$TARGET_DIR/$triple/release/bench-frontend"
    start=$(llvm-nm-22 "$elf" | awk '$3 == "bench_begin" { print $1 }')
    stop=$(llvm-nm-22 "$elf" | awk '$3 == "bench_end" { print $1 }')
    counts="$ROOT/target/bench/frontend-$t.insn"
    rm -f "$counts"
    # shellcheck disable=SC2086
    timeout --kill-after=5 300 qemu-system-arm $machine -nographic -monitor none -serial none \
        -semihosting-config enable=on,target=native \
        -plugin "$PLUGIN,start=$start,stop=$stop,mode=each,out=$counts" -kernel "$elf" >&2
    awk -v name="$name" '
        $1 == "op_region" { r[$2] = $3; n = ($2 + 1 > n) ? $2 + 1 : n }
        END {
            for (k = 1; k <= 48; k++) { sum += r[k]; if (r[k] > max) max = r[k] }
            fe = sum / 48; model = r[49]; fft = r[50]
            kws = fe + model / 4
            graph = (n > 52) ? sprintf("%.0f (without the model: %.0f)", r[51] / 100, r[52] / 100) : "does not fit (16 KiB RAM)"
            budget = 64e6 * 0.020
            share = sprintf("%.1f%%", kws / budget * 100)
            if (n > 51) share = share sprintf(" (graph: %.1f%%)", r[51] / 100 / budget * 100)
            printf "| %s | %.0f / %d | %d | %.0f | %s | %s | %d |\n", name, fe, max, model, kws, graph, share, fft
        }' "$counts"
done
