#!/usr/bin/env bash
# The benchmark of issue 6: instructions per inference, flash, arena and stack of every conformance model
# on the emulated Cortex-M4F (QEMU mps2-an386) and Cortex-M0 (QEMU microbit), and a per-operator profile.
#
#   bash scripts/bench.sh                 # every model on m4 and m0, profile on m4, rewrites docs/benchmarks.md
#   bash scripts/bench.sh --quick         # tflm_hello_world + tflm_micro_speech only; docs untouched (CI)
#   bash scripts/bench.sh --model tflm_person_detect --target m4   # repeatable; docs untouched
#   bash scripts/bench.sh --model mlperf-tiny/mlperf_kws --target m4
#   bash scripts/bench.sh --model mlperf-tiny/mlperf_vww --target m0-an386   # thumbv6m code, M4 machine memory
#   BENCH_MODEL=conformance-next/avg_pool bash scripts/bench.sh      # the same as --model (one model)
#   options: --no-profile  --no-docs  --docs (force the rewrite)  --runs N (override the run count)
#            --no-load (skip the second build of each model that loads and plans on the device)
#            --all-kernels (link every kernel variant, not only those the model's plan uses)
#            --in-place (build the firmware, its build script's prebuilt plan and the CLI with the
#                        engine's `in-place` feature, for the models with convolutions: they run
#                        in place where that lowers the arena; lines carry `in_place=1`; docs
#                        untouched)
#
# A model is a fixture case of tests/data: `set/case` (sets: conformance, conformance-next, mlperf-tiny),
# or a bare case name looked up in every set. The full run (no --model) takes every case of
# tests/data/conformance and tests/data/mlperf-tiny. For each (target, model) it builds boards/bench
# (BENCH_BOARD=<target>) with
# BENCH_MODEL=<model> (release, LTO; the firmware embeds the model and sample 0, sizes its arena at build
# time with the engine, runs N inferences between bench_begin/bench_end and checks every output), runs
# it under QEMU with the repository's counting plugin scripts/bench-op-count.c (compiled here into
# target/bench/), and prints (NAME: the bare case name)
#
#   bench model=NAME target=m4 insns=N flash=N flash_no_model=N plan=N arena=N stack=N stack_invoke=N macs=N
#
# The firmware runs the model's prebuilt plan (made at build time by engine::build, stored in flash: the
# `plan` bytes, counted in flash_no_model). Each model is built once more with BENCH_ENGINE=load, where the
# firmware loads, checks and plans the model itself, and reported as `bench-load model=... insns=N
# flash=N flash_no_model=N arena=N stack=N stack_invoke=N` (skip with --no-load).
#
#   insns          instructions of one inference: insn_region / regions (exact; QEMU counts every one)
#   flash          vector table + .text + .rodata + .data of the ELF (llvm-size-22), minus the embedded
#                  test input and expected output (as issue 6's anchors: flash excludes the test inputs)
#   flash_no_model the same minus the model's bytes (the BENCH_MODEL symbol)
#   arena          bytes of the engine's arena (exact, as planned)
#   stack          stack high-water of the whole firmware (painted stack); stack_invoke: during invoke only
#   macs           multiply-accumulates of the model (reflex inspect), when the CLI builds
#
# A model whose arena/model does not fit the M0 (16 KB RAM / 256 KB flash) is built again as the same
# thumbv6m firmware linked for QEMU's mps2-an386 (4 MB + 4 MB; thumbv6m code runs unchanged on that
# Cortex-M4 machine and counts the same instructions) and run there; its lines carry
# `machine=mps2-an386`. With the profile (default on m4) each model is built a second time with
# BENCH_PROFILE=ops (markers around every operator of one inference; needs the engine's profiling hook)
# and run under scripts/bench-op-count.c, printing `bench-op model=NAME target=m4 op=K name=OP insns=N
# macs=N stack=N` (also on m0 for the mlperf-tiny models) (stack: high-water while that operator ran, from the top of the stack). Where the
# flash goes (scripts/bench-flash-parts.sh) is recorded as `bench-flash` lines in
# target/bench/results.txt. The full run rewrites the generated part of docs/benchmarks.md. Exits
# non-zero if any model failed (build error, wrong output, stack overflow, fault, timeout).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
FIXTURES="${EDGE_REFLEX_FIXTURES:-$ROOT/tests/data}"
FIXTURE_SETS=(conformance conformance-next mlperf-tiny)
BENCH_DIR="$ROOT/target/bench"
TARGET_DIR="${EMBEDDED_TARGET_DIR:-$ROOT/target/embedded}"
QEMU_TIMEOUT="${QEMU_TIMEOUT:-300}"

usage() { awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "${BASH_SOURCE[0]}"; }

TARGETS=()
MODELS=()
QUICK=0
PROFILE=1
LOAD=1
ALL_KERNELS=0
IN_PLACE=0
DOCS=auto
RUNS_OVERRIDE=""
while [ $# -gt 0 ]; do
    case "$1" in
        --quick) QUICK=1 ;;
        --target) shift; TARGETS+=("${1:?--target needs m4, m0, m0-an386, m33 or rv32}") ;;
        --model) shift; MODELS+=("${1:?--model needs a case name}") ;;
        --no-profile) PROFILE=0 ;;
        --no-load) LOAD=0 ;;
        --all-kernels) ALL_KERNELS=1 ;;
        --in-place) IN_PLACE=1 ;;
        --no-docs) DOCS=0 ;;
        --docs) DOCS=1 ;;
        --runs) shift; RUNS_OVERRIDE="${1:?--runs needs a number}" ;;
        -h | --help) usage; exit 0 ;;
        *) echo "unknown argument: $1 (see --help)" >&2; exit 2 ;;
    esac
    shift
done
[ -n "${BENCH_MODEL:-}" ] && [ ${#MODELS[@]} -eq 0 ] && MODELS=("$BENCH_MODEL")
T_START=$SECONDS

[ -d "$FIXTURES/conformance" ] || { echo "bench: no fixtures at $FIXTURES/conformance" >&2; exit 1; }

# The directory of a model given as `set/case` or as a case name unique among the sets (the same
# lookup as boards/bench/bench_build.rs); fails when there is none or more than one.
case_dir() {
    local found=() set
    if [[ "$1" == */* ]]; then
        [ -f "$FIXTURES/$1/model.tflite" ] && found+=("$FIXTURES/$1")
    else
        for set in "${FIXTURE_SETS[@]}"; do
            [ -f "$FIXTURES/$set/$1/model.tflite" ] && found+=("$FIXTURES/$set/$1")
        done
    fi
    case ${#found[@]} in
        1) echo "${found[0]}" ;;
        0) echo "bench: no case $1 in $FIXTURES (sets: ${FIXTURE_SETS[*]})" >&2; return 1 ;;
        *) echo "bench: case $1 is in several sets, give it as set/$1" >&2; return 1 ;;
    esac
}
# shellcheck source=scripts/toolchain.sh
source "$ROOT/scripts/toolchain.sh" || { echo "bench: Debian cross toolchain unavailable" >&2; exit 1; }
CARGO="$EMBEDDED_CARGO"
export CARGO_TARGET_DIR="$TARGET_DIR"

# The targets of issue 15, apart from m4/m0: `extra_target TARGET FIELD` prints field 1 (QEMU machine
# arguments), 2 (Rust target) or 3 (QEMU binary) of boards/bench with BENCH_BOARD=TARGET; fails for
# an unknown target.
extra_target() {
    local spec
    case "$1" in
        m33) spec="-machine mps2-an505 -cpu cortex-m33|thumbv8m.main-none-eabihf|qemu-system-arm" ;;
        rv32) spec="-machine virt -bios none -m 32M|riscv32imc-unknown-none-elf|qemu-system-riscv32" ;;
        *) return 1 ;;
    esac
    cut -d'|' -f"$2" <<<"$spec"
}
qemu_for() { case "$1" in m4 | m0 | m0-an386) echo qemu-system-arm ;; *) extra_target "$1" 3 ;; esac; }

[ ${#TARGETS[@]} -gt 0 ] || TARGETS=(m4 m0)
for t in "${TARGETS[@]}"; do
    case "$t" in m4 | m0 | m0-an386) ;; *) extra_target "$t" 1 >/dev/null || { echo "bench: unknown target $t (m4, m0, m0-an386, m33 or rv32)" >&2; exit 2; } ;; esac
done
if [ ${#MODELS[@]} -eq 0 ]; then
    if [ $QUICK = 1 ]; then
        MODELS=(tflm_hello_world tflm_micro_speech)
    else
        for d in "$FIXTURES/conformance"/*/; do
            [ -f "$d/model.tflite" ] && MODELS+=("$(basename "$d")")
        done
        for d in "$FIXTURES/mlperf-tiny"/*/; do
            [ -f "$d/model.tflite" ] && MODELS+=("mlperf-tiny/$(basename "$d")")
        done
    fi
    [ "$DOCS" = auto ] && [ $QUICK = 0 ] && DOCS=1
fi
[ "$DOCS" = auto ] && DOCS=0
# The generated tables are the default build's: an --in-place run never rewrites them.
[ $IN_PLACE = 1 ] && DOCS=0

# --- tools ------------------------------------------------------------------------------------------
mkdir -p "$BENCH_DIR"
# One plugin: sums of the marked regions (mode=sum, the default) or each region (mode=each).
INSN_SO="$BENCH_DIR/bench-op-count.so"
cc -O2 -shared -fPIC -Wall -Wextra -o "$INSN_SO" "$ROOT/scripts/bench-op-count.c"

# MACs per operator from the host CLI (`reflex inspect --json`); optional. Built with the host
# toolchain (not the Debian cross one that toolchain.sh exported), so it reuses the host's target/debug.
REFLEX=""
# With --in-place, the CLI's engine has the feature too (its plans are the firmware's).
if (cd "$ROOT" && env -u RUSTC -u RUSTC_BOOTSTRAP -u CARGO_TARGET_DIR cargo build --quiet \
    -p edge-reflex-cli $([ $IN_PLACE = 1 ] && echo "--features in-place") 2>/dev/null); then
    REFLEX="$ROOT/target/debug/reflex"
fi
# Prints "INDEX NAME MACS" per operator of a model file.
op_macs() {
    [ -n "$REFLEX" ] || return 0
    "$REFLEX" inspect --json "$1" 2>/dev/null |
        sed -n 's/.*"index": \([0-9]*\), "name": "\([A-Z0-9_]*\)".*"macs": \([0-9]*\)}.*/\1 \2 \3/p'
}

# Cargo arguments that build the firmware with only the operator families `$1` (a model file)
# uses (see docs/engine.md); nothing (every family) when the CLI is unavailable.
op_features() {
    local names feats=""
    names=$(op_macs "$1" | awk '{ print $2 }' | sort -u)
    [ -n "$names" ] || return 0
    for n in $names; do
        case "$n" in
            FULLY_CONNECTED) feats+=",edge-reflex/op-fully-connected" ;;
            CONV_2D | DEPTHWISE_CONV_2D) feats+=",edge-reflex/op-conv" ;;
            AVERAGE_POOL_2D | MAX_POOL_2D) feats+=",edge-reflex/op-pool" ;;
            SOFTMAX) feats+=",edge-reflex/op-softmax" ;;
            LOGISTIC | TANH) feats+=",edge-reflex/op-lut" ;;
            ADD | MUL) feats+=",edge-reflex/op-arith" ;;
            QUANTIZE | DEQUANTIZE) feats+=",edge-reflex/op-quantize" ;;
            MEAN) feats+=",edge-reflex/op-mean" ;;
            CONCATENATION | PAD | SPACE_TO_BATCH_ND | BATCH_TO_SPACE_ND) feats+=",edge-reflex/op-layout" ;;
            SHAPE | STRIDED_SLICE | PACK) feats+=",edge-reflex/op-shape" ;;
            UNIDIRECTIONAL_SEQUENCE_LSTM) feats+=",edge-reflex/op-lstm" ;;
            RESHAPE | EXPAND_DIMS | SQUEEZE) ;;
            *) return 0 ;; # unknown to this list: build everything
        esac
    done
    # float32 and dynamic-range models (conformance-next's `float` tier) need the float kernels
    grep -q '"tier": "float"' "$(dirname "$1")/case.json" 2>/dev/null && feats+=",edge-reflex/op-float"
    [ -n "$feats" ] && echo "--no-default-features --features ${feats#,}"
}

# The kernel variants the model's plan uses (`reflex inspect --kernels`), for EDGE_REFLEX_KERNELS:
# the firmware links only those (src/engine/kernels/linked.rs); empty (every variant) without the CLI.
kernel_list() {
    [ -n "$REFLEX" ] || return 0
    "$REFLEX" inspect --kernels "$1" 2>/dev/null | sed -n 's/^EDGE_REFLEX_KERNELS=//p'
}

# The QEMU machine of the m0 firmware being built and run: empty for the micro:bit, `mps2-an386` for
# a model that does not fit it (bench_one and profile_one set it for that model only).
M0_MACHINE=""
machine_args() {
    case "$1" in
        m4) echo "-machine mps2-an386 -cpu cortex-m4" ;;
        m0) if [ "$M0_MACHINE" = mps2-an386 ]; then echo "-machine mps2-an386 -cpu cortex-m4"; else
            echo "-machine microbit -cpu cortex-m0"; fi ;;
        # thumbv6m code on the M4 machine's memory: the instructions counted are the M0's.
        m0-an386) echo "-machine mps2-an386 -cpu cortex-m4" ;;
        *) extra_target "$1" 1 ;;
    esac
}
rust_target() { case "$1" in m4) echo thumbv7em-none-eabihf ;; m0 | m0-an386) echo thumbv6m-none-eabi ;; *) extra_target "$1" 2 ;; esac; }

# Inferences per build: exact counts need one, a few more check that every run matches.
runs_for() {
    [ -n "$RUNS_OVERRIDE" ] && { echo "$RUNS_OVERRIDE"; return; }
    local bytes
    bytes=$(stat -c %s "$(case_dir "$1")/model.tflite")
    if [ "$bytes" -gt 100000 ]; then echo 1; elif [ "$bytes" -gt 10000 ]; then echo 2; else echo 5; fi
}

sym_addr() { llvm-nm-22 "$1" | awk -v s="$2" '$3 == s { print $1; exit }'; }
# Sum of the sizes of the symbols whose name matches the regex $2.
sym_bytes() {
    local s=0 addr size kind name
    while read -r addr size kind name; do
        [[ "$name" =~ $2 ]] && s=$((s + 16#$size))
    done < <(llvm-nm-22 -S "$1")
    echo "$s"
}
flash_bytes() {
    llvm-size-22 -A "$1" | awk '
        $1 == ".vector_table" || $1 == ".text" || $1 == ".rodata" || $1 == ".gnu.sgstubs" || $1 == ".data" { f += $2 }
        END { print f + 0 }'
}
field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<"$2" | head -1; }

# Builds boards/bench for a target (its BENCH_BOARD) and a model; copies the ELF to $BENCH_DIR/<target>/<model><suffix>.elf.
# Returns 3 when the model does not fit the board, 1 on any other build failure.
build_fw() { # target model runs profile(0/1) suffix [extra engine feature]
    local target="$1" model="$2" runs="$3" profile="$4" suffix="$5" extra="${6:-}" log elf
    log="$BENCH_DIR/$target/${model##*/}$suffix.build.log"
    mkdir -p "$BENCH_DIR/$target"
    local features board="$target" kernels
    features=$(op_features "$(case_dir "$model")/model.tflite")
    # A prebuilt plan fixes the variants; a firmware that plans on the device (BENCH_ENGINE=load)
    # links every variant of its families, as one that receives its model at run time must.
    kernels=""
    [ "${BENCH_ENGINE:-prebuilt}" = prebuilt ] && [ "$ALL_KERNELS" = 0 ] && kernels=$(kernel_list "$(case_dir "$model")/model.tflite")
    # M0 code for mps2-an386 (a model too big for the micro:bit): the same thumbv6m build on the M4
    # machine's memory map.
    if [ "$target" = m0 ] && [ "$M0_MACHINE" = mps2-an386 ]; then board=m0-an386; fi
    if [ -n "$extra" ]; then
        features="${features:---features edge-reflex/ops-all},edge-reflex/$extra"
    fi
    # boards/bench's `in-place` feature turns the engine's on for the firmware and for the build
    # script that writes the prebuilt plan (its build-dependency), so the two agree. Only for a
    # model with CONV_2D or DEPTHWISE_CONV_2D (the feature implies `op-conv`: on another model it
    # would link a family the model does not use, and tie nothing).
    if [ $IN_PLACE = 1 ] && { [ -z "$features" ] || [[ "$features" == *op-conv* ]]; }; then
        features="${features:---features all-ops},in-place"
    fi
    # shellcheck disable=SC2086
    if ! (cd "$ROOT/boards/bench" && BENCH_BOARD="$board" BENCH_MODEL="$model" BENCH_RUNS="$runs" \
        BENCH_PROFILE="$([ "$profile" = 1 ] && echo ops)" EDGE_REFLEX_FIXTURES="$FIXTURES" \
        BENCH_ENGINE="${BENCH_ENGINE:-prebuilt}" EDGE_REFLEX_KERNELS="$kernels" \
        "$CARGO" build --release --quiet -Zbuild-std=core --target "$(rust_target "$target")" \
            --bin bench $features) >"$log" 2>&1; then
        grep -q 'bench: does not fit' "$log" && return 3
        sed 's/^/    /' "$log" | tail -20 >&2
        return 1
    fi
    elf="$TARGET_DIR/$(rust_target "$target")/release/bench"
    cp "$elf" "$BENCH_DIR/$target/${model##*/}$suffix.elf"
}

# Runs an ELF under QEMU with a plugin; output (firmware + plugin file) into $3.
run_fw() { # target elf log plugin-args
    local target="$1" elf="$2" log="$3" plugin="$4"
    # shellcheck disable=SC2046
    timeout --kill-after=5 "$QEMU_TIMEOUT" "$(qemu_for "$target")" $(machine_args "$target") -nographic \
        -monitor none -serial none -semihosting-config enable=on,target=native \
        -plugin "$plugin" -kernel "$elf" >"$log" 2>&1
}

RESULTS="$BENCH_DIR/results.txt"
: >"$RESULTS"
FAILED=()
emit() {
    local line="$*${M0_MACHINE:+ machine=$M0_MACHINE}"
    [ $IN_PLACE = 1 ] && line+=" in_place=1"
    echo "$line"
    echo "$line" >>"$RESULTS"
}

bench_one() { # target model
    local target="$1" model="$2" runs elf log fw insn_line region regions insns flash test_bytes \
        model_bytes macs rc=0 plugin_out
    runs=$(runs_for "$model")
    build_fw "$target" "$model" "$runs" 0 "" || rc=$?
    if [ $rc = 3 ] && [ "$target" = m0 ] && [ -z "$M0_MACHINE" ]; then
        M0_MACHINE=mps2-an386
        bench_one "$target" "$model"
        M0_MACHINE=""
        return 0
    elif [ $rc = 3 ]; then
        emit "bench model=${model##*/} target=$target skipped=does-not-fit ($(grep -o 'needs arena.*' \
            "$BENCH_DIR/$target/${model##*/}.build.log" | head -1))"
        return 0
    elif [ $rc != 0 ]; then
        emit "bench model=${model##*/} target=$target FAIL=build"
        FAILED+=("$target/$model")
        return 0
    fi
    elf="$BENCH_DIR/$target/${model##*/}.elf"
    log="$BENCH_DIR/$target/${model##*/}.run.log"
    plugin_out="$BENCH_DIR/$target/${model##*/}.insn"
    rm -f "$plugin_out"
    rc=0
    run_fw "$target" "$elf" "$log" \
        "$INSN_SO,start=$(sym_addr "$elf" bench_begin),stop=$(sym_addr "$elf" bench_end),out=$plugin_out" ||
        rc=$?
    fw=$(grep -m1 '^bench-fw ' "$log" || true)
    insn_line=$(grep -m1 '^insn_region' "$plugin_out" 2>/dev/null || true)
    if [ $rc != 0 ] || [ -z "$insn_line" ] || ! grep -q '^bench-fw case=' <<<"$fw"; then
        local why
        why=$(sed -n 's/^bench-fw FAIL //p' "$log" | head -1)
        if [ $rc = 124 ] || [ $rc = 137 ]; then why="timeout after ${QEMU_TIMEOUT}s"; fi
        emit "bench model=${model##*/} target=$target FAIL=${why// /_}"
        sed 's/^/    /' "$log" | tail -5 >&2
        FAILED+=("$target/$model")
        return 0
    fi
    region=$(awk '{ print $2 }' <<<"$insn_line")
    regions=$(awk '{ print $4 }' <<<"$insn_line")
    [ "$regions" = "$runs" ] || echo "bench: $model: $regions regions for $runs runs" >&2
    insns=$((region / regions))
    test_bytes=$(sym_bytes "$elf" '^BENCH_(INPUT|EXPECTED)_[0-9]+$')
    model_bytes=$(sym_bytes "$elf" '^BENCH_MODEL$')
    plan_bytes=$(sym_bytes "$elf" '^BENCH_PLAN$')
    flash=$(($(flash_bytes "$elf") - test_bytes))
    macs=$(op_macs "$(case_dir "$model")/model.tflite" | awk '{ s += $3 } END { if (NR) print s }')
    emit "bench model=${model##*/} target=$target insns=$insns flash=$flash flash_no_model=$((flash - model_bytes))" \
        "plan=$plan_bytes arena=$(field arena "$fw") stack=$(field stack "$fw")" \
        "stack_invoke=$(field stack_invoke "$fw") macs=${macs:--} runs=$runs"
    # where the flash goes (scripts/bench-flash-parts.sh), for the docs
    bash "$ROOT/scripts/bench-flash-parts.sh" "$elf" | while IFS=$'\t' read -r bytes part; do
        echo "bench-flash model=${model##*/} target=$target bytes=$bytes part=$part" >>"$RESULTS"
    done
    # A pruned model is also run as dense (engine feature dense-only: no zero-weight skipping).
    case "$model" in pruned*) bench_dense "$target" "$model" "$runs" ;; esac
    [ "$LOAD" = 0 ] || bench_load "$target" "$model"
}

# Runs an already built variant ($BENCH_DIR/<target>/<model><suffix>.elf) under the counting plugin and
# prints `INSNS_PER_INFERENCE FIRMWARE_LINE`; returns 1 if it failed or reported no region.
count_variant() { # target model suffix
    local target="$1" model="$2" suffix="$3" elf log out line fw rc=0
    elf="$BENCH_DIR/$target/${model##*/}$suffix.elf"
    log="$BENCH_DIR/$target/${model##*/}$suffix.run.log"
    out="$BENCH_DIR/$target/${model##*/}$suffix.insn"
    rm -f "$out"
    run_fw "$target" "$elf" "$log" \
        "$INSN_SO,start=$(sym_addr "$elf" bench_begin),stop=$(sym_addr "$elf" bench_end),out=$out" ||
        rc=$?
    line=$(grep -m1 '^insn_region' "$out" 2>/dev/null || true)
    fw=$(grep -m1 '^bench-fw case=' "$log" || true)
    [ $rc = 0 ] && [ -n "$line" ] && [ -n "$fw" ] || return 1
    echo "$(($(awk '{ print $2 }' <<<"$line") / $(awk '{ print $4 }' <<<"$line"))) $fw"
}

# Prints `bench-load model=NAME target=T insns=N flash=N flash_no_model=N arena=N stack=N
# stack_invoke=N`: the same model loaded, checked and planned by the firmware itself
# (BENCH_ENGINE=load), as a firmware that receives its model at run time would.
bench_load() { # target model
    local target="$1" model="$2" elf result fw rc=0 test_bytes model_bytes flash
    BENCH_ENGINE=load build_fw "$target" "$model" 1 0 ".load" || rc=$?
    if [ $rc != 0 ]; then
        [ $rc = 3 ] && return 0
        emit "bench-load model=${model##*/} target=$target FAIL=build"
        FAILED+=("$target/$model(load)")
        return 0
    fi
    if ! result=$(count_variant "$target" "$model" ".load"); then
        emit "bench-load model=${model##*/} target=$target FAIL=run"
        FAILED+=("$target/$model(load)")
        return 0
    fi
    fw="${result#* }"
    elf="$BENCH_DIR/$target/${model##*/}.load.elf"
    test_bytes=$(sym_bytes "$elf" '^BENCH_(INPUT|EXPECTED)_[0-9]+$')
    model_bytes=$(sym_bytes "$elf" '^BENCH_MODEL$')
    flash=$(($(flash_bytes "$elf") - test_bytes))
    emit "bench-load model=${model##*/} target=$target insns=${result%% *} flash=$flash" \
        "flash_no_model=$((flash - model_bytes)) arena=$(field arena "$fw") stack=$(field stack "$fw")" \
        "stack_invoke=$(field stack_invoke "$fw")"
}

# Prints `bench-dense model=NAME target=T insns=N arena=N`: the model without zero-weight skipping.
bench_dense() { # target model runs
    local target="$1" model="$2" runs="$3" result
    build_fw "$target" "$model" "$runs" 0 ".dense" dense-only || return 0
    result=$(count_variant "$target" "$model" ".dense") || return 0
    emit "bench-dense model=${model##*/} target=$target insns=${result%% *} arena=$(field arena "${result#* }")"
}

profile_one() { # target model
    local target="$1" model="$2" elf log out rc=0 names
    build_fw "$target" "$model" 1 1 ".ops" || rc=$?
    if [ $rc = 3 ] && [ "$target" = m0 ] && [ -z "$M0_MACHINE" ]; then
        M0_MACHINE=mps2-an386
        profile_one "$target" "$model"
        M0_MACHINE=""
        return 0
    fi
    if [ $rc = 3 ]; then return 0; fi
    if [ $rc != 0 ]; then
        emit "bench-op model=${model##*/} target=$target FAIL=build"
        FAILED+=("$target/$model(profile)")
        return 0
    fi
    elf="$BENCH_DIR/$target/${model##*/}.ops.elf"
    log="$BENCH_DIR/$target/${model##*/}.ops.run.log"
    out="$BENCH_DIR/$target/${model##*/}.ops"
    rm -f "$out"
    run_fw "$target" "$elf" "$log" \
        "$INSN_SO,start=$(sym_addr "$elf" bench_op_begin),stop=$(sym_addr "$elf" bench_op_end),mode=each,out=$out" ||
        rc=$?
    if [ $rc != 0 ] || [ ! -s "$out" ]; then
        emit "bench-op model=${model##*/} target=$target FAIL=run"
        sed 's/^/    /' "$log" | tail -5 >&2
        FAILED+=("$target/$model(profile)")
        return 0
    fi
    names=$(sed -n -e 's/^bench-fw op=\([0-9]*\) name=\([A-Z0-9_]*\).*/name \1 \2/p' \
        -e 's/^bench-fw op=\([0-9]*\) stack=\([0-9a-z]*\).*/stack \1 \2/p' "$log")
    # join: op_region K N  +  name K NAME / stack K N  +  K NAME MACS
    awk -v model="${model##*/}" -v target="$target" '
        FILENAME == ARGV[1] { if ($1 == "name") name[$2] = $3; else stack[$2] = $3; next }
        FILENAME == ARGV[2] { macs[$1] = $3; next }
        $1 == "op_region" {
            printf "bench-op model=%s target=%s op=%d name=%s insns=%s macs=%s stack=%s\n", model, target,
                $2, ($2 in name) ? name[$2] : "?", $3, ($2 in macs) ? macs[$2] : "-",
                ($2 in stack) ? stack[$2] : "-"
        }' <(echo "$names") <(op_macs "$(case_dir "$model")/model.tflite") "$out" |
        while read -r line; do emit "$line"; done
}

for model in "${MODELS[@]}"; do case_dir "$model" >/dev/null || exit 2; done
for target in "${TARGETS[@]}"; do
    for model in "${MODELS[@]}"; do
        bench_one "$target" "$model"
    done
    if [ $PROFILE = 1 ]; then
        for model in "${MODELS[@]}"; do
            # M0 profiles: the MLPerf Tiny models only (the full run's time).
            if [ "$target" = m4 ] || [[ "$(case_dir "$model")" == */mlperf-tiny/* ]]; then
                profile_one "$target" "$model"
            fi
        done
    fi
done

ELAPSED=$((SECONDS - T_START))
echo "bench: ${#MODELS[@]} model(s) x ${#TARGETS[@]} target(s) in ${ELAPSED}s; lines in $RESULTS"

if [ "$DOCS" = 1 ]; then
    bash "$ROOT/scripts/bench-docs.sh" "$RESULTS" "$ROOT/docs/benchmarks.md" "$ELAPSED"
    echo "bench: rewrote docs/benchmarks.md"
fi

[ ${#FAILED[@]} = 0 ] || { echo "bench: FAILED: ${FAILED[*]}" >&2; exit 1; }
