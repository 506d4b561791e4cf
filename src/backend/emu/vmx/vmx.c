/* vmx.c: VMX non-root semantics for the emu CPU: controls folded into per-class decisions, and the exit records (qualification, lengths, information fields) the CPU's hooks produce. */
#include <string.h>
#include <time.h>

#include "backend/emu/emu.h"
#include "core/clock.h"
#include "core/guest_state.h"

void vmx_fold(struct emu_cpu *c)
{
	const uint64_t *v = c->v;
	c->pin = (uint32_t)v[HVX_SLOT_CTRL_PIN_BASED];
	c->proc = (uint32_t)v[HVX_SLOT_CTRL_CPU_BASED];
	c->proc2 = (c->proc & CPU_BASED_SECONDARY_CTLS) ? (uint32_t)v[HVX_SLOT_CTRL_CPU_BASED2] : 0;
	c->exitc = (uint32_t)v[HVX_SLOT_CTRL_VMEXIT_CONTROLS];
	c->entryc = (uint32_t)v[HVX_SLOT_CTRL_VMENTRY_CONTROLS];
	uint32_t p = c->proc, p2 = c->proc2;
	c->icls[IC_HLT] = !!(p & CPU_BASED_HLT);
	c->icls[IC_INVLPG] = !!(p & CPU_BASED_INVLPG);
	c->icls[IC_RDPMC] = !!(p & CPU_BASED_RDPMC);
	c->icls[IC_RDTSC] = !!(p & CPU_BASED_RDTSC);
	c->icls[IC_RDTSCP_OK] = !!(p2 & CPU_BASED2_RDTSCP);
	c->icls[IC_MWAIT] = !!(p & CPU_BASED_MWAIT);
	c->icls[IC_MONITOR] = !!(p & CPU_BASED_MONITOR);
	c->icls[IC_PAUSE] = !!(p & CPU_BASED_PAUSE);
	c->icls[IC_WBINVD] = !!(p2 & CPU_BASED2_WBINVD);
	c->icls[IC_RDRAND] = !!(p2 & CPU_BASED2_RDRAND);
	c->icls[IC_RDSEED] = !!(p2 & CPU_BASED2_RDSEED);
	c->icls[IC_INVPCID_OK] = !!(p2 & CPU_BASED2_INVPCID);
	c->icls[IC_DESC] = !!(p2 & CPU_BASED2_DESC_TABLE);
	c->icls[IC_MOVDR] = !!(p & CPU_BASED_MOV_DR);
	c->icls[IC_CR3_LOAD] = !!(p & CPU_BASED_CR3_LOAD);
	c->icls[IC_CR3_STORE] = !!(p & CPU_BASED_CR3_STORE);
	c->icls[IC_CR8_LOAD] = !!(p & CPU_BASED_CR8_LOAD);
	c->icls[IC_CR8_STORE] = !!(p & CPU_BASED_CR8_STORE);
	c->icls[IC_TPR_SHADOW] = !!(p & CPU_BASED_TPR_SHADOW);
	c->icls[IC_TSC_OFFSET] = !!(p & CPU_BASED_TSC_OFFSET);
	c->icls[IC_UNCOND_IO] = !!(p & CPU_BASED_UNCOND_IO);
	c->icls[IC_VMFUNC_OK] = !!(p2 & CPU_BASED2_VMFUNC);
	c->icls[IC_PLE] = !!(p2 & CPU_BASED2_PAUSE_LOOP);
	c->icls[IC_IRQ_WND] = !!(p & CPU_BASED_IRQ_WND);
	c->icls[IC_MTF] = !!(p & CPU_BASED_MTF);
	c->icls[IC_NMI_WND] = !!(p & CPU_BASED_VIRTUAL_NMI_WND);
	c->icls[IC_XSAVES_OK] = !!(p2 & CPU_BASED2_XSAVES_XRSTORS);
	c->icls[IC_ENCLS] = !!(p2 & CPU_BASED2_ENCLS_EXIT_MAP);
	c->icls[IC_UWAIT_OK] = !!(p2 & CPU_BASED2_USER_WAIT_PAUSE);
	/* The APIC-access page lives in the address space named by hv_vmx_vcpu_set_apic_address_space. */
	c->apic_page = (p2 & CPU_BASED2_VIRTUAL_APIC) && c->vcpu->apic_space == c->vcpu->space ? c->vcpu->apic_gpa : ~0ull;
}

/* Spec 6.8: the NMI window is open with no virtual-NMI blocking and no MOV-SS blocking (STI blocking does not close
 * it: the spec leaves suppression under STI to the processor, this one does not suppress). */
bool vmx_nmi_window(struct emu_cpu *c)
{
	return c->icls[IC_NMI_WND] && !(c->v[HVX_SLOT_GUEST_INTERRUPTIBILITY] & 8) &&
	       !(c->shadow && (c->shadow_kind & 2));
}

/* SDM 27.3.4, spec 2.7: the pending debug exceptions an exit saves. Kept for INIT, SMIs and the trap-like exits MTF,
 * TPR below threshold, virtualized EOI and APIC write (those three end the instruction that began with TF = 1: its
 * single-step trap is pending), and for any exit not caused by a #DB under MOV-SS blocking; else cleared. */
static uint64_t saved_debug_exc(struct emu_cpu *c)
{
	const struct hvx_exit *e = c->exit;
	switch (e->reason & 0xffff) {
	case VMX_REASON_INIT:
	case VMX_REASON_IO_SMI:
	case VMX_REASON_OTHER_SMI:
	case VMX_REASON_MTF:
		return c->pend_dbg;
	case VMX_REASON_TPR_THRESHOLD:
	case VMX_REASON_VIRTUALIZED_EOI:
	case VMX_REASON_APIC_WRITE:
		return c->pend_dbg | (c->step_tf ? DBG_BS : 0);
	case VMX_REASON_EXC_NMI:
		if ((e->intr_info & 0xff) == EXC_DB && ((e->intr_info >> 8) & 7) != EV_NMI)
			return 0; /* caused by a debug exception */
		break;
	default:
		break;
	}
	return c->shadow && (c->shadow_kind & 2) ? c->pend_dbg : 0;
}

/* Arithmetic flags into RFLAGS (a call only when they are lazy: never in translated code). */
static inline uint64_t flags_now(struct emu_cpu *c)
{
	return c->lf_op == LF_NONE ? c->s->rflags : emu_flags(c);
}

/* "Save VMX-preemption timer value": the time left. Out of line: its clock read needs a stack frame, which every exit
 * that inlines exit_save would set up. */
static __attribute__((noinline)) void timer_save(struct emu_cpu *c)
{
	uint64_t now = hvx_now_ns();
	uint64_t left = c->timer_expiry > now ? c->timer_expiry - now : 0;
	c->v[HVX_SLOT_GUEST_VMX_TIMER_VALUE] = left > 0xffffffffull ? 0xffffffffull : left;
}

/* Common end of every exit: architectural state as hardware saves it, with RFLAGS `rflags` (materialized). */
static inline __attribute__((always_inline)) void exit_save_rflags(struct emu_cpu *c, uint64_t rflags)
{
	uint64_t *v = c->v;
	if (c->in_iret) {
		c->s->gpr[HVX_RSP] = c->iret_rsp; /* an exit during IRET is fault-like: its pops did not happen */
		c->in_iret = false;
	}
	c->s->rflags = rflags | 2;
	v[HVX_SLOT_GUEST_INTERRUPTIBILITY] = (v[HVX_SLOT_GUEST_INTERRUPTIBILITY] & ~3ull) |
					     (c->shadow ? c->shadow_kind & 3 : 0);
	/* IA32_VMX_MISC[5]: the "IA-32e mode guest" entry control follows EFER.LMA. */
	uint64_t ec = (v[HVX_SLOT_CTRL_VMENTRY_CONTROLS] & ~(uint64_t)VMENTRY_GUEST_IA32E) |
		      ((v[HVX_SLOT_GUEST_IA32_EFER] & EFER_LMA) ? VMENTRY_GUEST_IA32E : 0);
	v[HVX_SLOT_CTRL_VMENTRY_CONTROLS] = ec;
	c->entryc = (uint32_t)ec;
	/* nothing pending and no single-step trap: every case of saved_debug_exc gives 0 */
	v[HVX_SLOT_GUEST_DEBUG_EXC] = (c->pend_dbg | c->step_tf) ? saved_debug_exc(c) : 0;
	if ((c->pin & PIN_BASED_PREEMPTION_TIMER) && (c->exitc & VMEXIT_SAVE_VMX_TIMER))
		timer_save(c);
}

static inline __attribute__((always_inline)) void exit_save(struct emu_cpu *c)
{
	exit_save_rflags(c, flags_now(c));
}

/* Every exit ends here, leaving the run by longjmp. */
static _Noreturn void finish(struct emu_cpu *c)
{
	exit_save(c);
	EMU_LONGJMP(c, JMP_EXIT);
}

/*
 * The end of an instruction exit raised by a handler: when the interpreter loop called that handler itself
 * (c->exit_by_return), the exit is taken by returning (the handler returns at once, the loop leaves the run), which
 * keeps the host's return-address prediction in step; a longjmp past the handler's frames cost about 15 ns per exit
 * in mispredicted returns. From anywhere else (the JIT's helpers, the one-instruction mode) it ends as every exit.
 */
static inline __attribute__((always_inline)) void finish_by_return(struct emu_cpu *c)
{
	if (!c->exit_by_return)
		finish(c);
	exit_save(c);
	c->exit_returned = true;
}

/* finish_by_return for an exit whose saved RFLAGS the caller computed (materialized): the flags are read once. */
static inline __attribute__((always_inline)) void finish_by_return_rflags(struct emu_cpu *c, uint64_t rflags)
{
	if (!c->exit_by_return) {
		c->s->rflags = rflags;
		finish(c);
	}
	exit_save_rflags(c, rflags);
	c->exit_returned = true;
}

static uint64_t trunc_la(struct emu_cpu *c, uint64_t la)
{
	return c->mode == EM_LONG64 ? la : la & 0xffffffffull;
}

/* The fields every instruction exit sets, into a cleared record. */
static inline struct hvx_exit *exit_insn_fields(struct emu_cpu *c, unsigned reason, uint64_t qual, uint32_t info)
{
	struct hvx_exit *e = c->exit;
	hvx_exit_clear(e);
	e->reason = reason;
	e->qualification = qual;
	e->instr_info = info;
	return e;
}

static void exit_insn_record(struct emu_cpu *c, unsigned reason, uint64_t qual, uint32_t info)
{
	bool idt = c->vect.valid;
	struct hvx_exit *e = exit_insn_fields(c, reason, qual, info);
	if (idt) {
		/* A task-gate exit during delivery: IDT-vectoring names the event. */
		emu_delivery_restore(c);
		vmx_exit_idt_vectoring(c, e);
	} else {
		e->instr_len = c->cur ? c->cur->len : 0;
		c->s->rflags = flags_now(c) & ~FL_RF;
	}
}

_Noreturn void vmx_exit_insn(struct emu_cpu *c, unsigned reason, uint64_t qual, uint32_t info)
{
	exit_insn_record(c, reason, qual, info);
	finish(c);
}

void vmx_exit_insn_return(struct emu_cpu *c, unsigned reason, uint64_t qual, uint32_t info)
{
	/* Its callers (CPUID, HLT) never run during an event's delivery; were one to, the general record would add the
	 * IDT-vectoring information. */
	if (__builtin_expect(c->vect.valid, 0)) {
		exit_insn_record(c, reason, qual, info);
		finish_by_return(c);
		return;
	}
	/* exit_insn_record's common case, the saved RFLAGS read once */
	exit_insn_fields(c, reason, qual, info)->instr_len = c->cur ? c->cur->len : 0;
	finish_by_return_rflags(c, flags_now(c) & ~FL_RF);
}

_Noreturn void vmx_exit_event(struct emu_cpu *c, unsigned reason)
{
	hvx_exit_clear(c->exit);
	c->exit->reason = reason;
	finish(c);
}

_Noreturn void vmx_triple_fault(struct emu_cpu *c)
{
	hvx_exit_clear(c->exit);
	c->exit->reason = VMX_REASON_TRIPLE_FAULT;
	finish(c);
}

bool vmx_exception_exits(struct emu_cpu *c, unsigned vec, uint32_t err)
{
	uint32_t bm = (uint32_t)c->v[HVX_SLOT_CTRL_EXC_BITMAP];
	bool bit = (bm >> (vec & 31)) & 1;
	if (vec == EXC_PF) {
		uint32_t mask = (uint32_t)c->v[HVX_SLOT_CTRL_PF_ERROR_MASK], match = (uint32_t)c->v[HVX_SLOT_CTRL_PF_ERROR_MATCH];
		return ((err & mask) == match) ? bit : !bit;
	}
	return bit;
}

_Noreturn void vmx_exit_exception(struct emu_cpu *c, unsigned vec, unsigned type, bool has_err, uint32_t err,
				   unsigned ilen, uint64_t qual)
{
	struct hvx_exit *e = c->exit;
	hvx_exit_clear(e);
	e->reason = VMX_REASON_EXC_NMI;
	e->intr_info = vec | (type << 8) | ((uint32_t)has_err << 11) | (1u << 31);
	if (c->iret_nmi_unblocked && !c->vect.valid && vec != EXC_DF)
		e->intr_info |= 1u << 12; /* NMI unblocking due to IRET (SDM 27.2.2) */
	e->intr_error = has_err ? err : 0;
	e->qualification = vec == EXC_PF ? trunc_la(c, qual) : vec == EXC_DB ? qual : 0;
	bool soft = type == EV_SWEXC || type == EV_PRIVSW;
	if (soft)
		e->instr_len = ilen;
	if (c->vect.valid) {
		vmx_exit_idt_vectoring(c, e);
	}
	/* RF as in the image delivery would push: set for faults other than #DB. */
	uint64_t f = emu_flags(c);
	if (type == EV_HWEXC && vec != EXC_DB)
		f |= FL_RF;
	c->s->rflags = f;
	finish(c);
}

/* The event being delivered as the exit's IDT-vectoring information and error code, with the instruction length of a
 * software interrupt or exception (the record was cleared: 0 otherwise). */
void vmx_exit_idt_vectoring(struct emu_cpu *c, struct hvx_exit *e)
{
	e->idt_info = c->vect.vec | ((uint32_t)c->vect.type << 8) | ((uint32_t)c->vect.has_err << 11) | (1u << 31);
	e->idt_error = c->vect.has_err ? c->vect.err : 0;
	if (c->vect.type == EV_SWINT || c->vect.type == EV_SWEXC || c->vect.type == EV_PRIVSW)
		e->instr_len = c->vect.len;
}

/* RFLAGS saved by an exit a memory access causes (EPT violation/misconfiguration, APIC access): RF as in the image
 * the interrupted delivery would push (set for faults other than #DB), else 1 (spec 2.7). */
uint64_t vmx_access_exit_rflags(struct emu_cpu *c, bool idt)
{
	uint64_t f = emu_flags(c);
	if (!idt || (c->vect.type == EV_HWEXC && c->vect.vec != EXC_DB))
		f |= FL_RF;
	return f;
}

_Noreturn void vmx_exit_ept(struct emu_cpu *c, uint64_t gpa, uint64_t la, bool la_valid, bool final, unsigned acc,
			     uint32_t perms, bool misconfig)
{
	struct hvx_exit *e = c->exit;
	hvx_exit_clear(e);
	bool idt = c->vect.valid;
	if (idt) {
		emu_delivery_restore(c);
		vmx_exit_idt_vectoring(c, e);
	}
	e->guest_physical = gpa;
	if (misconfig) {
		e->reason = VMX_REASON_EPT_MISCONFIG;
		e->guest_linear = trunc_la(c, la);
	} else {
		e->reason = VMX_REASON_EPT_VIOLATION;
		uint64_t q = 0;
		if (acc & ACC_W)
			q |= (acc & ACC_R) ? 3 : 2; /* read-modify-write: data read and data write */
		else if (acc & ACC_X)
			q |= 4;
		else
			q |= 1;
		if (perms & HV_MEMORY_READ)
			q |= 8;
		if (perms & HV_MEMORY_WRITE)
			q |= 16;
		if (perms & HV_MEMORY_EXEC)
			q |= 32;
		if (perms & EMU_PERM_SPP)
			q |= 1u << 11; /* SPP-induced (docs/emu.md: UNCONFIRMED layout) */
		if (c->iret_nmi_unblocked && !idt)
			q |= 1u << 12; /* NMI unblocking due to IRET */
		if (la_valid) {
			q |= 1u << 7;
			if (final)
				q |= 1u << 8;
			e->guest_linear = trunc_la(c, la);
		}
		e->qualification = q;
	}
	c->s->rflags = vmx_access_exit_rflags(c, idt);
	finish(c);
}

_Noreturn void vmx_exit_access(struct emu_cpu *c, unsigned reason, uint64_t qual, uint64_t gpa, uint64_t la)
{
	struct hvx_exit *e = c->exit;
	hvx_exit_clear(e);
	bool idt = c->vect.valid;
	if (idt) {
		emu_delivery_restore(c);
		vmx_exit_idt_vectoring(c, e);
	}
	e->reason = reason;
	e->qualification = qual | ((c->iret_nmi_unblocked && !idt) ? 1u << 12 : 0); /* NMI unblocking due to IRET */
	e->guest_physical = gpa;
	e->guest_linear = trunc_la(c, la);
	c->s->rflags = vmx_access_exit_rflags(c, idt);
	finish(c);
}

/* ---- instruction information helpers ---- */
uint32_t vmx_mem_info(struct emu_cpu *c, const struct emu_insn *in)
{
	uint32_t scale = in->scale == 8 ? 3 : in->scale == 4 ? 2 : in->scale == 2 ? 1 : 0;
	uint32_t asz = in->asz == 8 ? 2 : in->asz == 4 ? 1 : 0;
	uint32_t info = scale | (asz << 7) | ((uint32_t)in->seg << 15);
	info |= in->index == 0xff ? (1u << 22) : ((uint32_t)in->index << 18);
	info |= in->base == 0xff ? (1u << 27) : ((uint32_t)in->base << 23);
	(void)c;
	return info;
}

uint64_t vmx_disp_qual(struct emu_cpu *c, const struct emu_insn *in)
{
	if (in->memop == 0xff)
		return 0;
	uint64_t d = (uint64_t)in->disp;
	if (in->riprel)
		d += c->next_rip;
	if (c->mode != EM_LONG64)
		d &= sz_mask(in->asz);
	return d;
}

/* A native IA32_TSC write: the guest TSC becomes val (the offset is what the framework stores). */
void vmx_tsc_write(struct emu_cpu *c, uint64_t val)
{
	c->v[HVX_SLOT_CTRL_TSC_OFFSET] = val - hv_tsc_clock();
}

uint64_t vmx_tsc(struct emu_cpu *c)
{
	uint64_t t = hv_tsc_clock();
	if (c->icls[IC_TSC_OFFSET])
		t += c->v[HVX_SLOT_CTRL_TSC_OFFSET];
	return t;
}

void vmx_pause(struct emu_cpu *c, const struct emu_insn *in)
{
	(void)in;
	if (c->icls[IC_PAUSE])
		vmx_exit_insn(c, VMX_REASON_PAUSE, 0, 0);
	if (c->icls[IC_PLE] && c->cpl == 0) {
		uint64_t now = hv_tsc_clock();
		uint64_t gap = (uint32_t)c->v[HVX_SLOT_CTRL_PLE_GAP], window = (uint32_t)c->v[HVX_SLOT_CTRL_PLE_WINDOW];
		if (!c->ple_last || now - c->ple_last > gap) {
			c->ple_first = now;
		} else if (now - c->ple_first > window) {
			c->ple_last = 0;
			vmx_exit_insn(c, VMX_REASON_PAUSE, 0, 0);
		}
		c->ple_last = now;
	}
}

/* ---- I/O ---- */
/* The I/O exit qualification (SDM table 27-5): size - 1, direction, string, REP, immediate operand, port. */
static inline uint64_t io_qual(unsigned size, bool in_dir, bool string, bool rep, bool imm, unsigned port)
{
	return (uint64_t)(size - 1) | ((uint64_t)in_dir << 3) | ((uint64_t)string << 4) | ((uint64_t)rep << 5) |
	       ((uint64_t)imm << 6) | ((uint64_t)port << 16);
}

/* Does an access of `size` bytes at `port` exit? With I/O bitmaps A and B: when any port of the access has its bit set,
 * or the access wraps past 0xffff; without them, when unconditional I/O exiting is set. */
static inline bool io_exits(const struct emu_cpu *c, unsigned port, unsigned size)
{
	if (!(c->proc & CPU_BASED_IO_BITMAPS))
		return c->icls[IC_UNCOND_IO];
	if (port + size > 0x10000 || !c->io_bitmap)
		return true;
	/* the access's bits lie in one byte or two (size <= 4): both read at once (one 16-bit load), the byte past the
	 * bitmaps being a zero pad (emu_set_intercepts) for the last byte's ports */
	uint16_t bits;
	memcpy(&bits, c->io_bitmap + (port >> 3), sizeof bits);
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	bits = __builtin_bswap16(bits);
#endif
	return ((unsigned)bits >> (port & 7)) & ((1u << size) - 1);
}

bool vmx_io(struct emu_cpu *c, const struct emu_insn *in, uint16_t port, unsigned size, bool in_dir, bool string,
	    bool imm)
{
	if (!io_exits(c, port, size)) {
		if (c->smm.smi_ports)
			vmx_io_smi_latch(c, in, port, size, in_dir, string, imm); /* the instruction completes, then the SMI */
		return false;
	}
	uint32_t info;
	uint64_t la;
	uint64_t q = vmx_io_qual(c, in, port, size, in_dir, string, imm, &la, &info);
	struct hvx_exit *e = c->exit;
	hvx_exit_clear(e);
	e->reason = VMX_REASON_IO;
	e->qualification = q;
	e->instr_len = in->len;
	e->instr_info = info;
	e->guest_linear = la;
	c->s->rflags = emu_flags(c) & ~FL_RF;
	finish_by_return(c);
	return true;
}

/* IN / OUT (not the string forms): vmx_io without what only string I/O has (no linear address, no instruction
 * information, qualification bits 4 and 5 clear), the exit's path from translated code and the interpreter alike. */
bool vmx_io_port(struct emu_cpu *c, const struct emu_insn *in, unsigned port, unsigned size, bool in_dir, bool imm)
{
	if (!io_exits(c, port, size)) {
		if (c->smm.smi_ports)
			vmx_io_smi_latch(c, in, (uint16_t)port, size, in_dir, false, imm);
		return false;
	}
	struct hvx_exit *e = c->exit;
	hvx_exit_clear(e);
	e->reason = VMX_REASON_IO;
	e->qualification = io_qual(size, in_dir, false, false, imm, port);
	e->instr_len = in->len;
	finish_by_return_rflags(c, flags_now(c) & ~FL_RF);
	return true;
}

uint64_t vmx_io_qual(struct emu_cpu *c, const struct emu_insn *in, uint16_t port, unsigned size, bool in_dir,
		     bool string, bool imm, uint64_t *la, uint32_t *info)
{
	uint64_t q = io_qual(size, in_dir, string, string && in->rep, imm, port);
	*info = 0;
	*la = 0;
	if (string) {
		unsigned seg = in_dir ? SEG_ES : in->sovr;
		uint64_t off = c->s->gpr[in_dir ? HVX_RDI : HVX_RSI] & sz_mask(in->asz);
		*la = c->mode == EM_LONG64 ? off + (seg >= SEG_FS ? c->sc[seg].base : 0)
					   : (c->sc[seg].base + off) & 0xffffffffull;
		uint32_t asz = in->asz == 8 ? 2 : in->asz == 4 ? 1 : 0;
		*info = (asz << 7) | ((uint32_t)(in_dir ? SEG_ES : in->sovr) << 15);
	}
	return q;
}

/*
 * ---- MSRs: "use MSR bitmaps" (fixed to 1) with the bitmap as Apple's framework keeps it: native MSRs and managed
 * MSRs with access never exit; any other MSR exits unless the VMM cleared its bit (hvx_vcpu_set_msr_intercept).
 * MSRs outside the two bitmap ranges always exit (SDM 25.1.3).
 */
bool vmx_msr_exits(struct emu_cpu *c, uint32_t msr, bool write)
{
	if (!(c->proc & CPU_BASED_MSR_BITMAPS))
		return true;
	const struct hvx_msr_desc *d = hvx_msr_find(msr);
	if (d && d->native_bit >= 0 && ((c->vcpu->native_msrs >> d->native_bit) & 1))
		return false;
	for (unsigned i = 0; i < c->vcpu->managed_count; i++)
		if (c->vcpu->managed[i].msr == msr)
			return !(c->vcpu->managed[i].access & (write ? HV_MSR_WRITE : HV_MSR_READ));
	if (!c->msr_bitmap)
		return true;
	uint32_t index;
	if (msr <= 0x1fff)
		index = msr;
	else if (msr >= 0xc0000000u && msr <= 0xc0001fffu)
		index = 0x2000 + (msr - 0xc0000000u);
	else
		return true;
	const uint8_t *bits = c->msr_bitmap + (write ? 2048 : 0);
	return (bits[index >> 3] >> (index & 7)) & 1;
}

/* ---- control registers ---- */
uint64_t vmx_cr_read_shadowed(struct emu_cpu *c, unsigned cr)
{
	uint64_t real = c->v[cr == 0 ? HVX_SLOT_GUEST_CR0 : HVX_SLOT_GUEST_CR4];
	uint64_t mask = c->v[cr == 0 ? HVX_SLOT_CTRL_CR0_MASK : HVX_SLOT_CTRL_CR4_MASK];
	uint64_t shadow = c->v[cr == 0 ? HVX_SLOT_CTRL_CR0_SHADOW : HVX_SLOT_CTRL_CR4_SHADOW];
	return (real & ~mask) | (shadow & mask);
}

uint64_t vmx_cr_access(struct emu_cpu *c, const struct emu_insn *in, unsigned cr, bool write, unsigned gpr, uint64_t val)
{
	uint64_t q = cr | ((uint64_t)!write << 4) | ((uint64_t)gpr << 8);
	bool ex = false;
	switch (cr) {
	case 0:
	case 4:
		if (write) {
			uint64_t mask = c->v[cr == 0 ? HVX_SLOT_CTRL_CR0_MASK : HVX_SLOT_CTRL_CR4_MASK];
			uint64_t shadow = c->v[cr == 0 ? HVX_SLOT_CTRL_CR0_SHADOW : HVX_SLOT_CTRL_CR4_SHADOW];
			if ((val ^ shadow) & mask)
				ex = true;
			else
				val = (c->v[cr == 0 ? HVX_SLOT_GUEST_CR0 : HVX_SLOT_GUEST_CR4] & mask) | (val & ~mask);
		}
		break;
	case 3:
		if (write && c->icls[IC_CR3_LOAD]) {
			unsigned n = (unsigned)c->v[HVX_SLOT_CTRL_CR3_COUNT];
			ex = true;
			for (unsigned i = 0; i < n && i < 4; i++)
				if (c->v[HVX_SLOT_CTRL_CR3_VALUE0 + i] == val)
					ex = false;
		} else if (!write && c->icls[IC_CR3_STORE]) {
			ex = true;
		}
		break;
	case 8:
		ex = write ? c->icls[IC_CR8_LOAD] : c->icls[IC_CR8_STORE];
		break;
	default:
		break;
	}
	if (ex)
		vmx_exit_insn(c, VMX_REASON_MOV_CR, q, 0);
	(void)in;
	return val;
}

void vmx_clts(struct emu_cpu *c, const struct emu_insn *in)
{
	(void)in;
	uint64_t mask = c->v[HVX_SLOT_CTRL_CR0_MASK], shadow = c->v[HVX_SLOT_CTRL_CR0_SHADOW];
	if ((mask & CR0_TS_) && (shadow & CR0_TS_))
		vmx_exit_insn(c, VMX_REASON_MOV_CR, 2u << 4, 0);
	if (!(mask & CR0_TS_))
		c->v[HVX_SLOT_GUEST_CR0] &= ~CR0_TS_;
}

bool vmx_lmsw(struct emu_cpu *c, const struct emu_insn *in, uint16_t src, bool mem, uint64_t la)
{
	(void)in;
	uint64_t mask = c->v[HVX_SLOT_CTRL_CR0_MASK], shadow = c->v[HVX_SLOT_CTRL_CR0_SHADOW];
	if (((mask & 1) && (src & 1) && !(shadow & 1)) || ((src ^ shadow) & mask & 0xe)) {
		struct hvx_exit *e = c->exit;
		hvx_exit_clear(e);
		e->reason = VMX_REASON_MOV_CR;
		e->qualification = (3u << 4) | ((uint64_t)mem << 6) | ((uint64_t)src << 16);
		e->instr_len = c->cur->len;
		if (mem)
			e->guest_linear = trunc_la(c, la);
		c->s->rflags = emu_flags(c) & ~FL_RF;
		finish(c);
	}
	uint64_t cr0 = c->v[HVX_SLOT_GUEST_CR0];
	uint64_t owned = ~mask & 0xf;
	uint64_t nv = (cr0 & ~owned) | (src & owned);
	nv |= cr0 & 1; /* LMSW never clears PE */
	if (nv != cr0) {
		c->v[HVX_SLOT_GUEST_CR0] = nv;
		c->mode = 0xff;
		emu_mode_update(c);
	}
	c->stop = true;
	return false;
}

/* ---- VM entry ---- */
static bool entry_fail(struct emu_cpu *c, uint64_t qual)
{
	hvx_exit_clear(c->exit);
	c->exit->reason = VMX_REASON_VMENTRY_GUEST | 0x80000000u;
	c->exit->qualification = qual;
	c->mode = 0xff; /* the next entry checks everything again, changed or not (it fails alike until fixed) */
	return false;
}

bool vmx_entry_rip_check(struct emu_cpu *c)
{
	return hvx_guest_rip_valid(c->s, EMU_LINEAR_BITS) || entry_fail(c, 0);
}

bool vmx_entry_checks(struct emu_cpu *c)
{
	const uint64_t *v = c->v;
	uint64_t cr0 = v[HVX_SLOT_GUEST_CR0], cr4 = v[HVX_SLOT_GUEST_CR4], efer = v[HVX_SLOT_GUEST_IA32_EFER];
	bool ia32e = v[HVX_SLOT_CTRL_VMENTRY_CONTROLS] & VMENTRY_GUEST_IA32E;
	uint64_t rf = c->s->rflags;
	if (!(cr0 & CR0_NE_) || (cr0 & ~0x8005003full))
		return entry_fail(c, 0);
	if (!(cr4 & CR4_VMXE) || (cr4 & ~0x377fffull))
		return entry_fail(c, 0);
	if (!ia32e && (cr4 & CR4_PCIDE))
		return entry_fail(c, 0);
	if (!!(efer & EFER_LMA) != ia32e || ((cr0 & CR0_PG) && !!(efer & EFER_LMA) != !!(efer & EFER_LME)))
		return entry_fail(c, 0);
	if ((rf & FL_VM) && (ia32e || !(cr0 & CR0_PE)))
		return entry_fail(c, 0);
	/* Activity states: active, HLT, shutdown, wait-for-SIPI (IA32_VMX_MISC bits 6-8); an inactive state has no STI /
	 * MOV-SS blocking; HLT takes only an external interrupt, NMI, #DB, #MC or pending MTF as injection, shutdown only
	 * an NMI or #MC, wait-for-SIPI none and no entry to SMM (SDM 26.3.1.5). */
	uint64_t act = v[HVX_SLOT_GUEST_ACTIVITY_STATE];
	uint32_t inj0 = (uint32_t)v[HVX_SLOT_CTRL_VMENTRY_IRQ_INFO];
	if (act > 3 || (act && (v[HVX_SLOT_GUEST_INTERRUPTIBILITY] & 3)))
		return entry_fail(c, 0);
	if (act == 3 && ((inj0 & (1u << 31)) || (v[HVX_SLOT_CTRL_VMENTRY_CONTROLS] & VMENTRY_SMM)))
		return entry_fail(c, 0);
	if (act && act != 3 && (inj0 & (1u << 31))) {
		unsigned type = (inj0 >> 8) & 7, vec = inj0 & 0xff;
		bool mc = type == EV_HWEXC && vec == 18, ok = type == EV_NMI || mc;
		if (act == 1)
			ok = ok || type == EV_EXTINT || type == 7 || (type == EV_HWEXC && vec == EXC_DB);
		if (!ok)
			return entry_fail(c, 0);
	}
	/* Pending debug exceptions: bits 11:4, 13, 15 and 63:17 reserved, bit 16 (RTM) too (the emu CPU has no RTM);
	 * with STI or MOV-SS blocking or in HLT, BS = 1 exactly when RFLAGS.TF = 1 and IA32_DEBUGCTL.BTF = 0. */
	uint64_t pd = v[HVX_SLOT_GUEST_DEBUG_EXC];
	if (pd & ~(DBG_B0_3 | DBG_EN | DBG_BS))
		return entry_fail(c, 0);
	if (((v[HVX_SLOT_GUEST_INTERRUPTIBILITY] & 3) || act == 1) &&
	    !!(pd & DBG_BS) != ((rf & FL_TF) && !(v[HVX_SLOT_GUEST_IA32_DEBUGCTL] & 2)))
		return entry_fail(c, 0);
	/* Blocking by SMI (interruptibility bit 2) is set exactly when the guest is entered in SMM (docs/emu.md). */
	if (!!(v[HVX_SLOT_GUEST_INTERRUPTIBILITY] & 4) != !!(v[HVX_SLOT_CTRL_VMENTRY_CONTROLS] & VMENTRY_SMM))
		return entry_fail(c, 0);
	if (v[HVX_SLOT_GUEST_ACTIVITY_STATE] == 1 && ((v[HVX_SLOT_GUEST_SS_AR] >> 5) & 3))
		return entry_fail(c, 0); /* HLT requires SS.DPL = 0 */
	uint32_t inj = (uint32_t)v[HVX_SLOT_CTRL_VMENTRY_IRQ_INFO];
	if ((inj & (1u << 31)) && ((inj >> 8) & 7) == EV_NMI && (v[HVX_SLOT_CTRL_PIN_BASED] & PIN_BASED_VIRTUAL_NMI) &&
	    (v[HVX_SLOT_GUEST_INTERRUPTIBILITY] & 8))
		return entry_fail(c, 0); /* SDM 26.3.1.5: no NMI injection under virtual-NMI blocking */
	/* The checks both backends share (src/core/guest_state.c): CR0.PG with PE, IA-32e mode with PG and PAE, segment
	 * registers (TR, LDTR, CS.L with CS.D among them), GDTR/IDTR, CR3 width, MSRs, DR7, RIP, RFLAGS reserved bits,
	 * interruptibility and RFLAGS.IF against the injected event. The emu is always an unrestricted guest. */
	static const struct hvx_guest_check_env env = {
		.unrestricted = true, .phys_bits = EMU_PHYS_BITS, .linear_bits = EMU_LINEAR_BITS, .groups = HVX_GROUP_ALL,
	};
	uint64_t qual;
	if (!hvx_guest_state_check(c->s, &env, &qual))
		return entry_fail(c, qual);
	/* With EPT (always on) and PAE paging, entry loads the PDPTEs from the VMCS: reserved bits fail with qual. 2. */
	if ((cr0 & CR0_PG) && (cr4 & CR4_PAE) && !ia32e)
		for (unsigned i = 0; i < 4; i++)
			if (mmu_pdpte_reserved(v[HVX_SLOT_GUEST_PDPTE0 + i]))
				return entry_fail(c, 2);
	return true;
}

/* Halted (activity state HLT): wait until a kick ends the run (exit 1), the timer or deadline ends it, or a raised
 * event exits or is delivered (activity state active again on return). */
static void halt_wait(struct emu_cpu *c)
{
	c->shadow = 0; /* no STI / MOV-SS blocking in the HLT state */
	for (;;) {
		if (vmx_wake(c)) {
			if (atomic_exchange(&c->vcpu->kick_pending, false))
				vmx_exit_event(c, VMX_REASON_IRQ);
			vmx_events(c);
			if (c->v[HVX_SLOT_GUEST_ACTIVITY_STATE] == 0)
				return;
		}
		struct timespec ts = {0, 200000};
		nanosleep(&ts, NULL);
		mmu_sync_gen(c);
		vmx_check_deadline(c); /* the timer wakes HLT */
	}
}

/* SDM 26.6.3: the pending debug exceptions after VM entry. None when the entry injects an external interrupt, NMI,
 * hardware or privileged software exception (or a software one without MOV-SS blocking), nor in shutdown and
 * wait-for-SIPI; otherwise the field's bits when valid (BS or enabled breakpoint set). */
static void entry_debug_exc(struct emu_cpu *c)
{
	const uint64_t *v = c->v;
	uint64_t pd = v[HVX_SLOT_GUEST_DEBUG_EXC], act = v[HVX_SLOT_GUEST_ACTIVITY_STATE];
	uint32_t info = (uint32_t)v[HVX_SLOT_CTRL_VMENTRY_IRQ_INFO];
	unsigned type = (info >> 8) & 7;
	c->pend_dbg = 0;
	if (!(pd & (DBG_BS | DBG_EN)))
		return;
	if (info & (1u << 31)) {
		if (type == 7 || ((type == EV_SWINT || type == EV_SWEXC) && (v[HVX_SLOT_GUEST_INTERRUPTIBILITY] & 2)))
			c->pend_dbg = pd;
	} else if (act != 2 && act != 3) {
		c->pend_dbg = pd;
	}
}

void vmx_inject(struct emu_cpu *c)
{
	uint64_t *v = c->v;
	entry_debug_exc(c);
	if (v[HVX_SLOT_GUEST_ACTIVITY_STATE] == 3)
		vmx_sipi_wait(c); /* executes nothing until SIPI, a kick or the run deadline */
	if (v[HVX_SLOT_GUEST_ACTIVITY_STATE] == 2 && !(v[HVX_SLOT_CTRL_VMENTRY_IRQ_INFO] & (1u << 31))) {
		vmx_shutdown_wait(c); /* executes nothing until an event exits or an NMI is delivered */
		return;
	}
	if (!(v[HVX_SLOT_CTRL_VMENTRY_IRQ_INFO] & (1u << 31)))
		apicv_entry_tpr(c); /* spec 7.2 item 1: above everything after entry (not in wait-for-SIPI) */
	/* Spec 7.2 item 2: then an SMI, before a pending MTF exit and the zero timer. */
	if (!(v[HVX_SLOT_CTRL_VMENTRY_IRQ_INFO] & (1u << 31)))
		vmx_smi(c, false);
	/* Spec 7.2 item 4: pending debug exceptions (after SMI and INIT, above the zero timer); they wake HLT. */
	if (c->pend_dbg && !(v[HVX_SLOT_CTRL_VMENTRY_IRQ_INFO] & (1u << 31))) {
		vmx_init(c);
		if (vmx_debug_trap(c) && c->icls[IC_MTF])
			vmx_exit_event(c, VMX_REASON_MTF); /* MTF after the delivery of the pending #DB */
	}
	if (c->timer_expiry != ~0ull && v[HVX_SLOT_GUEST_VMX_TIMER_VALUE] == 0 &&
	    !(v[HVX_SLOT_CTRL_VMENTRY_IRQ_INFO] & (1u << 31)))
		vmx_exit_event(c, VMX_REASON_VMX_TIMER_EXPIRED);
	uint32_t info = (uint32_t)v[HVX_SLOT_CTRL_VMENTRY_IRQ_INFO];
	if (info & (1u << 31)) {
		v[HVX_SLOT_CTRL_VMENTRY_IRQ_INFO] = info & ~(1u << 31);
		v[HVX_SLOT_GUEST_ACTIVITY_STATE] = 0;
		unsigned type = (info >> 8) & 7, vec = info & 0xff;
		if (type == 7)
			apicv_entry_tpr(c);
		if (type == 7 && vec == 0) {
			vmx_smi(c, true); /* an SMM VM exit pre-empts the pending MTF exit (reason bit 28) */
			vmx_exit_event(c, VMX_REASON_MTF); /* pending MTF VM exit */
		}
		if (type == 7)
			return;
		if (type == EV_NMI)
			v[HVX_SLOT_GUEST_INTERRUPTIBILITY] |= 8; /* SDM 26.6.1.2: blocking by (virtual-)NMI */
		c->cur = NULL;
		c->skip_bitmap = true;
		emu_deliver(c, vec, type, (info >> 11) & 1, (uint32_t)v[HVX_SLOT_CTRL_VMENTRY_EXC_ERROR],
			    (unsigned)v[HVX_SLOT_CTRL_VMENTRY_INSTR_LEN]);
		apicv_entry_tpr(c); /* after the injected event's delivery */
		vmx_smi(c, c->icls[IC_MTF]);
		if (c->icls[IC_MTF])
			vmx_exit_event(c, VMX_REASON_MTF); /* MTF after the injected event's delivery */
		if (c->pend_dbg) {
			/* A software interrupt / exception injected under MOV-SS blocking: the held #DB follows its delivery,
			 * as after an INT n that followed MOV SS (its delivery ends the blocking). */
			c->shadow = 0;
			vmx_debug_trap(c);
		}
		if (c->timer_expiry != ~0ull && v[HVX_SLOT_GUEST_VMX_TIMER_VALUE] == 0)
			vmx_exit_event(c, VMX_REASON_VMX_TIMER_EXPIRED);
		return;
	}
	if (v[HVX_SLOT_GUEST_ACTIVITY_STATE] == 1) {
		/* HLT with no interrupt source: wait for a kick (the thread keeps coming back for it). */
		if (vmx_nmi_window(c))
			vmx_exit_event(c, VMX_REASON_VIRTUAL_NMI_WND); /* the NMI window wakes HLT */
		if (c->icls[IC_IRQ_WND] && (emu_flags(c) & FL_IF))
			vmx_exit_event(c, VMX_REASON_IRQ_WND);
		if (apicv_virq_ready(c)) {
			apicv_deliver(c); /* a pending virtual interrupt wakes HLT */
			return;
		}
		halt_wait(c);
	}
}

/* HLT without HLT exiting: the vCPU halts (activity state HLT, RIP after the HLT) until a kick ends the run. */
_Noreturn void vmx_halt(struct emu_cpu *c)
{
	if (c->step_tf) {
		c->step_tf = false;
		c->pend_dbg |= DBG_BS; /* the HLT's single-step trap */
	}
	if (c->icls[IC_MTF]) {
		/* MTF is not blocked in HLT (spec 6.37): after SMI and INIT it exits with activity state HLT saved (and the
		 * single-step trap pending); the vCPU becomes active only after the exit. */
		c->v[HVX_SLOT_GUEST_ACTIVITY_STATE] = 1;
		c->shadow = 0;
		vmx_smi(c, true);
		vmx_init(c);
		vmx_exit_event(c, VMX_REASON_MTF);
	}
	/* With RFLAGS.TF = 1 the single-step trap wakes the HLT state at once (a pending debug exception ends HLT), so
	 * the vCPU stays active: the #DB is delivered (or exits) with RIP after the HLT. */
	if (c->pend_dbg && vmx_debug_trap(c))
		EMU_LONGJMP(c, JMP_EVENT);
	c->v[HVX_SLOT_GUEST_ACTIVITY_STATE] = 1;
	c->shadow = 0; /* STI / MOV-SS blocking ends with the HLT */
	if (c->deadline_ns != ~0ull)
		vmx_check_deadline(c); /* the timer ranks above the windows that would wake HLT (spec 7.1) */
	if (vmx_nmi_window(c))
		vmx_exit_event(c, VMX_REASON_VIRTUAL_NMI_WND); /* the NMI window wakes HLT */
	if (c->icls[IC_IRQ_WND] && (c->s->rflags & FL_IF))
		vmx_exit_event(c, VMX_REASON_IRQ_WND); /* the window wakes HLT */
	if (apicv_virq_ready(c)) {
		apicv_deliver(c); /* a pending virtual interrupt wakes HLT */
		EMU_LONGJMP(c, JMP_EVENT);
	}
	halt_wait(c);
	EMU_LONGJMP(c, JMP_EVENT); /* a raised event was delivered: run on from its handler */
}

static bool nmi_blocked(struct emu_cpu *c)
{
	/* Blocking by NMI holds real NMIs unless virtual NMIs make bit 3 the virtual-NMI blocking. */
	return !(c->pin & PIN_BASED_VIRTUAL_NMI) && (c->v[HVX_SLOT_GUEST_INTERRUPTIBILITY] & 8);
}

/* Spec 6.3: INIT exits unconditionally (wait-for-SIPI, which would hold it, cannot be entered through the API);
 * qualification 0, RIP = next instruction, no register reset. */
void vmx_init(struct emu_cpu *c)
{
	if (atomic_load(&c->events) & EMU_EV_INIT) {
		atomic_fetch_and(&c->events, ~EMU_EV_INIT);
		vmx_exit_event(c, VMX_REASON_INIT);
	}
}

void vmx_events(struct emu_cpu *c)
{
	vmx_smi(c, false); /* SMI above INIT (spec 7.1 item 3) */
	vmx_init(c);
	vmx_nmi(c);
	vmx_extint(c);
}

bool vmx_wake(struct emu_cpu *c)
{
	if (atomic_load(&c->vcpu->kick_pending))
		return true;
	unsigned ev = atomic_load(&c->events);
	if ((ev & EMU_EV_NMI) && !nmi_blocked(c))
		return true;
	if (ev & EMU_EV_INIT)
		return true;
	if ((ev & EMU_EV_SMI) && vmx_smi_wakes(c))
		return true;
	/* An external interrupt wakes HLT when it exits or when RFLAGS.IF lets it be delivered. */
	return (ev & EMU_EV_EXTINT) && ((c->pin & PIN_BASED_INTR) || (emu_flags(c) & FL_IF));
}

/* SDM 25.3, spec 6.0/6.1 and 7.1 items 8 and 10: a raised NMI and external interrupt at an instruction boundary, NMI
 * first. STI / MOV-SS blocking (c->shadow) holds both for one instruction. */
void vmx_nmi(struct emu_cpu *c)
{
	uint64_t *v = c->v;
	if (c->shadow || !(atomic_load(&c->events) & EMU_EV_NMI) || nmi_blocked(c))
		return;
	atomic_fetch_and(&c->events, ~EMU_EV_NMI);
	if (c->pin & PIN_BASED_NMI) {
		/* Exit 0, interruption info: vector 2, type NMI; RIP = the next instruction; no blocking set. */
		hvx_exit_clear(c->exit);
		c->exit->reason = VMX_REASON_EXC_NMI;
		c->exit->intr_info = EXC_NMI | (EV_NMI << 8) | (1u << 31);
		finish(c);
	}
	v[HVX_SLOT_GUEST_ACTIVITY_STATE] = 0;
	v[HVX_SLOT_GUEST_INTERRUPTIBILITY] |= 8; /* blocking by NMI until the next IRET */
	c->cur = NULL;
	emu_deliver(c, EXC_NMI, EV_NMI, false, 0, 0);
	c->vect.valid = false;
}

/* Takes the pending external interrupt's vector (false if another raise changed it meanwhile: next boundary). */
static bool take_extint(struct emu_cpu *c, unsigned ev)
{
	return atomic_compare_exchange_strong(&c->events, &ev, ev & ~(EMU_EV_EXTINT | 0xff00u));
}

void vmx_extint(struct emu_cpu *c)
{
	unsigned ev = atomic_load(&c->events);
	if (c->shadow || !(ev & EMU_EV_EXTINT))
		return;
	unsigned vec = (ev >> 8) & 0xff;
	if (c->pin & PIN_BASED_INTR) {
		/* RFLAGS.IF does not block it; acknowledge on exit takes the interrupt, else it stays pending. */
		uint32_t info = 0;
		if (c->exitc & VMEXIT_ACK_INTR) {
			if (!take_extint(c, ev))
				return;
			info = vec | (1u << 31);
		}
		hvx_exit_clear(c->exit);
		c->exit->reason = VMX_REASON_IRQ;
		c->exit->intr_info = info;
		finish(c);
	}
	if (!(emu_flags(c) & FL_IF) || !take_extint(c, ev))
		return;
	c->v[HVX_SLOT_GUEST_ACTIVITY_STATE] = 0;
	c->cur = NULL;
	emu_deliver(c, vec, EV_EXTINT, false, 0, 0);
	c->vect.valid = false;
}

/* The pending debug exceptions as a #DB trap (spec 7.1 item 5): held while MOV-SS blocking lasts; dropped if not
 * valid (neither BS nor enabled breakpoint). Through the exception bitmap: exit 0 with qualification B3-B0 and BS,
 * DR6 untouched; else DR6 gets those bits and the #DB is delivered through the IDT (it wakes HLT). */
bool vmx_debug_trap(struct emu_cpu *c)
{
	uint64_t p = c->pend_dbg;
	if (!(p & (DBG_BS | DBG_EN))) {
		c->pend_dbg = 0;
		return false;
	}
	if (c->shadow && (c->shadow_kind & 2))
		return false;
	c->pend_dbg = 0;
	c->shadow = 0; /* incurring the #DB ends STI blocking */
	if (vmx_exception_exits(c, EXC_DB, 0))
		vmx_exit_exception(c, EXC_DB, EV_HWEXC, false, 0, 0, p & (DBG_B0_3 | DBG_BS));
	c->s->dr[6] |= p & (DBG_B0_3 | DBG_BS);
	c->v[HVX_SLOT_GUEST_ACTIVITY_STATE] = 0;
	c->cur = NULL;
	emu_deliver(c, EXC_DB, EV_HWEXC, false, 0, 0);
	c->vect.valid = false;
	return true;
}

/* Single-step trap after an instruction that began with RFLAGS.TF = 1. */
void vmx_single_step(struct emu_cpu *c)
{
	c->pend_dbg |= DBG_BS;
	vmx_debug_trap(c);
}

void vmx_check_deadline(struct emu_cpu *c)
{
	if (c->deadline_ns != ~0ull && hvx_now_ns() >= c->deadline_ns)
		vmx_exit_event(c, VMX_REASON_VMX_TIMER_EXPIRED);
}

/* TPR virtualization after a VTPR write (RIP already past the instruction): without virtual-interrupt delivery, exit 43
 * when VTPR[7:4] < TPR threshold[3:0]; with it, PPR virtualization (apicv.c). VTPR is HV_X86_TPR, byte 0x80 of the
 * virtual-APIC page. */
void vmx_tpr_below_threshold(struct emu_cpu *c)
{
	apicv_tpr_virtualization(c);
}

_Noreturn void vmx_exit_finish(struct emu_cpu *c)
{
	finish(c);
}
