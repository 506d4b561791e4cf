/* exec.c: the emu run loop: block dispatch, per-block checks (kicks, memory-map changes, self-modifying code), derived mode state and faults. */
#include <stdlib.h>
#include <string.h>

#include "backend/emu/emu.h"
#include "backend/emu/jit/jit.h"
#include "core/clock.h"

_Atomic uint64_t emu_stat_ud;

#define CODE_BITS (1u << 20)

void emu_cpu_init(struct emu_cpu *c, struct hvx_vcpu *vcpu)
{
	c->vcpu = vcpu;
	c->s = &vcpu->state;
	c->v = vcpu->state.vmcs;
	c->vm = vcpu->vm;
	c->mode = 0xff;
	const char *b = getenv("HVX_EMU_MAX_INSNS");
	c->budget = b ? strtoull(b, NULL, 0) : 0;
	c->jit_on = jit_wanted();
}

void emu_cpu_fini(struct emu_cpu *c)
{
	jit_destroy(c);
	bc_destroy(c->bc);
	free(c->code_bits);
	free(c->io_bitmap);
	c->io_bitmap = NULL;
	free(c->msr_bitmap);
	c->msr_bitmap = NULL;
	emu_smm_fini(c);
	c->bc = NULL;
	c->code_bits = NULL;
}

/* At the first run (emu_run tests c->code_bits alone: it is allocated last). */
static bool emu_cpu_alloc(struct emu_cpu *c)
{
	if (!c->bc)
		c->bc = bc_create();
	if (!c->bc)
		return false;
	if (!c->code_bits)
		c->code_bits = calloc(CODE_BITS / 64, sizeof(uint64_t));
	if (!c->jc_gen) {
		c->jc_gen = 1; /* never-filled jump-cache entries (tag 0) never match */
		emu_jc_tag_update(c);
	}
	return c->code_bits != NULL;
}

void emu_seg_update(struct emu_cpu *c, unsigned seg)
{
	struct emu_seg_cache *sc = &c->sc[seg];
	uint64_t limit = (uint32_t)c->v[HVX_SLOT_GUEST_ES_LIMIT + seg];
	uint32_t ar = (uint32_t)c->v[HVX_SLOT_GUEST_ES_AR + seg];
	sc->base = c->v[HVX_SLOT_GUEST_ES_BASE + seg];
	if (seg == SEG_CS)
		emu_jc_drop(c);
	if (c->mode == EM_REAL || c->mode == EM_V86) {
		sc->r = sc->w = 1;
		sc->lo = 0;
		sc->hi = (uint32_t)limit;
		if (c->mode == EM_V86)
			sc->base = (c->v[HVX_SLOT_GUEST_ES + seg] & 0xffff) << 4;
		return;
	}
	if (ar & (1u << 16)) {
		sc->r = sc->w = 0;
		sc->lo = 1;
		sc->hi = 0;
		return;
	}
	unsigned type = ar & 0xf;
	if (type & 8) {
		sc->r = !!(type & 2);
		sc->w = 0;
	} else {
		sc->r = 1;
		sc->w = !!(type & 2);
	}
	if (!(type & 8) && (type & 4)) {
		sc->lo = (uint32_t)limit + 1;
		sc->hi = (ar & (1u << 14)) ? 0xffffffffu : 0xffffu;
		if (sc->lo == 0 && limit == 0xffffffffu) {
			sc->lo = 1;
			sc->hi = 0;
		}
	} else {
		sc->lo = 0;
		sc->hi = (uint32_t)limit;
	}
}

void emu_mode_update(struct emu_cpu *c)
{
	uint64_t cr0 = c->v[HVX_SLOT_GUEST_CR0], cr4 = c->v[HVX_SLOT_GUEST_CR4];
	uint64_t efer = c->v[HVX_SLOT_GUEST_IA32_EFER];
	uint32_t csar = (uint32_t)c->v[HVX_SLOT_GUEST_CS_AR], ssar = (uint32_t)c->v[HVX_SLOT_GUEST_SS_AR];
	uint8_t mode, cpl;
	if (!(cr0 & CR0_PE)) {
		mode = EM_REAL;
		cpl = 0;
	} else if (c->s->rflags & FL_VM) {
		mode = EM_V86;
		cpl = 3;
	} else {
		cpl = (ssar >> 5) & 3;
		if (efer & EFER_LMA)
			mode = (csar & (1u << 13)) ? EM_LONG64 : (csar & (1u << 14)) ? EM_COMPAT32 : EM_COMPAT16;
		else
			mode = (csar & (1u << 14)) ? EM_PROT32 : EM_PROT16;
	}
	uint8_t paging = 0;
	if ((cr0 & CR0_PG) && (cr0 & CR0_PE))
		paging = !(cr4 & CR4_PAE) ? 2 : (efer & EFER_LMA) ? ((cr4 & CR4_LA57) ? 5 : 4) : 3;
	bool ctx_change = cpl != c->cpl || paging != c->paging || mode != c->mode;
	bool mode_change = mode != c->mode;
	c->mode = mode;
	c->cpl = cpl;
	c->paging = paging;
	if (ctx_change)
		mmu_flush(c, true);
	unsigned mk, sw;
	switch (mode) {
	case EM_REAL: case EM_V86: mk = 0; c->ip_mask = 0xffff; break;
	case EM_PROT16: mk = 1; c->ip_mask = 0xffff; break;
	case EM_PROT32: mk = 2; c->ip_mask = 0xffffffff; break;
	case EM_COMPAT16: mk = 3; c->ip_mask = 0xffff; break;
	case EM_COMPAT32: mk = 4; c->ip_mask = 0xffffffff; break;
	default: mk = 5; c->ip_mask = ~0ull; break;
	}
	if (mode == EM_LONG64) {
		sw = 2;
		c->stack_sz = 8;
	} else if (mode != EM_REAL && mode != EM_V86 && (ssar & (1u << 14))) {
		sw = 1;
		c->stack_sz = 4;
	} else if ((mode == EM_REAL) && (ssar & (1u << 14))) {
		sw = 1;
		c->stack_sz = 4;
	} else {
		sw = 0;
		c->stack_sz = 2;
	}
	c->dec_key = (uint8_t)(mk << 2 | sw);
	emu_jc_tag_update(c);
	if (mode_change)
		for (unsigned i = 0; i < 6; i++)
			emu_seg_update(c, i);
}

void emu_refresh(struct emu_cpu *c)
{
	c->mode = 0xff;
	emu_mode_update(c);
	mmu_flush(c, true);
	vmx_fold(c);
	/* No control makes entry work: preemption timer, virtual-interrupt delivery, the TPR check of TPR shadow with
	 * APIC-access virtualisation (apicv_entry, apicv_entry_tpr). */
	c->entry_ctl_quiet = !(c->pin & PIN_BASED_PREEMPTION_TIMER) && !(c->proc2 & CPU_BASED2_VIRT_INTR_DELIVERY) &&
			     !((c->proc & CPU_BASED_TPR_SHADOW) && (c->proc2 & CPU_BASED2_VIRTUAL_APIC));
	c->blk_ctl = c->icls[IC_NMI_WND] || c->icls[IC_IRQ_WND] || (c->proc2 & CPU_BASED2_VIRT_INTR_DELIVERY) || c->budget;
	/* The controls' part of a quiet entry's direct route (emu_run): no monitor-trap flag (translated code runs without
	 * it), not the one-instruction mode's CPU. */
	c->direct_ctl = !c->icls[IC_MTF] && !c->phys;
}

_Noreturn void emu_fault(struct emu_cpu *c, unsigned vec, bool has_err, uint32_t err)
{
	c->exc.vec = (uint8_t)vec;
	c->exc.has_err = has_err;
	c->exc.err = err;
	EMU_LONGJMP(c, JMP_FAULT);
}

_Noreturn void emu_ud(struct emu_cpu *c)
{
	emu_fault(c, EXC_UD, false, 0);
}

_Noreturn void emu_gp0(struct emu_cpu *c)
{
	emu_fault(c, EXC_GP, true, 0);
}

_Noreturn void emu_pf(struct emu_cpu *c, uint64_t la, uint32_t err)
{
	c->exc.cr2 = la;
	emu_fault(c, EXC_PF, true, err);
}

void h_ud(struct emu_cpu *c, const struct emu_insn *in)
{
	if (in->aux == 1)
		emu_gp0(c); /* longer than 15 bytes */
	if (in->aux == 0) /* decoded fine, but no handler: count it */
		atomic_fetch_add_explicit(&emu_stat_ud, 1, memory_order_relaxed);
	emu_ud(c);
}

static void code_flush(struct emu_cpu *c)
{
	emu_jc_drop(c);
	bc_flush(c->bc);
	memset(c->code_bits, 0, CODE_BITS / 8);
	c->code_dirty = false;
	c->code_gen++;
}

/* The block-boundary checks, in the priority order of spec 7.1, when something may be due (c->blk_due or c->events
 * nonzero): a cache flush after a write to decoded code, a memory-map change, a kick, raised events, the windows,
 * virtual-interrupt delivery, the deadline or timer, the instruction budget. Ends the run by longjmp when one exits. */
static __attribute__((noinline)) void block_duties(struct emu_cpu *c, unsigned ev)
{
	if (ev & (EMU_EV_KICK | EMU_EV_MEMMAP)) {
		/* Clear the bits before looking: a kick or map change after this sets them again. */
		atomic_fetch_and(&c->events, ~(EMU_EV_KICK | EMU_EV_MEMMAP));
		if (ev & EMU_EV_MEMMAP)
			mmu_sync_gen(c);
		ev &= ~(EMU_EV_KICK | EMU_EV_MEMMAP);
	}
	if (c->code_dirty)
		code_flush(c);
	if (atomic_load_explicit(&c->vcpu->kick_pending, memory_order_relaxed) &&
	    atomic_exchange(&c->vcpu->kick_pending, false))
		vmx_exit_event(c, VMX_REASON_IRQ);
	if (ev & (EMU_EV_SMI | EMU_EV_SIPI))
		vmx_smi(c, false); /* spec 7.1 item 3: SMI, then INIT; a SIPI outside wait-for-SIPI is discarded */
	if (ev & EMU_EV_INIT)
		vmx_init(c); /* spec 7.1 item 3 */
	/* Spec 7.1 item 6: the preemption timer (and the run deadline) rank above the windows, NMIs and interrupts:
	 * whenever one of those could be taken here, the clock is read now rather than at the 64-block check. */
	if (c->deadline_ns != ~0ull &&
	    ((ev & (EMU_EV_NMI | EMU_EV_EXTINT)) || c->icls[IC_NMI_WND] || c->icls[IC_IRQ_WND] ||
	     ((c->proc2 & CPU_BASED2_VIRT_INTR_DELIVERY) && apicv_virq_ready(c))))
		vmx_check_deadline(c);
	if (c->icls[IC_NMI_WND] && vmx_nmi_window(c))
		vmx_exit_event(c, VMX_REASON_VIRTUAL_NMI_WND); /* spec 7.1 item 7, above NMIs */
	if (ev & EMU_EV_NMI)
		vmx_nmi(c); /* spec 7.1: NMI, interrupt window, external interrupt */
	if (c->icls[IC_IRQ_WND] && !c->shadow && (c->s->rflags & FL_IF))
		vmx_exit_event(c, VMX_REASON_IRQ_WND); /* interrupt window open before this instruction */
	if ((c->proc2 & CPU_BASED2_VIRT_INTR_DELIVERY) && apicv_virq_ready(c))
		apicv_deliver(c); /* same slot as the interrupt window (spec 7.1 item 9) */
	if (ev & EMU_EV_EXTINT)
		vmx_extint(c);
	if (c->deadline_ns != ~0ull && (++c->block_tick & 63) == 0)
		vmx_check_deadline(c);
	if (c->budget && c->icount >= c->budget)
		vmx_exit_event(c, VMX_REASON_IRQ);
}

/* Block after block until an instruction exit returns (exits and faults from elsewhere longjmp to run_guarded). Apart
 * from run_guarded: in a function that calls setjmp the compiler keeps no value in a register across a call, which
 * would slow the loop (the interpreter's by a quarter). */
static __attribute__((noinline)) void run_blocks(struct emu_cpu *c, bool after_jit)
{
	if (after_jit)
		goto after_jit; /* the direct route (run_guarded) ran translated code, which returned without an exit */
	for (;;) {
		unsigned ev = atomic_load_explicit(&c->events, memory_order_relaxed);
		if (__builtin_expect(ev | c->blk_due, 0))
			block_duties(c, ev);
		unsigned n;
		const struct emu_insn *in;
		uint64_t la = c->s->rip;
		unsigned j = (unsigned)(la ^ (la >> 10)) & 1023;
		if (c->jc[j].tag == c->jc_tag64 && c->jc[j].la == la &&
		    (c->jc[j].chk->epoch == c->run_epoch || bc_current(c, j))) {
			in = c->jc[j].ins; /* the jump cache, inline for 64-bit code */
			n = c->jc[j].n;
		} else {
			in = bc_lookup(c, &n);
		}
		bool tf = c->s->rflags & FL_TF;
		/* The JIT tier (jit/jit.c) runs translated blocks and counts their instructions itself; the duties after a
		 * block below still apply, those of TF and MTF excepted (translated code runs without either). */
		if (c->jit_on && !in->no_jit && !tf && !c->shadow && !c->icls[IC_MTF] && jit_exec(c, in, n)) {
			if (c->exit_returned) {
				c->exit_returned = false; /* translated code took an instruction exit: leave the run */
				return;
			}
		after_jit:
			c->shadow = c->shadow == 2 ? 1 : 0;
			c->stop = false;
			if (__builtin_expect(c->apicv_pend || c->smm.io.pending || c->pend_dbg, 0)) {
				if (c->apicv_pend)
					apicv_write_emulation(c); /* trap-like, above INIT and MTF (SDM 29.4.3.2) */
				if (c->smm.io.pending)
					vmx_io_smi(c); /* the SMI of the I/O instruction that just completed */
				if (c->pend_dbg)
					vmx_debug_trap(c); /* held while the instruction left MOV-SS blocking */
			}
			continue;
		}
		if (c->shadow || tf || c->icls[IC_MTF])
			n = 1; /* after STI / MOV SS, and under single-step, one instruction at a time */
		uint64_t rip = c->s->rip;
		c->step_tf = tf;
		c->blk_first = in;
		for (unsigned i = 0; i < n; i++, in++) {
			c->cur = in;
			c->next_rip = (rip + in->len) & c->ip_mask;
			c->exit_by_return = true;
			in->fn(c, in);
			c->exit_by_return = false;
			if (c->exit_returned) {
				/* an instruction exit taken by returning (vmx.c): as after its longjmp */
				c->exit_returned = false;
				c->icount += i;
				c->blk_first = NULL;
				return;
			}
			rip = c->s->rip = c->next_rip;
			if (c->stop) {
				n = i + 1;
				break;
			}
		}
		c->shadow = c->shadow == 2 ? 1 : 0;
		c->stop = false;
		c->icount += n;
		c->blk_first = NULL;
		if (tf)
			c->pend_dbg |= DBG_BS; /* the single-step trap: pending below the trap-like exits, SMI, INIT, MTF */
		c->step_tf = false;
		if (c->apicv_pend)
			apicv_write_emulation(c); /* trap-like, above INIT and MTF (SDM 29.4.3.2) */
		if (c->smm.io.pending)
			vmx_io_smi(c); /* the SMI of the I/O instruction that just completed, above MTF */
		if (c->icls[IC_MTF]) {
			vmx_smi(c, true);
			if (atomic_load_explicit(&c->events, memory_order_relaxed) & EMU_EV_INIT)
				vmx_init(c); /* INIT is above MTF (spec 7.1 item 3) */
			vmx_exit_event(c, VMX_REASON_MTF); /* above the single-step trap in priority */
		}
		if (c->pend_dbg)
			vmx_debug_trap(c); /* held while the instruction left MOV-SS blocking */
	}
}

/* How a run starts (emu_run): the entry work (injection), none (a quiet entry), none and straight into translated
 * code (the direct route). */
enum emu_route { ROUTE_FULL, ROUTE_QUIET, ROUTE_DIRECT };

/* The run proper: the setjmp that exits and faults out of a handler's frames longjmp to, then the loop. Apart from
 * emu_run, whose entry and exit work thus keeps its values in registers (in a function that calls setjmp every value
 * live across a call lives in memory). */
static __attribute__((noinline)) void run_guarded(struct emu_cpu *c, enum emu_route route)
{
	int code = EMU_SETJMP(c);
	if (__builtin_expect(code != 0, 0)) {
		c->exit_by_return = false; /* a fault or exit out of a handler's frames */
		if (c->blk_first) {
			/* An exit, fault or event out of the middle of a block: the instructions before c->cur completed. */
			uintptr_t done = ((uintptr_t)c->cur - (uintptr_t)c->blk_first) / sizeof(struct emu_insn);
			if (c->cur && (uintptr_t)c->cur >= (uintptr_t)c->blk_first && done < EMU_BLOCK_MAX)
				c->icount += done;
			c->blk_first = NULL;
		}
		if (code == JMP_EXIT) {
			c->vect.valid = false; /* an exit during an event's delivery: the one way a run ends with it set */
			return;
		}
		c->step_tf = false;
		if (code == JMP_FAULT) {
			c->icount++; /* a delivered fault counts against the budget (fault loops end too) */
			c->smm.io.pending = false; /* the I/O instruction did not complete: no I/O SMI */
			if (c->in_iret) {
				c->s->gpr[HVX_RSP] = c->iret_rsp; /* a faulting IRET leaves RSP as it was */
				c->in_iret = false;
			}
			emu_handle_fault(c);
			c->iret_nmi_unblocked = false; /* the fault was delivered: no exit reported the IRET */
			if (c->apicv_pend)
				apicv_write_emulation(c); /* after the fault's delivery, before its handler (SDM 29.4.3.2) */
			if (c->icls[IC_MTF])
				vmx_exit_event(c, VMX_REASON_MTF); /* MTF after delivery of the instruction's fault */
			c->shadow = 0; /* the exception ends STI / MOV-SS blocking */
			if (c->pend_dbg)
				vmx_debug_trap(c); /* a #DB MOV SS held follows the fault's delivery */
		}
		c->vect.valid = false;
	} else if (route == ROUTE_DIRECT) {
		/*
		 * The direct route of a quiet entry: straight into the translation entered last when it is the one for RIP,
		 * without the loop's and jit_exec's tests that such an entry answers (emu_run chose it: see there). A
		 * miss (-1) leaves the block to the loop; translated code that returned without an exit (0) leaves it
		 * the loop's duties after a translated block.
		 */
		int r = jit_enter_quiet(c);
		if (r > 0)
			return; /* translated code took an instruction exit */
		run_blocks(c, r == 0);
		return;
	} else if (route == ROUTE_FULL) {
		vmx_inject(c);
		c->vect.valid = false;
	}

	run_blocks(c, false);
}

/* Is the entry free of entry work (see entry_quiet in emu.h)? Computed as a run ends, from the state it saved; the
 * controls' part (entry_ctl_quiet) when they are folded. */
static bool entry_quiet(const struct emu_cpu *c)
{
	const uint64_t *v = c->v;
	uint64_t work = (v[HVX_SLOT_CTRL_VMENTRY_IRQ_INFO] & (1u << 31)) | v[HVX_SLOT_GUEST_ACTIVITY_STATE] |
			(v[HVX_SLOT_GUEST_INTERRUPTIBILITY] & 3) | (v[HVX_SLOT_GUEST_DEBUG_EXC] & (DBG_BS | DBG_EN)) |
			c->smm.entry_msr_count | c->smm.entry_mc;
	return c->entry_ctl_quiet && !work && c->mode != 0xff;
}

/* The groups a VMM may write between runs without making the entry do more than the RIP check: registers. */
#define QUIET_GROUPS (HVX_GROUP_GPR | HVX_GROUP_RIP_FLAGS | HVX_GROUP_FPU)

hv_return_t emu_run(struct emu_cpu *c, uint64_t deadline, struct hvx_exit *exit)
{
	if (__builtin_expect(!c->code_bits, 0) && !emu_cpu_alloc(c))
		return HV_NO_RESOURCES;
	c->exit = exit;
	/* in_guest = 1 before reading the memory-map generation (a full fence: the mapper stores the generation, then
	 * reads in_guest); the mapper makes it with membarrier(2) where it can (emu_asym_fence, emu_backend.c). */
	atomic_store_explicit(&c->in_guest, 1, memory_order_relaxed);
	if (__builtin_expect(atomic_load_explicit(&emu_asym_fence, memory_order_relaxed), 1))
		atomic_signal_fence(memory_order_seq_cst);
	else
		atomic_thread_fence(memory_order_seq_cst);
	uint64_t gen = atomic_load_explicit(&c->vm->memmap.generation, memory_order_acquire);
	/* seen_gen already equals memmap_gen (mmu_sync_gen, the one writer of both, stores them together) */
	if (gen != c->memmap_gen)
		mmu_sync_gen(c); /* flushes the TLB */
	c->run_epoch++; /* every block is compared with guest memory again at its first use in this run */
	if (__builtin_expect(!++c->link_gen, 0)) /* and no JIT link skips that */
		c->link_gen = 1;                /* (0 is a never-linked slot's) */
	/* Not reset here, being so at every end of a run: lf_op (every way out of a run materializes the flags) and
	 * exit_by_return (the loop and jit_h_insn clear it after each handler, run_guarded after a longjmp). */
	/* Nor vect.valid: only an event's delivery sets it, which clears it as it ends, and an exit out of a delivery
	 * (run_guarded's longjmp path) and the fault path clear it; an exit taken by returning never comes during one. */
	c->stop = false;
	c->iret_nmi_unblocked = false;
	c->in_iret = false;
	c->step_tf = false;
	c->pend_dbg = 0; /* vmx_inject loads the field (SDM 26.6.3) */
	_Static_assert(HV_DEADLINE_FOREVER == ~0ull, "deadline_ns uses ~0 for none");
	c->deadline_ns = deadline;
	c->smm.run_deadline = deadline;
	uint32_t dirty = c->vcpu->dirty;
	c->vcpu->dirty = 0;
	/* Only registers changed and nothing is pending: what the general path below would do comes down to the RIP
	 * check, no STI / MOV-SS blocking, no pending debug exception, no timer and no injection. */
	bool quiet = c->entry_quiet && !(dirty & ~QUIET_GROUPS) && c->s->rflags == c->rflags_at_exit &&
		     !atomic_load_explicit(&c->events, memory_order_relaxed);
	enum emu_route route = quiet ? ROUTE_QUIET : ROUTE_FULL;
	if (quiet) {
		/* A RIP with bits 63:32 clear passes the RIP check in any mode, a canonical one in 64-bit mode; any other
		 * gets the check itself. */
		uint64_t rip = c->s->rip;
		if ((dirty & HVX_GROUP_RIP_FLAGS) && (rip >> 32) &&
		    !(c->mode == EM_LONG64 && hvx_canonical(rip, EMU_LINEAR_BITS)) && !vmx_entry_rip_check(c))
			goto out;
		c->timer_expiry = ~0ull;
		c->shadow = 0;
		c->shadow_kind = 0;
		c->apicv_pend = false;
		c->smm.io.pending = false;
		/* no preemption timer (entry_ctl_quiet): the deadline is the caller's */
		c->blk_static = c->blk_ctl | (deadline != ~0ull);
		/*
		 * The direct route (run_guarded, jit_enter_quiet) skips what the loop and jit_exec test before translated
		 * code; here each holds: c->events is zero (read above, after the in_guest fence, as the loop's top would
		 * read it); no boundary duty (blk_due: no cache flush due, no deadline or timer, no windows, no
		 * virtual-interrupt delivery, no budget; so jit_exec's window tests pass too); no STI / MOV-SS blocking
		 * (cleared above); no TF; no MTF and a vCPU's CPU (direct_ctl); 64-bit mode (tested by jit_enter_quiet);
		 * the flags materialized (lf_op, at every end of a run).
		 */
		if (!c->blk_due && c->direct_ctl && !(c->s->rflags & FL_TF))
			route = ROUTE_DIRECT;
	} else {
		if (c->mode == 0xff || (dirty & (HVX_GROUP_SEG | HVX_GROUP_CR | HVX_GROUP_MSR | HVX_GROUP_CONTROL |
						 HVX_GROUP_DTABLE))) {
			emu_refresh(c);
			if (!vmx_entry_checks(c))
				goto out;
		} else if ((dirty & (HVX_GROUP_EVENT | HVX_GROUP_DR)) ||
			   ((dirty & HVX_GROUP_RIP_FLAGS) && c->s->rflags != c->rflags_at_exit)) {
			emu_mode_update(c); /* RFLAGS.VM may have changed; flushes only if the context did */
			if (!vmx_entry_checks(c))
				goto out;
		} else if ((dirty & HVX_GROUP_RIP_FLAGS) && !vmx_entry_rip_check(c)) {
			goto out; /* a new RIP alone (the VMM skipping an instruction): only the RIP check reads it */
		}
		c->smm.io.pending = false;
		if ((c->smm.entry_msr_count || c->smm.entry_mc) && !vmx_entry_late(c))
			goto out; /* VM-entry MSR-load list (exit 34), injected machine check (exit 41) */
		/* The run deadline and the VMX-preemption timer (rate: 1 tick per ns, IA32_VMX_MISC[4:0] = 0) both end
		 * the run with exit 52; they are checked every 64 blocks and while halted. */
		c->timer_expiry = ~0ull;
		if (c->pin & PIN_BASED_PREEMPTION_TIMER)
			c->timer_expiry = hvx_now_ns() + (uint32_t)c->v[HVX_SLOT_GUEST_VMX_TIMER_VALUE];
		if (c->timer_expiry < c->deadline_ns)
			c->deadline_ns = c->timer_expiry;
		uint64_t ii = c->v[HVX_SLOT_GUEST_INTERRUPTIBILITY];
		c->shadow = (ii & 3) ? 1 : 0;
		c->shadow_kind = (uint8_t)(ii & 3);
		apicv_entry(c);
		/* Reasons for the boundary checks that hold for the whole run (the controls and the deadline are fixed
		 * now). */
		c->blk_static = c->blk_ctl || c->deadline_ns != ~0ull;
	}

	run_guarded(c, route);
out:
	/* Every way here leaves the flags materialized (exit_save, or an entry failure before any instruction). */
	c->rflags_at_exit = c->s->rflags;
	c->entry_quiet = entry_quiet(c);
	/* Only this thread writes `retired`: a plain load and store, no locked add on the exit path. */
	atomic_store_explicit(&c->retired, atomic_load_explicit(&c->retired, memory_order_relaxed) + c->icount,
			      memory_order_relaxed);
	c->icount = 0;
	atomic_store_explicit(&c->in_guest, 0, memory_order_release); /* every guest-memory access of the run is before */
	return HV_SUCCESS;
}
