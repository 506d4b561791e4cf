/* smm.c: the emu's dual-monitor SMM model (SMM VM exits IO_SMI / OTHER_SMI, RSM in an SMM guest) and the inactive activity states wait-for-SIPI (with its SIPI exit) and shutdown. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "backend/emu/emu.h"
#include "core/clock.h"

#define REASON_PENDING_MTF (1u << 28) /* spec 2.1: an SMM VM exit that pre-empted an MTF VM exit */

static bool in_smm(struct emu_cpu *c)
{
	return c->entryc & VMENTRY_SMM; /* hv_vcpu_run allows the control only with the model on */
}

/* Can an SMI be taken now? Only with the model on, outside SMM (blocking by SMI) and outside wait-for-SIPI. */
static bool smi_open(struct emu_cpu *c)
{
	return atomic_load(&c->vcpu->dual_monitor) && !in_smm(c) && c->v[HVX_SLOT_GUEST_ACTIVITY_STATE] != 3;
}

bool vmx_smi_wakes(struct emu_cpu *c)
{
	return smi_open(c);
}

/* At an instruction boundary (spec 7.1 item 3, above INIT): a raised SMI is an SMM VM exit OTHER_SMI (qualification
 * 0, RIP = next instruction). Without the model it is dropped; in SMM it stays pending. A SIPI is discarded: this
 * vCPU is not in wait-for-SIPI (spec 6.4). */
void vmx_smi(struct emu_cpu *c, bool mtf_pending)
{
	unsigned ev = atomic_load(&c->events);
	if (ev & EMU_EV_SIPI)
		atomic_fetch_and(&c->events, ~(EMU_EV_SIPI | 0xff0000u));
	if (!(ev & EMU_EV_SMI))
		return;
	if (!atomic_load(&c->vcpu->dual_monitor)) {
		atomic_fetch_and(&c->events, ~EMU_EV_SMI);
		return;
	}
	if (!smi_open(c))
		return;
	atomic_fetch_and(&c->events, ~EMU_EV_SMI);
	vmx_exit_event(c, VMX_REASON_OTHER_SMI | (mtf_pending ? REASON_PENDING_MTF : 0));
}

/* An I/O instruction that did not exit completed on a port marked by hvx_vcpu_set_smi_ports: remember what the I/O
 * SMI reports and end the block after it, so the SMI is taken right after its retirement. */
void vmx_io_smi_latch(struct emu_cpu *c, const struct emu_insn *in, uint16_t port, unsigned size, bool in_dir,
		      bool string, bool imm)
{
	bool hit = false;
	for (unsigned i = 0; i < size && !hit; i++) {
		unsigned p = (port + i) & 0xffff;
		hit = (c->smm.smi_ports[p >> 3] >> (p & 7)) & 1;
	}
	if (!hit || !smi_open(c))
		return;
	uint32_t info;
	c->smm.io.qual = vmx_io_qual(c, in, port, size, in_dir, string, imm, &c->smm.io.gla, &info);
	if (c->mode != EM_LONG64)
		c->smm.io.gla &= 0xffffffffull;
	/* I/O RCX/RSI/RDI/RIP: the values before the instruction (RIP addresses it) [SDM 34.15.2]. */
	c->smm.io.rcx = c->s->gpr[HVX_RCX];
	c->smm.io.rsi = c->s->gpr[HVX_RSI];
	c->smm.io.rdi = c->s->gpr[HVX_RDI];
	c->smm.io.rip = c->s->rip;
	c->smm.io.pending = true;
	c->stop = true;
}

/* Spec 6.5: exit IO_SMI after the I/O instruction: I/O-format qualification, RIP = next instruction, guest-linear
 * address for string I/O, I/O RCX/RSI/RDI/RIP; bit 28 when MTF would have exited at this boundary. */
void vmx_io_smi(struct emu_cpu *c)
{
	c->smm.io.pending = false;
	struct hvx_exit *e = c->exit;
	hvx_exit_clear(e);
	e->reason = VMX_REASON_IO_SMI | (c->icls[IC_MTF] ? REASON_PENDING_MTF : 0);
	e->qualification = c->smm.io.qual;
	e->guest_linear = c->smm.io.gla;
	e->io_rcx = c->smm.io.rcx;
	e->io_rsi = c->smm.io.rsi;
	e->io_rdi = c->smm.io.rdi;
	e->io_rip = c->smm.io.rip;
	vmx_exit_finish(c);
}

/* Spec 6.17: in an SMM guest RSM exits unconditionally (fault-like, qualification 0, instruction length). */
void vmx_rsm(struct emu_cpu *c)
{
	if (in_smm(c))
		vmx_exit_insn(c, VMX_REASON_RSM, 0, 0);
}

/* Wait-for-SIPI (spec 6.4, 7.1): nothing executes; NMIs, external interrupts, INIT and SMIs stay pending; a SIPI
 * exits with reason 4 and its vector as qualification (activity state saved as wait-for-SIPI, RIP unchanged). A
 * kick ends the run (exit 1), as does the run deadline (exit 52); the preemption timer does not count here. */
_Noreturn void vmx_sipi_wait(struct emu_cpu *c)
{
	c->shadow = 0;
	for (;;) {
		if (atomic_load(&c->vcpu->kick_pending) && atomic_exchange(&c->vcpu->kick_pending, false))
			vmx_exit_event(c, VMX_REASON_IRQ);
		unsigned ev = atomic_load(&c->events);
		if ((ev & EMU_EV_SIPI) &&
		    atomic_compare_exchange_strong(&c->events, &ev, ev & ~(EMU_EV_SIPI | 0xff0000u))) {
			hvx_exit_clear(c->exit);
			c->exit->reason = VMX_REASON_SIPI;
			c->exit->qualification = (ev >> 16) & 0xff;
			vmx_exit_finish(c);
		}
		if (c->smm.run_deadline != ~0ull && hvx_now_ns() >= c->smm.run_deadline)
			vmx_exit_event(c, VMX_REASON_VMX_TIMER_EXPIRED);
		struct timespec ts = {0, 200000};
		nanosleep(&ts, NULL);
		mmu_sync_gen(c);
	}
}

/* Shutdown (SDM 26.6.2, spec 7.1): nothing executes; external interrupts stay pending (even with external-interrupt
 * exiting), SIPIs are discarded, the interrupt window and MTF do not exit. In priority order: a kick ends the run
 * (exit 1); an SMI (dual-monitor model) and INIT exit; the preemption timer and the run deadline exit 52; the NMI
 * window exits 8; an NMI exits 0 under NMI exiting, else (unless NMIs are blocked) it is delivered through the IDT,
 * which leaves shutdown: then an MTF exit follows its delivery when MTF is on, else this returns and the guest runs
 * the handler. An exit from shutdown saves activity state shutdown (the vCPU becomes active only after the exit). */
void vmx_shutdown_wait(struct emu_cpu *c)
{
	c->shadow = 0;
	for (;;) {
		if (atomic_load(&c->vcpu->kick_pending) && atomic_exchange(&c->vcpu->kick_pending, false))
			vmx_exit_event(c, VMX_REASON_IRQ);
		vmx_smi(c, false); /* also drops a SIPI */
		vmx_init(c);
		vmx_check_deadline(c);
		if (vmx_nmi_window(c))
			vmx_exit_event(c, VMX_REASON_VIRTUAL_NMI_WND);
		vmx_nmi(c);
		if (c->v[HVX_SLOT_GUEST_ACTIVITY_STATE] == 0) {
			if (c->icls[IC_MTF])
				vmx_exit_event(c, VMX_REASON_MTF); /* MTF after the NMI's delivery (spec 6.37) */
			return;
		}
		struct timespec ts = {0, 200000};
		nanosleep(&ts, NULL);
		mmu_sync_gen(c);
	}
}

void emu_smm_fini(struct emu_cpu *c)
{
	free(c->smm.smi_ports);
	c->smm.smi_ports = NULL;
	free(c->smm.entry_msrs);
	c->smm.entry_msrs = NULL;
	c->smm.entry_msr_count = 0;
}
