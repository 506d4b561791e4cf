/* cases_smm.c: conformance cases for SIPI and wait-for-SIPI, the dual-monitor SMM exits (IO_SMI, OTHER_SMI, RSM) and the VM-entry failures VMENTRY_MSR and VMENTRY_MC, all reached through hvx_ extensions. */
#include <Hypervisor/hv_arch_vmx.h>
#include <hvx/hvx.h>
#include <pthread.h>
#include <string.h>
#include <time.h>

#include "cases.h"

#define CTL(...) ((struct h_ctrls){__VA_ARGS__})
#define IOB CPU_BASED_IO_BITMAPS
#define ENTRY_FAIL 0x80000000u
#define PENDING_MTF (1u << 28)
#define SMI_PORT 0xb2u /* the chipset's APM control port: the classic software SMI */

/* ------------------------------------------------------------------ helpers */

/* An extension the backend may not have: HV_UNSUPPORTED declines the case, anything else must be success. */
static bool ext_ok(struct h_ctx *h, hv_return_t r, const char *what)
{
	if (r == HV_UNSUPPORTED) {
		h_decline(h, "%s: HV_UNSUPPORTED on this backend", what);
		return false;
	}
	h_expect(h, what, r, HV_SUCCESS);
	return r == HV_SUCCESS;
}

static bool dual_monitor_on(struct h_ctx *h)
{
	return ext_ok(h, hvx_vcpu_set_dual_monitor(h->vcpu, true), "hvx_vcpu_set_dual_monitor(true)");
}

static bool wait_for_sipi(struct h_ctx *h)
{
	return ext_ok(h, hvx_vcpu_set_activity_state(h->vcpu, HVX_ACTIVITY_WAIT_FOR_SIPI),
		      "hvx_vcpu_set_activity_state(wait-for-SIPI)");
}

/* Only the sentinel port 0xf4 exits (I/O bitmaps): other ports complete in the guest (no device: IN reads ones). */
static bool sentinel_only(struct h_ctx *h)
{
	return ext_ok(h, hvx_vcpu_set_io_bitmap(h->vcpu, 0, 0x10000, false), "hvx_vcpu_set_io_bitmap(all, no exit)") &&
	       ext_ok(h, hvx_vcpu_set_io_bitmap(h->vcpu, H_SENTINEL_PORT, 1, true), "hvx_vcpu_set_io_bitmap(0xf4)");
}

/* An event-class exit (SIPI, SMIs, entry failures): every field but reason, qualification, RIP is 0 / invalid. */
static bool event_exit(struct h_ctx *h, uint32_t reason, uint64_t qual, uint64_t rip)
{
	if (!h_expect_reason(h, reason))
		return false;
	int before = h->failures;
	h_expect(h, "exit qualification", h->x.qual, qual);
	h_expect(h, "guest RIP", h->x.rip, rip);
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

/* Raise an event from another thread after `ms` milliseconds (while the vCPU runs or waits). */
struct later {
	pthread_t t;
	hv_vcpuid_t vcpu;
	unsigned ms;
	int kind; /* 0 SIPI, 1 SMI */
	uint8_t vector;
	hv_return_t ret;
};

static void *later_main(void *arg)
{
	struct later *l = arg;
	struct timespec ts = {0, (long)l->ms * 1000000L};
	nanosleep(&ts, NULL);
	l->ret = l->kind == 0 ? hvx_vcpu_raise_sipi(l->vcpu, l->vector) : hvx_vcpu_raise_smi(l->vcpu);
	return NULL;
}

static void raise_later(struct later *l, struct h_ctx *h, int kind, uint8_t vector, unsigned ms)
{
	*l = (struct later){.vcpu = h->vcpu, .ms = ms, .kind = kind, .vector = vector, .ret = HV_ERROR};
	pthread_create(&l->t, NULL, later_main, l);
}

static void raise_join(struct h_ctx *h, struct later *l)
{
	pthread_join(l->t, NULL);
	h_expect(h, l->kind == 0 ? "hvx_vcpu_raise_sipi from another thread" : "hvx_vcpu_raise_smi from another thread",
		 l->ret, HV_SUCCESS);
}

/* ------------------------------------------------------------------ SIPI */

static void sipi_exits_with_vector(struct h_ctx *h)
{
	uint64_t rip = AT(h, H_SLOT(6), "\x90\x90");
	h_start(h, rip);
	if (!wait_for_sipi(h) || !ext_ok(h, hvx_vcpu_raise_sipi(h->vcpu, 0x9a), "hvx_vcpu_raise_sipi"))
		return;
	h_run(h);
	/* Spec 6.4: qualification = vector (7:0), registers untouched, still in wait-for-SIPI when the exit completes. */
	if (event_exit(h, VMX_REASON_SIPI, 0x9a, rip))
		h_expect(h, "guest activity state (wait-for-SIPI)", h->x.activity, 3);
	EXPECT_REG(h, RAX, 0);
}

static void sipi_while_waiting_exits(struct h_ctx *h)
{
	uint64_t rip = AT(h, H_SLOT(6), "\x90\x90");
	h_start(h, rip);
	SET(h, RAX, V_RAX);
	if (!wait_for_sipi(h))
		return;
	struct later l;
	raise_later(&l, h, 0, 0x10, 30);
	h_run(h);
	raise_join(h, &l);
	if (event_exit(h, VMX_REASON_SIPI, 0x10, rip))
		h_expect(h, "guest activity state (wait-for-SIPI)", h->x.activity, 3);
	EXPECT_REG(h, RAX, V_RAX);
	/* The VMM starts the vCPU: active state, and the guest runs on from RIP. */
	if (!ext_ok(h, hvx_vcpu_set_activity_state(h->vcpu, HVX_ACTIVITY_ACTIVE), "hvx_vcpu_set_activity_state(active)"))
		return;
	h_run(h);
	h_expect_sentinel(h, rip + 2);
}

/* The fields of an NMI / external-interrupt exit (spec 6.0, 6.1). */
static void intr_exit_fields(struct h_ctx *h, uint64_t intr, uint64_t rip)
{
	h_expect(h, "VM-exit interruption information", h->x.intr, intr);
	h_expect(h, "VM-exit interruption error code", h->x.intr_err, 0);
	h_expect(h, "guest RIP", h->x.rip, rip);
	h_expect(h, "exit qualification", h->x.qual, 0);
	h_expect(h, "VM-exit instruction length (undefined: hvx writes 0)", h->x.len, 0);
	h_expect(h, "IDT-vectoring information", h->x.idt, 0);
	h_expect(h, "guest activity state", h->x.activity, 0);
}

/* Wait-for-SIPI blocks SMI, INIT, NMI and external interrupts (spec 7.1); they stay pending and come out, in
 * priority order, once the vCPU is active. */
static void sipi_wait_holds_events(struct h_ctx *h)
{
	uint64_t rip = AT(h, H_SLOT(6), "\x90\x90");
	h_start(h, rip);
	if (!dual_monitor_on(h) || !wait_for_sipi(h))
		return;
	if (!ext_ok(h, hvx_vcpu_raise_interrupt(h->vcpu, 0x41), "hvx_vcpu_raise_interrupt") ||
	    !ext_ok(h, hvx_vcpu_raise_nmi(h->vcpu), "hvx_vcpu_raise_nmi") ||
	    !ext_ok(h, hvx_vcpu_raise_init(h->vcpu), "hvx_vcpu_raise_init") ||
	    !ext_ok(h, hvx_vcpu_raise_smi(h->vcpu), "hvx_vcpu_raise_smi"))
		return;
	h_run_kick_after(h, 50);
	if (!event_exit(h, VMX_REASON_IRQ, 0, rip)) /* only the kick ends the wait */
		return;
	h_expect(h, "guest activity state (wait-for-SIPI)", h->x.activity, 3);
	if (!ext_ok(h, hvx_vcpu_raise_sipi(h->vcpu, 0x20), "hvx_vcpu_raise_sipi"))
		return;
	h_run(h);
	if (!event_exit(h, VMX_REASON_SIPI, 0x20, rip))
		return;
	if (!ext_ok(h, hvx_vcpu_set_activity_state(h->vcpu, HVX_ACTIVITY_ACTIVE), "hvx_vcpu_set_activity_state(active)"))
		return;
	h_run(h);
	if (!event_exit(h, VMX_REASON_OTHER_SMI, 0, rip))
		return;
	h_run(h);
	if (!event_exit(h, VMX_REASON_INIT, 0, rip))
		return;
	h_run(h);
	if (!h_expect_reason(h, VMX_REASON_EXC_NMI))
		return;
	intr_exit_fields(h, 0x80000202u, rip); /* NMI */
	h_run_keep_irq(h);
	if (!h_expect_reason(h, VMX_REASON_IRQ))
		return;
	intr_exit_fields(h, 0x80000041u, rip); /* vector 0x41, acknowledged */
}

static void sipi_when_active_discarded(struct h_ctx *h)
{
	uint64_t rip = AT(h, H_SLOT(6), "\x90\x90");
	h_start(h, rip);
	if (!ext_ok(h, hvx_vcpu_raise_sipi(h->vcpu, 0x33), "hvx_vcpu_raise_sipi"))
		return;
	h_run(h);
	h_expect_sentinel(h, rip + 2); /* the active vCPU ignores it */
	h_start(h, rip);
	if (!wait_for_sipi(h))
		return;
	h_run_kick_after(h, 40);
	if (event_exit(h, VMX_REASON_IRQ, 0, rip)) /* no SIPI left to end the wait: it was discarded */
		h_expect(h, "guest activity state (wait-for-SIPI)", h->x.activity, 3);
	/* A SIPI raised before the vCPU enters wait-for-SIPI is discarded too. */
	if (!ext_ok(h, hvx_vcpu_set_activity_state(h->vcpu, HVX_ACTIVITY_ACTIVE), "active") ||
	    !ext_ok(h, hvx_vcpu_raise_sipi(h->vcpu, 0x34), "hvx_vcpu_raise_sipi") || !wait_for_sipi(h))
		return;
	h_run_kick_after(h, 40);
	event_exit(h, VMX_REASON_IRQ, 0, rip);
}

static void sipi_wait_deadline(struct h_ctx *h)
{
	if (!h->deadline_ok) {
		h_decline(h, "backend does not allow the preemption timer, so hv_vcpu_run_until takes no finite deadline");
		return;
	}
	uint64_t rip = AT(h, H_SLOT(6), "\x90\x90");
	h_start(h, rip);
	if (!wait_for_sipi(h))
		return;
	h_run_deadline(h, 20 * 1000000ull);
	if (event_exit(h, VMX_REASON_VMX_TIMER_EXPIRED, 0, rip))
		h_expect(h, "guest activity state (wait-for-SIPI)", h->x.activity, 3);
}

static void sipi_wait_with_injection_fails_entry(struct h_ctx *h)
{
	uint64_t rip = AT(h, H_SLOT(6), "\x90\x90");
	h_start(h, rip);
	if (!wait_for_sipi(h))
		return;
	h_set_vmcs(h, VMCS_CTRL_VMENTRY_IRQ_INFO, INTR_VALID | INTR_HW_EXC | 6); /* wait-for-SIPI allows no injection */
	h_run(h);
	event_exit(h, ENTRY_FAIL | VMX_REASON_VMENTRY_GUEST, 0, rip);
	h_expect(h, "VM-entry interruption information (not cleared by a failed entry)",
		 h_vmcs(h, VMCS_CTRL_VMENTRY_IRQ_INFO), INTR_VALID | INTR_HW_EXC | 6);
}

/* ------------------------------------------------------------------ IO_SMI */

static void io_smi_expect(struct h_ctx *h, uint32_t reason, uint64_t insn, uint64_t next, uint64_t qual, uint64_t gla)
{
	if (!h_expect_reason(h, reason))
		return;
	int before = h->failures;
	h_expect(h, "exit qualification (I/O format)", h->x.qual, qual);
	h_expect(h, "guest RIP (after the completed I/O instruction)", h->x.rip, next);
	h_expect(h, "I/O RIP (the I/O instruction)", h_vmcs(h, VMCS_RO_IO_RIP), insn);
	h_expect(h, "guest-linear address", h->x.gla, gla);
	h_expect(h, "VM-exit instruction length (undefined: hvx writes 0)", h->x.len, 0);
	h_expect(h, "VM-exit instruction information (undefined: hvx writes 0)", h->x.info, 0);
	h_expect(h, "VM-exit interruption information", h->x.intr, 0);
	h_expect(h, "IDT-vectoring information", h->x.idt, 0);
	h_expect(h, "guest-physical address (undefined: hvx writes 0)", h->x.gpa, 0);
	h_expect(h, "guest activity state", h->x.activity, 0);
	if (h->failures != before)
		h_dump_exit(h);
}

static bool io_smi_setup(struct h_ctx *h, uint16_t port)
{
	SET(h, RCX, V_RCX);
	SET(h, RSI, 0x5555);
	SET(h, RDI, 0x7777);
	return dual_monitor_on(h) && sentinel_only(h) &&
	       ext_ok(h, hvx_vcpu_set_smi_ports(h->vcpu, port, 1, true), "hvx_vcpu_set_smi_ports");
}

static void io_smi_out_imm(struct h_ctx *h)
{
	uint64_t rip = AT(h, H_SLOT(0), "\xe6\x70");
	h_start(h, rip);
	if (!io_smi_setup(h, 0x70))
		return;
	h_run(h);
	/* byte, OUT, immediate operand, port 0x70 */
	io_smi_expect(h, VMX_REASON_IO_SMI, rip, rip + 2, (0x70ull << 16) | (1u << 6), 0);
	h_expect(h, "I/O RCX", h_vmcs(h, VMCS_RO_IO_RCX), V_RCX);
	h_expect(h, "I/O RSI", h_vmcs(h, VMCS_RO_IO_RSI), 0x5555);
	h_expect(h, "I/O RDI", h_vmcs(h, VMCS_RO_IO_RDI), 0x7777);
	h_run(h);
	h_expect_sentinel(h, rip + 3); /* the SMI is not repeated: the guest runs on */
}

static void io_smi_in_dx(struct h_ctx *h)
{
	uint64_t rip = AT(h, H_SLOT(1), "\x66\xed");
	h_start(h, rip);
	SET(h, RDX, SMI_PORT);
	SET(h, RAX, V_RAX);
	if (!io_smi_setup(h, SMI_PORT))
		return;
	h_run(h);
	/* word (size 1), IN, DX operand */
	io_smi_expect(h, VMX_REASON_IO_SMI, rip, rip + 2, ((uint64_t)SMI_PORT << 16) | (1u << 3) | 1, 0);
	EXPECT_REG(h, RAX, (V_RAX & ~0xffffull) | 0xffff); /* the IN completed (no device: all ones) */
}

static void io_smi_rep_outsb(struct h_ctx *h)
{
	uint64_t rip = AT(h, H_SLOT(2), "\xf3\x6e");
	h_start(h, rip);
	if (!io_smi_setup(h, SMI_PORT))
		return;
	SET(h, RDX, SMI_PORT);
	SET(h, RCX, 3);
	SET(h, RSI, H_DATA);
	h_run(h);
	/* byte, OUT, string, REP, DX; the whole REP completed; I/O RCX/RSI are the values before it */
	io_smi_expect(h, VMX_REASON_IO_SMI, rip, rip + 2, ((uint64_t)SMI_PORT << 16) | (1u << 4) | (1u << 5), H_DATA);
	h_expect(h, "I/O RCX (before the instruction)", h_vmcs(h, VMCS_RO_IO_RCX), 3);
	h_expect(h, "I/O RSI (before the instruction)", h_vmcs(h, VMCS_RO_IO_RSI), H_DATA);
	EXPECT_REG(h, RCX, 0);
	EXPECT_REG(h, RSI, H_DATA + 3);
}

static void io_smi_with_mtf_sets_bit28(struct h_ctx *h)
{
	uint64_t rip = AT(h, H_SLOT(0), "\xe6\x70");
	h_start(h, rip);
	if (!io_smi_setup(h, 0x70))
		return;
	h_run(h);
	/* The SMI pre-empts the MTF exit due after the instruction: bit 28 in the exit reason. */
	io_smi_expect(h, PENDING_MTF | VMX_REASON_IO_SMI, rip, rip + 2, (0x70ull << 16) | (1u << 6), 0);
}

static void io_exit_precedes_io_smi(struct h_ctx *h)
{
	uint64_t rip = AT(h, H_SLOT(0), "\xe6\x70");
	h_start(h, rip);
	if (!dual_monitor_on(h) || !ext_ok(h, hvx_vcpu_set_smi_ports(h->vcpu, 0x70, 1, true), "hvx_vcpu_set_smi_ports"))
		return;
	h_run(h);
	/* Unconditional I/O exiting: the OUT exits (fault-like) instead of completing, so no SMI follows. */
	h_expect_insn_exit(h, VMX_REASON_IO, rip, 2, (0x70ull << 16) | (1u << 6), 0, 0);
}

static void unmarked_port_no_smi(struct h_ctx *h)
{
	uint64_t rip = AT(h, H_SLOT(0), "\xe6\x70");
	h_start(h, rip);
	if (!io_smi_setup(h, 0x71))
		return;
	h_run(h);
	h_expect_sentinel(h, rip + 3);
}

static void model_off_no_io_smi(struct h_ctx *h)
{
	uint64_t rip = AT(h, H_SLOT(0), "\xe6\x70");
	h_start(h, rip);
	if (!io_smi_setup(h, 0x70) ||
	    !ext_ok(h, hvx_vcpu_set_dual_monitor(h->vcpu, false), "hvx_vcpu_set_dual_monitor(false)"))
		return;
	h_run(h);
	h_expect_sentinel(h, rip + 3); /* default SMM treatment: no SMM VM exits */
}

/* ------------------------------------------------------------------ OTHER_SMI */

static void smi_exits_before_next_instruction(struct h_ctx *h)
{
	uint64_t rip = AT(h, H_SLOT(6), "\x90\x90");
	h_start(h, rip);
	SET(h, RAX, V_RAX);
	if (!dual_monitor_on(h) || !ext_ok(h, hvx_vcpu_raise_smi(h->vcpu), "hvx_vcpu_raise_smi"))
		return;
	h_run(h);
	if (event_exit(h, VMX_REASON_OTHER_SMI, 0, rip))
		h_expect(h, "guest activity state", h->x.activity, 0);
	EXPECT_REG(h, RAX, V_RAX);
	h_run(h);
	h_expect_sentinel(h, rip + 2); /* taken once */
}

static void smi_while_running(struct h_ctx *h)
{
	uint64_t rip = AT(h, H_SLOT(4), "\xeb\xfe");
	h_start(h, rip);
	if (!dual_monitor_on(h))
		return;
	struct later l;
	raise_later(&l, h, 1, 0, 30);
	h_run(h);
	raise_join(h, &l);
	event_exit(h, VMX_REASON_OTHER_SMI, 0, rip);
}

static void smi_above_init(struct h_ctx *h)
{
	uint64_t rip = AT(h, H_SLOT(6), "\x90\x90");
	h_start(h, rip);
	if (!dual_monitor_on(h) || !ext_ok(h, hvx_vcpu_raise_init(h->vcpu), "hvx_vcpu_raise_init") ||
	    !ext_ok(h, hvx_vcpu_raise_smi(h->vcpu), "hvx_vcpu_raise_smi"))
		return;
	h_run(h);
	if (!event_exit(h, VMX_REASON_OTHER_SMI, 0, rip)) /* spec 7.1 item 3: SMI before INIT */
		return;
	h_run(h);
	event_exit(h, VMX_REASON_INIT, 0, rip);
}

static void smi_wakes_hlt(struct h_ctx *h)
{
	uint64_t rip = AT(h, H_SLOT(6), "\x90\x90");
	h_start(h, rip);
	h_set_vmcs(h, VMCS_GUEST_ACTIVITY_STATE, 1);
	if (!dual_monitor_on(h))
		return;
	struct later l;
	raise_later(&l, h, 1, 0, 30);
	h_run(h);
	raise_join(h, &l);
	if (event_exit(h, VMX_REASON_OTHER_SMI, 0, rip))
		h_expect(h, "guest activity state (HLT: the exit completes before the vCPU wakes)", h->x.activity, 1);
}

/* Spec 7.2: right after VM entry an SMI comes before the pending MTF exit an injected type-7 event makes; the SMM VM
 * exit then sets bit 28 and the MTF exit is not reported. */
static void smi_preempts_injected_pending_mtf(struct h_ctx *h)
{
	uint64_t rip = AT(h, H_SLOT(6), "\x90\x90");
	h_start(h, rip);
	if (!dual_monitor_on(h) || !ext_ok(h, hvx_vcpu_raise_smi(h->vcpu), "hvx_vcpu_raise_smi"))
		return;
	h_set_vmcs(h, VMCS_CTRL_VMENTRY_IRQ_INFO, INTR_VALID | (7u << 8)); /* other event, vector 0: pending MTF */
	h_run(h);
	event_exit(h, PENDING_MTF | VMX_REASON_OTHER_SMI, 0, rip);
	h_expect(h, "VM-entry interruption information (valid bit cleared by the entry)",
		 h_vmcs(h, VMCS_CTRL_VMENTRY_IRQ_INFO) & INTR_VALID, 0);
	h_run(h);
	h_expect_sentinel(h, rip + 2);
}

/* An injected event is delivered before the SMI is taken (spec 7.2: a vectored injection always completes first). */
static void smi_after_injected_interrupt_delivery(struct h_ctx *h)
{
	uint64_t rip = AT(h, H_SLOT(6), "\x90\x90");
	uint64_t handler = AT(h, H_SLOT(4), "\xeb\xfe");
	h_start(h, rip);
	h_idt_gate64(h, 0x30, handler);
	h_set_vmcs(h, VMCS_GUEST_IDTR_LIMIT, 0xfff);
	SET(h, RFLAGS, 0x202);
	if (!dual_monitor_on(h) || !ext_ok(h, hvx_vcpu_raise_smi(h->vcpu), "hvx_vcpu_raise_smi"))
		return;
	h_set_vmcs(h, VMCS_CTRL_VMENTRY_IRQ_INFO, INTR_VALID | 0x30); /* external interrupt 0x30 */
	h_run(h);
	event_exit(h, VMX_REASON_OTHER_SMI, 0, handler);
	EXPECT_REG(h, RSP, H_STACK_TOP - 40); /* the 64-bit interrupt frame was pushed */
	h_expect_masked(h, "guest RFLAGS.IF (cleared by the interrupt gate)", h->x.rflags, 0, 0x200);
}

static void smi_refused_without_model(struct h_ctx *h)
{
	uint64_t rip = AT(h, H_SLOT(6), "\x90\x90");
	h_start(h, rip);
	hv_return_t r = hvx_vcpu_raise_smi(h->vcpu);
	if (r == HV_UNSUPPORTED) {
		h_decline(h, "hvx_vcpu_raise_smi: HV_UNSUPPORTED on this backend");
		return;
	}
	h_expect(h, "hvx_vcpu_raise_smi without the dual-monitor model", r, HV_DENIED);
	h_run(h);
	h_expect_sentinel(h, rip + 2);
}

/* ------------------------------------------------------------------ RSM */

static bool smm_guest(struct h_ctx *h)
{
	h_set_vmcs(h, VMCS_GUEST_INTERRUPTIBILITY, 4); /* blocking by SMI: required with entry to SMM */
	if (!(h_vmcs(h, VMCS_CTRL_VMENTRY_CONTROLS) & VMENTRY_SMM)) {
		h_expect_true(h, "entry-to-SMM control set", false);
		return false;
	}
	return dual_monitor_on(h);
}

static void rsm_in_smm_exits(struct h_ctx *h)
{
	uint64_t rip = AT(h, H_SLOT(3), "\x0f\xaa");
	h_start(h, rip);
	if (!smm_guest(h))
		return;
	h_run(h);
	h_expect_insn_exit(h, VMX_REASON_RSM, rip, 2, 0, 0, 0);
	h_expect(h, "guest interruptibility (blocking by SMI kept)", h->x.interruptibility & 0xf, 4);
}

static void smi_held_in_smm_guest(struct h_ctx *h)
{
	uint64_t rip = AT(h, H_SLOT(3), "\x0f\xaa");
	h_start(h, rip);
	if (!smm_guest(h) || !ext_ok(h, hvx_vcpu_raise_smi(h->vcpu), "hvx_vcpu_raise_smi"))
		return;
	h_run(h);
	h_expect_insn_exit(h, VMX_REASON_RSM, rip, 2, 0, 0, 0); /* the SMI is blocked in SMM */
	/* The monitor "resumes" the guest outside SMM after the RSM: the pending SMI exits first. */
	h_set_vmcs(h, VMCS_CTRL_VMENTRY_CONTROLS, h_vmcs(h, VMCS_CTRL_VMENTRY_CONTROLS) & ~(uint64_t)VMENTRY_SMM);
	h_set_vmcs(h, VMCS_GUEST_INTERRUPTIBILITY, 0);
	h_skip(h);
	h_run(h);
	event_exit(h, VMX_REASON_OTHER_SMI, 0, rip + 2);
}

static void rsm_with_model_outside_smm_is_ud(struct h_ctx *h)
{
	uint64_t rip = AT(h, H_SLOT(3), "\x0f\xaa");
	h_start(h, rip);
	if (!dual_monitor_on(h))
		return;
	h_set_vmcs(h, VMCS_CTRL_EXC_BITMAP, 1u << 6);
	h_run(h);
	h_expect_exception(h, INTR_VALID | INTR_HW_EXC | 6, 0, rip, 0);
}

static void entry_to_smm_without_model_vmfails(struct h_ctx *h)
{
	uint64_t rip = AT(h, H_SLOT(3), "\x0f\xaa");
	h_start(h, rip);
	h_set_vmcs(h, VMCS_GUEST_INTERRUPTIBILITY, 4);
	if (!(h_vmcs(h, VMCS_CTRL_VMENTRY_CONTROLS) & VMENTRY_SMM)) {
		h_expect_true(h, "entry-to-SMM control set", false);
		return;
	}
	/* SDM 26.2.1.3: entry to SMM outside SMM (no dual-monitor model) is an invalid control: VMfail 7. */
	h_expect(h, "hv_vcpu_run with entry to SMM and no dual-monitor model", hv_vcpu_run(h->vcpu), HV_ERROR);
	h_expect(h, "VM-instruction error (7: invalid control field)", h_vmcs(h, VMCS_RO_INSTR_ERROR), 7);
	uint32_t st = 0;
	h_expect(h, "hv_vcpu_vmx_status", hv_vcpu_vmx_status(h->vcpu, &st), HV_SUCCESS);
	h_expect(h, "VMX status (ZF: VMfailValid)", st, 1u << 6);
}

static void entry_to_smm_needs_smi_blocking(struct h_ctx *h)
{
	uint64_t rip = AT(h, H_SLOT(3), "\x0f\xaa");
	h_start(h, rip);
	if (!smm_guest(h))
		return;
	h_set_vmcs(h, VMCS_GUEST_INTERRUPTIBILITY, 0);
	h_run(h);
	event_exit(h, ENTRY_FAIL | VMX_REASON_VMENTRY_GUEST, 0, rip);
}

/* ------------------------------------------------------------------ VMENTRY_MSR */

#define KGS 0xc0000102u
#define TSC_AUX 0xc0000103u
#define LSTAR 0xc0000082u

static uint64_t msr(struct h_ctx *h, uint32_t index)
{
	uint64_t v = 0;
	h_expect(h, "hv_vcpu_read_msr", hv_vcpu_read_msr(h->vcpu, index, &v), HV_SUCCESS);
	return v;
}

/* The entry fails at entry `index` of `list`: exit 34 | bit 31, qualification = index, nothing ran, the injected
 * event stays valid; entries before it were loaded (KERNEL_GS_BASE = 0x1234000 as the first entry). */
static void msr_entry_fails(struct h_ctx *h, const struct hvx_msr_entry *list, unsigned count, uint64_t index)
{
	uint64_t rip = AT(h, H_SLOT(6), "\x90\x90");
	h_start(h, rip);
	SET(h, RAX, V_RAX);
	h_set_vmcs(h, VMCS_CTRL_VMENTRY_IRQ_INFO, INTR_VALID | INTR_HW_EXC | 6); /* would deliver #UD */
	if (!ext_ok(h, hvx_vcpu_set_entry_msr_load(h->vcpu, list, count), "hvx_vcpu_set_entry_msr_load"))
		return;
	h_run(h);
	event_exit(h, ENTRY_FAIL | VMX_REASON_VMENTRY_MSR, index, rip);
	h_expect(h, "VM-entry interruption information (not cleared by a failed entry)",
		 h_vmcs(h, VMCS_CTRL_VMENTRY_IRQ_INFO), INTR_VALID | INTR_HW_EXC | 6);
	EXPECT_REG(h, RAX, V_RAX);
	EXPECT_REG(h, RSP, H_STACK_TOP); /* the #UD was not delivered */
	if (index > 1)
		h_expect(h, "KERNEL_GS_BASE (an entry before the failing one took effect)", msr(h, KGS), 0x1234000);
}

#define FIRST_OK {KGS, 0, 0x1234000}

static void msr_fs_base_fails(struct h_ctx *h)
{
	const struct hvx_msr_entry l[] = {FIRST_OK, {0xc0000100u, 0, 0x1000}};
	msr_entry_fails(h, l, 2, 2);
	h_expect(h, "guest FS base (not loaded)", h_vmcs(h, VMCS_GUEST_FS_BASE), 0);
}

static void msr_gs_base_fails(struct h_ctx *h)
{
	const struct hvx_msr_entry l[] = {{0xc0000101u, 0, 0x2000}};
	msr_entry_fails(h, l, 1, 1);
}

static void msr_noncanonical_fails(struct h_ctx *h)
{
	const struct hvx_msr_entry l[] = {FIRST_OK, {TSC_AUX, 0, 7}, {LSTAR, 0, 0x8000000000000000ull}};
	msr_entry_fails(h, l, 3, 3);
	h_expect(h, "TSC_AUX (loaded before the failing entry)", msr(h, TSC_AUX), 7);
	h_expect(h, "LSTAR (not loaded)", msr(h, LSTAR), 0);
}

static void msr_x2apic_fails(struct h_ctx *h)
{
	const struct hvx_msr_entry l[] = {FIRST_OK, {0x808, 0, 0x10}};
	msr_entry_fails(h, l, 2, 2);
}

static void msr_smbase_fails(struct h_ctx *h)
{
	const struct hvx_msr_entry l[] = {FIRST_OK, {0x9e, 0, 0x30000}};
	msr_entry_fails(h, l, 2, 2);
}

static void msr_reserved_bits_fail(struct h_ctx *h)
{
	const struct hvx_msr_entry l[] = {FIRST_OK, {TSC_AUX, 1, 0}};
	msr_entry_fails(h, l, 2, 2);
}

static void msr_unknown_fails(struct h_ctx *h)
{
	const struct hvx_msr_entry l[] = {FIRST_OK, {0x12345, 0, 0}};
	msr_entry_fails(h, l, 2, 2);
}

static void msr_efer_reserved_value_fails(struct h_ctx *h)
{
	const struct hvx_msr_entry l[] = {FIRST_OK, {0xc0000080u, 0, 0xd01 | (1u << 2)}};
	msr_entry_fails(h, l, 2, 2);
	h_expect(h, "guest EFER (unchanged)", h_vmcs(h, VMCS_GUEST_IA32_EFER), 0x500);
}

static void msr_list_loads_guest_msrs(struct h_ctx *h)
{
	uint64_t rip = AT(h, H_SLOT(5), "\x0f\x32");
	h_start(h, rip);
	SET(h, RCX, KGS);
	const struct hvx_msr_entry l[] = {{KGS, 0, 0x0000334455667788ull}, {TSC_AUX, 0, 0x55},
					  {0xc0000080u, 0, 0xd01}}; /* EFER + NXE, SCE */
	if (!ext_ok(h, hvx_vcpu_set_entry_msr_load(h->vcpu, l, 3), "hvx_vcpu_set_entry_msr_load") ||
	    !ext_ok(h, hv_vcpu_enable_native_msr(h->vcpu, KGS, true), "hv_vcpu_enable_native_msr(KERNEL_GS_BASE)"))
		return;
	h_run(h);
	h_expect_sentinel(h, rip + 2);
	/* The guest's RDMSR saw the loaded value; the VMM reads back every loaded MSR. */
	EXPECT_REG(h, RAX, 0x55667788);
	EXPECT_REG(h, RDX, 0x3344);
	h_expect(h, "KERNEL_GS_BASE", msr(h, KGS), 0x0000334455667788ull);
	h_expect(h, "TSC_AUX", msr(h, TSC_AUX), 0x55);
	h_expect(h, "guest EFER (LMA kept)", h_vmcs(h, VMCS_GUEST_IA32_EFER), 0xd01);
}

static void guest_state_check_precedes_msr_load(struct h_ctx *h)
{
	uint64_t rip = AT(h, H_SLOT(6), "\x90\x90");
	h_start(h, rip);
	const struct hvx_msr_entry l[] = {FIRST_OK, {0xc0000100u, 0, 0}};
	if (!ext_ok(h, hvx_vcpu_set_entry_msr_load(h->vcpu, l, 2), "hvx_vcpu_set_entry_msr_load"))
		return;
	h_set_vmcs(h, VMCS_GUEST_TR_AR, 0x1008b); /* unusable TR: a guest-state check fails first */
	h_run(h);
	event_exit(h, ENTRY_FAIL | VMX_REASON_VMENTRY_GUEST, 0, rip);
	h_expect(h, "KERNEL_GS_BASE (the list was not reached)", msr(h, KGS), 0);
}

/* ------------------------------------------------------------------ VMENTRY_MC */

static void machine_check_fails_entry(struct h_ctx *h)
{
	uint64_t rip = AT(h, H_SLOT(6), "\x90\x90");
	h_start(h, rip);
	h_set_vmcs(h, VMCS_CTRL_VMENTRY_IRQ_INFO, INTR_VALID | INTR_HW_EXC | 6);
	const struct hvx_msr_entry l[] = {FIRST_OK};
	if (!ext_ok(h, hvx_vcpu_set_entry_msr_load(h->vcpu, l, 1), "hvx_vcpu_set_entry_msr_load") ||
	    !ext_ok(h, hvx_vcpu_inject_entry_machine_check(h->vcpu), "hvx_vcpu_inject_entry_machine_check"))
		return;
	h_run(h);
	event_exit(h, ENTRY_FAIL | VMX_REASON_VMENTRY_MC, 0, rip);
	h_expect(h, "VM-entry interruption information (not cleared by a failed entry)",
		 h_vmcs(h, VMCS_CTRL_VMENTRY_IRQ_INFO), INTR_VALID | INTR_HW_EXC | 6);
	EXPECT_REG(h, RSP, H_STACK_TOP);
	h_expect(h, "KERNEL_GS_BASE (the MSR-load list was loaded before the machine check)", msr(h, KGS), 0x1234000);
	/* One-shot: the next entry succeeds. */
	h_set_vmcs(h, VMCS_CTRL_VMENTRY_IRQ_INFO, 0);
	h_run(h);
	h_expect_sentinel(h, rip + 2);
}

static void msr_failure_precedes_machine_check(struct h_ctx *h)
{
	uint64_t rip = AT(h, H_SLOT(6), "\x90\x90");
	h_start(h, rip);
	const struct hvx_msr_entry l[] = {{0x9e, 0, 0}};
	if (!ext_ok(h, hvx_vcpu_set_entry_msr_load(h->vcpu, l, 1), "hvx_vcpu_set_entry_msr_load") ||
	    !ext_ok(h, hvx_vcpu_inject_entry_machine_check(h->vcpu), "hvx_vcpu_inject_entry_machine_check"))
		return;
	h_run(h);
	if (!event_exit(h, ENTRY_FAIL | VMX_REASON_VMENTRY_MSR, 1, rip))
		return;
	/* Without the bad entry the machine check (still pending) fails the next entry. */
	if (!ext_ok(h, hvx_vcpu_set_entry_msr_load(h->vcpu, NULL, 0), "hvx_vcpu_set_entry_msr_load(none)"))
		return;
	h_run(h);
	event_exit(h, ENTRY_FAIL | VMX_REASON_VMENTRY_MC, 0, rip);
}

/* ------------------------------------------------------------------ the table */

#define IOX CPU_BASED_UNCOND_IO

const struct conf_case conf_cases_smm[] = {
	{"SIPI", "sipi_in_wait_for_sipi_exits_with_vector", "smm_long", H_LONG64, {0}, {0}, 0, sipi_exits_with_vector,
	 NULL},
	{"SIPI", "sipi_raised_while_waiting_exits_then_vcpu_starts", "smm_long", H_LONG64, CTL(.proc = IOX), {"IO"}, 0,
	 sipi_while_waiting_exits, NULL},
	{"SIPI", "wait_for_sipi_holds_smi_init_nmi_and_interrupt", "smm_long", H_LONG64,
	 CTL(.pin = PIN_BASED_NMI | PIN_BASED_INTR, .exit = VMEXIT_ACK_INTR), {"IRQ", "INIT", "OTHER_SMI"}, 0,
	 sipi_wait_holds_events, NULL},
	{"SIPI", "sipi_outside_wait_for_sipi_is_discarded", "smm_long", H_LONG64, CTL(.proc = IOX), {"IO", "IRQ"}, 0,
	 sipi_when_active_discarded, NULL},
	{"SIPI", "run_deadline_ends_wait_for_sipi", "smm_long", H_LONG64, {0}, {"VMX_TIMER_EXPIRED"}, 0,
	 sipi_wait_deadline, NULL},
	{"VMENTRY_GUEST", "wait_for_sipi_with_event_injection_fails_entry", "smm_long", H_LONG64, {0}, {"SIPI"}, 0,
	 sipi_wait_with_injection_fails_entry, NULL},
	{"IO_SMI", "out_imm_on_smi_port_completes_then_exits", "smm_long", H_LONG64, CTL(.proc = IOB), {"IO"}, 0,
	 io_smi_out_imm, NULL},
	{"IO_SMI", "in_dx_word_on_smi_port_completes_then_exits", "smm_long", H_LONG64, CTL(.proc = IOB), {0}, 0,
	 io_smi_in_dx, NULL},
	{"IO_SMI", "rep_outsb_completes_then_exits_with_io_registers_before", "smm_long", H_LONG64, CTL(.proc = IOB), {0},
	 0, io_smi_rep_outsb, NULL},
	{"IO_SMI", "io_smi_preempting_mtf_sets_reason_bit28", "smm_long", H_LONG64, CTL(.proc = IOB | CPU_BASED_MTF),
	 {"MTF"}, 0, io_smi_with_mtf_sets_bit28, NULL},
	{"IO_SMI", "io_exit_instead_of_completion_gives_no_smi", "smm_long", H_LONG64, CTL(.proc = IOX), {"IO"}, 0,
	 io_exit_precedes_io_smi, NULL},
	{"IO_SMI", "unmarked_port_gives_no_smi", "smm_long", H_LONG64, CTL(.proc = IOB), {"IO"}, 0, unmarked_port_no_smi,
	 NULL},
	{"IO_SMI", "model_off_gives_no_smi", "smm_long", H_LONG64, CTL(.proc = IOB), {"IO"}, 0, model_off_no_io_smi, NULL},
	{"OTHER_SMI", "raised_smi_exits_before_next_instruction", "smm_long", H_LONG64, CTL(.proc = IOX), {"IO"}, 0,
	 smi_exits_before_next_instruction, NULL},
	{"OTHER_SMI", "smi_raised_while_running_exits", "smm_long", H_LONG64, {0}, {0}, 0, smi_while_running, NULL},
	{"OTHER_SMI", "smi_exits_above_init", "smm_long", H_LONG64, {0}, {"INIT"}, 0, smi_above_init, NULL},
	{"OTHER_SMI", "smi_wakes_hlt", "smm_long", H_LONG64, {0}, {0}, 0, smi_wakes_hlt, NULL},
	{"OTHER_SMI", "smi_after_entry_preempts_injected_pending_mtf_with_bit28", "smm_long", H_LONG64, CTL(.proc = IOX),
	 {"IO", "MTF"}, 0, smi_preempts_injected_pending_mtf, NULL},
	{"OTHER_SMI", "smi_after_injected_interrupt_delivery", "smm_long", H_LONG64, {0}, {0}, 0,
	 smi_after_injected_interrupt_delivery, NULL},
	{"OTHER_SMI", "smi_refused_without_dual_monitor_model", "smm_long", H_LONG64, CTL(.proc = IOX), {"IO"}, 0,
	 smi_refused_without_model, NULL},
	{"RSM", "rsm_in_smm_guest_exits", "smm_long", H_LONG64, CTL(.entry = VMENTRY_SMM), {0}, 0, rsm_in_smm_exits,
	 NULL},
	{"RSM", "smi_held_in_smm_guest_exits_after_leaving_smm", "smm_long", H_LONG64, CTL(.entry = VMENTRY_SMM),
	 {"OTHER_SMI"}, 0, smi_held_in_smm_guest, NULL},
	{"RSM", "rsm_with_model_outside_smm_is_ud", "smm_long", H_LONG64, {0}, {"EXC_NMI"}, 0,
	 rsm_with_model_outside_smm_is_ud, NULL},
	{"RSM", "entry_to_smm_without_model_is_vmfail", "smm_long", H_LONG64, CTL(.entry = VMENTRY_SMM), {0}, 0,
	 entry_to_smm_without_model_vmfails, NULL},
	{"VMENTRY_GUEST", "entry_to_smm_without_smi_blocking_fails_entry", "smm_long", H_LONG64,
	 CTL(.entry = VMENTRY_SMM), {"RSM"}, 0, entry_to_smm_needs_smi_blocking, NULL},
	{"VMENTRY_MSR", "fs_base_entry_fails_after_earlier_entries_loaded", "smm_long", H_LONG64, {0}, {0}, 0,
	 msr_fs_base_fails, NULL},
	{"VMENTRY_MSR", "gs_base_first_entry_fails_with_index_1", "smm_long", H_LONG64, {0}, {0}, 0, msr_gs_base_fails,
	 NULL},
	{"VMENTRY_MSR", "non_canonical_lstar_fails", "smm_long", H_LONG64, {0}, {0}, 0, msr_noncanonical_fails, NULL},
	{"VMENTRY_MSR", "x2apic_range_msr_fails", "smm_long", H_LONG64, {0}, {0}, 0, msr_x2apic_fails, NULL},
	{"VMENTRY_MSR", "smbase_fails", "smm_long", H_LONG64, {0}, {0}, 0, msr_smbase_fails, NULL},
	{"VMENTRY_MSR", "reserved_bits_63_32_fail", "smm_long", H_LONG64, {0}, {0}, 0, msr_reserved_bits_fail, NULL},
	{"VMENTRY_MSR", "msr_the_cpu_lacks_fails", "smm_long", H_LONG64, {0}, {0}, 0, msr_unknown_fails, NULL},
	{"VMENTRY_MSR", "efer_reserved_bit_fails", "smm_long", H_LONG64, {0}, {0}, 0, msr_efer_reserved_value_fails,
	 NULL},
	{"VMENTRY_MSR", "good_list_loads_msrs_the_guest_reads", "smm_long", H_LONG64, CTL(.proc = IOX), {"IO"}, 0,
	 msr_list_loads_guest_msrs, NULL},
	{"VMENTRY_MSR", "guest_state_check_fails_before_msr_loading", "smm_long", H_LONG64, {0}, {"VMENTRY_GUEST"}, 0,
	 guest_state_check_precedes_msr_load, NULL},
	{"VMENTRY_MC", "injected_machine_check_fails_entry_once", "smm_long", H_LONG64, CTL(.proc = IOX), {"IO"}, 0,
	 machine_check_fails_entry, NULL},
	{"VMENTRY_MC", "msr_load_failure_comes_before_machine_check", "smm_long", H_LONG64, {0}, {"VMENTRY_MSR"}, 0,
	 msr_failure_precedes_machine_check, NULL},
	{NULL, NULL, NULL, 0, {0}, {0}, 0, NULL, NULL},
};
