/* QEMU TCG plugin (plugin API version 1, QEMU 7.2): counts the guest instructions of a whole run and of
 * marked regions. The one counting plugin of the repository: scripts/bench.sh (instructions per
 * inference, per-operator profile) and scripts/power.sh (instructions in Graph::feed) build it with
 * `cc -O2 -shared -fPIC` into target/bench/.
 *
 *     -plugin bench-op-count.so[,start=HEX,stop=HEX][,mode=sum|each][,out=FILE]
 *
 * Every executed instruction is counted. With start/stop (hex addresses, thumb bit ignored) it also
 * counts from each execution of the instruction at `start` to the next execution of the one at `stop`:
 * a region. When both are the same address (the linker folded two identical marker functions into
 * one), executions alternate between opening and closing a region. At exit it writes to FILE (or to
 * stderr without out=):
 *
 *     insn_total <N>                     every instruction of the run
 *     insn_region <N> regions <K>        the instructions of all K regions together (with start/stop)
 *     op_region <K> <N>                  mode=each: one line per region, K = 0, 1, ...
 *
 * The per-operator profile uses mode=each: the bench firmware built with BENCH_PROFILE=ops calls
 * bench_op_begin before and bench_op_end after each operator of one inference, so region K is operator
 * K. The marker callback of an instruction runs before that instruction's own count is added, so a
 * region counts the `start` instruction's successors up to, not including, the `stop` instruction.
 *
 * The plugin API declarations below are written from QEMU's documented plugin API (docs/devel/tcg-plugins
 * and include/qemu/qemu-plugin.h of QEMU 7.2): only the calls this file makes.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef uint64_t qemu_plugin_id_t;
typedef struct qemu_info_t qemu_info_t;
struct qemu_plugin_tb;
struct qemu_plugin_insn;
enum qemu_plugin_cb_flags { QEMU_PLUGIN_CB_NO_REGS, QEMU_PLUGIN_CB_R_REGS, QEMU_PLUGIN_CB_RW_REGS };
enum qemu_plugin_op { QEMU_PLUGIN_INLINE_ADD_U64 };
typedef void (*qemu_plugin_vcpu_tb_trans_cb_t)(qemu_plugin_id_t id, struct qemu_plugin_tb *tb);
typedef void (*qemu_plugin_vcpu_udata_cb_t)(unsigned int vcpu_index, void *userdata);
typedef void (*qemu_plugin_udata_cb_t)(qemu_plugin_id_t id, void *userdata);

extern void qemu_plugin_register_vcpu_tb_trans_cb(qemu_plugin_id_t id, qemu_plugin_vcpu_tb_trans_cb_t cb);
extern size_t qemu_plugin_tb_n_insns(const struct qemu_plugin_tb *tb);
extern struct qemu_plugin_insn *qemu_plugin_tb_get_insn(const struct qemu_plugin_tb *tb, size_t idx);
extern uint64_t qemu_plugin_insn_vaddr(const struct qemu_plugin_insn *insn);
extern void qemu_plugin_register_vcpu_insn_exec_inline(struct qemu_plugin_insn *insn, enum qemu_plugin_op op,
                                                       void *ptr, uint64_t imm);
extern void qemu_plugin_register_vcpu_insn_exec_cb(struct qemu_plugin_insn *insn, qemu_plugin_vcpu_udata_cb_t cb,
                                                   enum qemu_plugin_cb_flags flags, void *userdata);
extern void qemu_plugin_register_atexit_cb(qemu_plugin_id_t id, qemu_plugin_udata_cb_t cb, void *userdata);

__attribute__((visibility("default"))) int qemu_plugin_version = 1;

/* The counters: every instruction, the open region's starting count, the regions' sum and number. */
static uint64_t total, mark, region_sum, region_count;
/* mode=each: each region's count, in order (grown as needed). */
static uint64_t *regions;
static size_t cap_regions;
static bool markers, each, inside, reported, overflow;
static uint64_t start_addr, stop_addr;
static char out_path[1024];

static void report(void) {
    if (reported) return;
    reported = true;
    FILE *f = out_path[0] ? fopen(out_path, "w") : NULL;
    if (!f) f = stderr;
    fprintf(f, "insn_total %llu\n", (unsigned long long)total);
    if (markers)
        fprintf(f, "insn_region %llu regions %llu\n", (unsigned long long)region_sum,
                (unsigned long long)region_count);
    if (each) {
        for (size_t k = 0; k < region_count && k < cap_regions; k++)
            fprintf(f, "op_region %zu %llu\n", k, (unsigned long long)regions[k]);
        if (overflow) fprintf(f, "op_overflow 1\n");
    }
    if (f != stderr) fclose(f);
}

static void on_start(unsigned int vcpu, void *u) {
    (void)vcpu; (void)u;
    if (!inside) { inside = true; mark = total; }
}

/* Keeps region `region_count` (mode=each); on allocation failure the list stops but the sums go on. */
static void keep_region(uint64_t n) {
    if (overflow) return;
    if (region_count == cap_regions) {
        size_t cap = cap_regions ? 2 * cap_regions : 256;
        uint64_t *grown = realloc(regions, cap * sizeof *grown);
        if (!grown) { overflow = true; return; }
        regions = grown;
        cap_regions = cap;
    }
    regions[region_count] = n;
}

static void on_stop(unsigned int vcpu, void *u) {
    (void)vcpu; (void)u;
    if (!inside) return;
    inside = false;
    uint64_t n = total - mark;
    if (each) keep_region(n);
    region_sum += n;
    region_count++;
}

static void on_toggle(unsigned int vcpu, void *u) { if (inside) on_stop(vcpu, u); else on_start(vcpu, u); }
static void on_exit_cb(qemu_plugin_id_t id, void *u) { (void)id; (void)u; report(); }

static void on_trans(qemu_plugin_id_t id, struct qemu_plugin_tb *tb) {
    (void)id;
    size_t n = qemu_plugin_tb_n_insns(tb);
    for (size_t i = 0; i < n; i++) {
        struct qemu_plugin_insn *insn = qemu_plugin_tb_get_insn(tb, i);
        uint64_t pc = qemu_plugin_insn_vaddr(insn) & ~1ull;
        if (markers) {
            if (start_addr == stop_addr && pc == start_addr)
                qemu_plugin_register_vcpu_insn_exec_cb(insn, on_toggle, QEMU_PLUGIN_CB_NO_REGS, NULL);
            else if (pc == start_addr)
                qemu_plugin_register_vcpu_insn_exec_cb(insn, on_start, QEMU_PLUGIN_CB_NO_REGS, NULL);
            else if (pc == stop_addr)
                qemu_plugin_register_vcpu_insn_exec_cb(insn, on_stop, QEMU_PLUGIN_CB_NO_REGS, NULL);
        }
        qemu_plugin_register_vcpu_insn_exec_inline(insn, QEMU_PLUGIN_INLINE_ADD_U64, &total, 1);
    }
}

__attribute__((visibility("default")))
int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t *info, int argc, char **argv) {
    (void)info;
    bool s = false, e = false;
    for (int i = 0; i < argc; i++) {
        if (!strncmp(argv[i], "out=", 4)) strncpy(out_path, argv[i] + 4, sizeof out_path - 1);
        else if (!strncmp(argv[i], "start=", 6)) { start_addr = strtoull(argv[i] + 6, NULL, 16) & ~1ull; s = true; }
        else if (!strncmp(argv[i], "stop=", 5)) { stop_addr = strtoull(argv[i] + 5, NULL, 16) & ~1ull; e = true; }
        else if (!strcmp(argv[i], "mode=each")) each = true;
        else if (!strcmp(argv[i], "mode=sum")) each = false;
        else { fprintf(stderr, "bench-op-count: unknown argument '%s'\n", argv[i]); return -1; }
    }
    if (s != e) { fprintf(stderr, "bench-op-count: give both start=HEX and stop=HEX, or neither\n"); return -1; }
    if (each && !s) { fprintf(stderr, "bench-op-count: mode=each needs start= and stop=\n"); return -1; }
    markers = s;
    qemu_plugin_register_vcpu_tb_trans_cb(id, on_trans);
    qemu_plugin_register_atexit_cb(id, on_exit_cb, NULL);
    atexit(report); /* a semihosting exit may end QEMU without running the plugin's atexit callbacks */
    return 0;
}
