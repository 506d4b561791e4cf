/* jit.h: the emu JIT tier's interface to the run loop: translate hot 64-bit decoded blocks to host x86-64 code and run them. */
#ifndef HVX_EMU_JIT_H
#define HVX_EMU_JIT_H

#include <stdbool.h>

struct emu_cpu;
struct emu_insn;

/* Is the JIT available on this host and not switched off (HVX_EMU_JIT=0)? Read when a vCPU is created. */
bool jit_wanted(void);
/*
 * Run translated code for the decoded block `in` (n instructions) at the current RIP, chaining into further
 * translated blocks. Returns false (nothing executed) when the JIT may not run here or cannot translate the block's
 * first instruction: the interpreter runs it. On return true, RIP, registers, flags and icount are committed; if
 * c->exit_returned is set, translated code took an instruction exit (IN, OUT, CPUID), recorded like the interpreter's,
 * and the run loop leaves the run.
 */
bool jit_exec(struct emu_cpu *c, const struct emu_insn *in, unsigned n);
/*
 * A quiet entry's direct route (run_blocks, which has checked what jit_exec would besides the translation): enter the
 * translation entered last if it is the one for RIP now (the jump cache's block at RIP, compared with guest memory as
 * the loop does). Returns -1 when not (nothing done: the loop takes the block), 1 when translated code took an
 * instruction exit (c->exit_returned cleared: the run is over), 0 when it returned without one (as jit_exec's true).
 */
int jit_enter_quiet(struct emu_cpu *c);
void jit_destroy(struct emu_cpu *c);

/* Process-wide counters (tests and profiling): blocks translated, entries into translated code (the latter is not
 * incremented atomically: with several vCPUs running it may undercount). */
extern _Atomic unsigned long long jit_stat_translated, jit_stat_entered;

#endif
