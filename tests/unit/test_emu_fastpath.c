/* test_emu_fastpath.c: the emu run loop's fast paths fall back whenever they must: after entries where the VMM only moved RIP (the quiet entry), a kick, a raised interrupt and a deadline still end a looping guest (interpreter and JIT), an injection, entry machine check or STI blocking written or saved since is honoured, and hv_vm_protect from another thread takes effect in a running guest (interpreter and JIT); the direct route into translated code is not taken under MTF, an open interrupt window or TF, nor for code the VMM rewrote or another mode. */
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>
#include <unistd.h>

#include "emu_guest.h"

/* L: out 0x80, al; dec ecx; jnz L; spin: jmp spin */
static const uint8_t OUT_THEN_SPIN[] = {0xe6, 0x80, 0xff, 0xc9, 0x75, 0xfa, 0xeb, 0xfe};
#define SPIN_RIP (EG_CODE + 6)
#define ROUND_TRIPS 5

/* ROUND_TRIPS OUT exits, each skipped by writing RIP alone: every entry after the first is a quiet one. */
static void out_round_trips(struct eg *g)
{
	for (unsigned i = 0; i < ROUND_TRIPS; i++) {
		eg_expect_insn_exit(g, VMX_REASON_IO, EG_CODE, 2, 0x80ull << 16 | 0x40, 0);
		eg_skip(g);
	}
}

static void spin_guest(struct eg *g, const char *jit)
{
	setenv("HVX_EMU_JIT", jit, 1);
	eg_create(g);
	eg_long64(g, EG_CODE);
	eg_controls(g, CPU_BASED_HLT | CPU_BASED_UNCOND_IO, 0);
	eg_load(g, EG_CODE, OUT_THEN_SPIN, sizeof OUT_THEN_SPIN);
	eg_setreg(g, HV_X86_RCX, ROUND_TRIPS);
}

/* hv_vcpu_interrupt from another thread ends the run of a guest spinning after quiet entries. */
static void kick_after_quiet_entries(const char *jit)
{
	struct eg g;
	spin_guest(&g, jit);
	out_round_trips(&g);
	pthread_t t;
	pthread_create(&t, NULL, eg_kicker, &g.vcpu);
	assert_int_equal(hv_vcpu_run(g.vcpu), HV_SUCCESS);
	pthread_join(t, NULL);
	struct eg_exit e = eg_exit_info(&g);
	assert_int_equal(e.reason, VMX_REASON_IRQ);
	assert_int_equal(e.qual, 0);
	assert_int_equal(e.intr, 0);
	assert_int_equal(e.rip, SPIN_RIP);
	eg_destroy(&g);
	unsetenv("HVX_EMU_JIT");
}

static void test_kick_after_quiet_entries_interpreter(void **state)
{
	(void)state;
	kick_after_quiet_entries("0");
}

static void test_kick_after_quiet_entries_jit(void **state)
{
	(void)state;
	kick_after_quiet_entries("1");
}

static void *raiser(void *arg)
{
	hv_vcpuid_t id = *(hv_vcpuid_t *)arg;
	usleep(20000);
	assert_int_equal(hvx_vcpu_raise_interrupt(id, 0x41), HV_SUCCESS);
	return NULL;
}

/* An external interrupt raised by another thread (external-interrupt exiting on, acknowledged on exit) ends the run
 * of a guest spinning after quiet entries, with its vector. */
static void extint_after_quiet_entries(const char *jit)
{
	struct eg g;
	spin_guest(&g, jit);
	uint64_t pin, ex;
	hv_vmx_read_capability(HV_VMX_CAP_PINBASED, &pin);
	hv_vmx_read_capability(HV_VMX_CAP_EXIT, &ex);
	eg_wr(&g, VMCS_CTRL_PIN_BASED, eg_cap2ctrl(pin, PIN_BASED_INTR));
	eg_wr(&g, VMCS_CTRL_VMEXIT_CONTROLS, eg_rd(&g, VMCS_CTRL_VMEXIT_CONTROLS) | eg_cap2ctrl(ex, VMEXIT_ACK_INTR));
	out_round_trips(&g);
	pthread_t t;
	pthread_create(&t, NULL, raiser, &g.vcpu);
	assert_int_equal(hv_vcpu_run(g.vcpu), HV_SUCCESS);
	pthread_join(t, NULL);
	struct eg_exit e = eg_exit_info(&g);
	assert_int_equal(e.reason, VMX_REASON_IRQ);
	assert_int_equal(e.intr, 0x80000041u); /* the interrupt's exit, not a kick's */
	assert_int_equal(e.rip, SPIN_RIP);
	eg_destroy(&g);
	unsetenv("HVX_EMU_JIT");
}

static void test_extint_after_quiet_entries_interpreter(void **state)
{
	(void)state;
	extint_after_quiet_entries("0");
}

static void test_extint_after_quiet_entries_jit(void **state)
{
	(void)state;
	extint_after_quiet_entries("1");
}

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* A run deadline given to the run after quiet entries still ends the spinning guest (exit 52), not before it. */
static void deadline_after_quiet_entries(const char *jit)
{
	struct eg g;
	spin_guest(&g, jit);
	out_round_trips(&g);
	uint64_t t0 = now_ns();
	assert_int_equal(hv_vcpu_run_until(g.vcpu, t0 + 20000000), HV_SUCCESS);
	struct eg_exit e = eg_exit_info(&g);
	assert_int_equal(e.reason, VMX_REASON_VMX_TIMER_EXPIRED);
	assert_int_equal(e.qual, 0);
	assert_int_equal(e.rip, SPIN_RIP);
	assert_true(now_ns() >= t0 + 20000000);
	eg_destroy(&g);
	unsetenv("HVX_EMU_JIT");
}

static void test_deadline_after_quiet_entries_interpreter(void **state)
{
	(void)state;
	deadline_after_quiet_entries("0");
}

static void test_deadline_after_quiet_entries_jit(void **state)
{
	(void)state;
	deadline_after_quiet_entries("1");
}

/* The VMM injects an external interrupt after quiet entries (it writes the injection field and RIP): delivered. */
static void test_injection_after_quiet_entries(void **state)
{
	(void)state;
	struct eg g;
	spin_guest(&g, "1");
	eg_setreg(&g, HV_X86_RFLAGS, 0x202);
	static const uint8_t handler[] = {0xf4}; /* hlt */
	eg_load(&g, 0x20000, handler, 1);
	uint64_t lo = (0x20000 & 0xffff) | ((uint64_t)SEL_CODE64 << 16) | (0x8eull << 40) | ((0x20000ull >> 16) << 48);
	eg_put64(&g, EG_IDT + 0x30 * 16, lo);
	eg_put64(&g, EG_IDT + 0x30 * 16 + 8, 0);
	eg_wr(&g, VMCS_GUEST_IDTR_LIMIT, 0xfff);
	eg_setreg(&g, HV_X86_RCX, ROUND_TRIPS + 1);
	out_round_trips(&g);
	eg_expect_insn_exit(&g, VMX_REASON_IO, EG_CODE, 2, 0x80ull << 16 | 0x40, 0);
	eg_skip(&g);
	eg_wr(&g, VMCS_CTRL_VMENTRY_IRQ_INFO, 0x80000030u);
	eg_expect_insn_exit(&g, VMX_REASON_HLT, 0x20000, 1, 0, 0);
	assert_int_equal(eg_rd(&g, VMCS_CTRL_VMENTRY_IRQ_INFO) & 0x80000000u, 0);
	assert_int_equal(*(uint64_t *)(void *)(g.mem + EG_STACK - 40), EG_CODE + 2); /* the pushed RIP: after the OUT */
	eg_destroy(&g);
	unsetenv("HVX_EMU_JIT");
}

/* hvx_vcpu_inject_entry_machine_check after quiet entries: the next entry fails with reason 41. */
static void test_entry_machine_check_after_quiet_entries(void **state)
{
	(void)state;
	struct eg g;
	spin_guest(&g, "1");
	out_round_trips(&g);
	assert_int_equal(hvx_vcpu_inject_entry_machine_check(g.vcpu), HV_SUCCESS);
	assert_int_equal(hv_vcpu_run(g.vcpu), HV_SUCCESS);
	assert_int_equal(eg_rd(&g, VMCS_RO_EXIT_REASON), VMX_REASON_VMENTRY_MC | 0x80000000u);
	assert_int_equal(eg_rd(&g, VMCS_GUEST_RIP), EG_CODE + 2); /* no guest instruction ran */
	eg_destroy(&g);
	unsetenv("HVX_EMU_JIT");
}

/* STI blocking saved by an exit stays in force at the next entry although the VMM wrote only RIP: an OUT right after
 * STI exits with blocking by STI saved; skipped, the next OUT is again the first instruction under the blocking the
 * entry loaded, and its exit saves it again (so does the HLT's after it). A NOP ends it. */
static void test_sti_blocking_kept_over_rip_only_entry(void **state)
{
	(void)state;
	struct eg g;
	setenv("HVX_EMU_JIT", "1", 1);
	eg_create(&g);
	eg_long64(&g, EG_CODE);
	eg_controls(&g, CPU_BASED_HLT | CPU_BASED_UNCOND_IO, 0);
	/* sti; out 0x80, al; out 0x81, al; hlt; nop; hlt */
	static const uint8_t code[] = {0xfb, 0xe6, 0x80, 0xe6, 0x81, 0xf4, 0x90, 0xf4};
	eg_load(&g, EG_CODE, code, sizeof code);
	eg_expect_insn_exit(&g, VMX_REASON_IO, EG_CODE + 1, 2, 0x80ull << 16 | 0x40, 0);
	assert_int_equal(eg_rd(&g, VMCS_GUEST_INTERRUPTIBILITY) & 3, 1);
	eg_skip(&g);
	eg_expect_insn_exit(&g, VMX_REASON_IO, EG_CODE + 3, 2, 0x81ull << 16 | 0x40, 0);
	assert_int_equal(eg_rd(&g, VMCS_GUEST_INTERRUPTIBILITY) & 3, 1);
	eg_skip(&g);
	eg_expect_insn_exit(&g, VMX_REASON_HLT, EG_CODE + 5, 1, 0, 0);
	assert_int_equal(eg_rd(&g, VMCS_GUEST_INTERRUPTIBILITY) & 3, 1);
	eg_skip(&g);
	eg_expect_insn_exit(&g, VMX_REASON_HLT, EG_CODE + 7, 1, 0, 0);
	assert_int_equal(eg_rd(&g, VMCS_GUEST_INTERRUPTIBILITY) & 3, 0);
	eg_destroy(&g);
	unsetenv("HVX_EMU_JIT");
}

/*
 * The direct route of a quiet entry into the translation entered last (run_guarded, jit_enter_quiet) must not be
 * taken when the entry has boundary or per-instruction duties. Each test below first makes the loop's block at
 * EG_CODE + 2 (dec ecx; jnz; out) the translation entered last (the quiet round trips), then comes back to that RIP
 * by a quiet entry under one such duty; the route taken anyway runs the translated loop to its OUT exit instead.
 */

/* The monitor-trap flag (direct_ctl): after the VMM sets it, every instruction exits 37, also after the quiet entry
 * at EG_CODE + 2 that follows the OUT's exit. */
static void test_mtf_after_quiet_entries_jit(void **state)
{
	(void)state;
	struct eg g;
	spin_guest(&g, "1");
	eg_setreg(&g, HV_X86_RCX, ROUND_TRIPS + 10);
	out_round_trips(&g);
	eg_wr(&g, VMCS_CTRL_CPU_BASED, eg_rd(&g, VMCS_CTRL_CPU_BASED) | CPU_BASED_MTF);
	for (unsigned i = 0; i < 2; i++) {
		/* entered at EG_CODE + 2 (the first time after writing the control, then quietly after the OUT) */
		assert_int_equal(hv_vcpu_run(g.vcpu), HV_SUCCESS);
		struct eg_exit e = eg_exit_info(&g);
		assert_int_equal(e.reason, VMX_REASON_MTF);
		assert_int_equal(e.qual, 0);
		assert_int_equal(e.rip, EG_CODE + 4); /* after the DEC alone */
		assert_int_equal(hv_vcpu_run(g.vcpu), HV_SUCCESS);
		e = eg_exit_info(&g);
		assert_int_equal(e.reason, VMX_REASON_MTF);
		assert_int_equal(e.rip, EG_CODE); /* after the JNZ */
		eg_expect_insn_exit(&g, VMX_REASON_IO, EG_CODE, 2, 0x80ull << 16 | 0x40, 0);
		eg_skip(&g);
	}
	assert_int_equal(eg_reg(&g, HV_X86_RCX), ROUND_TRIPS + 10 - (ROUND_TRIPS - 1) - 2); /* a DEC per skipped OUT */
	eg_destroy(&g);
	unsetenv("HVX_EMU_JIT");
}

/* Interrupt-window exiting (a boundary duty, blk_due), set after the round trips with IF = 0: the interpreter runs
 * the next loop (the JIT does not run under a window control), which refills the TLB. The VMM then sets IF (an
 * RFLAGS write: the entry is not quiet but keeps the TLB): the window is open before the DEC, exit 7; the quiet entry
 * after it at EG_CODE + 2 must exit 7 again before any instruction. */
static void test_irq_window_after_quiet_entries_jit(void **state)
{
	(void)state;
	struct eg g;
	spin_guest(&g, "1");
	eg_setreg(&g, HV_X86_RCX, ROUND_TRIPS + 10);
	eg_setreg(&g, HV_X86_RFLAGS, 0x2);
	out_round_trips(&g);
	eg_controls(&g, CPU_BASED_HLT | CPU_BASED_UNCOND_IO | CPU_BASED_IRQ_WND, 0);
	eg_expect_insn_exit(&g, VMX_REASON_IO, EG_CODE, 2, 0x80ull << 16 | 0x40, 0);
	eg_skip(&g);
	eg_setreg(&g, HV_X86_RFLAGS, 0x202);
	for (unsigned i = 0; i < 3; i++) {
		assert_int_equal(hv_vcpu_run(g.vcpu), HV_SUCCESS);
		struct eg_exit e = eg_exit_info(&g);
		assert_int_equal(e.reason, VMX_REASON_IRQ_WND);
		assert_int_equal(e.qual, 0);
		assert_int_equal(e.rip, EG_CODE + 2);
	}
	assert_int_equal(eg_reg(&g, HV_X86_RCX), ROUND_TRIPS + 10 - ROUND_TRIPS); /* a DEC per skipped OUT, no more */
	eg_destroy(&g);
	unsetenv("HVX_EMU_JIT");
}

/* The VMM rewrites the block at EG_CODE + 2 between runs (DEC ECX becomes INC ECX): the quiet entry there must run
 * the new code, not the translation entered last (jit_enter_quiet compares the block with guest memory). */
static void test_rewrite_before_quiet_entry_jit(void **state)
{
	(void)state;
	struct eg g;
	spin_guest(&g, "1");
	eg_setreg(&g, HV_X86_RCX, ROUND_TRIPS + 10); /* the old code's DEC would not end the loop either */
	out_round_trips(&g);
	uint64_t rcx = eg_reg(&g, HV_X86_RCX);
	static const uint8_t inc_ecx[] = {0xff, 0xc1};
	eg_load(&g, EG_CODE + 2, inc_ecx, sizeof inc_ecx);
	eg_expect_insn_exit(&g, VMX_REASON_IO, EG_CODE, 2, 0x80ull << 16 | 0x40, 0);
	assert_int_equal(eg_reg(&g, HV_X86_RCX), rcx + 1);
	eg_destroy(&g);
	unsetenv("HVX_EMU_JIT");
}

/*
 * The mode at a quiet entry: the translation entered last was made in 64-bit mode, where 48 FF C9 is DEC RCX; the
 * VMM then makes CS a compatibility-mode segment (a general entry, which flushes the TLB; the interpreter's loop
 * refills it), where the same bytes are DEC EAX; DEC ECX. The quiet entry at the block after the next OUT must run
 * them as 32-bit code (EAX decremented), not the 64-bit translation.
 */
static void test_compat_mode_quiet_entry_jit(void **state)
{
	(void)state;
	struct eg g;
	setenv("HVX_EMU_JIT", "1", 1);
	eg_create(&g);
	eg_long64(&g, EG_CODE);
	eg_controls(&g, CPU_BASED_HLT | CPU_BASED_UNCOND_IO, 0);
	/* L: out 0x80, al; dec rcx (dec eax; dec ecx in 32-bit code); jnz L; spin: jmp spin */
	static const uint8_t code[] = {0xe6, 0x80, 0x48, 0xff, 0xc9, 0x75, 0xf9, 0xeb, 0xfe};
	eg_load(&g, EG_CODE, code, sizeof code);
	eg_setreg(&g, HV_X86_RCX, 20);
	eg_setreg(&g, HV_X86_RAX, 100);
	out_round_trips(&g);
	assert_int_equal(eg_reg(&g, HV_X86_RAX), 100);
	eg_wr(&g, VMCS_GUEST_CS_AR, 0xc09b); /* L = 0, D = 1 */
	eg_expect_insn_exit(&g, VMX_REASON_IO, EG_CODE, 2, 0x80ull << 16 | 0x40, 0);
	assert_int_equal(eg_reg(&g, HV_X86_RAX), 99);
	eg_skip(&g);
	eg_expect_insn_exit(&g, VMX_REASON_IO, EG_CODE, 2, 0x80ull << 16 | 0x40, 0);
	assert_int_equal(eg_reg(&g, HV_X86_RAX), 98);
	assert_int_equal(eg_reg(&g, HV_X86_RCX), 20 - (ROUND_TRIPS - 1) - 2);
	eg_destroy(&g);
	unsetenv("HVX_EMU_JIT");
}

/*
 * RFLAGS.TF at a quiet entry: single-stepping, #DB intercepted. The OUT's exit (an instruction exit: no single-step
 * trap pending) is followed by a quiet entry at EG_CODE + 2 with TF set, which must step the DEC alone.
 */
static void test_tf_after_quiet_entries_jit(void **state)
{
	(void)state;
	struct eg g;
	spin_guest(&g, "1");
	eg_setreg(&g, HV_X86_RCX, ROUND_TRIPS + 10);
	out_round_trips(&g);
	eg_wr(&g, VMCS_CTRL_EXC_BITMAP, 1u << 1);
	eg_setreg(&g, HV_X86_RFLAGS, eg_reg(&g, HV_X86_RFLAGS) | 0x100);
	uint64_t want[] = {EG_CODE + 4, EG_CODE}; /* the #DB traps after the DEC and the JNZ */
	for (unsigned i = 0; i < 2; i++) {
		assert_int_equal(hv_vcpu_run(g.vcpu), HV_SUCCESS);
		struct eg_exit e = eg_exit_info(&g);
		assert_int_equal(e.reason, VMX_REASON_EXC_NMI);
		assert_int_equal(e.intr & 0x800007ffu, 0x80000301u); /* #DB, hardware exception */
		assert_int_equal(e.qual & 0x4000, 0x4000);         /* BS */
		assert_int_equal(e.rip, want[i]);
	}
	eg_expect_insn_exit(&g, VMX_REASON_IO, EG_CODE, 2, 0x80ull << 16 | 0x40, 0);
	eg_skip(&g);
	assert_int_equal(eg_rd(&g, VMCS_GUEST_DEBUG_EXC), 0); /* an instruction exit leaves no trap pending */
	uint64_t rcx = eg_reg(&g, HV_X86_RCX);
	assert_int_equal(hv_vcpu_run(g.vcpu), HV_SUCCESS); /* quiet, TF set */
	struct eg_exit e = eg_exit_info(&g);
	assert_int_equal(e.reason, VMX_REASON_EXC_NMI);
	assert_int_equal(e.intr & 0x800007ffu, 0x80000301u);
	assert_int_equal(e.rip, EG_CODE + 4);
	assert_int_equal(eg_reg(&g, HV_X86_RCX), rcx - 1);
	eg_destroy(&g);
	unsetenv("HVX_EMU_JIT");
}

/* The protect-flipper: makes the data page read-only, checks that the guest's stores stopped once hv_vm_protect
 * returned, makes it writable again; then ends the spinning guest's run by a kick. */
#define FLIP_PAGE 0x300000
#define FLIPS 40
struct flipper {
	struct eg *g;
	atomic_bool done;
	unsigned stale_writes;
};

static void *flipper(void *arg)
{
	struct flipper *f = arg;
	volatile uint32_t *p = (volatile uint32_t *)(void *)(f->g->mem + FLIP_PAGE);
	for (unsigned i = 0; i < FLIPS; i++) {
		usleep(1000);
		assert_int_equal(hv_vm_protect(FLIP_PAGE, 4096, HV_MEMORY_READ), HV_SUCCESS);
		uint32_t before = *p;
		usleep(1000);
		if (*p != before)
			f->stale_writes++; /* the guest stored through a translation hv_vm_protect should have dropped */
		assert_int_equal(hv_vm_protect(FLIP_PAGE, 4096, HV_MEMORY_READ | HV_MEMORY_WRITE | HV_MEMORY_EXEC),
				 HV_SUCCESS);
	}
	atomic_store(&f->done, true);
	hv_vcpu_interrupt(&f->g->vcpu, 1);
	return NULL;
}

/* hv_vm_protect from another thread while the guest stores to the page in a loop that never exits by itself: each
 * call returns only once the running vCPU dropped its translations (the memory-map bit in c->events), and no store
 * lands afterwards; the guest then takes an EPT violation, which the VMM retries until the page is writable again. */
static void protect_while_storing(const char *jit)
{
	setenv("HVX_EMU_JIT", jit, 1);
	struct eg g;
	eg_create(&g);
	eg_long64(&g, EG_CODE);
	static const uint8_t loop[] = {0xff, 0xc0, 0x89, 0x03, 0xeb, 0xfa}; /* 1: inc eax; mov [rbx], eax; jmp 1b */
	eg_load(&g, EG_CODE, loop, sizeof loop);
	eg_setreg(&g, HV_X86_RBX, FLIP_PAGE);
	struct flipper f = {.g = &g};
	pthread_t t;
	pthread_create(&t, NULL, flipper, &f);
	unsigned violations = 0;
	for (;;) {
		assert_int_equal(hv_vcpu_run(g.vcpu), HV_SUCCESS);
		uint64_t r = eg_rd(&g, VMCS_RO_EXIT_REASON);
		if (r == VMX_REASON_IRQ && atomic_load(&f.done))
			break;
		if (r == VMX_REASON_EPT_VIOLATION) {
			assert_int_equal(eg_rd(&g, VMCS_GUEST_PHYSICAL_ADDRESS), FLIP_PAGE);
			assert_int_equal(eg_rd(&g, VMCS_GUEST_RIP), EG_CODE + 2);
			violations++;
			continue;
		}
		assert_int_equal(r, VMX_REASON_IRQ);
	}
	pthread_join(t, NULL);
	assert_int_equal(f.stale_writes, 0);
	assert_true(violations > 0);
	eg_destroy(&g);
	unsetenv("HVX_EMU_JIT");
}

static void test_protect_while_storing_interpreter(void **state)
{
	(void)state;
	protect_while_storing("0");
}

static void test_protect_while_storing_jit(void **state)
{
	(void)state;
	protect_while_storing("1");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		EG_TEST(test_kick_after_quiet_entries_interpreter),
		EG_TEST(test_kick_after_quiet_entries_jit),
		EG_TEST(test_extint_after_quiet_entries_interpreter),
		EG_TEST(test_extint_after_quiet_entries_jit),
		EG_TEST(test_deadline_after_quiet_entries_interpreter),
		EG_TEST(test_deadline_after_quiet_entries_jit),
		EG_TEST(test_injection_after_quiet_entries),
		EG_TEST(test_entry_machine_check_after_quiet_entries),
		EG_TEST(test_sti_blocking_kept_over_rip_only_entry),
		EG_TEST(test_protect_while_storing_interpreter),
		EG_TEST(test_protect_while_storing_jit),
		EG_TEST(test_mtf_after_quiet_entries_jit),
		EG_TEST(test_irq_window_after_quiet_entries_jit),
		EG_TEST(test_tf_after_quiet_entries_jit),
		EG_TEST(test_rewrite_before_quiet_entry_jit),
		EG_TEST(test_compat_mode_quiet_entry_jit),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
