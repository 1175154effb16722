/* QEMU TCG plugin (plugin API version 1, QEMU 7.2): instructions of each marked region, in order.
 *
 * Companion of ../shared/tools/qemu-insn-count/insn_count.c (which sums all regions into one number):
 * this one keeps every region apart, for scripts/bench.sh's per-operator profile. The bench firmware
 * built with BENCH_PROFILE=ops calls bench_op_begin(index) before and bench_op_end(index) after each
 * operator of one inference, so region K is operator K.
 *
 *     -plugin bench-op-count.so,start=HEX,stop=HEX,out=FILE
 *
 * counts from each execution of the instruction at `start` to the next execution of the one at `stop`
 * (thumb bit ignored; if both are the same address, e.g. the linker folded the two markers, executions
 * alternate between opening and closing a region). At exit it writes, to FILE (or stderr):
 *
 *     op_region <K> <instructions>       one line per region, K = 0, 1, ...
 *     op_total <N>                       all instructions of the run
 *
 * Built by scripts/bench.sh with `cc -O2 -shared -fPIC` into target/bench/. The plugin API declarations
 * are written from QEMU's documented plugin API (the same subset insn_count.c uses).
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

static uint64_t total, mark;
static uint64_t *regions;
static size_t n_regions, cap_regions;
static bool inside, reported, overflow;
static uint64_t start_addr, stop_addr;
static char out_path[1024];

static void report(void) {
    if (reported) return;
    reported = true;
    FILE *f = out_path[0] ? fopen(out_path, "w") : NULL;
    if (!f) f = stderr;
    for (size_t k = 0; k < n_regions; k++)
        fprintf(f, "op_region %zu %llu\n", k, (unsigned long long)regions[k]);
    if (overflow) fprintf(f, "op_overflow 1\n");
    fprintf(f, "op_total %llu\n", (unsigned long long)total);
    if (f != stderr) fclose(f);
}

static void on_start(unsigned int vcpu, void *u) {
    (void)vcpu; (void)u;
    if (!inside) { inside = true; mark = total; }
}

static void on_stop(unsigned int vcpu, void *u) {
    (void)vcpu; (void)u;
    if (!inside) return;
    inside = false;
    if (n_regions == cap_regions) {
        size_t cap = cap_regions ? 2 * cap_regions : 256;
        uint64_t *grown = realloc(regions, cap * sizeof *grown);
        if (!grown) { overflow = true; return; }
        regions = grown;
        cap_regions = cap;
    }
    regions[n_regions++] = total - mark;
}

static void on_toggle(unsigned int vcpu, void *u) { if (inside) on_stop(vcpu, u); else on_start(vcpu, u); }
static void on_exit_cb(qemu_plugin_id_t id, void *u) { (void)id; (void)u; report(); }

static void on_trans(qemu_plugin_id_t id, struct qemu_plugin_tb *tb) {
    (void)id;
    size_t n = qemu_plugin_tb_n_insns(tb);
    for (size_t i = 0; i < n; i++) {
        struct qemu_plugin_insn *insn = qemu_plugin_tb_get_insn(tb, i);
        uint64_t pc = qemu_plugin_insn_vaddr(insn) & ~1ull;
        /* marker callbacks run before this instruction's own count is added */
        if (start_addr == stop_addr && pc == start_addr)
            qemu_plugin_register_vcpu_insn_exec_cb(insn, on_toggle, QEMU_PLUGIN_CB_NO_REGS, NULL);
        else if (pc == start_addr)
            qemu_plugin_register_vcpu_insn_exec_cb(insn, on_start, QEMU_PLUGIN_CB_NO_REGS, NULL);
        else if (pc == stop_addr)
            qemu_plugin_register_vcpu_insn_exec_cb(insn, on_stop, QEMU_PLUGIN_CB_NO_REGS, NULL);
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
        else { fprintf(stderr, "bench-op-count: unknown argument '%s'\n", argv[i]); return -1; }
    }
    if (!s || !e) { fprintf(stderr, "bench-op-count: give start=HEX and stop=HEX\n"); return -1; }
    qemu_plugin_register_vcpu_tb_trans_cb(id, on_trans);
    qemu_plugin_register_atexit_cb(id, on_exit_cb, NULL);
    atexit(report); /* semihosting exit may end QEMU without running plugin atexit callbacks */
    return 0;
}
