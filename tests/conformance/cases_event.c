/* cases_event.c: conformance cases for event exits: exceptions, triple fault, kicks, interrupt/NMI windows, MTF, preemption timer, task switches, VM-entry failures (SIPI, SMM and entry-MSR/machine-check cases are in cases_smm.c). */
#include <Hypervisor/hv_arch_vmx.h>
#include <hvx/hvx.h>
#include <string.h>

#include "cases.h"

#define IOX CPU_BASED_UNCOND_IO
#define CTL(...) ((struct h_ctrls){__VA_ARGS__})

/* ------------------------------------------------------------------ EXC_NMI */

static void ud2_exits(struct h_ctx *h)
{
	uint64_t rip = AT(h, H_SLOT(0), "\x0f\x0b");
	h_start(h, rip);
	h_set_vmcs(h, VMCS_CTRL_EXC_BITMAP, 1u << 6);
	h_run(h);
	h_expect_exception(h, INTR_VALID | INTR_HW_EXC | 6, 0, rip, 0);
	h_expect_masked(h, "guest RFLAGS.RF (a fault pushes RF = 1)", h->x.rflags, RFLAGS_RF, RFLAGS_RF);
}

static void int3_exits(struct h_ctx *h)
{
	uint64_t rip = AT(h, H_SLOT(1), "\xcc");
	h_start(h, rip);
	h_set_vmcs(h, VMCS_CTRL_EXC_BITMAP, 1u << 3);
	h_run(h);
	if (!h_expect_reason(h, VMX_REASON_EXC_NMI))
		return;
	/* Software exception: type 6, RIP = the INT3 itself, instruction length defined. */
	h_expect(h, "VM-exit interruption information", h->x.intr, INTR_VALID | INTR_SW_EXC | 3);
	h_expect(h, "guest RIP (INT3 itself)", h->x.rip, rip);
	h_expect(h, "VM-exit instruction length", h->x.len, 1);
	h_expect(h, "exit qualification", h->x.qual, 0);
	h_expect_masked(h, "IDT-vectoring information valid bit", h->x.idt, 0, INTR_VALID);
	h_expect_masked(h, "guest RFLAGS.RF (a trap keeps RF)", h->x.rflags, 0, RFLAGS_RF);
}

#define PF_ADDR 0x40000010ull /* linear: PDPT entry 1 is not present */

static void pf_setup(struct h_ctx *h, unsigned slot, const char *bytes, uint64_t *rip)
{
	*rip = h_at(h, H_SLOT(slot), bytes, 2);
	h_start(h, *rip);
	SET(h, RBX, PF_ADDR);
	SET(h, RAX, 0x5a5a);
	SET(h, CR2, 0xdead0000);
}

static void pf_write_exits(struct h_ctx *h)
{
	uint64_t rip;
	pf_setup(h, 2, "\x89\x03", &rip);
	h_set_vmcs(h, VMCS_CTRL_EXC_BITMAP, 1u << 14);
	h_run(h);
	/* Error code 2: write, not present, supervisor. Qualification = the linear address; CR2 not written. */
	h_expect_exception(h, INTR_VALID | INTR_HW_EXC | INTR_ERR | 14, 2, rip, PF_ADDR);
	EXPECT_REG(h, CR2, 0xdead0000);
}

static void pf_read_exits(struct h_ctx *h)
{
	uint64_t rip;
	pf_setup(h, 3, "\x8b\x03", &rip);
	h_set_vmcs(h, VMCS_CTRL_EXC_BITMAP, 1u << 14);
	h_run(h);
	h_expect_exception(h, INTR_VALID | INTR_HW_EXC | INTR_ERR | 14, 0, rip, PF_ADDR);
	EXPECT_REG(h, RAX, 0x5a5a);
}

static void pf_mask_match_equal(struct h_ctx *h)
{
	uint64_t rip;
	pf_setup(h, 2, "\x89\x03", &rip);
	/* PFEC 2 & mask 2 == match 2: equal, so the #PF exits iff bitmap bit 14 = 1 (this selects write faults only). */
	h_set_vmcs(h, VMCS_CTRL_EXC_BITMAP, 1u << 14);
	h_set_vmcs(h, VMCS_CTRL_PF_ERROR_MASK, 2);
	h_set_vmcs(h, VMCS_CTRL_PF_ERROR_MATCH, 2);
	h_run(h);
	h_expect_exception(h, INTR_VALID | INTR_HW_EXC | INTR_ERR | 14, 2, rip, PF_ADDR);
}

static void pf_mask_match_inverted(struct h_ctx *h)
{
	uint64_t rip;
	pf_setup(h, 2, "\x89\x03", &rip);
	/* PFEC 2 & mask 2 != match 0: unequal -> exit iff bit 14 = 0. */
	h_set_vmcs(h, VMCS_CTRL_EXC_BITMAP, 0);
	h_set_vmcs(h, VMCS_CTRL_PF_ERROR_MASK, 2);
	h_set_vmcs(h, VMCS_CTRL_PF_ERROR_MATCH, 0);
	h_run(h);
	h_expect_exception(h, INTR_VALID | INTR_HW_EXC | INTR_ERR | 14, 2, rip, PF_ADDR);
}

static void pf_mask_match_delivers(struct h_ctx *h)
{
	uint64_t rip;
	pf_setup(h, 2, "\x89\x03", &rip);
	uint64_t handler = AT(h, H_SLOT(6), "\xe6\xf4");
	h_idt_gate64(h, 14, handler);
	h_set_vmcs(h, VMCS_GUEST_IDTR_LIMIT, 0xfff);
	/* PFEC 2 & mask 2 != match 0 with bit 14 = 1: no exit, the #PF goes through the guest IDT. */
	h_set_vmcs(h, VMCS_CTRL_EXC_BITMAP, 1u << 14);
	h_set_vmcs(h, VMCS_CTRL_PF_ERROR_MASK, 2);
	h_set_vmcs(h, VMCS_CTRL_PF_ERROR_MATCH, 0);
	h_run(h);
	h_expect_sentinel(h, handler);
	EXPECT_REG(h, CR2, PF_ADDR);
	uint64_t err, ret;
	memcpy(&err, h->mem + H_STACK_TOP - 48, 8);
	memcpy(&ret, h->mem + H_STACK_TOP - 40, 8);
	h_expect(h, "#PF error code pushed by the guest delivery", err, 2);
	h_expect(h, "#PF return RIP pushed by the guest delivery", ret, rip);
}

static void gp_exits(struct h_ctx *h)
{
	uint64_t rip = AT(h, H_SLOT(4), "\x8e\xd8");
	h_start(h, rip);
	SET(h, RAX, 0x1238); /* GDT index 0x247, beyond the 0x4f limit: #GP(selector) */
	h_set_vmcs(h, VMCS_CTRL_EXC_BITMAP, 1u << 13);
	h_run(h);
	h_expect_exception(h, INTR_VALID | INTR_HW_EXC | INTR_ERR | 13, 0x1238, rip, 0);
	h_expect(h, "guest DS selector unchanged", h_vmcs(h, VMCS_GUEST_DS), H_SEL_DATA64);
}

/* hvdos: real mode, IDTR limit 0, every exception intercepted. INT 21h faults during its own delivery
 * (IVT entry beyond the limit: #GP), so the exit is the #GP with the INT 21h in IDT-vectoring information.
 * Real-mode exceptions push no error code, so bit 11 is 0 (SDM 27.2.2 "would have delivered an error code";
 * spec vmx-exits.md does not state the real-mode case: UNCONFIRMED). */
static void int21_hvdos(struct h_ctx *h)
{
	uint64_t rip = AT(h, H_SLOT(4), "\xcd\x21");
	h_start(h, rip);
	h_set_vmcs(h, VMCS_GUEST_IDTR_LIMIT, 0);
	h_set_vmcs(h, VMCS_CTRL_EXC_BITMAP, 0xffffffff);
	h_run(h);
	if (!h_expect_reason(h, VMX_REASON_EXC_NMI))
		return;
	h_expect(h, "VM-exit interruption information (#GP, no error code in real mode)", h->x.intr,
		 INTR_VALID | INTR_HW_EXC | 13);
	h_expect(h, "IDT-vectoring information (INT 21h, software interrupt)", h->x.idt, INTR_VALID | INTR_SW_INT | 0x21);
	h_expect(h, "VM-exit instruction length (fault during INT n delivery)", h->x.len, 2);
	h_expect(h, "guest RIP (the INT 21h)", h->x.rip, rip);
	h_expect(h, "exit qualification", h->x.qual, 0);
}

static void single_step_exits(struct h_ctx *h)
{
	uint64_t rip = AT(h, H_SLOT(7), "\x90\x90");
	h_start(h, rip);
	SET(h, RFLAGS, 0x102); /* TF */
	uint64_t dr6 = h_reg(h, HV_X86_DR6);
	h_set_vmcs(h, VMCS_CTRL_EXC_BITMAP, 1u << 1);
	h_run(h);
	/* A trap: RIP = the next instruction; qualification BS (bit 14); DR6 is not written; RF stays 0. */
	h_expect_exception(h, INTR_VALID | INTR_HW_EXC | 1, 0, rip + 1, 0x4000);
	EXPECT_REG(h, DR6, dr6);
	h_expect(h, "pending debug exceptions (cleared by the #DB exit)", h_vmcs(h, VMCS_GUEST_DEBUG_EXC), 0);
	h_expect_masked(h, "guest RFLAGS.RF", h->x.rflags, 0, RFLAGS_RF);
}

static void divide_error_exits(struct h_ctx *h)
{
	uint64_t rip = AT(h, H_SLOT(8), "\xf7\xf1");
	h_start(h, rip);
	SET(h, RCX, 0);
	SET(h, RAX, 7);
	SET(h, RDX, 0);
	h_set_vmcs(h, VMCS_CTRL_EXC_BITMAP, 1u << 0);
	h_run(h);
	h_expect_exception(h, INTR_VALID | INTR_HW_EXC | 0, 0, rip, 0);
	EXPECT_REG(h, RAX, 7);
}

static void double_fault_direct(struct h_ctx *h)
{
	uint64_t rip = AT(h, H_SLOT(0), "\x0f\x0b");
	h_start(h, rip);
	/* IDTR limit 0: #UD -> #GP (IDT limit) -> #GP again -> #DF, which exits directly: no IDT vectoring. */
	h_set_vmcs(h, VMCS_CTRL_EXC_BITMAP, 1u << 8);
	h_run(h);
	h_expect_exception(h, INTR_VALID | INTR_HW_EXC | INTR_ERR | 8, 0, rip, 0);
}

static void gp_during_ud_delivery(struct h_ctx *h)
{
	uint64_t rip = AT(h, H_SLOT(0), "\x0f\x0b");
	h_start(h, rip);
	h_set_vmcs(h, VMCS_CTRL_EXC_BITMAP, 1u << 13);
	h_run(h);
	if (!h_expect_reason(h, VMX_REASON_EXC_NMI))
		return;
	/* #GP error code: IDT entry 6 (6 << 3) | IDT (2) | EXT (1) = 0x33; the #UD being delivered is in IDT vectoring. */
	h_expect(h, "VM-exit interruption information", h->x.intr, INTR_VALID | INTR_HW_EXC | INTR_ERR | 13);
	h_expect(h, "VM-exit interruption error code", h->x.intr_err, 0x33);
	h_expect(h, "IDT-vectoring information (#UD)", h->x.idt, INTR_VALID | INTR_HW_EXC | 6);
	h_expect(h, "guest RIP", h->x.rip, rip);
	h_expect(h, "exit qualification", h->x.qual, 0);
	h_expect_masked(h, "guest RFLAGS.RF (faults push RF = 1)", h->x.rflags, RFLAGS_RF, RFLAGS_RF);
}

/* An injected event is never checked against the exception bitmap; a fault during its delivery is (spec 6.0, 2.4). */
static void injected_ud_delivery_fault(struct h_ctx *h)
{
	uint64_t rip = AT(h, H_SLOT(0), "\x0f\x0b");
	h_start(h, rip);
	h_set_vmcs(h, VMCS_CTRL_EXC_BITMAP, (1u << 6) | (1u << 13));
	h_set_vmcs(h, VMCS_CTRL_VMENTRY_IRQ_INFO, INTR_VALID | INTR_HW_EXC | 6);
	h_run(h);
	if (!h_expect_reason(h, VMX_REASON_EXC_NMI))
		return;
	h_expect(h, "VM-exit interruption information (#GP from the IDT limit)", h->x.intr,
		 INTR_VALID | INTR_HW_EXC | INTR_ERR | 13);
	h_expect(h, "VM-exit interruption error code (IDT entry 6, IDT, EXT)", h->x.intr_err, 0x33);
	h_expect(h, "IDT-vectoring information (the injected #UD)", h->x.idt, INTR_VALID | INTR_HW_EXC | 6);
	h_expect(h, "guest RIP", h->x.rip, rip);
	h_expect_masked(h, "VM-entry interruption information valid bit cleared by the exit",
			h_vmcs(h, VMCS_CTRL_VMENTRY_IRQ_INFO), 0, INTR_VALID);
}

static void injected_int_delivery_fault(struct h_ctx *h)
{
	uint64_t rip = AT(h, H_SLOT(0), "\x0f\x0b");
	h_start(h, rip);
	h_set_vmcs(h, VMCS_CTRL_EXC_BITMAP, 1u << 13);
	h_set_vmcs(h, VMCS_CTRL_VMENTRY_IRQ_INFO, INTR_VALID | INTR_SW_INT | 0x21);
	h_set_vmcs(h, VMCS_CTRL_VMENTRY_INSTR_LEN, 3);
	h_run(h);
	if (!h_expect_reason(h, VMX_REASON_EXC_NMI))
		return;
	/* Software interrupt: EXT = 0, so the #GP error code is (0x21 << 3) | IDT = 0x10a. */
	h_expect(h, "VM-exit interruption information", h->x.intr, INTR_VALID | INTR_HW_EXC | INTR_ERR | 13);
	h_expect(h, "VM-exit interruption error code", h->x.intr_err, 0x10a);
	h_expect(h, "IDT-vectoring information (the injected INT 0x21)", h->x.idt, INTR_VALID | INTR_SW_INT | 0x21);
	h_expect(h, "VM-exit instruction length (= the VM-entry instruction length)", h->x.len, 3);
	h_expect(h, "guest RIP", h->x.rip, rip);
}

static void pf_user_read(struct h_ctx *h)
{
	uint64_t rip;
	pf_setup(h, 3, "\x8b\x03", &rip);
	h_ring3(h);
	h_set_vmcs(h, VMCS_CTRL_EXC_BITMAP, 1u << 14);
	h_run(h);
	h_expect_exception(h, INTR_VALID | INTR_HW_EXC | INTR_ERR | 14, 4, rip, PF_ADDR); /* U/S = 1, read, not present */
}

static void rsm_ud(struct h_ctx *h)
{
	uint64_t rip = AT(h, H_SLOT(5), "\x0f\xaa");
	h_start(h, rip);
	h_set_vmcs(h, VMCS_CTRL_EXC_BITMAP, 1u << 6);
	h_run(h);
	h_expect_exception(h, INTR_VALID | INTR_HW_EXC | 6, 0, rip, 0);
}

/* ------------------------------------------------------------------ TRIPLE_FAULT */

static void expect_triple_fault(struct h_ctx *h, uint64_t rip)
{
	if (!h_expect_reason(h, VMX_REASON_TRIPLE_FAULT))
		return;
	h_expect(h, "exit qualification", h->x.qual, 0);
	h_expect_masked(h, "VM-exit interruption information valid bit", h->x.intr, 0, INTR_VALID);
	h_expect_masked(h, "IDT-vectoring information valid bit (triple fault is not during delivery)", h->x.idt, 0,
			INTR_VALID);
	/* RIP = the return address the #DF delivery would have pushed: every fault in the chain is at the
	 * original instruction (the #DF return address is architecturally undefined: UNCONFIRMED). */
	h_expect(h, "guest RIP", h->x.rip, rip);
}

static void triple_fault_long(struct h_ctx *h)
{
	uint64_t rip = AT(h, H_SLOT(0), "\x0f\x0b");
	h_start(h, rip);
	/* IDTR limit 0, no exception intercepted: #UD -> #GP (IDT limit) -> #DF -> triple fault. */
	h_run(h);
	expect_triple_fault(h, rip);
}

static void triple_fault_real(struct h_ctx *h)
{
	uint64_t rip = AT(h, H_SLOT(4), "\xcd\x21");
	h_start(h, rip);
	h_set_vmcs(h, VMCS_GUEST_IDTR_LIMIT, 0);
	h_run(h);
	expect_triple_fault(h, rip);
}

/* ------------------------------------------------------------------ IRQ (kicks) */

static void kick_running(struct h_ctx *h)
{
	uint64_t rip = AT(h, H_SLOT(0), "\xeb\xfe");
	h_start(h, rip);
	h_run_kick_after(h, 50);
	if (!h_expect_reason(h, VMX_REASON_IRQ))
		return;
	h_expect(h, "guest RIP (the spin loop)", h->x.rip, rip);
	h_expect(h, "exit qualification", h->x.qual, 0);
	h_expect_masked(h, "VM-exit interruption information valid bit (not acknowledged)", h->x.intr, 0, INTR_VALID);
	h_expect_masked(h, "IDT-vectoring information valid bit", h->x.idt, 0, INTR_VALID);
}

static void kick_pending(struct h_ctx *h)
{
	uint64_t rip = AT(h, H_SLOT(3), "\x90\x90\x0f\xa2");
	h_start(h, rip);
	hv_vcpuid_t v = h->vcpu;
	h_expect(h, "hv_vcpu_interrupt of an idle vCPU", hv_vcpu_interrupt(&v, 1), HV_SUCCESS);
	h_run_keep_irq(h);
	if (!h_expect_reason(h, VMX_REASON_IRQ))
		return;
	h_expect(h, "guest RIP (no instruction executed)", h->x.rip, rip);
}

/* ------------------------------------------------------------------ events raised by the VMM (hvx extension) */

/* An event exit at an instruction boundary (spec 6.0 NMI part, 6.1): RIP = next instruction, qualification 0, no
 * instruction length, no IDT-vectoring, the given interruption information, no error code. */
static void raised_event_exit(struct h_ctx *h, uint32_t reason, uint64_t rip, uint64_t intr)
{
	if (!h_expect_reason(h, reason))
		return;
	h_expect(h, "guest RIP (next instruction to execute)", h->x.rip, rip);
	h_expect(h, "exit qualification", h->x.qual, 0);
	h_expect(h, "VM-exit interruption information", h->x.intr, intr);
	h_expect(h, "VM-exit interruption error code", h->x.intr_err, 0);
	h_expect_masked(h, "IDT-vectoring information valid bit", h->x.idt, 0, INTR_VALID);
}

static bool raised(struct h_ctx *h, hv_return_t r, const char *what)
{
	if (r == HV_UNSUPPORTED) {
		h_decline(h, "%s: the backend raises no events (HV_UNSUPPORTED)", what);
		return false;
	}
	h_expect(h, what, r, HV_SUCCESS);
	return r == HV_SUCCESS;
}

static void nmi_exits(struct h_ctx *h)
{
	uint64_t rip = AT(h, H_SLOT(3), "\x90\x90\x0f\xa2");
	h_start(h, rip);
	if (!raised(h, hvx_vcpu_raise_nmi(h->vcpu), "hvx_vcpu_raise_nmi"))
		return;
	h_run(h);
	/* valid | type 2 (NMI) | vector 2, no error code; taken before the first instruction */
	raised_event_exit(h, VMX_REASON_EXC_NMI, rip, 0x80000202u);
	h_expect(h, "VM-exit instruction length (undefined: hvx writes 0)", h->x.len, 0);
	h_expect(h, "guest interruptibility (the exit blocks nothing)", h->x.interruptibility & 0xf, 0);
}

static void nmi_exits_after_sti_shadow(struct h_ctx *h)
{
	uint64_t rip = AT(h, H_SLOT(1), "\xfb\x90");
	h_start(h, rip);
	if (!raised(h, hvx_vcpu_raise_nmi(h->vcpu), "hvx_vcpu_raise_nmi"))
		return;
	h_set_vmcs(h, VMCS_GUEST_INTERRUPTIBILITY, 2); /* MOV-SS blocking holds the NMI for the STI */
	h_run(h);
	/* STI then blocks for the NOP; the NMI exit comes before the instruction after it */
	raised_event_exit(h, VMX_REASON_EXC_NMI, rip + 2, 0x80000202u);
	h_expect(h, "guest interruptibility (blocking over)", h->x.interruptibility & 0xf, 0);
}

static void irq_raised_ack_on_exit(struct h_ctx *h)
{
	uint64_t rip = AT(h, H_SLOT(3), "\x90\x90\x0f\xa2");
	h_start(h, rip);
	if (!raised(h, hvx_vcpu_raise_interrupt(h->vcpu, 0x41), "hvx_vcpu_raise_interrupt"))
		return;
	h_run_keep_irq(h); /* RFLAGS.IF = 0 does not block it under external-interrupt exiting */
	raised_event_exit(h, VMX_REASON_IRQ, rip, 0x80000041u); /* valid | type 0 | vector */
	h_expect(h, "VM-exit instruction length (undefined: hvx writes 0)", h->x.len, 0);
}

static void irq_raised_without_ack_stays_pending(struct h_ctx *h)
{
	uint64_t rip = AT(h, H_SLOT(3), "\x90\x90\x0f\xa2");
	h_start(h, rip);
	if (!raised(h, hvx_vcpu_raise_interrupt(h->vcpu, 0xfe), "hvx_vcpu_raise_interrupt"))
		return;
	h_run_keep_irq(h);
	raised_event_exit(h, VMX_REASON_IRQ, rip, 0); /* interruption information invalid */
	h_run_keep_irq(h);
	raised_event_exit(h, VMX_REASON_IRQ, rip, 0); /* not acknowledged: still pending */
}

static void init_exits(struct h_ctx *h)
{
	uint64_t rip = AT(h, H_SLOT(3), "\x90\x90\x0f\xa2");
	h_start(h, rip);
	if (!raised(h, hvx_vcpu_raise_init(h->vcpu), "hvx_vcpu_raise_init"))
		return;
	h_run(h);
	raised_event_exit(h, VMX_REASON_INIT, rip, 0); /* qualification 0, RIP = next instruction */
	h_expect(h, "VM-exit instruction length (undefined: hvx writes 0)", h->x.len, 0);
	h_expect(h, "guest activity state", h->x.activity, 0);
}

static void init_above_nmi(struct h_ctx *h)
{
	uint64_t rip = AT(h, H_SLOT(3), "\x90\x90\x0f\xa2");
	h_start(h, rip);
	h_set_vmcs(h, VMCS_GUEST_INTERRUPTIBILITY, 2); /* holds the NMI, not the INIT (spec 7.1) */
	if (!raised(h, hvx_vcpu_raise_nmi(h->vcpu), "hvx_vcpu_raise_nmi") ||
	    !raised(h, hvx_vcpu_raise_init(h->vcpu), "hvx_vcpu_raise_init"))
		return;
	h_run(h);
	raised_event_exit(h, VMX_REASON_INIT, rip, 0);
	h_expect(h, "guest interruptibility (kept)", h->x.interruptibility & 0xf, 2);
	h_run(h);
	raised_event_exit(h, VMX_REASON_EXC_NMI, rip + 1, 0x80000202u); /* after the MOV-SS-blocked NOP */
}

/* ------------------------------------------------------------------ IRQ_WND, VIRTUAL_NMI_WND */

static void event_exit(struct h_ctx *h, uint32_t reason, uint64_t rip)
{
	if (!h_expect_reason(h, reason))
		return;
	h_expect(h, "guest RIP (next instruction to execute)", h->x.rip, rip);
	h_expect(h, "exit qualification", h->x.qual, 0);
	h_expect(h, "VM-exit instruction length (undefined: hvx writes 0)", h->x.len, 0);
	h_expect_masked(h, "VM-exit interruption information valid bit", h->x.intr, 0, INTR_VALID);
	h_expect_masked(h, "IDT-vectoring information valid bit", h->x.idt, 0, INTR_VALID);
}

static void irq_window_at_entry(struct h_ctx *h)
{
	uint64_t rip = AT(h, H_SLOT(3), "\x90\x90\x0f\xa2");
	h_start(h, rip);
	SET(h, RFLAGS, 0x202);
	h_run(h);
	event_exit(h, VMX_REASON_IRQ_WND, rip);
}

static void irq_window_after_sti_shadow(struct h_ctx *h)
{
	uint64_t rip = AT(h, H_SLOT(1), "\xfb\x90");
	h_start(h, rip);
	h_run(h);
	/* STI blocks for one instruction (the NOP); the window opens before the instruction after it. */
	event_exit(h, VMX_REASON_IRQ_WND, rip + 2);
	h_expect_masked(h, "guest RFLAGS.IF", h->x.rflags, 0x200, 0x200);
	h_expect(h, "guest interruptibility (STI blocking over)", h->x.interruptibility & 3, 0);
}

static void irq_window_after_mov_ss_blocking(struct h_ctx *h)
{
	uint64_t rip = AT(h, H_SLOT(4), "\x90\x90");
	h_start(h, rip);
	SET(h, RFLAGS, 0x202);
	h_set_vmcs(h, VMCS_GUEST_INTERRUPTIBILITY, 2); /* MOV-SS blocking covers the first instruction */
	h_run(h);
	event_exit(h, VMX_REASON_IRQ_WND, rip + 1);
	h_expect(h, "guest interruptibility (blocking over)", h->x.interruptibility & 3, 0);
}

static void irq_window_closed_if_clear(struct h_ctx *h)
{
	uint64_t rip = AT(h, H_SLOT(4), "\x90\x90\xe6\xf4");
	h_start(h, rip);
	h_run(h);
	h_expect_sentinel(h, rip + 2);
}

static void nmi_window_at_entry(struct h_ctx *h)
{
	uint64_t rip = AT(h, H_SLOT(3), "\x90\x90\x0f\xa2");
	h_start(h, rip);
	h_run(h);
	event_exit(h, VMX_REASON_VIRTUAL_NMI_WND, rip);
}

static void nmi_window_after_mov_ss(struct h_ctx *h)
{
	uint64_t rip = AT(h, H_SLOT(4), "\x90\x90");
	h_start(h, rip);
	h_set_vmcs(h, VMCS_GUEST_INTERRUPTIBILITY, 2); /* MOV-SS blocking always closes the NMI window */
	h_run(h);
	event_exit(h, VMX_REASON_VIRTUAL_NMI_WND, rip + 1);
}

static void nmi_window_open_under_sti_blocking(struct h_ctx *h)
{
	uint64_t rip = AT(h, H_SLOT(4), "\x90\x90");
	h_start(h, rip);
	SET(h, RFLAGS, 0x202);
	h_set_vmcs(h, VMCS_GUEST_INTERRUPTIBILITY, 1); /* spec 6.8: STI blocking may or may not close it; hvx: open */
	h_run(h);
	event_exit(h, VMX_REASON_VIRTUAL_NMI_WND, rip);
	h_expect(h, "guest interruptibility (STI blocking kept)", h->x.interruptibility & 0xf, 1);
}

static void nmi_window_opens_after_iret(struct h_ctx *h)
{
	uint64_t rip = AT(h, H_SLOT(5), "\x48\xcf\x90"); /* iretq to the NOP after it */
	h_start(h, rip);
	h_set_vmcs(h, VMCS_GUEST_INTERRUPTIBILITY, 8); /* virtual-NMI blocking, ended by IRET */
	uint64_t sp = H_STACK_TOP - 40;
	uint64_t frame[5] = {rip + 2, H_SEL_CODE64, 2, H_STACK_TOP, H_SEL_DATA64};
	memcpy(h->mem + sp, frame, sizeof frame);
	SET(h, RSP, sp);
	h_run(h);
	event_exit(h, VMX_REASON_VIRTUAL_NMI_WND, rip + 2);
	h_expect(h, "guest interruptibility (virtual-NMI blocking cleared by IRET)", h->x.interruptibility & 0xf, 0);
}

static void nmi_window_blocked(struct h_ctx *h)
{
	uint64_t rip = AT(h, H_SLOT(4), "\x90\x90\xe6\xf4");
	h_start(h, rip);
	h_set_vmcs(h, VMCS_GUEST_INTERRUPTIBILITY, 8); /* virtual-NMI blocking */
	h_run(h);
	h_expect_sentinel(h, rip + 2);
}

/* ------------------------------------------------------------------ MTF, VMX_TIMER_EXPIRED */

static void mtf_steps(struct h_ctx *h)
{
	uint64_t rip = AT(h, H_SLOT(4), "\x90\x90\xe6\xf4");
	h_start(h, rip);
	h_run(h);
	event_exit(h, VMX_REASON_MTF, rip + 1);
	h_run(h);
	event_exit(h, VMX_REASON_MTF, rip + 2);
	h_run(h);
	/* An instruction that exits itself reports its own exit, not MTF. */
	h_expect_sentinel(h, rip + 2);
}

static void mtf_injected(struct h_ctx *h)
{
	if (!((h->cap[1] >> 32) & CPU_BASED_MTF)) {
		h_decline(h, "injecting a pending MTF exit needs MTF support (primary bit 27 allowed-1)");
		return;
	}
	uint64_t rip = AT(h, H_SLOT(3), "\x90\x90\x0f\xa2");
	h_start(h, rip);
	h_set_vmcs(h, VMCS_CTRL_VMENTRY_IRQ_INFO, INTR_VALID | (7u << 8)); /* "other event", vector 0: pending MTF */
	h_run(h);
	event_exit(h, VMX_REASON_MTF, rip);
	h_expect_masked(h, "VM-entry interruption information valid bit cleared by the exit",
			h_vmcs(h, VMCS_CTRL_VMENTRY_IRQ_INFO), 0, INTR_VALID);
}

static void timer_zero(struct h_ctx *h)
{
	uint64_t rip = AT(h, H_SLOT(3), "\x90\x90\x0f\xa2");
	h_start(h, rip);
	h_set_vmcs(h, VMCS_GUEST_VMX_TIMER_VALUE, 0);
	h_run(h);
	event_exit(h, VMX_REASON_VMX_TIMER_EXPIRED, rip);
}

static void timer_counts_down(struct h_ctx *h)
{
	uint64_t rip = AT(h, H_SLOT(0), "\xeb\xfe");
	h_start(h, rip);
	h_set_vmcs(h, VMCS_GUEST_VMX_TIMER_VALUE, 0x10000);
	h_run(h);
	event_exit(h, VMX_REASON_VMX_TIMER_EXPIRED, rip);
	if (h->ctl[4] & VMEXIT_SAVE_VMX_TIMER)
		h_expect(h, "saved preemption-timer value (0 after expiry)", h_vmcs(h, VMCS_GUEST_VMX_TIMER_VALUE), 0);
}

static void timer_in_hlt_state(struct h_ctx *h)
{
	uint64_t rip = AT(h, H_SLOT(4), "\x90\x90");
	h_start(h, rip);
	h_set_vmcs(h, VMCS_GUEST_ACTIVITY_STATE, 1); /* enter halted */
	h_set_vmcs(h, VMCS_GUEST_VMX_TIMER_VALUE, 0x1000);
	h_run(h);
	/* The timer counts in HLT and its exit wakes the vCPU; the saved activity state is still HLT. */
	event_exit(h, VMX_REASON_VMX_TIMER_EXPIRED, rip);
	h_expect(h, "activity state (HLT)", h->x.activity, 1);
}

static void run_until_deadline(struct h_ctx *h)
{
	if (!h->deadline_ok) {
		h_decline(h, "backend does not allow the preemption timer, so hv_vcpu_run_until takes no finite deadline");
		return;
	}
	uint64_t rip = AT(h, H_SLOT(0), "\xeb\xfe");
	h_start(h, rip);
	h_run_deadline(h, 20 * 1000000ull);
	event_exit(h, VMX_REASON_VMX_TIMER_EXPIRED, rip);
}

/* ------------------------------------------------------------------ TASK */

static void task_exit(struct h_ctx *h, unsigned slot, const char *bytes, uint64_t qual)
{
	uint64_t rip = h_at(h, H_SLOT(slot), bytes, 7);
	h_start(h, rip);
	h_run(h);
	h_expect_insn_exit(h, VMX_REASON_TASK, rip, 7, qual, 0, 0);
	/* Nothing of the switch happened. */
	h_expect(h, "guest TR selector", h_vmcs(h, VMCS_GUEST_TR), H_SEL_TSS);
	h_expect(h, "target TSS descriptor type (still available)", h->mem[H_GDT + H_SEL_TSS_AVAIL + 5], 0x89);
	h_expect(h, "guest CR0.TS", h_vmcs(h, VMCS_GUEST_CR0) & 8, 0);
}

static void task_jmp(struct h_ctx *h)
{
	task_exit(h, 0, "\xea\x00\x00\x00\x00\x28\x00", (2ull << 30) | H_SEL_TSS_AVAIL);
}

static void task_call(struct h_ctx *h)
{
	task_exit(h, 1, "\x9a\x00\x00\x00\x00\x28\x00", (0ull << 30) | H_SEL_TSS_AVAIL);
}

static void task_gate_int(struct h_ctx *h)
{
	uint64_t rip = AT(h, H_SLOT(6), "\xcd\x30");
	h_start(h, rip);
	/* IDT gate 0x30: a present DPL-0 task gate naming the available TSS. */
	uint64_t gate = ((uint64_t)H_SEL_TSS_AVAIL << 16) | (0x85ull << 40);
	memcpy(h->mem + H_IDT + 0x30 * 8, &gate, 8);
	h_set_vmcs(h, VMCS_GUEST_IDTR_LIMIT, 0x7ff);
	h_run(h);
	if (!h_expect_reason(h, VMX_REASON_TASK))
		return;
	h_expect(h, "exit qualification (selector, source 3 = IDT task gate)", h->x.qual, (3ull << 30) | H_SEL_TSS_AVAIL);
	h_expect(h, "IDT-vectoring information (INT 0x30 being delivered)", h->x.idt, INTR_VALID | INTR_SW_INT | 0x30);
	h_expect(h, "VM-exit instruction length (INT n reached the task gate)", h->x.len, 2);
	h_expect(h, "guest RIP (the INT instruction)", h->x.rip, rip);
	h_expect_masked(h, "VM-exit interruption information valid bit", h->x.intr, 0, INTR_VALID);
	h_expect(h, "guest TR selector", h_vmcs(h, VMCS_GUEST_TR), H_SEL_TSS);
}

static void task_iret_nt(struct h_ctx *h)
{
	uint64_t rip = AT(h, H_SLOT(7), "\xcf");
	h_start(h, rip);
	SET(h, RFLAGS, 0x4002); /* NT */
	uint16_t link = H_SEL_TSS; /* back-link of the current TSS: a busy TSS, as IRET requires */
	memcpy(h->mem + H_TSS_BASE, &link, 2);
	h_run(h);
	h_expect_insn_exit(h, VMX_REASON_TASK, rip, 1, (1ull << 30) | H_SEL_TSS, 0, 0);
	h_expect_masked(h, "guest RFLAGS.NT (unchanged: nothing of the switch happened)", h->x.rflags, 0x4000, 0x4000);
	h_expect(h, "guest TR selector", h_vmcs(h, VMCS_GUEST_TR), H_SEL_TSS);
}

/* ------------------------------------------------------------------ VMENTRY_GUEST */

static void entry_fails_with(struct h_ctx *h, uint64_t rip, uint64_t entry_info)
{
	if (h->x.run_ret != HV_SUCCESS)
		return; /* already reported: a failed entry must still return HV_SUCCESS */
	if (!h_expect_reason(h, 0x80000000u | VMX_REASON_VMENTRY_GUEST))
		return;
	h_expect(h, "exit qualification (0: no specific cause)", h->x.qual, 0);
	h_expect(h, "guest RIP (no guest state saved)", h->x.rip, rip);
	h_expect(h, "VM-entry interruption information (not cleared by a failed entry)",
		 h_vmcs(h, VMCS_CTRL_VMENTRY_IRQ_INFO), entry_info);
}

static void entry_fails(struct h_ctx *h, uint64_t rip)
{
	entry_fails_with(h, rip, INTR_VALID | INTR_HW_EXC | 6);
}

static uint64_t entry_setup(struct h_ctx *h)
{
	uint64_t rip = AT(h, H_SLOT(0), "\x0f\xa2");
	h_start(h, rip);
	h_set_vmcs(h, VMCS_CTRL_VMENTRY_IRQ_INFO, INTR_VALID | INTR_HW_EXC | 6); /* inject #UD */
	return rip;
}

static void entry_cs_l_and_d(struct h_ctx *h)
{
	uint64_t rip = entry_setup(h);
	h_set_vmcs(h, VMCS_GUEST_CS_AR, 0xe09b); /* IA-32e guest with CS.L = 1 requires CS.D = 0 */
	h_run(h);
	entry_fails(h, rip);
}

static void entry_tr_unusable(struct h_ctx *h)
{
	uint64_t rip = entry_setup(h);
	h_set_vmcs(h, VMCS_GUEST_TR_AR, 0x1008b); /* TR must be usable */
	h_run(h);
	entry_fails(h, rip);
}

static void entry_rflags_bit1(struct h_ctx *h)
{
	uint64_t rip = entry_setup(h);
	if (hv_vmx_vcpu_write_vmcs(h->vcpu, VMCS_GUEST_RFLAGS, 0) != HV_SUCCESS) {
		h_decline(h, "the API refuses RFLAGS = 0");
		return;
	}
	h_run(h);
	entry_fails(h, rip);
}

static void entry_hlt_at_cpl3(struct h_ctx *h)
{
	uint64_t rip = entry_setup(h);
	h_set_vmcs(h, VMCS_CTRL_VMENTRY_IRQ_INFO, 0); /* no injection: HLT would forbid injecting #UD as well */
	h_ring3(h);
	h_set_vmcs(h, VMCS_GUEST_ACTIVITY_STATE, 1); /* HLT requires SS.DPL = 0 */
	h_run(h);
	entry_fails_with(h, rip, 0);
}

static void entry_ia32e_without_pae(struct h_ctx *h)
{
	uint64_t rip = entry_setup(h);
	h_set_vmcs(h, VMCS_GUEST_CR4, 0x2000); /* IA-32e mode guest requires CR4.PAE = 1 */
	h_run(h);
	entry_fails(h, rip);
}

/* ------------------------------------------------------------------ the table */

const struct conf_case conf_cases_event[] = {
	{"EXC_NMI", "ud2_exits_as_hardware_exception", "exc_long", H_LONG64, {0}, {0}, 0, ud2_exits, NULL},
	{"EXC_NMI", "int3_exits_as_software_exception_with_length", "exc_long", H_LONG64, {0}, {0}, 0, int3_exits, NULL},
	{"EXC_NMI", "page_fault_write_exits_with_address_and_error_code", "exc_long", H_LONG64, {0}, {0}, 0,
	 pf_write_exits, NULL},
	{"EXC_NMI", "page_fault_read_exits_without_changing_registers", "exc_long", H_LONG64, {0}, {0}, 0,
	 pf_read_exits, NULL},
	{"EXC_NMI", "page_fault_mask_match_equal_exits_with_bit14_set", "exc_long", H_LONG64, {0}, {0}, 0,
	 pf_mask_match_equal, NULL},
	{"EXC_NMI", "page_fault_mask_match_unequal_exits_with_bit14_clear", "exc_long", H_LONG64, {0}, {0}, 0,
	 pf_mask_match_inverted, NULL},
	{"EXC_NMI", "page_fault_mask_match_unequal_is_delivered_to_guest", "exc_long", H_LONG64, CTL(.proc = IOX),
	 {"IO"}, 0, pf_mask_match_delivers, NULL},
	{"EXC_NMI", "page_fault_user_read_sets_us_in_error_code", "exc_long", H_LONG64, {0}, {0}, 0, pf_user_read, NULL},
	{"EXC_NMI", "single_step_trap_exits_with_bs_qualification", "exc_long", H_LONG64, {0}, {0}, 0, single_step_exits,
	 NULL},
	{"EXC_NMI", "divide_error_exits_with_vector_0", "exc_long", H_LONG64, {0}, {0}, 0, divide_error_exits, NULL},
	{"EXC_NMI", "double_fault_exits_directly_without_vectoring", "exc_long", H_LONG64, {0}, {0}, 0,
	 double_fault_direct, NULL},
	{"EXC_NMI", "gp_during_ud_delivery_exits_with_idt_vectoring", "exc_long", H_LONG64, {0}, {0}, 0,
	 gp_during_ud_delivery, NULL},
	{"EXC_NMI", "injected_exception_bypasses_bitmap_but_delivery_fault_exits", "exc_long", H_LONG64, {0}, {0}, 0,
	 injected_ud_delivery_fault, NULL},
	{"EXC_NMI", "injected_software_interrupt_fault_reports_entry_length", "exc_long", H_LONG64, {0}, {0}, 0,
	 injected_int_delivery_fault, NULL},
	{"EXC_NMI", "general_protection_exits_with_selector_error_code", "exc_long", H_LONG64, {0}, {0}, 0, gp_exits,
	 NULL},
	{"EXC_NMI", "int21_with_idt_limit_0_exits_with_idt_vectoring_hvdos", "real", H_REAL, {0}, {0}, 0, int21_hvdos,
	 NULL},
	{"EXC_NMI", "rsm_outside_smm_is_ud", "exc_long", H_LONG64, {0}, {0}, 0, rsm_ud, NULL},
	{"EXC_NMI", "nmi_exits_with_nmi_exiting", "loop_long", H_LONG64, CTL(.pin = PIN_BASED_NMI), {0}, 0, nmi_exits,
	 NULL},
	{"EXC_NMI", "nmi_exit_waits_for_mov_ss_and_sti_blocking", "loop_long", H_LONG64, CTL(.pin = PIN_BASED_NMI), {0},
	 0, nmi_exits_after_sti_shadow, NULL},
	{"IRQ", "kick_of_running_vcpu_exits_with_irq", "loop_long", H_LONG64, {0}, {0}, 0, kick_running, NULL},
	{"IRQ", "pending_kick_exits_before_first_instruction", "loop_long", H_LONG64, {0}, {0}, 0, kick_pending, NULL},
	{"IRQ", "raised_interrupt_exits_with_vector_when_acknowledged", "loop_long", H_LONG64,
	 CTL(.pin = PIN_BASED_INTR, .exit = VMEXIT_ACK_INTR), {0}, 0, irq_raised_ack_on_exit, NULL},
	{"IRQ", "raised_interrupt_without_ack_exits_invalid_and_stays_pending", "loop_long", H_LONG64,
	 CTL(.pin = PIN_BASED_INTR), {0}, 0, irq_raised_without_ack_stays_pending, NULL},
	{"TRIPLE_FAULT", "ud2_without_idt_triple_faults", "exc_long", H_LONG64, {0}, {0}, 0, triple_fault_long, NULL},
	{"TRIPLE_FAULT", "int21_without_ivt_triple_faults_in_real_mode", "real", H_REAL, {0}, {0}, C_SOFT_KVM_REAL_IVT,
	 triple_fault_real,
	 NULL},
	{"INIT", "init_signal_exits", "loop_long", H_LONG64, {0}, {0}, 0, init_exits, NULL},
	{"INIT", "init_exits_under_mov_ss_blocking_above_nmi", "loop_long", H_LONG64, CTL(.pin = PIN_BASED_NMI), {0}, 0,
	 init_above_nmi, NULL},
	{"IRQ_WND", "interrupt_window_open_at_entry_exits_first", "loop_long", H_LONG64,
	 CTL(.proc = CPU_BASED_IRQ_WND), {0}, 0, irq_window_at_entry, NULL},
	{"IRQ_WND", "interrupt_window_opens_after_sti_shadow", "loop_long", H_LONG64,
	 CTL(.proc = CPU_BASED_IRQ_WND), {0}, 0, irq_window_after_sti_shadow, NULL},
	{"IRQ_WND", "interrupt_window_opens_after_mov_ss_blocking", "loop_long", H_LONG64,
	 CTL(.proc = CPU_BASED_IRQ_WND), {0}, 0, irq_window_after_mov_ss_blocking, NULL},
	{"IRQ_WND", "interrupt_window_stays_closed_while_if_clear", "loop_long", H_LONG64,
	 CTL(.proc = CPU_BASED_IRQ_WND | IOX), {"IO"}, 0, irq_window_closed_if_clear, NULL},
	{"VIRTUAL_NMI_WND", "nmi_window_open_at_entry_exits_first", "loop_long", H_LONG64,
	 CTL(.pin = PIN_BASED_NMI | PIN_BASED_VIRTUAL_NMI, .proc = CPU_BASED_VIRTUAL_NMI_WND), {0}, 0,
	 nmi_window_at_entry, NULL},
	{"VIRTUAL_NMI_WND", "nmi_window_opens_after_mov_ss_blocking", "loop_long", H_LONG64,
	 CTL(.pin = PIN_BASED_NMI | PIN_BASED_VIRTUAL_NMI, .proc = CPU_BASED_VIRTUAL_NMI_WND), {0}, 0,
	 nmi_window_after_mov_ss, NULL},
	{"VIRTUAL_NMI_WND", "nmi_window_open_under_sti_blocking", "loop_long", H_LONG64,
	 CTL(.pin = PIN_BASED_NMI | PIN_BASED_VIRTUAL_NMI, .proc = CPU_BASED_VIRTUAL_NMI_WND), {0}, 0,
	 nmi_window_open_under_sti_blocking, NULL},
	{"VIRTUAL_NMI_WND", "nmi_window_opens_after_iret", "loop_long", H_LONG64,
	 CTL(.pin = PIN_BASED_NMI | PIN_BASED_VIRTUAL_NMI, .proc = CPU_BASED_VIRTUAL_NMI_WND), {0}, 0,
	 nmi_window_opens_after_iret, NULL},
	{"VIRTUAL_NMI_WND", "nmi_window_closed_by_virtual_nmi_blocking", "loop_long", H_LONG64,
	 CTL(.pin = PIN_BASED_NMI | PIN_BASED_VIRTUAL_NMI, .proc = CPU_BASED_VIRTUAL_NMI_WND | IOX), {"IO"}, 0,
	 nmi_window_blocked, NULL},
	{"TASK", "jmp_to_tss_exits_without_switching", "prot32", H_PROT32, {0}, {0}, 0, task_jmp, NULL},
	{"TASK", "call_to_tss_exits_without_switching", "prot32", H_PROT32, {0}, {0}, 0, task_call, NULL},
	{"TASK", "iret_with_nt_exits_with_source_iret", "prot32", H_PROT32, {0}, {0}, 0, task_iret_nt, NULL},
	{"TASK", "int_through_task_gate_exits_with_idt_vectoring", "prot32", H_PROT32, {0}, {0}, 0, task_gate_int, NULL},
	{"MTF", "mtf_exits_after_each_instruction", "loop_long", H_LONG64, CTL(.proc = CPU_BASED_MTF | IOX), {"IO"}, 0,
	 mtf_steps, NULL},
	{"MTF", "injected_pending_mtf_exits_before_first_instruction", "loop_long", H_LONG64,
	 CTL(.proc_off = CPU_BASED_MTF), {0}, 0, mtf_injected, NULL},
	{"VMX_TIMER_EXPIRED", "timer_zero_exits_before_first_instruction", "loop_long", H_LONG64,
	 CTL(.pin = PIN_BASED_PREEMPTION_TIMER), {0}, 0, timer_zero, NULL},
	{"VMX_TIMER_EXPIRED", "timer_expires_in_spin_loop", "loop_long", H_LONG64,
	 CTL(.pin = PIN_BASED_PREEMPTION_TIMER), {0}, 0, timer_counts_down, NULL},
	{"VMX_TIMER_EXPIRED", "timer_expiry_saves_zero_timer_value", "loop_long", H_LONG64,
	 CTL(.pin = PIN_BASED_PREEMPTION_TIMER, .exit = VMEXIT_SAVE_VMX_TIMER), {0}, 0, timer_counts_down, NULL},
	{"VMX_TIMER_EXPIRED", "timer_expires_in_hlt_state", "loop_long", H_LONG64, CTL(.pin = PIN_BASED_PREEMPTION_TIMER),
	 {0}, 0, timer_in_hlt_state, NULL},
	{"VMX_TIMER_EXPIRED", "run_until_deadline_exits_with_timer", "loop_long", H_LONG64, {0}, {0}, 0,
	 run_until_deadline, NULL},
	{"VMENTRY_GUEST", "cs_l_and_d_fails_entry_with_success_return", "insn_long", H_LONG64, {0}, {0}, 0,
	 entry_cs_l_and_d, NULL},
	{"VMENTRY_GUEST", "unusable_tr_fails_entry", "insn_long", H_LONG64, {0}, {0}, 0, entry_tr_unusable, NULL},
	{"VMENTRY_GUEST", "hlt_activity_with_ss_dpl3_fails_entry", "insn_long", H_LONG64, {0}, {0}, 0, entry_hlt_at_cpl3,
	 NULL},
	{"VMENTRY_GUEST", "ia32e_guest_without_pae_fails_entry", "insn_long", H_LONG64, {0}, {0}, 0,
	 entry_ia32e_without_pae, NULL},
	{"VMENTRY_GUEST", "rflags_bit1_clear_fails_entry", "insn_long", H_LONG64, {0}, {0}, 0, entry_rflags_bit1, NULL},
	{"RSM", "rsm_outside_smm_is_ud_not_exit", "exc_long", H_LONG64, {0}, {"EXC_NMI"}, 0, rsm_ud, NULL},
	{NULL, NULL, NULL, 0, {0}, {0}, 0, NULL, NULL},
};
