#!/usr/bin/env bash
# Flash and static RAM of every board firmware, measured from the release ELFs, written into
# docs/boards.md between the `<!-- sizes:begin -->` and `<!-- sizes:end -->` markers.
#
#   bash scripts/board-sizes.sh                  # build every board in release, rewrite the table
#   bash scripts/board-sizes.sh --print          # build and print the table, leave the docs alone
#   bash scripts/board-sizes.sh --board rp-pico  # only these boards (repeatable; others' rows go)
#   REFLEX_MODEL=my.tflite bash scripts/board-sizes.sh --print --board nrf52840-dk  # your model's cost
#
# Flash = .vector_table + .boot2 + .text + .rodata + .gnu.sgstubs + .data (its initial values live
# in flash); RAM = .data + .bss + .uninit (static only: the stack takes the rest of RAM, the heap
# does not exist). Sizes come from `llvm-size-22 -A` on the ELF cargo reports for the board; the
# totals from the board's memory.x, or the one a build script generated (embassy-stm32's
# `memory-x`). Builds use the Debian toolchain and the shared target/embedded directory, like
# scripts/embedded-check.sh, so after a check run nothing is rebuilt.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DOC="$ROOT/docs/boards.md"
TARGET_DIR="${EMBEDDED_TARGET_DIR:-$ROOT/target/embedded}"
PRINT_ONLY=0
BOARDS=()
while [ $# -gt 0 ]; do
    case "$1" in
        --print) PRINT_ONLY=1 ;;
        --board) shift; BOARDS+=("${1:?--board needs a name}") ;;
        -h | --help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
        *) echo "unknown argument: $1 (see --help)" >&2; exit 2 ;;
    esac
    shift
done

# shellcheck source=scripts/toolchain.sh
source "$ROOT/scripts/toolchain.sh" >&2 || { echo "board-sizes: Debian toolchain unavailable" >&2; exit 1; }
export CARGO_TARGET_DIR="$TARGET_DIR"

if [ ${#BOARDS[@]} = 0 ]; then
    for manifest in "$ROOT"/boards/*/Cargo.toml; do
        dir="$(dirname "$manifest")"
        [ -f "$dir/src/main.rs" ] || [ -d "$dir/src/bin" ] || continue
        BOARDS+=("$(basename "$dir")")
    done
fi

# "flash ram" in bytes of an ELF.
elf_size() {
    llvm-size-22 -A "$1" | awk '
        $1 == ".vector_table" || $1 == ".boot2" || $1 == ".text" || $1 == ".rodata" || $1 == ".gnu.sgstubs" { flash += $2 }
        $1 == ".data" { flash += $2; ram += $2 }
        $1 == ".bss" || $1 == ".uninit" { ram += $2 }
        END { printf "%d %d\n", flash, ram }'
}

# LENGTH of region $2 (FLASH, RAM) in memory.x file $1, in bytes; empty if absent.
region_bytes() {
    local len
    len="$(grep -E "^[[:space:]]*$2[[:space:]]*(\([^)]*\))?[[:space:]]*:" "$1" 2>/dev/null | head -1 |
        sed -n 's/.*LENGTH[[:space:]]*=[[:space:]]*\([0-9A-Fa-fxX]*[KkMm]\{0,1\}\).*/\1/p')"
    case "$len" in
        "") ;;
        *[Kk]) echo $((${len%?} * 1024)) ;;
        *[Mm]) echo $((${len%?} * 1024 * 1024)) ;;
        *) echo $((len)) ;;
    esac
}

# "1,234 B (12.3 % of 256 KiB)" or "1,234 B" when the total is unknown.
cell() {
    awk -v used="$1" -v total="${2:-0}" 'function commas(n,  s) {
            s = sprintf("%d", n); while (s ~ /[0-9][0-9][0-9][0-9]/) sub(/[0-9][0-9][0-9]($|,)/, ",&", s); return s }
        BEGIN { out = commas(used) " B"
            if (total > 0) out = out sprintf(" (%.1f %% of %d KiB)", 100 * used / total, total / 1024)
            print out }'
}

ROWS=""
for b in "${BOARDS[@]}"; do
    [ -f "$ROOT/boards/$b/Cargo.toml" ] || { echo "board-sizes: no board boards/$b" >&2; exit 1; }
    target="$(sed -n 's/^[[:space:]]*target[[:space:]]*=[[:space:]]*"\([^"]*\)".*/\1/p' \
        "$ROOT/boards/$b/.cargo/config.toml" | head -1)"
    echo "board-sizes: building $b ($target)" >&2
    json="$(cd "$ROOT/boards/$b" && "$EMBEDDED_CARGO" build --release --quiet -Zbuild-std=core \
        --message-format=json)" || { echo "board-sizes: $b does not build" >&2; exit 1; }
    memx="$ROOT/boards/$b/memory.x"
    if [ ! -f "$memx" ]; then
        memx=""
        while read -r out; do
            [ -f "$out/memory.x" ] && { memx="$out/memory.x"; break; }
        done < <(jq -r 'select(.reason == "build-script-executed") | .out_dir' <<<"$json")
    fi
    # The reflex model (boards/common with feature `reflex`): its flash bytes and its arena, as
    # board-common's build.rs computed it.
    model="—"
    while read -r out; do
        consts="$out/reflex_model.rs"
        [ -f "$consts" ] || continue
        arena="$(sed -n 's/^pub const ARENA_BYTES: usize = \([0-9]*\);/\1/p' "$consts")"
        # MODEL_BYTES: the model the build embedded (REFLEX_MODEL, or models/bearing_classifier.tflite)
        bytes="$(sed -n 's/^pub static MODEL_BYTES: \[u8; \([0-9]*\)\].*/\1/p' "$consts")"
        model="$(cell "$bytes") / $(cell "$arena")"
    done < <(jq -r 'select(.reason == "build-script-executed" and (.package_id | test("board-common"))) | .out_dir' <<<"$json")
    while read -r elf; do
        [ -n "$elf" ] || continue
        read -r flash ram < <(elf_size "$elf")
        ROWS+="| \`$b\` | \`$(basename "$elf")\` | $target | $(cell "$flash" "$(region_bytes "$memx" FLASH)") | $(cell "$ram" "$(region_bytes "$memx" RAM)") | $model |"$'\n'
    done < <(jq -r 'select(.reason == "compiler-artifact") | .executable // empty' <<<"$json")
done

TABLE="| board | firmware | target | flash | static RAM | reflex model (flash) / arena (RAM) |
|---|---|---|---|---|---|
${ROWS}
Release builds, \`$("$RUSTC" --version)\`; measured by \`scripts/board-sizes.sh\` with \`llvm-size-22\`.
Static RAM excludes the stack, which takes the rest of RAM. The last column is the int8 model of the
physical boards' reflex and the arena \`boards/common/build.rs\` sized for it (included in the
flash and RAM columns)."

if [ "$PRINT_ONLY" = 1 ]; then
    echo "$TABLE"
    exit 0
fi
grep -q '<!-- sizes:begin -->' "$DOC" && grep -q '<!-- sizes:end -->' "$DOC" ||
    { echo "board-sizes: $DOC lacks the <!-- sizes:begin/end --> markers" >&2; exit 1; }
TABLE="$TABLE" awk '
    /<!-- sizes:begin -->/ { print; print ENVIRON["TABLE"]; skip = 1; next }
    /<!-- sizes:end -->/ { skip = 0 }
    !skip { print }' "$DOC" >"$DOC.tmp"
mv "$DOC.tmp" "$DOC"
echo "board-sizes: updated $DOC" >&2
