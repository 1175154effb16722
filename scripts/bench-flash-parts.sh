#!/usr/bin/env bash
# Where a bench firmware's flash goes: sums the sizes of its code and read-only symbols by part of the
# program, from the symbol table (llvm-nm-22 -S -C).
#
#   bash scripts/bench-flash-parts.sh ELF     # prints "PART BYTES" lines, largest first
#
# Parts are named after the engine's layers (kernels, operator wiring = engine::ops, loading = the
# format/model/check layers, planner, interpreter = run layer ...), the compiler's runtime (soft-float double arithmetic, memcpy, 64-bit
# division), the harness, the model and the test data. Inlining moves code into its caller, so a part
# holds what the linker attributes to its functions: `harness` includes engine code that LTO inlined
# into the harness's `prepare` (loading and planning).
set -euo pipefail
ELF="${1:?ELF}"

llvm-nm-22 -S -C "$ELF" | while read -r addr size kind name; do
    # lines without a size have three fields; keep code and read-only data only
    [ -n "${name:-}" ] || continue
    case "$kind" in t | T | r | R | W | w) ;; *) continue ;; esac
    echo "$((16#$size)) $name"
done | awk '
    {
        s = $1; $1 = ""; n = substr($0, 2); part = "other (vector table, anonymous constants, core)"
        if (n ~ /^BENCH_MODEL$/) part = "model"
        else if (n ~ /^BENCH_PLAN$/) part = "prebuilt plan (tensor table + operator records)"
        else if (n ~ /^BENCH_(INPUT|EXPECTED)_/) part = "test data (not counted in flash)"
        else if (n ~ /edge_reflex::engine::kernels/) part = "engine::kernels"
        else if (n ~ /edge_reflex::engine::ops/) part = "engine::ops (per-operator prepare + eval wiring)"
        else if (n ~ /edge_reflex::engine::(format|model|check|error)/) part = "engine loader + validation (format, model, check layers)"
        else if (n ~ /edge_reflex::engine::(plan::planner|arena|record)/) part = "engine planner + records"
        else if (n ~ /edge_reflex::engine::(run|plan::prebuilt|plan::)/) part = "engine interpreter (incl. binding a prebuilt plan)"
        else if (n ~ /edge_reflex::engine::arith/) part = "engine::arith"
        else if (n ~ /edge_reflex/) part = "edge_reflex (other)"
        else if (n ~ /core::fmt/) part = "core::fmt"
        else if (n ~ /compiler_builtins::float|__aeabi_[dfil]|__aeabi_.2[dfil]/) part = "soft-float runtime (compiler_builtins)"
        else if (n ~ /compiler_builtins|__aeabi|^__/) part = "compiler_builtins (memcpy, 64-bit division, ...)"
        else if (n ~ /bench_m[04]|^bench_|^bench::|^<bench::|cortex_m|Reset|HardFault|DefaultHandler|__INTERRUPTS/) part = "harness + cortex-m-rt"
        bytes[part] += s
    }
    END { for (p in bytes) printf "%d\t%s\n", bytes[p], p }' | sort -rn
