/* uwait.c: ENCLS (exits by leaf bitmap, else #UD: no SGX) and the WAITPKG instructions UMONITOR / UMWAIT / TPAUSE (exits under RDTSC exiting, else a wait bounded by the TSC deadline, IA32_UMWAIT_CONTROL and the run). */
#include <time.h>

#include "backend/emu/cpu/handlers.h"
#include "core/clock.h"

/* ENCLS (SDM 25.1.3, spec 6.60): #UD for LOCK, real and virtual-8086 mode and CPL > 0 first; then the exit when
 * "enable ENCLS exiting" is 1 and the bitmap bit of leaf EAX (bit 63 for EAX >= 63) is 1; otherwise #UD, as on a
 * CPU without SGX (CPUID.(7,0):EBX[2] = 0). */
void h_encls(struct emu_cpu *c, const struct emu_insn *in)
{
	if (in->lock || c->mode == EM_REAL || c->mode == EM_V86 || c->cpl)
		emu_ud(c);
	uint32_t leaf = (uint32_t)c->s->gpr[HVX_RAX];
	if (vmx_cls(c, IC_ENCLS) && ((c->v[HVX_SLOT_CTRL_ENCLS_EXITING_BITMAP] >> (leaf < 63 ? leaf : 63)) & 1))
		vmx_exit_insn(c, VMX_REASON_ENCLS, 0, 0);
	emu_ud(c);
}

/* #UD without "enable user wait and pause" (spec 6.67), then #GP(0) for CR4.TSD = 1 at CPL > 0. */
static void uwait_checks(struct emu_cpu *c, const struct emu_insn *in, bool tsd)
{
	if (!vmx_cls(c, IC_UWAIT_OK) || in->lock || in->op[0].kind != OK_REG)
		emu_ud(c);
	if (tsd && c->cpl && (c->v[HVX_SLOT_GUEST_CR4] & CR4_TSD))
		emu_gp0(c);
}

/* UMONITOR r: arms the address-range monitor at DS:r (shared with MONITOR). */
void h_umonitor(struct emu_cpu *c, const struct emu_insn *in)
{
	uwait_checks(c, in, false);
	uint64_t off = reg_get(c, in->op[0].reg, in->op[0].size, false);
	(void)seg_linear(c, SEG_DS, off, 1, ACC_R); /* segment checks of the monitored byte */
	c->monitor_armed = true;
}

/*
 * The wait of UMWAIT / TPAUSE: until the guest TSC reaches the deadline in EDX:EAX, or the OS limit of
 * IA32_UMWAIT_CONTROL[31:2] passes (returns true: CF = 1), or something wants the vCPU (kick, raised event, run
 * deadline or preemption timer). Never longer than the run may last.
 */
static bool uwait_wait(struct emu_cpu *c)
{
	uint64_t deadline = (c->s->gpr[HVX_RDX] << 32) | (uint32_t)c->s->gpr[HVX_RAX];
	uint64_t limit = c->umwait_control & 0xfffffffcull;
	uint64_t start = vmx_tsc(c), end = deadline;
	bool os = false;
	if (limit && start + limit >= start && start + limit < end) {
		end = start + limit;
		os = true;
	}
	for (;;) {
		uint64_t now = vmx_tsc(c);
		if (now >= end)
			return os;
		if (vmx_wake(c))
			return false;
		if (c->deadline_ns != ~0ull && hvx_now_ns() >= c->deadline_ns) {
			c->block_tick |= 63; /* the next block boundary checks the deadline */
			return false;
		}
		uint64_t left = end - now; /* TSC ticks are nanoseconds (hv_tsc_clock) */
		struct timespec ts = {0, (long)(left < 200000 ? left : 200000)};
		nanosleep(&ts, NULL);
	}
}

/* aux 0 UMWAIT, 1 TPAUSE. Exit (fault-like, information: source register and operand size as for RDRAND) when
 * RDTSC exiting is 1; else the wait, CF = 1 if the OS limit ended it, the other arithmetic flags 0. */
void h_umwait_tpause(struct emu_cpu *c, const struct emu_insn *in)
{
	bool tpause = in->aux;
	uwait_checks(c, in, true);
	if (vmx_cls(c, IC_RDTSC)) {
		unsigned osz = in->op[0].size;
		uint32_t info = ((uint32_t)in->op[0].reg << 3) | ((osz == 2 ? 0u : osz == 4 ? 1u : 2u) << 11);
		vmx_exit_insn(c, tpause ? VMX_REASON_TPAUSE : VMX_REASON_UMWAIT, 0, info);
	}
	if (reg_get(c, in->op[0].reg, 4, false) & ~1ull)
		emu_gp0(c); /* bits 31:1 of the sleep-state control are reserved */
	bool cf = false;
	if (tpause || c->monitor_armed)
		cf = uwait_wait(c);
	if (!tpause)
		c->monitor_armed = false;
	emu_set_flags(c, cf ? FL_CF : 0, FL_ARITH);
	c->stop = true; /* a wait may have let events become pending: end the block */
}

/* IA32_UMWAIT_CONTROL (0xe1), reached when the VMM lets it through the MSR bitmap: bits 31:2 the OS time limit in
 * TSC ticks (0: none), bit 0 disables C0.2, bit 1 and bits 63:32 reserved (#GP). */
bool emu_umwait_control_msr(struct emu_cpu *c, bool wr, uint64_t *val)
{
	if (wr) {
		if (*val & ~0xfffffffdull)
			emu_gp0(c);
		c->umwait_control = *val;
	} else {
		*val = c->umwait_control;
	}
	return true;
}
