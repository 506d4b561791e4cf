/* test_emu_nmi.c: events raised by the VMM (hvx_vcpu_raise_nmi / hvx_vcpu_raise_interrupt) on the emu backend:
 * NMI and external-interrupt exits with their interruption information, delivery through the guest IDT, NMI blocking
 * until IRET, STI blocking, HLT wake-up, priority, and the API's argument checks. */
#include <pthread.h>
#include <time.h>
#include <unistd.h>

#include <hvx/hvx.h>

#include "emu_guest.h"

/* A 64-bit interrupt gate for vector vec at EG_IDT. */
static void idt64(struct eg *g, unsigned vec, uint64_t handler)
{
	uint64_t lo = (handler & 0xffff) | ((uint64_t)SEL_CODE64 << 16) | ((uint64_t)0x8e << 40) |
		      ((handler >> 16 & 0xffff) << 48);
	eg_put64(g, EG_IDT + vec * 16, lo);
	eg_put64(g, EG_IDT + vec * 16 + 8, handler >> 32);
	eg_wr(g, VMCS_GUEST_IDTR_LIMIT, 0xfff);
}

static void pin(struct eg *g, uint64_t bits)
{
	eg_wr(g, VMCS_CTRL_PIN_BASED, eg_rd(g, VMCS_CTRL_PIN_BASED) | bits);
}

static const uint8_t NOPS_HLT[] = {0x90, 0x90, 0xf4}; /* nop; nop; hlt */

static void expect_event_exit(struct eg *g, uint64_t reason, uint64_t intr, uint64_t rip)
{
	assert_int_equal(hv_vcpu_run(g->vcpu), HV_SUCCESS);
	struct eg_exit e = eg_exit_info(g);
	assert_int_equal(e.reason, reason);
	assert_int_equal(e.intr, intr);
	assert_int_equal(e.intr_err, 0);
	assert_int_equal(e.qual, 0);
	assert_int_equal(e.len, 0);
	assert_int_equal(e.idt, 0);
	assert_int_equal(e.rip, rip);
}

static void test_nmi_exiting(void **state)
{
	(void)state;
	struct eg g;
	eg_create(&g);
	eg_long64(&g, EG_CODE);
	eg_load(&g, EG_CODE, NOPS_HLT, sizeof NOPS_HLT);
	pin(&g, PIN_BASED_NMI);
	assert_int_equal(hvx_vcpu_raise_nmi(g.vcpu), HV_SUCCESS);
	/* Taken at the first instruction boundary after entry: nothing ran. */
	expect_event_exit(&g, VMX_REASON_EXC_NMI, 0x80000202u, EG_CODE);
	assert_int_equal(eg_rd(&g, VMCS_GUEST_INTERRUPTIBILITY) & 0xf, 0); /* the exit sets no blocking */
	assert_int_equal(eg_reg(&g, HV_X86_RSP), EG_STACK);
	/* Taken once: the next run goes on to the HLT exit. */
	eg_expect_insn_exit(&g, VMX_REASON_HLT, EG_CODE + 2, 1, 0, 0);
	/* Blocking by NMI (without virtual NMIs) holds the NMI: no exit until the VMM clears it. */
	eg_setreg(&g, HV_X86_RIP, EG_CODE);
	eg_wr(&g, VMCS_GUEST_INTERRUPTIBILITY, 8);
	assert_int_equal(hvx_vcpu_raise_nmi(g.vcpu), HV_SUCCESS);
	eg_expect_insn_exit(&g, VMX_REASON_HLT, EG_CODE + 2, 1, 0, 0);
	assert_int_equal(eg_rd(&g, VMCS_GUEST_INTERRUPTIBILITY), 8);
	eg_wr(&g, VMCS_GUEST_INTERRUPTIBILITY, 0);
	expect_event_exit(&g, VMX_REASON_EXC_NMI, 0x80000202u, EG_CODE + 2);
	eg_destroy(&g);
}

/* STI blocking holds the NMI for one instruction; the exit comes at the boundary after it. */
static void test_nmi_sti_blocking(void **state)
{
	(void)state;
	struct eg g;
	eg_create(&g);
	eg_long64(&g, EG_CODE);
	eg_load(&g, EG_CODE, NOPS_HLT, sizeof NOPS_HLT);
	pin(&g, PIN_BASED_NMI);
	eg_setreg(&g, HV_X86_RFLAGS, 0x202);
	eg_wr(&g, VMCS_GUEST_INTERRUPTIBILITY, 1); /* blocking by STI */
	assert_int_equal(hvx_vcpu_raise_nmi(g.vcpu), HV_SUCCESS);
	expect_event_exit(&g, VMX_REASON_EXC_NMI, 0x80000202u, EG_CODE + 1);
	assert_int_equal(eg_rd(&g, VMCS_GUEST_INTERRUPTIBILITY) & 0xf, 0);
	eg_destroy(&g);
}

/* Without NMI exiting: delivery through IDT vector 2, blocking by NMI until IRET. */
static void test_nmi_delivery_and_iret(void **state)
{
	(void)state;
	struct eg g;
	eg_create(&g);
	eg_long64(&g, EG_CODE);
	eg_load(&g, EG_CODE, NOPS_HLT, sizeof NOPS_HLT);
	static const uint8_t handler[] = {0xf4, 0x48, 0xcf}; /* hlt; iretq */
	eg_load(&g, 0x20000, handler, sizeof handler);
	idt64(&g, 2, 0x20000);
	eg_controls(&g, CPU_BASED_HLT, 0);
	assert_int_equal(hvx_vcpu_raise_nmi(g.vcpu), HV_SUCCESS);
	eg_expect_insn_exit(&g, VMX_REASON_HLT, 0x20000, 1, 0, 0);
	assert_int_equal(eg_reg(&g, HV_X86_RSP), EG_STACK - 40);
	uint64_t *st = (uint64_t *)(void *)(g.mem + EG_STACK - 40);
	assert_int_equal(st[0], EG_CODE); /* the interrupted instruction */
	assert_int_equal(st[1], SEL_CODE64);
	assert_int_equal(st[2], 2);
	assert_int_equal(eg_rd(&g, VMCS_GUEST_INTERRUPTIBILITY), 8); /* blocking by NMI */
	/* A second NMI waits for the IRET. */
	assert_int_equal(hvx_vcpu_raise_nmi(g.vcpu), HV_SUCCESS);
	eg_skip(&g);
	/* IRET unblocks; the second NMI is delivered at the boundary after it (same frame again). */
	eg_expect_insn_exit(&g, VMX_REASON_HLT, 0x20000, 1, 0, 0);
	assert_int_equal(eg_reg(&g, HV_X86_RSP), EG_STACK - 40);
	assert_int_equal(st[0], EG_CODE);
	assert_int_equal(eg_rd(&g, VMCS_GUEST_INTERRUPTIBILITY), 8);
	eg_skip(&g);
	eg_expect_insn_exit(&g, VMX_REASON_HLT, EG_CODE + 2, 1, 0, 0);
	assert_int_equal(eg_rd(&g, VMCS_GUEST_INTERRUPTIBILITY), 0);
	assert_int_equal(eg_reg(&g, HV_X86_RSP), EG_STACK);
	eg_destroy(&g);
}

static void test_extint_exiting_ack(void **state)
{
	(void)state;
	struct eg g;
	eg_create(&g);
	eg_long64(&g, EG_CODE);
	eg_load(&g, EG_CODE, NOPS_HLT, sizeof NOPS_HLT);
	pin(&g, PIN_BASED_INTR);
	eg_wr(&g, VMCS_CTRL_VMEXIT_CONTROLS, eg_rd(&g, VMCS_CTRL_VMEXIT_CONTROLS) | VMEXIT_ACK_INTR);
	/* RFLAGS.IF = 0 does not block it under external-interrupt exiting. */
	assert_int_equal(hvx_vcpu_raise_interrupt(g.vcpu, 0x41), HV_SUCCESS);
	expect_event_exit(&g, VMX_REASON_IRQ, 0x80000041u, EG_CODE);
	/* Acknowledged: gone. */
	eg_expect_insn_exit(&g, VMX_REASON_HLT, EG_CODE + 2, 1, 0, 0);
	eg_destroy(&g);
}

static void test_extint_exiting_no_ack(void **state)
{
	(void)state;
	struct eg g;
	eg_create(&g);
	eg_long64(&g, EG_CODE);
	eg_load(&g, EG_CODE, NOPS_HLT, sizeof NOPS_HLT);
	static const uint8_t handler[] = {0xf4};
	eg_load(&g, 0x20000, handler, sizeof handler);
	idt64(&g, 0x31, 0x20000);
	pin(&g, PIN_BASED_INTR);
	assert_int_equal(hvx_vcpu_raise_interrupt(g.vcpu, 0x31), HV_SUCCESS);
	expect_event_exit(&g, VMX_REASON_IRQ, 0, EG_CODE); /* info invalid */
	expect_event_exit(&g, VMX_REASON_IRQ, 0, EG_CODE); /* still pending */
	/* The VMM lets the guest take it: external-interrupt exiting off, IF = 1 -> IDT vector 0x31. */
	eg_controls(&g, CPU_BASED_HLT, 0);
	eg_setreg(&g, HV_X86_RFLAGS, 0x202);
	eg_expect_insn_exit(&g, VMX_REASON_HLT, 0x20000, 1, 0, 0);
	uint64_t *st = (uint64_t *)(void *)(g.mem + EG_STACK - 40);
	assert_int_equal(st[0], EG_CODE);
	assert_int_equal(st[2], 0x202);
	assert_int_equal(eg_reg(&g, HV_X86_RFLAGS) & 0x200, 0);
	eg_destroy(&g);
}

/* Without external-interrupt exiting: held while IF = 0, delivered after STI's one-instruction shadow. */
static void test_extint_delivery_sti_shadow(void **state)
{
	(void)state;
	struct eg g;
	eg_create(&g);
	eg_long64(&g, EG_CODE);
	static const uint8_t code[] = {0x90, 0xfb, 0x90, 0x90, 0xf4}; /* nop; sti; nop; nop; hlt */
	eg_load(&g, EG_CODE, code, sizeof code);
	static const uint8_t handler[] = {0xf4};
	eg_load(&g, 0x20000, handler, sizeof handler);
	idt64(&g, 0x32, 0x20000); /* gates up to vector 0x3f: the TSS follows the IDT */
	eg_controls(&g, CPU_BASED_HLT, 0);
	assert_int_equal(hvx_vcpu_raise_interrupt(g.vcpu, 0x32), HV_SUCCESS);
	eg_expect_insn_exit(&g, VMX_REASON_HLT, 0x20000, 1, 0, 0);
	uint64_t *st = (uint64_t *)(void *)(g.mem + EG_STACK - 40);
	assert_int_equal(st[0], EG_CODE + 3); /* after the nop in STI's shadow */
	assert_int_equal(st[2], 0x202);
	eg_destroy(&g);
}

static void *raiser(void *arg)
{
	hv_vcpuid_t id = *(hv_vcpuid_t *)arg;
	usleep(20000);
	hvx_vcpu_raise_interrupt(id, 0x30);
	return NULL;
}

/* HLT (no HLT exiting) waits; an interrupt raised from another thread ends it through the IDT. */
static void test_extint_wakes_hlt(void **state)
{
	(void)state;
	struct eg g;
	eg_create(&g);
	eg_long64(&g, EG_CODE);
	static const uint8_t code[] = {0xf4, 0x90}; /* hlt; nop */
	eg_load(&g, EG_CODE, code, sizeof code);
	static const uint8_t handler[] = {0x0f, 0x01, 0xc1}; /* vmcall */
	eg_load(&g, 0x20000, handler, sizeof handler);
	idt64(&g, 0x30, 0x20000);
	eg_controls(&g, 0, 0);
	eg_setreg(&g, HV_X86_RFLAGS, 0x202);
	pthread_t t;
	pthread_create(&t, NULL, raiser, &g.vcpu);
	eg_expect_insn_exit(&g, VMX_REASON_VMCALL, 0x20000, 3, 0, 0);
	pthread_join(t, NULL);
	uint64_t *st = (uint64_t *)(void *)(g.mem + EG_STACK - 40);
	assert_int_equal(st[0], EG_CODE + 1); /* after the HLT */
	assert_int_equal(eg_rd(&g, VMCS_GUEST_ACTIVITY_STATE), 0);
	eg_destroy(&g);
}

static void *nmi_raiser(void *arg)
{
	hv_vcpuid_t id = *(hv_vcpuid_t *)arg;
	usleep(20000);
	hvx_vcpu_raise_nmi(id);
	return NULL;
}

/* A raised NMI under NMI exiting ends HLT with exit 0; the exit saves activity state HLT, RIP after the HLT. */
static void test_nmi_exit_wakes_hlt(void **state)
{
	(void)state;
	struct eg g;
	eg_create(&g);
	eg_long64(&g, EG_CODE);
	eg_load(&g, EG_CODE, NOPS_HLT, sizeof NOPS_HLT);
	eg_controls(&g, 0, 0);
	pin(&g, PIN_BASED_NMI);
	pthread_t t;
	pthread_create(&t, NULL, nmi_raiser, &g.vcpu);
	expect_event_exit(&g, VMX_REASON_EXC_NMI, 0x80000202u, EG_CODE + 3);
	pthread_join(t, NULL);
	assert_int_equal(eg_rd(&g, VMCS_GUEST_ACTIVITY_STATE), 1);
	eg_destroy(&g);
}

/* A running vCPU (spin loop) notices an interrupt raised from another thread: exit 1 with the vector, RIP = the loop. */
static void test_extint_exit_while_running(void **state)
{
	(void)state;
	struct eg g;
	eg_create(&g);
	eg_long64(&g, EG_CODE);
	static const uint8_t spin[] = {0xeb, 0xfe}; /* jmp $ */
	eg_load(&g, EG_CODE, spin, sizeof spin);
	pin(&g, PIN_BASED_INTR);
	eg_wr(&g, VMCS_CTRL_VMEXIT_CONTROLS, eg_rd(&g, VMCS_CTRL_VMEXIT_CONTROLS) | VMEXIT_ACK_INTR);
	pthread_t t;
	pthread_create(&t, NULL, raiser, &g.vcpu);
	expect_event_exit(&g, VMX_REASON_IRQ, 0x80000030u, EG_CODE);
	pthread_join(t, NULL);
	eg_destroy(&g);
}

/* Spec 7.1: NMI (item 8) before the external interrupt (item 10). */
static void test_nmi_before_extint(void **state)
{
	(void)state;
	struct eg g;
	eg_create(&g);
	eg_long64(&g, EG_CODE);
	eg_load(&g, EG_CODE, NOPS_HLT, sizeof NOPS_HLT);
	pin(&g, PIN_BASED_INTR | PIN_BASED_NMI);
	eg_wr(&g, VMCS_CTRL_VMEXIT_CONTROLS, eg_rd(&g, VMCS_CTRL_VMEXIT_CONTROLS) | VMEXIT_ACK_INTR);
	assert_int_equal(hvx_vcpu_raise_interrupt(g.vcpu, 0xfe), HV_SUCCESS);
	assert_int_equal(hvx_vcpu_raise_nmi(g.vcpu), HV_SUCCESS);
	expect_event_exit(&g, VMX_REASON_EXC_NMI, 0x80000202u, EG_CODE);
	expect_event_exit(&g, VMX_REASON_IRQ, 0x800000feu, EG_CODE);
	eg_destroy(&g);
}

/* Spec 7.1: NMI-window exit (item 7) before the NMI (8) before the interrupt-window exit (9). */
static void test_window_priorities(void **state)
{
	(void)state;
	struct eg g;
	eg_create(&g);
	eg_long64(&g, EG_CODE);
	eg_load(&g, EG_CODE, NOPS_HLT, sizeof NOPS_HLT);
	eg_controls(&g, CPU_BASED_HLT | CPU_BASED_IRQ_WND | CPU_BASED_VIRTUAL_NMI_WND, 0);
	pin(&g, PIN_BASED_NMI | PIN_BASED_VIRTUAL_NMI);
	eg_setreg(&g, HV_X86_RFLAGS, 0x202);
	assert_int_equal(hvx_vcpu_raise_nmi(g.vcpu), HV_SUCCESS);
	expect_event_exit(&g, VMX_REASON_VIRTUAL_NMI_WND, 0, EG_CODE);
	eg_wr(&g, VMCS_CTRL_CPU_BASED, eg_rd(&g, VMCS_CTRL_CPU_BASED) & ~(uint64_t)CPU_BASED_VIRTUAL_NMI_WND);
	expect_event_exit(&g, VMX_REASON_EXC_NMI, 0x80000202u, EG_CODE);
	expect_event_exit(&g, VMX_REASON_IRQ_WND, 0, EG_CODE);
	eg_destroy(&g);
}

/* A kick still ends the run with exit 1 and no interruption information, events or not. */
static void test_kick_unchanged(void **state)
{
	(void)state;
	struct eg g;
	eg_create(&g);
	eg_long64(&g, EG_CODE);
	eg_load(&g, EG_CODE, NOPS_HLT, sizeof NOPS_HLT);
	pin(&g, PIN_BASED_INTR);
	eg_wr(&g, VMCS_CTRL_VMEXIT_CONTROLS, eg_rd(&g, VMCS_CTRL_VMEXIT_CONTROLS) | VMEXIT_ACK_INTR);
	assert_int_equal(hv_vcpu_interrupt(&g.vcpu, 1), HV_SUCCESS);
	expect_event_exit(&g, VMX_REASON_IRQ, 0, EG_CODE);
	eg_destroy(&g);
}

/* SDM 26.2.1.1: virtual NMIs need NMI exiting, NMI-window exiting needs virtual NMIs (VMfail 7). */
static void test_virtual_nmi_control_checks(void **state)
{
	(void)state;
	struct eg g;
	eg_create(&g);
	eg_long64(&g, EG_CODE);
	eg_load(&g, EG_CODE, NOPS_HLT, sizeof NOPS_HLT);
	uint64_t pin0 = eg_rd(&g, VMCS_CTRL_PIN_BASED), proc0 = eg_rd(&g, VMCS_CTRL_CPU_BASED);
	eg_wr(&g, VMCS_CTRL_PIN_BASED, pin0 | PIN_BASED_VIRTUAL_NMI);
	assert_int_equal(hv_vcpu_run(g.vcpu), HV_ERROR);
	assert_int_equal(eg_rd(&g, VMCS_RO_INSTR_ERROR), 7);
	eg_wr(&g, VMCS_CTRL_PIN_BASED, pin0 | PIN_BASED_NMI);
	eg_wr(&g, VMCS_CTRL_CPU_BASED, proc0 | CPU_BASED_VIRTUAL_NMI_WND);
	assert_int_equal(hv_vcpu_run(g.vcpu), HV_ERROR);
	assert_int_equal(eg_rd(&g, VMCS_RO_INSTR_ERROR), 7);
	eg_wr(&g, VMCS_CTRL_PIN_BASED, pin0 | PIN_BASED_NMI | PIN_BASED_VIRTUAL_NMI);
	expect_event_exit(&g, VMX_REASON_VIRTUAL_NMI_WND, 0, EG_CODE); /* valid now: the window is open */
	eg_wr(&g, VMCS_CTRL_CPU_BASED, proc0);
	eg_expect_insn_exit(&g, VMX_REASON_HLT, EG_CODE + 2, 1, 0, 0);
	eg_destroy(&g);
}

/* Spec 6.8: the NMI-window exit comes at the first boundary without virtual-NMI or MOV-SS blocking: right after entry
 * when open, after the IRET that ends virtual-NMI blocking, not under MOV-SS blocking, under STI blocking. */
static void test_nmi_window(void **state)
{
	(void)state;
	struct eg g;
	eg_create(&g);
	eg_long64(&g, EG_CODE);
	static const uint8_t code[] = {0x90, 0x48, 0xcf, 0x90, 0xf4}; /* nop; iretq; nop; hlt */
	eg_load(&g, EG_CODE, code, sizeof code);
	pin(&g, PIN_BASED_NMI | PIN_BASED_VIRTUAL_NMI);
	eg_wr(&g, VMCS_CTRL_CPU_BASED, eg_rd(&g, VMCS_CTRL_CPU_BASED) | CPU_BASED_VIRTUAL_NMI_WND);
	/* Open at entry: exit before the first instruction. */
	expect_event_exit(&g, VMX_REASON_VIRTUAL_NMI_WND, 0, EG_CODE);
	expect_event_exit(&g, VMX_REASON_VIRTUAL_NMI_WND, 0, EG_CODE); /* level: again while still open */
	/* Virtual-NMI blocking closes it until IRET; the exit comes at the boundary after the IRET. */
	eg_wr(&g, VMCS_GUEST_INTERRUPTIBILITY, 8);
	uint64_t *st = (uint64_t *)(void *)(g.mem + EG_STACK - 40);
	st[0] = EG_CODE + 3;
	st[1] = SEL_CODE64;
	st[2] = 2;
	st[3] = EG_STACK;
	st[4] = SEL_DATA;
	eg_setreg(&g, HV_X86_RSP, EG_STACK - 40);
	expect_event_exit(&g, VMX_REASON_VIRTUAL_NMI_WND, 0, EG_CODE + 3);
	assert_int_equal(eg_rd(&g, VMCS_GUEST_INTERRUPTIBILITY), 0);
	assert_int_equal(eg_reg(&g, HV_X86_RSP), EG_STACK);
	/* MOV-SS blocking closes it for one instruction. */
	eg_wr(&g, VMCS_GUEST_INTERRUPTIBILITY, 2);
	expect_event_exit(&g, VMX_REASON_VIRTUAL_NMI_WND, 0, EG_CODE + 4);
	assert_int_equal(eg_rd(&g, VMCS_GUEST_INTERRUPTIBILITY), 0);
	/* STI blocking does not. */
	eg_setreg(&g, HV_X86_RIP, EG_CODE + 3);
	eg_setreg(&g, HV_X86_RFLAGS, 0x202);
	eg_wr(&g, VMCS_GUEST_INTERRUPTIBILITY, 1);
	expect_event_exit(&g, VMX_REASON_VIRTUAL_NMI_WND, 0, EG_CODE + 3);
	assert_int_equal(eg_rd(&g, VMCS_GUEST_INTERRUPTIBILITY), 1);
	eg_destroy(&g);
}

/* Injecting an NMI with virtual NMIs sets virtual-NMI blocking (closing the window) until the handler's IRET. */
static void test_inject_nmi_virtual_blocking(void **state)
{
	(void)state;
	struct eg g;
	eg_create(&g);
	eg_long64(&g, EG_CODE);
	eg_load(&g, EG_CODE, NOPS_HLT, sizeof NOPS_HLT);
	static const uint8_t handler[] = {0x90, 0x48, 0xcf}; /* nop; iretq */
	eg_load(&g, 0x20000, handler, sizeof handler);
	idt64(&g, 2, 0x20000);
	pin(&g, PIN_BASED_NMI | PIN_BASED_VIRTUAL_NMI);
	eg_wr(&g, VMCS_CTRL_CPU_BASED, eg_rd(&g, VMCS_CTRL_CPU_BASED) | CPU_BASED_VIRTUAL_NMI_WND);
	eg_wr(&g, VMCS_CTRL_VMENTRY_IRQ_INFO, 0x80000202u);
	/* The handler runs under virtual-NMI blocking; its IRET opens the window. */
	expect_event_exit(&g, VMX_REASON_VIRTUAL_NMI_WND, 0, EG_CODE);
	assert_int_equal(eg_rd(&g, VMCS_GUEST_INTERRUPTIBILITY), 0);
	assert_int_equal(eg_reg(&g, HV_X86_RSP), EG_STACK);
	/* SDM 26.3.1.5: injecting an NMI under virtual-NMI blocking fails the entry (guest state, qualification 0). */
	eg_wr(&g, VMCS_GUEST_INTERRUPTIBILITY, 8);
	eg_wr(&g, VMCS_CTRL_VMENTRY_IRQ_INFO, 0x80000202u);
	assert_int_equal(hv_vcpu_run(g.vcpu), HV_SUCCESS);
	assert_int_equal(eg_rd(&g, VMCS_RO_EXIT_REASON), 0x80000021u);
	assert_int_equal(eg_rd(&g, VMCS_RO_EXIT_QUALIFIC), 0);
	assert_int_equal(eg_reg(&g, HV_X86_RIP), EG_CODE);
	eg_wr(&g, VMCS_CTRL_VMENTRY_IRQ_INFO, 0);
		/* A real NMI still exits under virtual-NMI blocking; the exit saves the blocking in bit 3. */
	eg_wr(&g, VMCS_CTRL_CPU_BASED, eg_rd(&g, VMCS_CTRL_CPU_BASED) & ~(uint64_t)CPU_BASED_VIRTUAL_NMI_WND);
	eg_wr(&g, VMCS_GUEST_INTERRUPTIBILITY, 8);
	assert_int_equal(hvx_vcpu_raise_nmi(g.vcpu), HV_SUCCESS);
	expect_event_exit(&g, VMX_REASON_EXC_NMI, 0x80000202u, EG_CODE);
	assert_int_equal(eg_rd(&g, VMCS_GUEST_INTERRUPTIBILITY), 8);
	eg_destroy(&g);
}

/* Spec 6.8: the NMI window wakes HLT: entry in activity state HLT exits at once (RIP unchanged, activity state kept). */
static void test_nmi_window_wakes_hlt(void **state)
{
	(void)state;
	struct eg g;
	eg_create(&g);
	eg_long64(&g, EG_CODE);
	eg_load(&g, EG_CODE, NOPS_HLT, sizeof NOPS_HLT);
	eg_controls(&g, 0, 0);
	pin(&g, PIN_BASED_NMI | PIN_BASED_VIRTUAL_NMI);
	eg_wr(&g, VMCS_CTRL_CPU_BASED, eg_rd(&g, VMCS_CTRL_CPU_BASED) | CPU_BASED_VIRTUAL_NMI_WND);
	eg_wr(&g, VMCS_GUEST_ACTIVITY_STATE, 1);
	expect_event_exit(&g, VMX_REASON_VIRTUAL_NMI_WND, 0, EG_CODE);
	assert_int_equal(eg_rd(&g, VMCS_GUEST_ACTIVITY_STATE), 1);
	eg_destroy(&g);
}

/* Spec 6.3: INIT exits at the next boundary (qualification 0, RIP next instruction), above NMIs and MOV-SS blocking. */
static void test_init_exit(void **state)
{
	(void)state;
	struct eg g;
	eg_create(&g);
	eg_long64(&g, EG_CODE);
	eg_load(&g, EG_CODE, NOPS_HLT, sizeof NOPS_HLT);
	pin(&g, PIN_BASED_NMI);
	eg_wr(&g, VMCS_GUEST_INTERRUPTIBILITY, 2);
	assert_int_equal(hvx_vcpu_raise_nmi(g.vcpu), HV_SUCCESS);
	assert_int_equal(hvx_vcpu_raise_init(g.vcpu), HV_SUCCESS);
	expect_event_exit(&g, VMX_REASON_INIT, 0, EG_CODE);
	assert_int_equal(eg_rd(&g, VMCS_GUEST_INTERRUPTIBILITY), 2); /* register state not reset */
	eg_wr(&g, VMCS_GUEST_INTERRUPTIBILITY, 0);
	expect_event_exit(&g, VMX_REASON_EXC_NMI, 0x80000202u, EG_CODE);
	eg_expect_insn_exit(&g, VMX_REASON_HLT, EG_CODE + 2, 1, 0, 0);
	eg_destroy(&g);
}

static void *init_raiser(void *arg)
{
	hv_vcpuid_t id = *(hv_vcpuid_t *)arg;
	usleep(20000);
	hvx_vcpu_raise_init(id);
	return NULL;
}

/* INIT ends HLT (activity state HLT saved, RIP after the HLT). */
static void test_init_wakes_hlt(void **state)
{
	(void)state;
	struct eg g;
	eg_create(&g);
	eg_long64(&g, EG_CODE);
	eg_load(&g, EG_CODE, NOPS_HLT, sizeof NOPS_HLT);
	eg_controls(&g, 0, 0);
	pthread_t t;
	pthread_create(&t, NULL, init_raiser, &g.vcpu);
	expect_event_exit(&g, VMX_REASON_INIT, 0, EG_CODE + 3);
	pthread_join(t, NULL);
	assert_int_equal(eg_rd(&g, VMCS_GUEST_ACTIVITY_STATE), 1);
	eg_destroy(&g);
}

/* INIT under MTF: INIT exits at the boundary after entry, the MTF exit follows the first instruction. */
static void test_init_above_mtf(void **state)
{
	(void)state;
	struct eg g;
	eg_create(&g);
	eg_long64(&g, EG_CODE);
	eg_load(&g, EG_CODE, NOPS_HLT, sizeof NOPS_HLT);
	eg_controls(&g, CPU_BASED_HLT | CPU_BASED_MTF, 0);
	assert_int_equal(hvx_vcpu_raise_init(g.vcpu), HV_SUCCESS);
	expect_event_exit(&g, VMX_REASON_INIT, 0, EG_CODE); /* at the boundary after entry */
	expect_event_exit(&g, VMX_REASON_MTF, 0, EG_CODE + 1);
	eg_destroy(&g);
}

static void test_api_checks(void **state)
{
	(void)state;
	struct eg g;
	eg_create(&g);
	assert_int_equal(hvx_vcpu_raise_interrupt(g.vcpu, 15), HV_BAD_ARGUMENT);
	assert_int_equal(hvx_vcpu_raise_interrupt(g.vcpu, 0), HV_BAD_ARGUMENT);
	assert_int_equal(hvx_vcpu_raise_interrupt(g.vcpu, 16), HV_SUCCESS);
	assert_int_equal(hvx_vcpu_raise_interrupt(g.vcpu, 255), HV_SUCCESS);
	assert_int_equal(hvx_vcpu_raise_interrupt(g.vcpu + 1, 32), HV_BAD_ARGUMENT);
	assert_int_equal(hvx_vcpu_raise_nmi(g.vcpu + 1), HV_BAD_ARGUMENT);
	assert_int_equal(hvx_vcpu_raise_nmi(1000000), HV_BAD_ARGUMENT);
	assert_int_equal(hvx_vcpu_raise_init(g.vcpu + 1), HV_BAD_ARGUMENT);
	eg_destroy(&g);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		EG_TEST(test_nmi_exiting),
		EG_TEST(test_nmi_sti_blocking),
		EG_TEST(test_nmi_delivery_and_iret),
		EG_TEST(test_extint_exiting_ack),
		EG_TEST(test_extint_exiting_no_ack),
		EG_TEST(test_extint_delivery_sti_shadow),
		EG_TEST(test_extint_wakes_hlt),
		EG_TEST(test_nmi_exit_wakes_hlt),
		EG_TEST(test_extint_exit_while_running),
		EG_TEST(test_nmi_before_extint),
		EG_TEST(test_window_priorities),
		EG_TEST(test_kick_unchanged),
		EG_TEST(test_virtual_nmi_control_checks),
		EG_TEST(test_nmi_window),
		EG_TEST(test_inject_nmi_virtual_blocking),
		EG_TEST(test_nmi_window_wakes_hlt),
		EG_TEST(test_init_exit),
		EG_TEST(test_init_wakes_hlt),
		EG_TEST(test_init_above_mtf),
		EG_TEST(test_api_checks),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
