/* cases_activity.c: conformance cases for the shutdown activity state (entered through hvx_vcpu_set_activity_state) and the pending-debug-exceptions field: what wakes or exits shutdown, the saved activity state, entry checks, the single-step trap held by MTF and MOV SS and delivered after VM entry. */
#include <Hypervisor/hv_arch_vmx.h>
#include <hvx/hvx.h>
#include <pthread.h>
#include <string.h>
#include <time.h>

#include "cases.h"

#define CTL(...) ((struct h_ctrls){__VA_ARGS__})
#define IOX CPU_BASED_UNCOND_IO
#define ENTRY_FAIL 0x80000000u
#define BS 0x4000ull           /* pending debug exceptions / #DB qualification: single step */
#define EN 0x1000ull           /* pending debug exceptions: enabled breakpoint */
#define DB_EXIT (INTR_VALID | INTR_HW_EXC | 1)
#define NMI_EXIT 0x80000202u

/* Guest act_long: slot 0 two NOPs then the sentinel, slot 2 the handler (the sentinel), slot 4 MOV SS, AX; CPUID,
 * slot 6 OUT 0x70, AL, slot 8 HLT, slot 10 MOV SS, AX; UD2. */
#define REST "\x90\x90"
#define HANDLER "\xe6\xf4"
#define MOVSS_CPUID "\x8e\xd0\x0f\xa2"
#define OUT70 "\xe6\x70"
#define HLT_NOP "\xf4\x90"
#define MOVSS_UD2 "\x8e\xd0\x0f\x0b"

/* ------------------------------------------------------------------ helpers */

static bool ext_ok(struct h_ctx *h, hv_return_t r, const char *what)
{
	if (r == HV_UNSUPPORTED) {
		h_decline(h, "%s: HV_UNSUPPORTED on this backend", what);
		return false;
	}
	h_expect(h, what, r, HV_SUCCESS);
	return r == HV_SUCCESS;
}

static bool shutdown_state(struct h_ctx *h)
{
	return ext_ok(h, hvx_vcpu_set_activity_state(h->vcpu, HVX_ACTIVITY_SHUTDOWN),
		      "hvx_vcpu_set_activity_state(shutdown)");
}

static uint64_t pending_dbg(struct h_ctx *h)
{
	return h_vmcs(h, VMCS_GUEST_DEBUG_EXC);
}

/* An exit with no instruction or event fields: reason, qualification, RIP, activity state and interruptibility as
 * given, pending debug exceptions `pdbg`, everything else 0. */
static bool plain_exit(struct h_ctx *h, uint32_t reason, uint64_t qual, uint64_t rip, uint64_t act, uint64_t intr_st,
		       uint64_t pdbg)
{
	if (!h_expect_reason(h, reason))
		return false;
	int before = h->failures;
	h_expect(h, "exit qualification", h->x.qual, qual);
	h_expect(h, "guest RIP", h->x.rip, rip);
	h_expect(h, "guest activity state", h->x.activity, act);
	h_expect(h, "guest interruptibility", h->x.interruptibility, intr_st);
	h_expect(h, "pending debug exceptions", pending_dbg(h), pdbg);
	h_expect(h, "VM-exit instruction length (undefined: hvx writes 0)", h->x.len, 0);
	h_expect(h, "VM-exit instruction information (undefined: hvx writes 0)", h->x.info, 0);
	h_expect(h, "VM-exit interruption information", h->x.intr, 0);
	h_expect(h, "VM-exit interruption error code", h->x.intr_err, 0);
	h_expect(h, "IDT-vectoring information", h->x.idt, 0);
	h_expect(h, "guest-linear address (undefined: hvx writes 0)", h->x.gla, 0);
	h_expect(h, "guest-physical address (undefined: hvx writes 0)", h->x.gpa, 0);
	if (h->failures != before)
		h_dump_exit(h);
	return h->failures == before;
}

/* A #DB or NMI exit (reason 0): interruption info, qualification, RIP, activity, no IDT vectoring, length 0. */
static bool event_exc_exit(struct h_ctx *h, uint32_t intr, uint64_t qual, uint64_t rip, uint64_t act)
{
	if (!h_expect_reason(h, VMX_REASON_EXC_NMI))
		return false;
	int before = h->failures;
	h_expect(h, "VM-exit interruption information", h->x.intr, intr);
	h_expect(h, "VM-exit interruption error code", h->x.intr_err, 0);
	h_expect(h, "exit qualification", h->x.qual, qual);
	h_expect(h, "guest RIP", h->x.rip, rip);
	h_expect(h, "guest activity state", h->x.activity, act);
	h_expect(h, "guest interruptibility", h->x.interruptibility, 0);
	h_expect(h, "pending debug exceptions (cleared)", pending_dbg(h), 0);
	h_expect(h, "VM-exit instruction length (undefined: hvx writes 0)", h->x.len, 0);
	h_expect(h, "IDT-vectoring information", h->x.idt, 0);
	h_expect_masked(h, "guest RFLAGS.RF", h->x.rflags, 0, RFLAGS_RF);
	if (h->failures != before)
		h_dump_exit(h);
	return h->failures == before;
}

/* The guest took an event through IDT gate `vector` (handler = slot 2, the sentinel) from return address `ret`: the
 * 64-bit frame on the stack, the vCPU active. */
static void delivered_to_handler(struct h_ctx *h, uint64_t ret, uint64_t pushed_flags_mask, uint64_t pushed_flags)
{
	h_expect_sentinel(h, H_SLOT(2));
	h_expect(h, "guest activity state (active)", h->x.activity, 0);
	EXPECT_REG(h, RSP, H_STACK_TOP - 40);
	uint64_t frame[3];
	memcpy(frame, h->mem + H_STACK_TOP - 40, sizeof frame);
	h_expect(h, "pushed RIP (return address)", frame[0], ret);
	h_expect(h, "pushed CS", frame[1], H_SEL_CODE64);
	h_expect_masked(h, "pushed RFLAGS", frame[2], pushed_flags, pushed_flags_mask);
}

static void handler_gate(struct h_ctx *h, unsigned vector)
{
	h_idt_gate64(h, vector, AT(h, H_SLOT(2), HANDLER));
	h_set_vmcs(h, VMCS_GUEST_IDTR_LIMIT, 0xfff);
}

/* Raise INIT, an NMI or an SMI from another thread after 30 ms, while the vCPU sits in shutdown (had it run, it
 * would have reached the sentinel long before). */
enum later_kind { L_INIT, L_NMI, L_SMI };
struct later {
	pthread_t t;
	hv_vcpuid_t vcpu;
	enum later_kind kind;
	hv_return_t ret;
};

static void *later_main(void *arg)
{
	struct later *l = arg;
	struct timespec ts = {0, 30 * 1000000L};
	nanosleep(&ts, NULL);
	l->ret = l->kind == L_INIT ? hvx_vcpu_raise_init(l->vcpu)
				   : l->kind == L_NMI ? hvx_vcpu_raise_nmi(l->vcpu) : hvx_vcpu_raise_smi(l->vcpu);
	return NULL;
}

/* Run while the event is raised later; false (the case is declined) if the backend has no such event. */
static bool run_raise_later(struct h_ctx *h, enum later_kind kind)
{
	hv_return_t probe = kind == L_SMI ? hvx_vcpu_set_dual_monitor(h->vcpu, true) : HV_SUCCESS;
	if (!ext_ok(h, probe, "hvx_vcpu_set_dual_monitor(true)"))
		return false;
	struct later l = {.vcpu = h->vcpu, .kind = kind, .ret = HV_ERROR};
	if (pthread_create(&l.t, NULL, later_main, &l)) {
		h_expect_true(h, "pthread_create", false);
		return false;
	}
	h_run(h);
	pthread_join(l.t, NULL);
	return ext_ok(h, l.ret, "raising the event from another thread");
}

/* ------------------------------------------------------------------ shutdown */

static void init_exits_from_shutdown(struct h_ctx *h)
{
	uint64_t rip = AT(h, H_SLOT(0), REST);
	h_start(h, rip);
	SET(h, RAX, V_RAX);
	if (!shutdown_state(h) || !run_raise_later(h, L_INIT))
		return;
	/* Spec 6.3: qualification 0, RIP unchanged; the vCPU leaves shutdown only after the exit: activity 2 saved. */
	if (!plain_exit(h, VMX_REASON_INIT, 0, rip, 2, 0, 0))
		return;
	EXPECT_REG(h, RAX, V_RAX);
	if (!ext_ok(h, hvx_vcpu_set_activity_state(h->vcpu, HVX_ACTIVITY_ACTIVE), "active"))
		return;
	h_run(h);
	h_expect_sentinel(h, rip + 2); /* nothing ran in shutdown */
}

static void nmi_exits_from_shutdown(struct h_ctx *h)
{
	uint64_t rip = AT(h, H_SLOT(0), REST);
	h_start(h, rip);
	if (!shutdown_state(h) || !run_raise_later(h, L_NMI))
		return;
	event_exc_exit(h, NMI_EXIT, 0, rip, 2);
}

static void nmi_leaves_shutdown_through_idt(struct h_ctx *h)
{
	uint64_t rip = AT(h, H_SLOT(0), REST);
	h_start(h, rip);
	handler_gate(h, 2);
	if (!shutdown_state(h) || !run_raise_later(h, L_NMI))
		return;
	/* Without NMI exiting the NMI ends shutdown: delivered through vector 2 from RIP, NMIs then blocked. */
	delivered_to_handler(h, rip, 2, 2);
	h_expect_masked(h, "guest interruptibility (blocking by NMI)", h->x.interruptibility, 8, 0xf);
}

static void nmi_leaving_shutdown_makes_mtf_pending(struct h_ctx *h)
{
	uint64_t rip = AT(h, H_SLOT(0), REST);
	h_start(h, rip);
	handler_gate(h, 2);
	if (!shutdown_state(h) || !ext_ok(h, hvx_vcpu_raise_nmi(h->vcpu), "hvx_vcpu_raise_nmi"))
		return;
	h_run(h);
	/* Spec 6.37: MTF is blocked in shutdown; the NMI that leaves it makes an MTF exit pending after its delivery. */
	plain_exit(h, VMX_REASON_MTF, 0, H_SLOT(2), 0, 8, 0);
	EXPECT_REG(h, RSP, H_STACK_TOP - 40);
}

static void shutdown_holds_interrupt_window_mtf_sipi(struct h_ctx *h)
{
	uint64_t rip = AT(h, H_SLOT(0), REST);
	h_start(h, rip);
	SET(h, RFLAGS, 0x202);
	if (!shutdown_state(h) || !ext_ok(h, hvx_vcpu_raise_interrupt(h->vcpu, 0x41), "hvx_vcpu_raise_interrupt") ||
	    !ext_ok(h, hvx_vcpu_raise_sipi(h->vcpu, 0x20), "hvx_vcpu_raise_sipi"))
		return;
	h_run_kick_after(h, 50);
	/* External interrupt (with external-interrupt exiting), interrupt window, MTF and SIPI: none exits; the kick
	 * ends the run (interruption information invalid: no interrupt was acknowledged). */
	if (!plain_exit(h, VMX_REASON_IRQ, 0, rip, 2, 0, 0))
		return;
	if (!ext_ok(h, hvx_vcpu_set_activity_state(h->vcpu, HVX_ACTIVITY_ACTIVE), "active"))
		return;
	h_run(h);
	if (!plain_exit(h, VMX_REASON_IRQ_WND, 0, rip, 0, 0, 0)) /* active: the window opens first */
		return;
	h_set_vmcs(h, VMCS_CTRL_CPU_BASED, h_vmcs(h, VMCS_CTRL_CPU_BASED) & ~(uint64_t)CPU_BASED_IRQ_WND);
	h_run_keep_irq(h);
	/* The interrupt was held, not dropped: it exits now, acknowledged (vector 0x41). */
	if (h_expect_reason(h, VMX_REASON_IRQ)) {
		h_expect(h, "VM-exit interruption information (vector 0x41)", h->x.intr, INTR_VALID | 0x41);
		h_expect(h, "guest RIP", h->x.rip, rip);
		h_expect(h, "guest activity state", h->x.activity, 0);
	}
}

/* Blocking by NMI (a shutdown inside an NMI handler) holds a new NMI: only the kick ends the run; the NMI comes out
 * once the VMM clears the blocking. */
static void blocked_nmi_stays_in_shutdown(struct h_ctx *h)
{
	uint64_t rip = AT(h, H_SLOT(0), REST);
	h_start(h, rip);
	handler_gate(h, 2);
	h_set_vmcs(h, VMCS_GUEST_INTERRUPTIBILITY, 8);
	if (!shutdown_state(h) || !ext_ok(h, hvx_vcpu_raise_nmi(h->vcpu), "hvx_vcpu_raise_nmi"))
		return;
	h_run_kick_after(h, 50);
	if (!plain_exit(h, VMX_REASON_IRQ, 0, rip, 2, 8, 0))
		return;
	h_set_vmcs(h, VMCS_GUEST_INTERRUPTIBILITY, 0);
	h_run(h);
	delivered_to_handler(h, rip, 2, 2);
}

static void preemption_timer_exits_from_shutdown(struct h_ctx *h)
{
	uint64_t rip = AT(h, H_SLOT(0), REST);
	h_start(h, rip);
	h_set_vmcs(h, VMCS_GUEST_VMX_TIMER_VALUE, 3000000); /* 3 ms */
	if (!shutdown_state(h))
		return;
	h_run(h);
	plain_exit(h, VMX_REASON_VMX_TIMER_EXPIRED, 0, rip, 2, 0, 0);
}

static void run_deadline_ends_shutdown(struct h_ctx *h)
{
	if (!h->deadline_ok) {
		h_decline(h, "backend does not allow the preemption timer, so hv_vcpu_run_until takes no finite deadline");
		return;
	}
	uint64_t rip = AT(h, H_SLOT(0), REST);
	h_start(h, rip);
	if (!shutdown_state(h))
		return;
	h_run_deadline(h, 20 * 1000000ull);
	plain_exit(h, VMX_REASON_VMX_TIMER_EXPIRED, 0, rip, 2, 0, 0);
}

static void nmi_window_exits_from_shutdown(struct h_ctx *h)
{
	uint64_t rip = AT(h, H_SLOT(0), REST);
	h_start(h, rip);
	if (!shutdown_state(h))
		return;
	h_run(h);
	plain_exit(h, VMX_REASON_VIRTUAL_NMI_WND, 0, rip, 2, 0, 0); /* spec 6.8: the NMI window wakes shutdown */
}

static void smi_exits_from_shutdown(struct h_ctx *h)
{
	uint64_t rip = AT(h, H_SLOT(0), REST);
	h_start(h, rip);
	if (!shutdown_state(h) || !run_raise_later(h, L_SMI))
		return;
	plain_exit(h, VMX_REASON_OTHER_SMI, 0, rip, 2, 0, 0);
}

static void entry_fails(struct h_ctx *h, uint64_t rip, uint64_t inj)
{
	h_run(h);
	if (!h_expect_reason(h, ENTRY_FAIL | VMX_REASON_VMENTRY_GUEST))
		return;
	h_expect(h, "exit qualification (0: default)", h->x.qual, 0);
	h_expect(h, "guest RIP (nothing ran)", h->x.rip, rip);
	h_expect(h, "VM-entry interruption information (not cleared by a failed entry)",
		 h_vmcs(h, VMCS_CTRL_VMENTRY_IRQ_INFO), inj);
	EXPECT_REG(h, RSP, H_STACK_TOP);
}

static void shutdown_with_injected_exception_fails_entry(struct h_ctx *h)
{
	uint64_t rip = AT(h, H_SLOT(0), REST);
	h_start(h, rip);
	if (!shutdown_state(h))
		return;
	h_set_vmcs(h, VMCS_CTRL_VMENTRY_IRQ_INFO, INTR_VALID | INTR_HW_EXC | 6); /* shutdown: only NMI and #MC */
	entry_fails(h, rip, INTR_VALID | INTR_HW_EXC | 6);
	h_set_vmcs(h, VMCS_CTRL_VMENTRY_IRQ_INFO, INTR_VALID | 0x30); /* an external interrupt neither */
	SET(h, RFLAGS, 0x202);
	entry_fails(h, rip, INTR_VALID | 0x30);
}

static void shutdown_with_sti_blocking_fails_entry(struct h_ctx *h)
{
	uint64_t rip = AT(h, H_SLOT(0), REST);
	h_start(h, rip);
	SET(h, RFLAGS, 0x202);
	h_set_vmcs(h, VMCS_GUEST_INTERRUPTIBILITY, 1); /* STI / MOV-SS blocking needs the active state */
	if (!shutdown_state(h))
		return;
	entry_fails(h, rip, 0);
}

static void hlt_with_injected_ud_fails_entry(struct h_ctx *h)
{
	uint64_t rip = AT(h, H_SLOT(0), REST);
	h_start(h, rip);
	h_set_vmcs(h, VMCS_GUEST_ACTIVITY_STATE, 1);
	h_set_vmcs(h, VMCS_CTRL_VMENTRY_IRQ_INFO, INTR_VALID | INTR_HW_EXC | 6); /* HLT: no #UD injection */
	entry_fails(h, rip, INTR_VALID | INTR_HW_EXC | 6);
}

static void shutdown_takes_injected_nmi_and_mc(struct h_ctx *h)
{
	uint64_t rip = AT(h, H_SLOT(0), REST);
	h_start(h, rip);
	handler_gate(h, 2);
	if (!shutdown_state(h))
		return;
	h_set_vmcs(h, VMCS_CTRL_VMENTRY_IRQ_INFO, INTR_VALID | (2u << 8) | 2); /* NMI */
	h_run(h);
	delivered_to_handler(h, rip, 2, 2);
	h_start(h, rip);
	SET(h, RSP, H_STACK_TOP);
	handler_gate(h, 18);
	if (!shutdown_state(h))
		return;
	h_set_vmcs(h, VMCS_CTRL_VMENTRY_IRQ_INFO, INTR_VALID | INTR_HW_EXC | 18); /* #MC */
	h_run(h);
	delivered_to_handler(h, rip, 2, 2);
}

/* ------------------------------------------------------------------ pending debug exceptions */

static void single_step_under_mtf_saves_bs_then_delivers(struct h_ctx *h)
{
	uint64_t rip = AT(h, H_SLOT(0), REST);
	h_start(h, rip);
	handler_gate(h, 1);
	SET(h, RFLAGS, 0x102); /* TF */
	uint64_t dr6 = h_reg(h, HV_X86_DR6);
	h_run(h);
	/* The MTF exit after the NOP pre-empts its single-step trap, which stays pending: BS saved (SDM 27.3.4). */
	if (!plain_exit(h, VMX_REASON_MTF, 0, rip + 1, 0, 0, BS))
		return;
	EXPECT_REG(h, DR6, dr6);
	h_expect_masked(h, "guest RFLAGS.TF", h->x.rflags, 0x100, 0x100);
	h_run(h);
	/* The next entry delivers it (spec 7.2 item 4) through IDT vector 1, then MTF exits before the handler. */
	if (!plain_exit(h, VMX_REASON_MTF, 0, H_SLOT(2), 0, 0, 0))
		return;
	EXPECT_REG(h, DR6, dr6 | BS);
	EXPECT_REG(h, RSP, H_STACK_TOP - 40);
	uint64_t frame[3];
	memcpy(frame, h->mem + H_STACK_TOP - 40, sizeof frame);
	h_expect(h, "pushed RIP (after the NOP)", frame[0], rip + 1);
	h_expect_masked(h, "pushed RFLAGS.TF", frame[2], 0x100, 0x100);
	h_expect_masked(h, "guest RFLAGS.TF (cleared by the gate)", h->x.rflags, 0, 0x100);
}

static void pending_bs_exits_through_bitmap(struct h_ctx *h)
{
	uint64_t rip = AT(h, H_SLOT(0), REST);
	h_start(h, rip);
	uint64_t dr6 = h_reg(h, HV_X86_DR6);
	h_set_vmcs(h, VMCS_CTRL_EXC_BITMAP, 1u << 1);
	h_set_vmcs(h, VMCS_GUEST_DEBUG_EXC, BS | 2); /* BS and B1 */
	h_run(h);
	/* A trap before the first instruction: RIP unchanged, qualification = B3-B0 and BS, DR6 not written. */
	event_exc_exit(h, DB_EXIT, BS | 2, rip, 0);
	EXPECT_REG(h, DR6, dr6);
}

static void pending_breakpoint_delivered_through_idt(struct h_ctx *h)
{
	uint64_t rip = AT(h, H_SLOT(0), REST);
	h_start(h, rip);
	handler_gate(h, 1);
	uint64_t dr6 = h_reg(h, HV_X86_DR6);
	h_set_vmcs(h, VMCS_GUEST_DEBUG_EXC, EN | 1); /* enabled breakpoint, B0 */
	h_run(h);
	delivered_to_handler(h, rip, 0x100, 0);
	EXPECT_REG(h, DR6, dr6 | 1); /* B0 (bit 12 is no DR6 bit) */
	h_expect(h, "pending debug exceptions (delivered)", pending_dbg(h), 0);
}

static void pending_b0_alone_is_not_delivered(struct h_ctx *h)
{
	uint64_t rip = AT(h, H_SLOT(0), REST);
	h_start(h, rip);
	h_set_vmcs(h, VMCS_CTRL_EXC_BITMAP, 1u << 1);
	uint64_t dr6 = h_reg(h, HV_X86_DR6);
	h_set_vmcs(h, VMCS_GUEST_DEBUG_EXC, 1); /* neither BS nor enabled breakpoint: nothing valid is pending */
	h_run(h);
	h_expect_sentinel(h, rip + 2);
	EXPECT_REG(h, DR6, dr6);
	h_expect(h, "pending debug exceptions (cleared by the I/O exit)", pending_dbg(h), 0);
}

static void exit_under_mov_ss_keeps_single_step(struct h_ctx *h)
{
	uint64_t rip = AT(h, H_SLOT(4), MOVSS_CPUID);
	h_start(h, rip);
	SET(h, RAX, H_SEL_DATA64);
	SET(h, RFLAGS, 0x102);
	h_set_vmcs(h, VMCS_CTRL_EXC_BITMAP, 1u << 1);
	h_run(h);
	/* MOV SS holds its single-step trap for one instruction; the CPUID exit (not caused by a #DB) comes under that
	 * MOV-SS blocking, so the trap is saved pending (BS) with the blocking. */
	h_expect_insn_exit(h, VMX_REASON_CPUID, rip + 2, 2, 0, 0, 0);
	h_expect(h, "guest interruptibility (blocking by MOV SS)", h->x.interruptibility, 2);
	h_expect(h, "pending debug exceptions (BS)", pending_dbg(h), BS);
	h_expect(h, "guest activity state", h->x.activity, 0);
	/* The VMM emulates CPUID (which ends the blocking): the pending #DB comes right after the next entry. */
	h_skip(h);
	h_set_vmcs(h, VMCS_GUEST_INTERRUPTIBILITY, 0);
	h_run(h);
	event_exc_exit(h, DB_EXIT, BS, rip + 4, 0);
}

static void fault_under_mov_ss_then_db(struct h_ctx *h)
{
	uint64_t rip = AT(h, H_SLOT(10), MOVSS_UD2);
	h_start(h, rip);
	handler_gate(h, 6);
	SET(h, RAX, H_SEL_DATA64);
	SET(h, RFLAGS, 0x102);
	h_set_vmcs(h, VMCS_CTRL_EXC_BITMAP, (1u << 1) | (1u << 6));
	h_run(h);
	/* The #UD exit (not caused by a #DB) under MOV-SS blocking keeps the held single-step trap pending. */
	if (!h_expect_reason(h, VMX_REASON_EXC_NMI))
		return;
	h_expect(h, "VM-exit interruption information (#UD)", h->x.intr, INTR_VALID | INTR_HW_EXC | 6);
	h_expect(h, "guest RIP (the UD2)", h->x.rip, rip + 2);
	h_expect(h, "exit qualification", h->x.qual, 0);
	h_expect(h, "IDT-vectoring information", h->x.idt, 0);
	h_expect(h, "guest interruptibility (blocking by MOV SS)", h->x.interruptibility, 2);
	h_expect(h, "pending debug exceptions (BS)", pending_dbg(h), BS);
	/* Without #UD exiting the #UD is delivered and the held #DB follows its delivery (the fault ends the blocking):
	 * it exits at the #UD handler's first instruction. */
	h_set_vmcs(h, VMCS_CTRL_EXC_BITMAP, 1u << 1);
	h_run(h);
	event_exc_exit(h, DB_EXIT, BS, H_SLOT(2), 0);
	EXPECT_REG(h, RSP, H_STACK_TOP - 40);
	uint64_t ret = 0;
	memcpy(&ret, h->mem + H_STACK_TOP - 40, sizeof ret);
	h_expect(h, "pushed RIP of the #UD (the UD2)", ret, rip + 2);
}

static void injected_int3_under_mov_ss_then_db(struct h_ctx *h)
{
	uint64_t rip = AT(h, H_SLOT(0), REST);
	h_start(h, rip);
	handler_gate(h, 3);
	SET(h, RFLAGS, 0x102);
	h_set_vmcs(h, VMCS_GUEST_INTERRUPTIBILITY, 2);
	h_set_vmcs(h, VMCS_GUEST_DEBUG_EXC, BS);
	h_set_vmcs(h, VMCS_CTRL_EXC_BITMAP, 1u << 1);
	h_set_vmcs(h, VMCS_CTRL_VMENTRY_IRQ_INFO, INTR_VALID | INTR_SW_EXC | 3);
	h_set_vmcs(h, VMCS_CTRL_VMENTRY_INSTR_LEN, 1);
	h_run(h);
	/* SDM 26.6.3: a #BP injected under MOV-SS blocking behaves as INT3 after a MOV SS that hit a debug trap: the
	 * INT3 is delivered, then the pending #DB (here exiting) at its handler's first instruction. */
	event_exc_exit(h, DB_EXIT, BS, H_SLOT(2), 0);
	EXPECT_REG(h, RSP, H_STACK_TOP - 40);
	uint64_t ret = 0;
	memcpy(&ret, h->mem + H_STACK_TOP - 40, sizeof ret);
	h_expect(h, "pushed RIP of the INT3 (RIP + entry instruction length)", ret, rip + 1);
}

static void io_smi_after_single_stepped_out_keeps_bs(struct h_ctx *h)
{
	uint64_t rip = AT(h, H_SLOT(6), OUT70);
	h_start(h, rip);
	SET(h, RFLAGS, 0x102);
	h_set_vmcs(h, VMCS_CTRL_EXC_BITMAP, 1u << 1);
	if (!ext_ok(h, hvx_vcpu_set_dual_monitor(h->vcpu, true), "hvx_vcpu_set_dual_monitor(true)") ||
	    !ext_ok(h, hvx_vcpu_set_io_bitmap(h->vcpu, 0, 0x10000, false), "hvx_vcpu_set_io_bitmap(none)") ||
	    !ext_ok(h, hvx_vcpu_set_smi_ports(h->vcpu, 0x70, 1, true), "hvx_vcpu_set_smi_ports"))
		return;
	h_run(h);
	/* The SMI after the OUT ranks above its single-step trap, which the SMM VM exit saves as pending. */
	if (!h_expect_reason(h, VMX_REASON_IO_SMI))
		return;
	h_expect(h, "exit qualification (I/O format: byte OUT, immediate, port 0x70)", h->x.qual, (0x70ull << 16) | 64);
	h_expect(h, "guest RIP (after the OUT)", h->x.rip, rip + 2);
	h_expect(h, "VM-exit interruption information", h->x.intr, 0);
	h_expect(h, "IDT-vectoring information", h->x.idt, 0);
	h_expect(h, "pending debug exceptions (BS)", pending_dbg(h), BS);
	h_run(h);
	event_exc_exit(h, DB_EXIT, BS, rip + 2, 0); /* delivered at the next entry */
}

static void hlt_with_pending_bs_wakes_through_idt(struct h_ctx *h)
{
	uint64_t rip = AT(h, H_SLOT(8), HLT_NOP) + 1; /* halted after the HLT */
	h_start(h, rip);
	handler_gate(h, 1);
	SET(h, RFLAGS, 0x102);
	h_set_vmcs(h, VMCS_GUEST_ACTIVITY_STATE, 1);
	h_set_vmcs(h, VMCS_GUEST_DEBUG_EXC, BS); /* HLT with TF = 1 needs BS (SDM 26.3.1.5) */
	h_run(h);
	delivered_to_handler(h, rip, 0x100, 0x100);
}

static void hlt_with_tf_traps_at_once(struct h_ctx *h)
{
	uint64_t rip = AT(h, H_SLOT(8), HLT_NOP);
	h_start(h, rip);
	SET(h, RFLAGS, 0x102);
	h_set_vmcs(h, VMCS_CTRL_EXC_BITMAP, 1u << 1);
	h_run(h);
	/* The HLT's single-step trap wakes the HLT state at once: the #DB exits with RIP after the HLT, vCPU active. */
	event_exc_exit(h, DB_EXIT, BS, rip + 1, 0);
}

/* Spec 7.2: INIT, an SMI and an injected pending MTF rank above the pending #DB after entry; their exits keep it. */
static void entry_event_keeps_pending_db(struct h_ctx *h, uint32_t reason)
{
	uint64_t rip = AT(h, H_SLOT(0), REST);
	h_start(h, rip);
	h_set_vmcs(h, VMCS_CTRL_EXC_BITMAP, 1u << 1);
	h_set_vmcs(h, VMCS_GUEST_DEBUG_EXC, BS | 8); /* BS and B3 */
	hv_return_t r = HV_SUCCESS;
	if (reason == VMX_REASON_INIT)
		r = hvx_vcpu_raise_init(h->vcpu);
	else if (reason == VMX_REASON_OTHER_SMI)
		r = hvx_vcpu_set_dual_monitor(h->vcpu, true) == HV_SUCCESS ? hvx_vcpu_raise_smi(h->vcpu) : HV_UNSUPPORTED;
	else
		h_set_vmcs(h, VMCS_CTRL_VMENTRY_IRQ_INFO, INTR_VALID | (7u << 8)); /* pending MTF */
	if (!ext_ok(h, r, "raising the event"))
		return;
	h_run(h);
	if (!plain_exit(h, reason, 0, rip, 0, 0, BS | 8))
		return;
	h_run(h);
	event_exc_exit(h, DB_EXIT, BS | 8, rip, 0); /* the next entry takes it */
}

static void init_keeps_pending_db(struct h_ctx *h)
{
	entry_event_keeps_pending_db(h, VMX_REASON_INIT);
}

static void smi_keeps_pending_db(struct h_ctx *h)
{
	entry_event_keeps_pending_db(h, VMX_REASON_OTHER_SMI);
}

static void injected_mtf_keeps_pending_db(struct h_ctx *h)
{
	entry_event_keeps_pending_db(h, VMX_REASON_MTF);
}

/* MTF is not blocked in HLT: HLT under MTF exits 37 after the HLT with activity state HLT saved; with TF = 1 its
 * single-step trap is pending (BS, consistent with the HLT entry check), and the next entry delivers it, which wakes
 * HLT, then exits MTF at the handler. */
static void hlt_under_mtf(struct h_ctx *h)
{
	uint64_t rip = AT(h, H_SLOT(8), HLT_NOP);
	h_start(h, rip);
	h_run(h);
	if (!plain_exit(h, VMX_REASON_MTF, 0, rip + 1, 1, 0, 0))
		return;
	h_start(h, rip);
	handler_gate(h, 1);
	SET(h, RFLAGS, 0x102);
	h_set_vmcs(h, VMCS_GUEST_ACTIVITY_STATE, 0);
	h_run(h);
	if (!plain_exit(h, VMX_REASON_MTF, 0, rip + 1, 1, 0, BS))
		return;
	h_run(h);
	if (!plain_exit(h, VMX_REASON_MTF, 0, H_SLOT(2), 0, 0, 0))
		return;
	uint64_t ret = 0;
	memcpy(&ret, h->mem + H_STACK_TOP - 40, sizeof ret);
	h_expect(h, "pushed RIP of the #DB (after the HLT)", ret, rip + 1);
}

/* Entry with `pdbg` pending, TF per `rflags`, interruptibility `intr_st`, activity `act`, DEBUGCTL `dbgctl`: fails. */
static void dbg_entry_fails(struct h_ctx *h, uint64_t pdbg, uint64_t rflags, uint64_t intr_st, uint64_t act,
			    uint64_t dbgctl)
{
	uint64_t rip = AT(h, H_SLOT(0), REST);
	h_start(h, rip);
	SET(h, RFLAGS, rflags);
	h_set_vmcs(h, VMCS_GUEST_INTERRUPTIBILITY, intr_st);
	h_set_vmcs(h, VMCS_GUEST_ACTIVITY_STATE, act);
	h_set_vmcs(h, VMCS_GUEST_IA32_DEBUGCTL, dbgctl);
	h_set_vmcs(h, VMCS_GUEST_DEBUG_EXC, pdbg);
	entry_fails(h, rip, 0);
	h_expect(h, "pending debug exceptions (not saved by a failed entry)", pending_dbg(h), pdbg);
}

static void pending_dbg_reserved_bits_fail_entry(struct h_ctx *h)
{
	static const uint64_t bad[] = {1u << 4, 1u << 11, 1u << 13, 1u << 15, 1u << 16, 1ull << 17, 1ull << 63};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0] && !h->failures; i++)
		dbg_entry_fails(h, bad[i] | BS, 0x2, 0, 0, 0);
}

static void pending_bs_must_match_tf_under_blocking(struct h_ctx *h)
{
	dbg_entry_fails(h, 0, 0x302, 1, 0, 0);  /* STI blocking, TF = 1, BS = 0 */
	dbg_entry_fails(h, BS, 0x202, 1, 0, 0); /* STI blocking, TF = 0, BS = 1 */
	dbg_entry_fails(h, 0, 0x102, 2, 0, 0);  /* MOV-SS blocking, TF = 1, BS = 0 */
	dbg_entry_fails(h, 0, 0x102, 0, 1, 0);  /* HLT, TF = 1, BS = 0 */
	dbg_entry_fails(h, BS, 0x102, 2, 0, 2); /* MOV-SS blocking, TF = 1 but DEBUGCTL.BTF = 1, BS = 1 */
}

static void pending_bs_with_sti_blocking_enters(struct h_ctx *h)
{
	uint64_t rip = AT(h, H_SLOT(0), REST);
	h_start(h, rip);
	SET(h, RFLAGS, 0x302);
	h_set_vmcs(h, VMCS_GUEST_INTERRUPTIBILITY, 1);
	h_set_vmcs(h, VMCS_GUEST_DEBUG_EXC, BS);
	h_set_vmcs(h, VMCS_CTRL_EXC_BITMAP, 1u << 1);
	h_run(h);
	/* Consistent state: the entry succeeds; STI blocking does not hold a #DB, which ends the blocking. */
	event_exc_exit(h, DB_EXIT, BS, rip, 0);
}

/* ------------------------------------------------------------------ the table */

#define MTF CPU_BASED_MTF
#define NOKD C_KVM_NO_PENDING_DBG

const struct conf_case conf_cases_activity[] = {
	{"INIT", "init_exits_from_shutdown_saving_shutdown", "act_long", H_LONG64, CTL(.proc = IOX), {"IO"}, 0,
	 init_exits_from_shutdown, NULL},
	{"EXC_NMI", "nmi_exits_from_shutdown_under_nmi_exiting", "act_long", H_LONG64,
	 CTL(.pin = PIN_BASED_NMI, .proc = IOX), {0}, 0, nmi_exits_from_shutdown, NULL},
	{"EXC_NMI", "nmi_without_exiting_leaves_shutdown_through_idt", "act_long", H_LONG64,
	 CTL(.proc = IOX, .pin_off = PIN_BASED_NMI), {"IO"}, 0, nmi_leaves_shutdown_through_idt, NULL},
	{"IRQ", "nmi_blocked_by_nmi_stays_pending_in_shutdown_until_kick", "act_long", H_LONG64,
	 CTL(.proc = IOX, .pin_off = PIN_BASED_NMI), {"IO"}, 0, blocked_nmi_stays_in_shutdown, NULL},
	{"MTF", "nmi_leaving_shutdown_makes_mtf_pending", "act_long", H_LONG64,
	 CTL(.proc = MTF, .pin_off = PIN_BASED_NMI), {0}, 0, nmi_leaving_shutdown_makes_mtf_pending, NULL},
	{"IRQ", "shutdown_holds_interrupt_window_mtf_and_sipi_until_kick", "act_long", H_LONG64,
	 CTL(.pin = PIN_BASED_INTR, .proc = CPU_BASED_IRQ_WND | MTF, .exit = VMEXIT_ACK_INTR), {"IRQ_WND"}, 0,
	 shutdown_holds_interrupt_window_mtf_sipi, NULL},
	{"VMX_TIMER_EXPIRED", "preemption_timer_exits_from_shutdown", "act_long", H_LONG64,
	 CTL(.pin = PIN_BASED_PREEMPTION_TIMER), {0}, 0, preemption_timer_exits_from_shutdown, NULL},
	{"VMX_TIMER_EXPIRED", "run_deadline_ends_shutdown", "act_long", H_LONG64, {0}, {0}, 0,
	 run_deadline_ends_shutdown, NULL},
	{"VIRTUAL_NMI_WND", "nmi_window_exits_from_shutdown", "act_long", H_LONG64,
	 CTL(.pin = PIN_BASED_NMI | PIN_BASED_VIRTUAL_NMI, .proc = CPU_BASED_VIRTUAL_NMI_WND), {0}, 0,
	 nmi_window_exits_from_shutdown, NULL},
	{"OTHER_SMI", "smi_exits_from_shutdown", "act_long", H_LONG64, CTL(.proc = IOX), {0}, 0, smi_exits_from_shutdown,
	 NULL},
	{"VMENTRY_GUEST", "shutdown_with_injected_exception_or_interrupt_fails_entry", "act_long", H_LONG64, {0}, {0}, 0,
	 shutdown_with_injected_exception_fails_entry, NULL},
	{"VMENTRY_GUEST", "shutdown_with_sti_blocking_fails_entry", "act_long", H_LONG64, {0}, {0}, 0,
	 shutdown_with_sti_blocking_fails_entry, NULL},
	{"VMENTRY_GUEST", "hlt_with_injected_ud_fails_entry", "act_long", H_LONG64, {0}, {0}, 0,
	 hlt_with_injected_ud_fails_entry, NULL},
	{"VMENTRY_GUEST", "shutdown_takes_injected_nmi_and_machine_check", "act_long", H_LONG64,
	 CTL(.proc = IOX, .pin_off = PIN_BASED_NMI), {"IO"}, 0, shutdown_takes_injected_nmi_and_mc, NULL},
	{"MTF", "single_step_under_mtf_saves_bs_then_next_entry_delivers_db", "act_long", H_LONG64, CTL(.proc = MTF),
	 {0}, NOKD, single_step_under_mtf_saves_bs_then_delivers, NULL},
	{"EXC_NMI", "pending_bs_exits_through_exception_bitmap_after_entry", "act_long", H_LONG64, {0}, {0}, NOKD,
	 pending_bs_exits_through_bitmap, NULL},
	{"EXC_NMI", "pending_bs_with_sti_blocking_enters_and_exits_as_db", "act_long", H_LONG64, {0}, {0}, NOKD,
	 pending_bs_with_sti_blocking_enters, NULL},
	{"EXC_NMI", "hlt_with_tf_single_step_traps_at_once", "act_long", H_LONG64, {0}, {0}, NOKD,
	 hlt_with_tf_traps_at_once, NULL},
	{"IO", "pending_enabled_breakpoint_delivered_through_idt", "act_long", H_LONG64, CTL(.proc = IOX), {0}, NOKD,
	 pending_breakpoint_delivered_through_idt, NULL},
	{"IO", "pending_b0_without_bs_or_enabled_breakpoint_is_not_delivered", "act_long", H_LONG64, CTL(.proc = IOX),
	 {0}, NOKD, pending_b0_alone_is_not_delivered, NULL},
	{"IO", "hlt_state_with_pending_bs_wakes_through_idt", "act_long", H_LONG64, CTL(.proc = IOX), {0}, NOKD,
	 hlt_with_pending_bs_wakes_through_idt, NULL},
	{"CPUID", "exit_under_mov_ss_blocking_keeps_single_step_pending", "act_long", H_LONG64, {0}, {"EXC_NMI"}, NOKD,
	 exit_under_mov_ss_keeps_single_step, NULL},
	{"IO_SMI", "io_smi_after_single_stepped_out_keeps_bs_pending", "act_long", H_LONG64,
	 CTL(.proc = CPU_BASED_IO_BITMAPS), {"EXC_NMI"}, NOKD, io_smi_after_single_stepped_out_keeps_bs, NULL},
	{"VMENTRY_GUEST", "pending_debug_reserved_bits_fail_entry", "act_long", H_LONG64, {0}, {0}, NOKD,
	 pending_dbg_reserved_bits_fail_entry, NULL},
	{"VMENTRY_GUEST", "pending_bs_must_match_tf_under_sti_mov_ss_or_hlt", "act_long", H_LONG64, {0}, {0}, NOKD,
	 pending_bs_must_match_tf_under_blocking, NULL},
	{"INIT", "init_after_entry_ranks_above_pending_db_and_keeps_it", "act_long", H_LONG64, {0}, {"EXC_NMI"}, NOKD,
	 init_keeps_pending_db, NULL},
	{"OTHER_SMI", "smi_after_entry_ranks_above_pending_db_and_keeps_it", "act_long", H_LONG64, {0}, {"EXC_NMI"},
	 NOKD, smi_keeps_pending_db, NULL},
	{"MTF", "injected_pending_mtf_ranks_above_pending_db_and_keeps_it", "act_long", H_LONG64,
	 CTL(.proc_off = MTF), {"EXC_NMI"}, NOKD, injected_mtf_keeps_pending_db, NULL},
	{"EXC_NMI", "fault_under_mov_ss_keeps_single_step_then_db_follows_fault_delivery", "act_long", H_LONG64, {0},
	 {0}, NOKD, fault_under_mov_ss_then_db, NULL},
	{"EXC_NMI", "int3_injected_under_mov_ss_then_pending_db_at_its_handler", "act_long", H_LONG64, {0}, {0}, NOKD,
	 injected_int3_under_mov_ss_then_db, NULL},
	{"MTF", "hlt_under_mtf_exits_in_hlt_state_keeping_its_single_step", "act_long", H_LONG64,
	 CTL(.proc = MTF, .proc_off = CPU_BASED_HLT), {0}, NOKD, hlt_under_mtf, NULL},
	{NULL, NULL, NULL, 0, {0}, {0}, 0, NULL, NULL},
};
