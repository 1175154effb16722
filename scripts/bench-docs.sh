#!/usr/bin/env bash
# Rewrites the generated part of docs/benchmarks.md from scripts/bench.sh's result lines.
#
#   bash scripts/bench-docs.sh RESULTS DOC [ELAPSED_SECONDS]
#
# RESULTS holds `bench ...` and `bench-op ...` lines (target/bench/results.txt). Everything between
# `<!-- bench:begin -->` and `<!-- bench:end -->` in DOC is replaced; the text around it is kept (a
# missing DOC is created with just the markers). Called by scripts/bench.sh after a full run.
set -euo pipefail

RESULTS="${1:?results file}"
DOC="${2:?doc file}"
ELAPSED="${3:-?}"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

commit="$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)"
if [ -n "$(git -C "$ROOT" status --porcelain -- src boards/bench 2>/dev/null)" ]; then
    commit="$commit + uncommitted changes in src/ or boards/bench"
fi
toolchain="$(/usr/bin/rustc --version 2>/dev/null || echo rustc); $(qemu-system-arm --version | head -1)"

generated="$(mktemp)"
trap 'rm -f "$generated"' EXIT

awk -v commit="$commit" -v toolchain="$toolchain" -v elapsed="$ELAPSED" '
function kv(line, key,    m) {
    if (match(line, " " key "=[^ ]*")) return substr(line, RSTART + length(key) + 2, RLENGTH - length(key) - 2)
    return ""
}
function n(x,    s, neg) {                      # 1234567 -> 1,234,567
    if (x == "" || x == "-") return "-"
    if (x !~ /^[0-9]+$/) return x
    s = x ""
    while (match(s, /[0-9][0-9][0-9][0-9]([,.]|$)/)) s = substr(s, 1, RSTART) "," substr(s, RSTART + 1)
    return s
}
function ratio(a, b) { return (b > 0 && a != "-" && a != "" && a + 0 > 0) ? sprintf("%.3f", a / b) : "-" }
function yes(ok) { return ok ? "**met**" : "not met" }
$1 == "bench" {
    m = kv($0, "model"); t = kv($0, "target")
    key = t SUBSEP m
    if (!(key in seen)) { seen[key] = 1; order[t, ++count[t]] = m }
    if (index($0, " skipped=")) { status[key] = "does not fit"; next }
    if (index($0, " FAIL=")) { status[key] = "FAIL: " kv($0, "FAIL"); next }
    status[key] = "ok"
    insns[key] = kv($0, "insns"); flash[key] = kv($0, "flash"); nomodel[key] = kv($0, "flash_no_model")
    arena[key] = kv($0, "arena"); stack[key] = kv($0, "stack"); stackinv[key] = kv($0, "stack_invoke")
    macs[key] = kv($0, "macs"); plan[key] = kv($0, "plan")
}
$1 == "bench-load" {
    key = kv($0, "target") SUBSEP kv($0, "model")
    if (index($0, " FAIL=")) { lstatus[key] = "FAIL"; next }
    lstatus[key] = "ok"
    linsns[key] = kv($0, "insns"); lnomodel[key] = kv($0, "flash_no_model"); larena[key] = kv($0, "arena")
    lstack[key] = kv($0, "stack"); lstackinv[key] = kv($0, "stack_invoke")
    next
}
$1 == "bench-dense" {
    dense[kv($0, "target") SUBSEP kv($0, "model")] = kv($0, "insns")
    next
}
$1 == "bench-flash" {
    key = kv($0, "target") SUBSEP kv($0, "model")
    k = ++parts[key]
    partname[key, k] = substr($0, index($0, " part=") + 6); partbytes[key, k] = kv($0, "bytes")
    next
}
$1 == "bench-op" && !index($0, " FAIL=") {
    m = kv($0, "model"); t = kv($0, "target"); key = t SUBSEP m
    k = ++ops[key]
    opname[key, k] = kv($0, "name"); opinsns[key, k] = kv($0, "insns"); opmacs[key, k] = kv($0, "macs")
    opstack[key, k] = kv($0, "stack")
    opsum[key] += kv($0, "insns")
}
function cell(t, m,    key) {
    key = t SUBSEP m
    if (status[key] != "ok") return (key in status) ? status[key] : "not measured"
    return n(insns[key]) " insns; flash " n(flash[key]) " B (" n(nomodel[key]) " B without the model, of which " \
        n(plan[key]) " B plan); arena " n(arena[key]) " B; stack " n(stack[key]) " B; bit-exact" \
        ((lstatus[key] == "ok") ? "<br>loading on the device: flash " n(lnomodel[key]) " B without the model; arena " \
        n(larena[key]) " B; stack " n(lstack[key]) " B" : "")
}
function models_table(t,    i, m, key) {
    print "| model | MACs | insns / inference | MAC / insn | flash B | flash − model B (plan B) | arena B | stack B | loading on the device: flash − model B / arena B / stack B (all / invoke) |"
    print "|---|---:|---:|---:|---:|---:|---:|---:|---:|"
    for (i = 1; i <= count[t]; i++) {
        m = order[t, i]; key = t SUBSEP m
        if (status[key] != "ok") { printf "| %s | %s ||||||||\n", m, status[key]; continue }
        printf "| %s | %s | %s | %s | %s | %s (%s) | %s | %s | %s |\n", m, n(macs[key]), n(insns[key]),
            ratio(macs[key], insns[key]), n(flash[key]), n(nomodel[key]), n(plan[key]), n(arena[key]),
            n(stack[key]), (lstatus[key] == "ok") ? n(lnomodel[key]) " / " n(larena[key]) " / " n(lstack[key]) \
            " / " n(lstackinv[key]) : "-"
    }
    print ""
}
function flash_parts(t, m,    key, k) {
    key = t SUBSEP m
    if (!(key in parts)) return
    print "| " m " (" t ") | bytes |"
    print "|---|---:|"
    for (k = 1; k <= parts[key]; k++) printf "| %s | %s |\n", partname[key, k], n(partbytes[key, k])
    print ""
}
function op_tables(t, m,    key, k, name, types, tcount, tinsns, tmacs, tstack, i, j, tmp) {
    key = t SUBSEP m
    if (!(key in ops)) return
    print "#### " m " (" t ", " n(opsum[key]) " instructions in operators)"
    print ""
    # by operator type, in order of first appearance
    types = 0
    for (k = 1; k <= ops[key]; k++) {
        name = opname[key, k]
        if (!(name in tcount)) { types++; tname[types] = name; tcount[name] = 0; tinsns[name] = 0; tmacs[name] = 0 }
        tcount[name]++; tinsns[name] += opinsns[key, k]; tmacs[name] += (opmacs[key, k] == "-" ? 0 : opmacs[key, k])
        if (opstack[key, k] + 0 > tstack[name] + 0) tstack[name] = opstack[key, k]
    }
    # sort types by instructions, descending (insertion sort: a handful of types)
    for (i = 2; i <= types; i++) {
        tmp = tname[i]
        for (j = i - 1; j >= 1 && tinsns[tname[j]] < tinsns[tmp]; j--) tname[j + 1] = tname[j]
        tname[j + 1] = tmp
    }
    print "| operator | count | insns | share | MACs | MAC / insn | max stack B |"
    print "|---|---:|---:|---:|---:|---:|---:|"
    for (i = 1; i <= types; i++) {
        name = tname[i]
        printf "| %s | %d | %s | %.1f%% | %s | %s | %s |\n", name, tcount[name], n(tinsns[name]),
            opsum[key] ? 100 * tinsns[name] / opsum[key] : 0, n(tmacs[name]), ratio(tmacs[name], tinsns[name]),
            n(tstack[name])
    }
    print ""
    if (ops[key] > 1) {
        print "<details><summary>per operator</summary>"
        print ""
        print "| # | operator | insns | share | MACs | MAC / insn | stack B |"
        print "|---:|---|---:|---:|---:|---:|---:|"
        for (k = 1; k <= ops[key]; k++)
            printf "| %d | %s | %s | %.1f%% | %s | %s | %s |\n", k - 1, opname[key, k], n(opinsns[key, k]),
                opsum[key] ? 100 * opinsns[key, k] / opsum[key] : 0, n(opmacs[key, k]),
                ratio(opmacs[key, k], opinsns[key, k]), n(opstack[key, k])
        print ""
        print "</details>"
        print ""
    }
}
END {
    hw = "m4" SUBSEP "tflm_hello_world"; ms = "m4" SUBSEP "tflm_micro_speech"; pd = "m4" SUBSEP "tflm_person_detect"
    print "_Generated by `bash scripts/bench.sh` (" elapsed " s) at commit " commit "; " toolchain "._"
    print ""
    print "### Our engine beside the anchors (Cortex-M4F, QEMU mps2-an386)"
    print ""
    print "| model (conformance case) | TFLM reference kernels | TFLM + CMSIS-NN | MicroFlow 0.1.3 (Rust, opt-level 3) | edge-reflex |"
    print "|---|---|---|---|---|"
    print "| tflm_hello_world (288 MACs) | 5,271 insns; flash 23,556 B; arena 1,068 B; 8/10 exact | 3,507 insns; flash 31,364 B; arena 1,156 B; 8/10 exact | 10,360 insns; flash 10,676 B; RAM 776 B; 10/10 exact | " cell("m4", "tflm_hello_world") " |"
    print "| tflm_micro_speech (336,000 MACs) | 9,309,994 insns; flash 52,880 B; arena 6,800 B | 1,496,411 insns; flash 63,668 B; arena 6,836 B | 8,226,627 insns; flash 32,764 B; stack 18.8 KB | " cell("m4", "tflm_micro_speech") " |"
    print "| tflm_person_detect (7,157,888 MACs) | 95,596,527 insns; flash 338,404 B; arena 82,296 B | 22,932,939 insns; flash 344,908 B; arena 82,316 B | 414,543,643 insns; 0/6 exact; stack 164 KB | " cell("m4", "tflm_person_detect") " |"
    print ""
    print "### Issue 6 targets"
    print ""
    print "| target | goal | measured | |"
    print "|---|---|---|---|"
    if (status[hw] == "ok") printf "| hello_world instructions (M4) | ≤ 1,000 | %s | %s |\n", n(insns[hw]), yes(insns[hw] + 0 <= 1000)
    if (status[ms] == "ok") printf "| micro_speech instructions (M4) | ≤ 750,000 | %s | %s |\n", n(insns[ms]), yes(insns[ms] + 0 <= 750000)
    if (status[pd] == "ok") {
        printf "| person_detect instructions (M4) | ≤ 11,500,000 | %s | %s |\n", n(insns[pd]), yes(insns[pd] + 0 <= 11500000)
        printf "| person_detect MAC / instruction (M4) | ≥ 0.62 | %s | %s |\n", ratio(macs[pd], insns[pd]), yes(insns[pd] > 0 && macs[pd] / insns[pd] >= 0.62)
        printf "| person_detect flash − model (M4; plan included) | ≤ 16,384 B | %s B (plan %s B) | %s |\n", n(nomodel[pd]), n(plan[pd]), yes(nomodel[pd] + 0 <= 16384)
    }
    if (status[hw] == "ok") printf "| hello_world flash − model (M4; plan included) | ≤ 6,144 B | %s B (plan %s B) | %s |\n", n(nomodel[hw]), n(plan[hw]), yes(nomodel[hw] + 0 <= 6144)
    split("tflm_hello_world 1068 tflm_micro_speech 6800 tflm_person_detect 82296", tf, " ")
    for (i = 1; i < 6; i += 2) {
        key = "m4" SUBSEP tf[i]
        if (status[key] == "ok")
            printf "| %s arena | ≤ %s B (TFLM) | %s B | %s |\n", tf[i], n(tf[i + 1]), n(arena[key]), yes(arena[key] + 0 <= tf[i + 1] + 0)
    }
    for (t = 0; t < 2; t++) {
        tg = t ? "m0" : "m4"; worst = 0; wm = ""; worsti = 0; wmi = ""; nok = 0; nall = 0; lworst = 0; lwm = ""
        for (i = 1; i <= count[tg]; i++) {
            key = tg SUBSEP order[tg, i]
            if (status[key] == "does not fit") continue
            nall++
            if (status[key] != "ok") continue
            nok++
            if (stack[key] + 0 > worst) { worst = stack[key] + 0; wm = order[tg, i] }
            if (stackinv[key] + 0 > worsti) { worsti = stackinv[key] + 0; wmi = order[tg, i] }
            if (lstatus[key] == "ok" && lstack[key] + 0 > lworst) { lworst = lstack[key] + 0; lwm = order[tg, i] }
        }
        if (nall) {
            printf "| stack high-water during invoke, every model (%s) | ≤ 2,048 B | %s B (%s) | %s |\n", tg, n(worsti), wmi, yes(worsti <= 2048)
            printf "| stack high-water of the whole firmware (plan bound at start), every model (%s) | ≤ 2,048 B | %s B (%s) | %s |\n", tg, n(worst), wm, yes(worst <= 2048)
            if (lwm != "") printf "| stack high-water incl. loading and planning on the device, every model (%s) | ≤ 2,048 B | %s B (%s) | %s |\n", tg, n(lworst), lwm, yes(lworst <= 2048)
            printf "| bit-exact on target (%s) | every model that fits | %d of %d | %s |\n", tg, nok, nall, yes(nok == nall)
        }
    }
    for (t = 0; t < 2; t++) {
        tg = t ? "m0" : "m4"
        for (i = 1; i <= count[tg]; i++) {
            m = order[tg, i]; key = tg SUBSEP m
            if (m !~ /^pruned/ || status[key] != "ok" || !(key in dense) || insns[key] + 0 == 0) continue
            printf "| %s ≥ 2x fewer instructions than dense (%s) | ≥ 2x | %.2fx (%s vs %s dense) | %s |\n", m, tg, dense[key] / insns[key], n(insns[key]), n(dense[key]), yes(dense[key] + 0 >= 2 * insns[key])
        }
    }
    print ""
    print "### Every model, Cortex-M4F (QEMU mps2-an386, thumbv7em-none-eabihf, opt-level 3, LTO)"
    print ""
    models_table("m4")
    if (count["m0"]) {
        print "### Every model that fits, Cortex-M0 (QEMU microbit: 16 KB RAM, 256 KB flash; thumbv6m-none-eabi, opt-level 3, LTO)"
        print ""
        models_table("m0")
    }
    print "### Where the flash goes"
    print ""
    print "Symbol sizes by part of the program (`scripts/bench-flash-parts.sh ELF`; LTO inlines across parts, so a"
    print "part holds what the linker attributes to its functions)."
    print ""
    flash_parts("m4", "tflm_hello_world"); flash_parts("m4", "tflm_person_detect"); flash_parts("m0", "tflm_hello_world")
    print "### Per-operator profile (Cortex-M4F, one inference; instructions from the operator marker to its end)"
    print ""
    any = 0
    for (i = 1; i <= count["m4"]; i++) if (("m4" SUBSEP order["m4", i]) in ops) any = 1
    if (!any) { print "_Not measured in this run (the profile needs the engine'"'"'s per-operator hook, see below)._"; print "" }
    op_tables("m4", "tflm_person_detect")
    op_tables("m4", "tflm_micro_speech")
    op_tables("m4", "tflm_hello_world")
    rest = 0
    for (i = 1; i <= count["m4"]; i++) {
        m = order["m4", i]
        if (m ~ /^tflm_/ || !(("m4" SUBSEP m) in ops)) continue
        if (!rest) { print "<details><summary>the other models</summary>"; print ""; rest = 1 }
        op_tables("m4", m)
    }
    if (rest) { print "</details>"; print "" }
}' "$RESULTS" >"$generated"

if [ ! -f "$DOC" ]; then
    printf '# Benchmarks\n\n<!-- bench:begin -->\n<!-- bench:end -->\n' >"$DOC"
fi
grep -q '^<!-- bench:begin -->$' "$DOC" && grep -q '^<!-- bench:end -->$' "$DOC" ||
    { echo "bench-docs: $DOC lacks the <!-- bench:begin --> / <!-- bench:end --> markers" >&2; exit 1; }
awk -v gen="$generated" '
    $0 == "<!-- bench:begin -->" { print; while ((getline line < gen) > 0) print line; skip = 1; next }
    $0 == "<!-- bench:end -->" { skip = 0 }
    !skip { print }' "$DOC" >"$DOC.tmp"
mv "$DOC.tmp" "$DOC"
