/* test_api_entry_controls.c: the VM-entry control checks that end in VMfail 7 (event-injection field, preemption-timer save, CR3-target count, controls written after an entry) on the emu and kvm backends: bad settings run nothing, matching good ones deliver. */
#include "kvm_test_env.h"

#define V (1u << 31)        /* valid */
#define DE (1u << 11)       /* deliver error code */
#define T(type) ((uint32_t)(type) << 8)
#define HANDLER(vec) (KE_CODE + 0x200u + (vec) * 16u) /* each IDT / IVT vector's handler: HLT */
#define REAL_STACK 0x8000u

enum mode { PROT, REAL }; /* 64-bit protected mode (CR0.PE = 1) or real mode (CR0.PE = 0, unrestricted guest) */

struct inj_case {
	const char *name;
	enum mode mode;
	uint32_t info, error, len;
};

/* Each must fail with VMfail 7 (SDM 26.2.1.3). */
static const struct inj_case bad_cases[] = {
	{"reserved type 1", PROT, V | T(1) | 0x20, 0, 0},
	{"reserved type 1 with vector 0", PROT, V | T(1) | 0, 0, 0},
	{"NMI with vector 3", PROT, V | T(2) | 3, 0, 0},
	{"NMI with vector 0", PROT, V | T(2) | 0, 0, 0},
	{"hardware exception vector 32", PROT, V | T(3) | 32, 0, 0},
	{"hardware exception vector 255", PROT, V | T(3) | 255, 0, 0},
	{"#GP without its error code", PROT, V | T(3) | 13, 0, 0},
	{"#DF without its error code", PROT, V | T(3) | 8, 0, 0},
	{"#AC without its error code", PROT, V | T(3) | 17, 0, 0},
	{"#UD with an error code", PROT, V | T(3) | 6 | DE, 0, 0},
	{"#DE with an error code", PROT, V | T(3) | 0 | DE, 0, 0},
	{"vector 9 with an error code", PROT, V | T(3) | 9 | DE, 0, 0},
	{"vector 31 with an error code", PROT, V | T(3) | 31 | DE, 0, 0},
	{"external interrupt with an error code", PROT, V | T(0) | 0x20 | DE, 0, 0},
	{"NMI with an error code", PROT, V | T(2) | 2 | DE, 0, 0},
	{"external interrupt 13 with an error code", PROT, V | T(0) | 13 | DE, 0, 0},
	{"privileged software exception 14 with an error code", PROT, V | T(5) | 14 | DE, 0, 1},
	{"software interrupt with an error code", PROT, V | T(4) | 0x80 | DE, 0, 2},
	{"software exception with an error code", PROT, V | T(6) | 3 | DE, 0, 1},
	{"#GP with an error code in real mode", REAL, V | T(3) | 13 | DE, 0, 0},
	{"#PF with an error code in real mode", REAL, V | T(3) | 14 | DE, 0, 0},
	{"error code bit 16", PROT, V | T(3) | 13 | DE, 0x10000, 0},
	{"error code bit 31", PROT, V | T(3) | 14 | DE, 0x80000000u, 0},
	{"reserved bit 12", PROT, V | T(0) | 0x20 | (1u << 12), 0, 0},
	{"reserved bit 30", PROT, V | T(0) | 0x20 | (1u << 30), 0, 0},
	{"other event with vector 1", PROT, V | T(7) | 1, 0, 0},
	{"software interrupt, length 0", PROT, V | T(4) | 0x80, 0, 0},
	{"privileged software exception, length 0", PROT, V | T(5) | 1, 0, 0},
	{"software exception, length 0", PROT, V | T(6) | 3, 0, 0},
	{"software interrupt, length 16", PROT, V | T(4) | 0x80, 0, 16},
	{"software exception, length 0x80000001", PROT, V | T(6) | 4, 0, 0x80000001u},
};

/* Each must enter and deliver the event to its handler (with the error code and return address it implies). */
static const struct inj_case good_cases[] = {
	{"#GP with error code 0xfff8", PROT, V | T(3) | 13 | DE, 0xfff8, 0},
	{"#PF with error code 2", PROT, V | T(3) | 14 | DE, 2, 0},
	{"#DF with error code 0", PROT, V | T(3) | 8 | DE, 0, 0},
	{"#UD without error code", PROT, V | T(3) | 6, 0, 0},
	{"vector 31 without error code", PROT, V | T(3) | 31, 0, 0},
	{"NMI vector 2", PROT, V | T(2) | 2, 0, 0},
	{"external interrupt 0x20", PROT, V | T(0) | 0x20, 0, 0},
	{"software interrupt 0x80, length 2", PROT, V | T(4) | 0x80, 0, 2},
	{"privileged software exception 1, length 1", PROT, V | T(5) | 1, 0, 1},
	{"software exception #BP, length 15", PROT, V | T(6) | 3, 0, 15},
	{"deliver bit clear ignores the error-code field", PROT, V | T(0) | 0x20, 0xffff0000u, 0},
	{"invalid field: other bits ignored", PROT, 0x7fffffffu, 0xffffffffu, 0},
	{"#GP without error code in real mode", REAL, V | T(3) | 13, 0, 0},
	{"#UD in real mode", REAL, V | T(3) | 6, 0, 0},
};

/* A copy of the running test's environment, for the cleanup after a failed assertion (its frame is gone then). */
static struct ke live_copy;
static bool live;

static void env_down(struct ke *k)
{
	live = false;
	ke_teardown(k);
}

static bool is_kvm(void **state)
{
	return *state != NULL;
}

/* A 64-bit guest at ring 0 whose every IDT vector leads to a HLT, with HLT exiting; on kvm only where it runs. */
static bool env_up(void **state, struct ke *k)
{
	if (is_kvm(state) && !ke_available())
		return false;
	static const uint8_t hlt = 0xf4;
	ke_setup_on(k, is_kvm(state) ? "kvm" : "emu", 0, &hlt, 1);
	live_copy = *k;
	live = true;
	for (unsigned vec = 0; vec < 256; vec++) {
		ke_idt(k, vec, HANDLER(vec));
		k->mem[HANDLER(vec)] = 0xf4;
		/* the real-mode IVT at 0: segment 0x1000 (base KE_CODE), offset of the same handler */
		uint16_t ivt[2] = {(uint16_t)(HANDLER(vec) - KE_CODE), KE_CODE >> 4};
		memcpy(k->mem + vec * 4, ivt, 4);
	}
	/* Unrestricted guest with EPT (for the real-mode cases; kvm has both fixed on). */
	ke_w(k, VMCS_CTRL_CPU_BASED, ke_cap2ctrl(ke_cap(HV_VMX_CAP_PROCBASED), CPU_BASED_HLT | CPU_BASED_SECONDARY_CTLS));
	ke_w(k, VMCS_CTRL_CPU_BASED2,
	     ke_cap2ctrl(ke_cap(HV_VMX_CAP_PROCBASED2), CPU_BASED2_UNRESTRICTED | CPU_BASED2_EPT));
	return true;
}

static void seg(struct ke *k, uint32_t sel_f, uint64_t sel, uint64_t base, uint64_t ar)
{
	/* The base, limit and access-rights encodings follow the selector's: +0x2800/+0x2000/+0x3000 from 0x0800. */
	ke_w(k, sel_f, sel);
	ke_w(k, sel_f - 0x800 + 0x6806, base);
	ke_w(k, sel_f - 0x800 + 0x4800, 0xffff);
	ke_w(k, sel_f - 0x800 + 0x4814, ar);
}

/* Put the guest back at its start in `mode`, with no event pending. */
static void env_reset(struct ke *k, enum mode mode)
{
	if (mode == PROT) {
		ke_w(k, VMCS_CTRL_VMENTRY_CONTROLS, ke_cap2ctrl(ke_cap(HV_VMX_CAP_ENTRY), VMENTRY_GUEST_IA32E));
		ke_w(k, VMCS_GUEST_CR0, 0x80010033);
		ke_w(k, VMCS_GUEST_CR4, 0x2620);
		ke_w(k, VMCS_GUEST_IA32_EFER, 0x500);
		ke_w(k, VMCS_GUEST_CS, 0x08);
		ke_w(k, VMCS_GUEST_CS_BASE, 0);
		ke_w(k, VMCS_GUEST_CS_LIMIT, 0xffffffff);
		ke_w(k, VMCS_GUEST_CS_AR, 0xa09b);
		static const uint32_t data[] = {VMCS_GUEST_SS, VMCS_GUEST_DS, VMCS_GUEST_ES, VMCS_GUEST_FS, VMCS_GUEST_GS};
		for (unsigned i = 0; i < 5; i++) {
			seg(k, data[i], 0x10, 0, 0xc093);
			ke_w(k, data[i] - 0x800 + 0x4800, 0xffffffff);
		}
		ke_w(k, VMCS_GUEST_IDTR_BASE, KE_IDT);
		ke_w(k, VMCS_GUEST_IDTR_LIMIT, 0xfff);
		ke_set(k, HV_X86_RIP, KE_CODE);
		ke_set(k, HV_X86_RSP, KE_STACK0);
	} else {
		ke_w(k, VMCS_CTRL_VMENTRY_CONTROLS, ke_cap2ctrl(ke_cap(HV_VMX_CAP_ENTRY), 0));
		ke_w(k, VMCS_GUEST_CR0, 0x30); /* NE ET: PE = PG = 0 */
		ke_w(k, VMCS_GUEST_CR4, 0x2000);
		ke_w(k, VMCS_GUEST_IA32_EFER, 0);
		seg(k, VMCS_GUEST_CS, KE_CODE >> 4, KE_CODE, 0x9b);
		static const uint32_t data[] = {VMCS_GUEST_SS, VMCS_GUEST_DS, VMCS_GUEST_ES, VMCS_GUEST_FS, VMCS_GUEST_GS};
		for (unsigned i = 0; i < 5; i++)
			seg(k, data[i], 0, 0, 0x93);
		ke_w(k, VMCS_GUEST_IDTR_BASE, 0);
		ke_w(k, VMCS_GUEST_IDTR_LIMIT, 0x3ff);
		ke_set(k, HV_X86_RIP, 0);
		ke_set(k, HV_X86_RSP, REAL_STACK);
	}
	ke_set(k, HV_X86_RFLAGS, 0x2);
	ke_w(k, VMCS_GUEST_INTERRUPTIBILITY, 0);
	ke_w(k, VMCS_GUEST_ACTIVITY_STATE, 0);
	ke_w(k, VMCS_CTRL_VMENTRY_IRQ_INFO, 0);
	ke_w(k, VMCS_CTRL_VMENTRY_EXC_ERROR, 0);
	ke_w(k, VMCS_CTRL_VMENTRY_INSTR_LEN, 0);
}

/* One entry: hv_vcpu_run on emu, with a deadline on kvm (never unbounded there). */
static hv_return_t run_once(void **state, struct ke *k)
{
	if (is_kvm(state))
		return hv_vcpu_run_until(k->vcpu, ke_now_ns() + 2000000000ull);
	return hv_vcpu_run(k->vcpu);
}

/* The entry fails with VMfail 7 and nothing ran: same RIP/RSP, stack untouched. Returns false (with the reason
 * printed) otherwise. */
static bool vmfails7(void **state, struct ke *k, const char *name)
{
	uint64_t rip = ke_reg(k, HV_X86_RIP), rsp = ke_reg(k, HV_X86_RSP), info = ke_r(k, VMCS_CTRL_VMENTRY_IRQ_INFO);
	uint8_t stack[64];
	memcpy(stack, k->mem + KE_STACK0 - sizeof stack, sizeof stack);
	hv_return_t r = run_once(state, k);
	uint32_t status = 0;
	assert_int_equal(hv_vcpu_vmx_status(k->vcpu, &status), HV_SUCCESS);
	if (r != HV_ERROR || ke_r(k, VMCS_RO_INSTR_ERROR) != 7 || status != 1u << 6 || ke_reg(k, HV_X86_RIP) != rip ||
	    ke_reg(k, HV_X86_RSP) != rsp || ke_r(k, VMCS_CTRL_VMENTRY_IRQ_INFO) != info || memcmp(stack, k->mem + KE_STACK0 - sizeof stack, sizeof stack)) {
		print_error("%s: hv_vcpu_run %#x, VM-instruction error %llu, status %#x, exit reason %#llx, RIP %#llx\n",
			    name, r, (unsigned long long)ke_r(k, VMCS_RO_INSTR_ERROR), status,
			    (unsigned long long)ke_r(k, VMCS_RO_EXIT_REASON), (unsigned long long)ke_reg(k, HV_X86_RIP));
		return false;
	}
	return true;
}

static void expect_vmfail7(void **state, struct ke *k, const char *name)
{
	if (!vmfails7(state, k, name))
		fail_msg("%s: not VMfail 7", name);
}

static uint64_t peek(struct ke *k, uint64_t gpa, unsigned size)
{
	uint64_t v = 0;
	memcpy(&v, k->mem + gpa, size);
	return v;
}

static void bad_injections_fail_with_vmfail7(void **state)
{
	struct ke k;
	if (!env_up(state, &k))
		skip();
	unsigned failed = 0;
	for (size_t i = 0; i < sizeof bad_cases / sizeof bad_cases[0]; i++) {
		const struct inj_case *c = &bad_cases[i];
		env_reset(&k, c->mode);
		ke_w(&k, VMCS_CTRL_VMENTRY_IRQ_INFO, c->info);
		ke_w(&k, VMCS_CTRL_VMENTRY_EXC_ERROR, c->error);
		ke_w(&k, VMCS_CTRL_VMENTRY_INSTR_LEN, c->len);
		if (!vmfails7(state, &k, c->name)) {
			failed++;
			continue;
		}
		/* The same guest without the event enters (and halts at once): the event alone was refused. */
		env_reset(&k, c->mode);
		if (run_once(state, &k) != HV_SUCCESS || ke_r(&k, VMCS_RO_EXIT_REASON) != VMX_REASON_HLT)
			fail_msg("%s: without the event the guest did not reach its HLT", c->name);
	}
	if (failed)
		fail_msg("%u of %zu bad injections entered", failed, sizeof bad_cases / sizeof bad_cases[0]);
	env_down(&k);
}

static void good_injections_are_delivered(void **state)
{
	struct ke k;
	if (!env_up(state, &k))
		skip();
	for (size_t i = 0; i < sizeof good_cases / sizeof good_cases[0]; i++) {
		const struct inj_case *c = &good_cases[i];
		env_reset(&k, c->mode);
		if ((c->info & V) && ((c->info >> 8) & 7) == 0)
			ke_set(&k, HV_X86_RFLAGS, 0x202); /* an injected external interrupt needs RFLAGS.IF = 1 (SDM 26.3.1.4) */
		ke_w(&k, VMCS_CTRL_VMENTRY_IRQ_INFO, c->info);
		ke_w(&k, VMCS_CTRL_VMENTRY_EXC_ERROR, c->error);
		ke_w(&k, VMCS_CTRL_VMENTRY_INSTR_LEN, c->len);
		hv_return_t r = run_once(state, &k);
		if (r != HV_SUCCESS)
			fail_msg("%s: hv_vcpu_run returned %#x, VM-instruction error %llu", c->name, r,
				 (unsigned long long)ke_r(&k, VMCS_RO_INSTR_ERROR));
		uint64_t reason = ke_r(&k, VMCS_RO_EXIT_REASON), rip = ke_reg(&k, HV_X86_RIP);
		unsigned type = (c->info >> 8) & 7, vec = c->info & 0xff;
		bool soft = type >= 4 && type <= 6, err = c->info & DE;
		if (!(c->info & V)) {
			/* nothing injected: the guest's own HLT */
			assert_int_equal(reason, VMX_REASON_HLT);
			assert_int_equal(rip, c->mode == PROT ? KE_CODE : 0);
			continue;
		}
		if (reason != VMX_REASON_HLT)
			fail_msg("%s: exit reason %#llx at RIP %#llx, wanted HLT in the handler", c->name,
				 (unsigned long long)reason, (unsigned long long)rip);
		uint64_t rsp = ke_reg(&k, HV_X86_RSP);
		if (c->mode == PROT) {
			assert_int_equal(rip, HANDLER(vec));
			/* 64-bit frame: [error code], RIP, CS, RFLAGS, RSP, SS */
			assert_int_equal(rsp, KE_STACK0 - 40 - (err ? 8 : 0));
			if (err)
				assert_int_equal(peek(&k, rsp, 8), c->error);
			assert_int_equal(peek(&k, rsp + (err ? 8 : 0), 8), KE_CODE + (soft ? c->len : 0));
			assert_int_equal(peek(&k, rsp + (err ? 16 : 8), 8), 0x08);
		} else {
			assert_int_equal(rip, HANDLER(vec) - KE_CODE);
			/* real-mode frame: IP, CS, FLAGS (no error code) */
			assert_int_equal(rsp, REAL_STACK - 6);
			assert_int_equal(peek(&k, rsp, 2), soft ? c->len : 0);
			assert_int_equal(peek(&k, rsp + 2, 2), KE_CODE >> 4);
		}
	}
	env_down(&k);
}

/* Type 7 (other event) vector 0 is a pending MTF exit where the MTF control exists (both backends have it). */
static void pending_mtf_injection_enters(void **state)
{
	struct ke k;
	if (!env_up(state, &k))
		skip();
	assert_true((ke_cap(HV_VMX_CAP_PROCBASED) >> 32) & CPU_BASED_MTF);
	env_reset(&k, PROT);
	ke_w(&k, VMCS_CTRL_VMENTRY_IRQ_INFO, V | T(7) | 0);
	assert_int_equal(run_once(state, &k), HV_SUCCESS);
	assert_int_equal(ke_r(&k, VMCS_RO_EXIT_REASON), VMX_REASON_MTF);
	assert_int_equal(ke_reg(&k, HV_X86_RIP), KE_CODE);
	env_down(&k);
}

/* "Save VMX-preemption timer value" needs "activate VMX-preemption timer" (SDM 26.2.1.2); the CR3-target count is
 * at most IA32_VMX_MISC[24:16] (SDM 26.2.1.1). */
static void control_dependencies_and_cr3_count_are_checked(void **state)
{
	struct ke k;
	if (!env_up(state, &k))
		skip();
	env_reset(&k, PROT);
	uint64_t pin = ke_cap(HV_VMX_CAP_PINBASED), ex = ke_cap(HV_VMX_CAP_EXIT);
	bool can_save = (ex >> 32) & VMEXIT_SAVE_VMX_TIMER, can_timer = (pin >> 32) & PIN_BASED_PREEMPTION_TIMER;
	if (can_save && can_timer) {
		ke_w(&k, VMCS_CTRL_VMEXIT_CONTROLS, ke_cap2ctrl(ex, VMEXIT_SAVE_VMX_TIMER));
		ke_w(&k, VMCS_CTRL_PIN_BASED, ke_cap2ctrl(pin, 0));
		expect_vmfail7(state, &k, "save timer without the timer");
		ke_w(&k, VMCS_CTRL_PIN_BASED, ke_cap2ctrl(pin, PIN_BASED_PREEMPTION_TIMER));
		ke_w(&k, VMCS_GUEST_VMX_TIMER_VALUE, 0xffffffff);
		assert_int_equal(run_once(state, &k), HV_SUCCESS);
		assert_int_equal(ke_r(&k, VMCS_RO_EXIT_REASON), VMX_REASON_HLT);
		ke_w(&k, VMCS_CTRL_VMEXIT_CONTROLS, ke_cap2ctrl(ex, 0));
		ke_w(&k, VMCS_CTRL_PIN_BASED, ke_cap2ctrl(pin, 0));
		env_reset(&k, PROT);
	}
	unsigned max = (unsigned)(ke_cap(HV_VMX_CAP_MISC) >> 16) & 0x1ff;
	ke_w(&k, VMCS_CTRL_CR3_COUNT, max + 1);
	expect_vmfail7(state, &k, "one CR3 target too many");
	ke_w(&k, VMCS_CTRL_CR3_COUNT, 0xffffffff);
	expect_vmfail7(state, &k, "CR3-target count 0xffffffff");
	ke_w(&k, VMCS_CTRL_CR3_COUNT, max);
	assert_int_equal(run_once(state, &k), HV_SUCCESS);
	assert_int_equal(ke_r(&k, VMCS_RO_EXIT_REASON), VMX_REASON_HLT);
	env_down(&k);
}

/* hv_vcpu_run_until skips the checks that depend only on the controls while none was written since they passed: a
 * control written after a good entry (through its full or its high-half encoding) is checked at the next entry, and
 * a failed check is not remembered as passed. */
static void controls_written_after_an_entry_are_checked_again(void **state)
{
	struct ke k;
	if (!env_up(state, &k))
		skip();
	env_reset(&k, PROT);
	assert_int_equal(run_once(state, &k), HV_SUCCESS);
	assert_int_equal(ke_r(&k, VMCS_RO_EXIT_REASON), VMX_REASON_HLT);

	uint64_t pin = ke_cap(HV_VMX_CAP_PINBASED);
	assert_true((uint32_t)pin != 0); /* Intel's default1 bits are must-be-1 */
	ke_w(&k, VMCS_CTRL_PIN_BASED, ke_cap2ctrl(pin, 0) & ~(uint64_t)(uint32_t)pin);
	expect_vmfail7(state, &k, "must-be-1 pin-based bits cleared after an entry");
	expect_vmfail7(state, &k, "the same controls once more, nothing written");
	ke_w(&k, VMCS_CTRL_PIN_BASED, ke_cap2ctrl(pin, 0));
	env_reset(&k, PROT);
	assert_int_equal(run_once(state, &k), HV_SUCCESS);
	assert_int_equal(ke_r(&k, VMCS_RO_EXIT_REASON), VMX_REASON_HLT);

	unsigned max = (unsigned)(ke_cap(HV_VMX_CAP_MISC) >> 16) & 0x1ff;
	ke_w(&k, VMCS_CTRL_CR3_COUNT, max + 1);
	expect_vmfail7(state, &k, "CR3-target count raised after an entry");
	ke_w(&k, VMCS_CTRL_CR3_COUNT, 0);
	env_reset(&k, PROT);
	assert_int_equal(run_once(state, &k), HV_SUCCESS);

	uint64_t proc2 = ke_cap(HV_VMX_CAP_PROCBASED2);
	if ((proc2 >> 32) & CPU_BASED2_PML) {
		ke_w(&k, VMCS_CTRL_CPU_BASED2,
		     ke_cap2ctrl(proc2, CPU_BASED2_UNRESTRICTED | CPU_BASED2_EPT | CPU_BASED2_PML));
		ke_w(&k, VMCS_CTRL_PML_ADDR, 0x10000);
		ke_w(&k, VMCS_GUESTPML_INDEX, 511);
		env_reset(&k, PROT);
		assert_int_equal(run_once(state, &k), HV_SUCCESS);
		assert_int_equal(ke_r(&k, VMCS_RO_EXIT_REASON), VMX_REASON_HLT);
		ke_w(&k, VMCS_CTRL_PML_ADDR + 1, 0x00100000); /* bits 63:32: the address becomes 2^52 + 0x10000 */
		assert_int_equal(ke_r(&k, VMCS_CTRL_PML_ADDR), (1ull << 52) | 0x10000);
		expect_vmfail7(state, &k, "PML address moved past the guest-physical limit by its high half");
	}
	env_down(&k);
}

static int cleanup(void **state)
{
	(void)state;
	if (live)
		env_down(&live_copy);
	return 0;
}

/* Each test once per backend, named after it. */
#define ON_BOTH(f)                                                                                                 \
	static void f##_on_emu(void **state)                                                                       \
	{                                                                                                          \
		(void)state;                                                                                       \
		void *backend = NULL;                                                                              \
		f(&backend);                                                                                       \
	}                                                                                                          \
	static void f##_on_kvm(void **state)                                                                       \
	{                                                                                                          \
		(void)state;                                                                                       \
		static char kvm[] = "kvm";                                                                         \
		void *backend = kvm;                                                                               \
		f(&backend);                                                                                       \
	}
ON_BOTH(bad_injections_fail_with_vmfail7)
ON_BOTH(good_injections_are_delivered)
ON_BOTH(pending_mtf_injection_enters)
ON_BOTH(control_dependencies_and_cr3_count_are_checked)
ON_BOTH(controls_written_after_an_entry_are_checked_again)
#define TESTS(f) cmocka_unit_test_teardown(f##_on_emu, cleanup), cmocka_unit_test_teardown(f##_on_kvm, cleanup)

int main(void)
{
	const struct CMUnitTest tests[] = {
		TESTS(bad_injections_fail_with_vmfail7),
		TESTS(good_injections_are_delivered),
		TESTS(pending_mtf_injection_enters),
		TESTS(control_dependencies_and_cr3_count_are_checked),
		TESTS(controls_written_after_an_entry_are_checked_again),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
