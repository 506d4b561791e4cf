/* test_guest_state.c: the VM-entry guest-state checks (SDM 26.3.1, exit 33 | bit 31) on the emu and kvm backends, one invalid field per case, plus the valid edge cases that must still run. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/guest_state.h"
#include "kvm_test_env.h"

enum mode { M64, M32, MREAL, MV86 };
static const char *const mode_name[] = {"64-bit", "32-bit", "real", "v86"};

#define REG 0x80000000u /* a write to hv_x86_reg_t (low bits) instead of a VMCS field */
#define ENTRY_CTL_NEEDED_PAT (1u << 14)

struct wr {
	uint32_t f; /* VMCS encoding, or REG | register; 0 ends the list */
	uint64_t v;
};

struct gcase {
	const char *name;
	enum mode mode;
	struct wr w[4];
	uint32_t need_entry; /* entry control the case needs (skipped where the backend lacks it) */
};

/* One invalid field (or combination) each: the entry must fail with 33 | bit 31, qualification 0, nothing run. */
static const struct gcase bad[] = {
	/* 26.3.1.1 control registers, debug registers, MSRs */
	{"cr3_bit52", M64, {{VMCS_GUEST_CR3, KE_PML4 | (1ull << 52)}}, 0},
	{"cr4_cet_without_wp", M64, {{VMCS_GUEST_CR4, 0x2620 | (1ull << 23)}, {VMCS_GUEST_CR0, 0x80000033}}, 0},
	{"debugctl_reserved_bit3", M64, {{VMCS_GUEST_IA32_DEBUGCTL, 1u << 3}}, 0},
	{"debugctl_reserved_bit16", M64, {{VMCS_GUEST_IA32_DEBUGCTL, 1u << 16}}, 0},
	{"dr7_bit32", M64, {{VMCS_GUEST_DR7, 0x400 | (1ull << 32)}}, 0},
	{"sysenter_esp_not_canonical", M64, {{VMCS_GUEST_SYSENTER_ESP, 0x8000000000000000ull}}, 0},
	{"sysenter_eip_not_canonical", M64, {{VMCS_GUEST_SYSENTER_EIP, 0x7ff0000000000000ull}}, 0},
	{"pat_type_2", M64, {{VMCS_GUEST_IA32_PAT, 0x0007040600070402ull}}, ENTRY_CTL_NEEDED_PAT},
	{"efer_reserved_bit1", M64, {{VMCS_GUEST_IA32_EFER, 0x502}}, 0},
	/* 26.3.1.2 segment registers: selectors and bases */
	{"tr_ti", M64, {{VMCS_GUEST_TR, 0x2c}}, 0},
	{"ldtr_usable_ti", M64, {{VMCS_GUEST_LDTR, 0x34}, {VMCS_GUEST_LDTR_AR, 0x82}}, 0},
	{"fs_base_not_canonical", M64, {{VMCS_GUEST_FS_BASE, 0x8000000000000000ull}}, 0},
	{"gs_base_not_canonical", M64, {{VMCS_GUEST_GS_BASE, 0x4000000000000000ull}}, 0},
	{"tr_base_not_canonical", M64, {{VMCS_GUEST_TR_BASE, 0x8000000000006000ull}}, 0},
	{"ldtr_usable_base_not_canonical", M64, {{VMCS_GUEST_LDTR, 0x30}, {VMCS_GUEST_LDTR_AR, 0x82},
						  {VMCS_GUEST_LDTR_BASE, 0x8000000000000000ull}}, 0},
	{"cs_base_high", M64, {{VMCS_GUEST_CS_BASE, 1ull << 32}}, 0},
	{"ss_base_high", M64, {{VMCS_GUEST_SS_BASE, 1ull << 32}}, 0},
	{"ds_base_high", M64, {{VMCS_GUEST_DS_BASE, 1ull << 32}}, 0},
	{"es_base_high_32bit", M32, {{VMCS_GUEST_ES_BASE, 1ull << 40}}, 0},
	/* access rights */
	{"cs_type_data_not_3", M64, {{VMCS_GUEST_CS_AR, 0xa091}}, 0},
	{"cs_not_present", M64, {{VMCS_GUEST_CS_AR, 0xa01b}}, 0},
	{"cs_system", M64, {{VMCS_GUEST_CS_AR, 0xa08b}}, 0},
	{"ss_type_code", M64, {{VMCS_GUEST_SS_AR, 0xc09b}}, 0},
	{"ss_type_readonly_data", M32, {{VMCS_GUEST_SS_AR, 0xc091}}, 0},
	{"ds_not_accessed", M64, {{VMCS_GUEST_DS_AR, 0xc092}}, 0},
	{"es_exec_only_code", M64, {{VMCS_GUEST_ES_AR, 0xc099}}, 0},
	{"fs_system", M64, {{VMCS_GUEST_FS_AR, 0xc083}}, 0},
	{"gs_not_present", M64, {{VMCS_GUEST_GS_AR, 0xc013}}, 0},
	{"ds_reserved_bits_11_8", M64, {{VMCS_GUEST_DS_AR, 0xc193}}, 0},
	{"ds_reserved_bits_31_17", M32, {{VMCS_GUEST_DS_AR, 0x2c093}}, 0},
	{"ds_limit_4g_without_g", M64, {{VMCS_GUEST_DS_AR, 0x4093}}, 0},
	{"ss_g_with_limit_fff_clear", M32, {{VMCS_GUEST_SS_LIMIT, 0x1000}}, 0},
	{"cs_limit_4g_without_g", M32, {{VMCS_GUEST_CS_AR, 0x409b}}, 0},
	{"cs_dpl0_ss_dpl3", M64, {{VMCS_GUEST_SS_AR, 0xc0f3}}, 0},
	{"conforming_cs_dpl3_above_ss_dpl0", M64, {{VMCS_GUEST_CS_AR, 0xa0ff}}, 0},
	{"tr_available_tss", M64, {{VMCS_GUEST_TR_AR, 0x89}}, 0},
	{"tr_16bit_busy_in_ia32e", M64, {{VMCS_GUEST_TR_AR, 0x83}}, 0},
	{"tr_not_system", M64, {{VMCS_GUEST_TR_AR, 0x9b}}, 0},
	{"tr_not_present", M32, {{VMCS_GUEST_TR_AR, 0x0b}}, 0},
	{"tr_g_with_small_limit", M64, {{VMCS_GUEST_TR_AR, 0x808b}}, 0},
	{"ldtr_usable_wrong_type", M64, {{VMCS_GUEST_LDTR, 0x30}, {VMCS_GUEST_LDTR_AR, 0x83}}, 0},
	{"ldtr_usable_not_system", M64, {{VMCS_GUEST_LDTR, 0x30}, {VMCS_GUEST_LDTR_AR, 0x92}}, 0},
	{"ldtr_usable_not_present", M64, {{VMCS_GUEST_LDTR, 0x30}, {VMCS_GUEST_LDTR_AR, 0x02}}, 0},
	{"real_ss_dpl3", MREAL, {{VMCS_GUEST_SS_AR, 0xf3}}, 0},
	{"real_cs_type3_dpl3", MREAL, {{VMCS_GUEST_CS_AR, 0xf3}, {VMCS_GUEST_SS_AR, 0xf3}}, 0},
	{"v86_base_not_sel_shl4", MV86, {{VMCS_GUEST_DS_BASE, 0x10}}, 0},
	{"v86_limit_not_ffff", MV86, {{VMCS_GUEST_SS_LIMIT, 0xfffe}}, 0},
	{"v86_ar_not_f3", MV86, {{VMCS_GUEST_CS_AR, 0xfb}}, 0},
	/* 26.3.1.3 GDTR, IDTR */
	{"gdtr_base_not_canonical", M64, {{VMCS_GUEST_GDTR_BASE, 0x8000000000004000ull}}, 0},
	{"idtr_base_not_canonical", M64, {{VMCS_GUEST_IDTR_BASE, 0x0100000000005000ull}}, 0},
	{"gdtr_limit_above_ffff", M64, {{VMCS_GUEST_GDTR_LIMIT, 0x10000}}, 0},
	{"idtr_limit_above_ffff", M32, {{VMCS_GUEST_IDTR_LIMIT, 0x1ffff}}, 0},
	/* 26.3.1.4 RFLAGS.IF with an injected external interrupt */
	{"extint_injection_with_if0", M64, {{VMCS_CTRL_VMENTRY_IRQ_INFO, 0x80000030}}, 0},
	/* 26.3.1.5 interruptibility state */
	{"interruptibility_bit5", M64, {{VMCS_GUEST_INTERRUPTIBILITY, 1u << 5}}, 0},
	{"interruptibility_bit31", M64, {{VMCS_GUEST_INTERRUPTIBILITY, 1u << 31}}, 0},
	{"sti_and_movss_blocking", M64, {{VMCS_GUEST_INTERRUPTIBILITY, 3}, {REG | HV_X86_RFLAGS, 0x3202}}, 0},
	{"sti_blocking_with_if0", M64, {{VMCS_GUEST_INTERRUPTIBILITY, 1}}, 0},
	{"extint_injection_under_sti", M64, {{VMCS_GUEST_INTERRUPTIBILITY, 1}, {REG | HV_X86_RFLAGS, 0x3202},
					     {VMCS_CTRL_VMENTRY_IRQ_INFO, 0x80000030}}, 0},
	{"extint_injection_under_movss", M64, {{VMCS_GUEST_INTERRUPTIBILITY, 2}, {REG | HV_X86_RFLAGS, 0x3202},
					       {VMCS_CTRL_VMENTRY_IRQ_INFO, 0x80000030}}, 0},
	{"nmi_injection_under_movss", M64, {{VMCS_GUEST_INTERRUPTIBILITY, 2}, {VMCS_CTRL_VMENTRY_IRQ_INFO, 0x80000202}},
	 0},
};

/* Valid edge cases: each must still run (the guest's first instruction is HLT; v86 takes #GP on it). */
static const struct gcase good[] = {
	{"64bit_baseline", M64, {{0, 0}}, 0},
	{"32bit_baseline", M32, {{0, 0}}, 0},
	{"real_baseline", MREAL, {{0, 0}}, 0},
	{"v86_baseline", MV86, {{0, 0}}, 0},
	{"unusable_ds_es_fs_gs_with_junk", M64, {{VMCS_GUEST_DS_AR, 0x10000}, {VMCS_GUEST_ES_AR, 0x1ffff},
						 {VMCS_GUEST_FS_AR, 0x10000}, {VMCS_GUEST_GS_AR, 0x10000}}, 0},
	{"unusable_ss_64bit", M64, {{VMCS_GUEST_SS, 0}, {VMCS_GUEST_SS_AR, 0x10000}}, 0},
	{"unusable_ss_and_ds_high_base_32bit", M32, {{VMCS_GUEST_SS_AR, 0x10000}, {VMCS_GUEST_SS_BASE, 1ull << 40},
						     {VMCS_GUEST_DS_AR, 0x10000}, {VMCS_GUEST_DS_BASE, 1ull << 33}}, 0},
	{"unusable_ldtr_with_junk_base", M64, {{VMCS_GUEST_LDTR, 0x34}, {VMCS_GUEST_LDTR_AR, 0x10000},
					      {VMCS_GUEST_LDTR_BASE, 0x8000000000000000ull}}, 0},
	{"usable_ldtr", M64, {{VMCS_GUEST_LDTR, 0x30}, {VMCS_GUEST_LDTR_AR, 0x82}, {VMCS_GUEST_LDTR_LIMIT, 0xfff}}, 0},
	{"16bit_busy_tss_32bit", M32, {{VMCS_GUEST_TR_AR, 0x83}}, 0},
	{"real_cs_type3_dpl0", MREAL, {{VMCS_GUEST_CS_AR, 0x93}}, 0},
	{"real_ds_dpl_below_rpl", MREAL, {{VMCS_GUEST_DS, 3}, {VMCS_GUEST_DS_BASE, 0x30}}, 0},
	{"ss_rpl_differs_from_cs_rpl", M32, {{VMCS_GUEST_SS, 0x13}}, 0},
	{"conforming_cs_dpl0_ss_dpl0", M64, {{VMCS_GUEST_CS_AR, 0xa09f}}, 0},
	{"g_with_limit_fffff", M32, {{VMCS_GUEST_ES_LIMIT, 0xfffff}}, 0},
	{"movss_blocking_alone", M64, {{VMCS_GUEST_INTERRUPTIBILITY, 2}}, 0},
	{"sti_blocking_with_if1", M64, {{VMCS_GUEST_INTERRUPTIBILITY, 1}, {REG | HV_X86_RFLAGS, 0x3202}}, 0},
	{"gdtr_idtr_limit_ffff", M64, {{VMCS_GUEST_GDTR_LIMIT, 0xffff}, {VMCS_GUEST_IDTR_LIMIT, 0xffff}}, 0},
	{"canonical_high_bases", M64, {{VMCS_GUEST_FS_BASE, 0xffff800000000000ull},
				       {VMCS_GUEST_GS_BASE, 0xffffffffffff0000ull},
				       {VMCS_GUEST_SYSENTER_EIP, 0xffff800000001000ull}}, 0},
};

static int cleanup(void **state)
{
	(void)state;
	hv_vcpu_destroy(0);
	hv_vm_destroy();
	return 0;
}

static uint64_t start_rip(enum mode m)
{
	return m == MREAL || m == MV86 ? 0 : KE_CODE;
}

static void seg(struct ke *k, unsigned i, uint64_t sel, uint64_t base, uint64_t lim, uint64_t ar)
{
	ke_w(k, VMCS_GUEST_ES + 2 * i, sel);
	ke_w(k, VMCS_GUEST_ES_BASE + 2 * i, base);
	ke_w(k, VMCS_GUEST_ES_LIMIT + 2 * i, lim);
	ke_w(k, VMCS_GUEST_ES_AR + 2 * i, ar);
}

/* A valid guest in mode m on backend b, its first instruction HLT. */
static void setup(struct ke *k, const char *b, enum mode m)
{
	static const uint8_t hlt[] = {0xf4};
	ke_setup_on(k, b, 0, hlt, sizeof hlt);
	ke_w(k, VMCS_CTRL_EXC_BITMAP, 1u << 13); /* v86: HLT at CPL 3 raises #GP, which exits */
	if (m == M64)
		return;
	ke_w(k, VMCS_CTRL_VMENTRY_CONTROLS, ke_cap2ctrl(ke_cap(HV_VMX_CAP_ENTRY), 0));
	ke_w(k, VMCS_GUEST_IA32_EFER, 0);
	ke_w(k, VMCS_GUEST_CR4, 0x2000);
	ke_set(k, HV_X86_RFLAGS, 2);
	if (m == M32) {
		ke_w(k, VMCS_GUEST_CR0, 0x33);
		ke_w(k, VMCS_GUEST_CS_AR, 0xc09b);
		return;
	}
	/* real mode (unrestricted guest) and virtual-8086 mode: code at 0x1000:0 */
	ke_w(k, VMCS_GUEST_CR0, m == MV86 ? 0x33 : 0x30);
	uint64_t ar = m == MV86 ? 0xf3 : 0x93;
	for (unsigned i = 0; i < 6; i++)
		seg(k, i, 0, 0, 0xffff, ar);
	seg(k, 1, KE_CODE >> 4, KE_CODE, 0xffff, m == MV86 ? 0xf3 : 0x9b);
	ke_w(k, VMCS_GUEST_IDTR_BASE, 0);
	ke_w(k, VMCS_GUEST_IDTR_LIMIT, 0x3ff);
	ke_set(k, HV_X86_RIP, 0);
	ke_set(k, HV_X86_RSP, 0x7000);
	if (m == MV86)
		ke_set(k, HV_X86_RFLAGS, 0x20002);
}

static void apply(struct ke *k, const struct wr *w)
{
	for (unsigned i = 0; i < 4 && w[i].f; i++) {
		if (w[i].f & REG)
			ke_set(k, (hv_x86_reg_t)(w[i].f & ~REG), w[i].v);
		else
			ke_w(k, w[i].f, w[i].v);
	}
}

static bool have_entry(uint32_t need)
{
	return (ke_cap(HV_VMX_CAP_ENTRY) >> 32 & need) == need;
}

/* The exit a valid guest of mode m gives: HLT, or #GP for v86. */
static void expect_ran(struct ke *k, enum mode m, const char *name)
{
	uint32_t r = ke_run(k);
	uint32_t want = m == MV86 ? VMX_REASON_EXC_NMI : VMX_REASON_HLT;
	if (r != want)
		fail_msg("%s (%s): exit %#x, wanted %u", name, mode_name[m], r, want);
	if (m == MV86)
		assert_int_equal(ke_r(k, VMCS_RO_VMEXIT_IRQ_INFO) & 0x7ff, 0x300 | 13);
}

/* Whether backend b runs mode m at all (kvm on a software KVM may not run virtual-8086 code); prints why not. */
static bool mode_runs(const char *b, enum mode m)
{
	if (strcmp(b, "kvm") || m != MV86)
		return true;
	struct ke k;
	setup(&k, b, m);
	uint32_t r = ke_run(&k);
	uint64_t info = ke_r(&k, VMCS_RO_VMEXIT_IRQ_INFO);
	ke_teardown(&k);
	if (r == VMX_REASON_EXC_NMI && (info & 0x7ff) == 0x30d)
		return true;
	printf("kvm: virtual-8086 guests do not run here (exit %#x): v86 cases skipped\n", r);
	return false;
}

static void run_bad(const char *b)
{
	bool v86 = mode_runs(b, MV86);
	unsigned n = 0, skipped = 0;
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		const struct gcase *c = &bad[i];
		struct ke k;
		if (!(c->mode == MV86 && !v86))
			setup(&k, b, c->mode);
		if ((c->mode == MV86 && !v86) || !have_entry(c->need_entry)) {
			printf("%s: %s not run (%s)\n", b, c->name,
			       c->mode == MV86 && !v86 ? "no v86 guests" : "entry control not available");
			if (!(c->mode == MV86 && !v86))
				ke_teardown(&k);
			skipped++;
			continue;
		}
		apply(&k, c->w);
		uint64_t inj = ke_r(&k, VMCS_CTRL_VMENTRY_IRQ_INFO);
		uint32_t r = ke_run(&k);
		if (r != (0x80000000u | VMX_REASON_VMENTRY_GUEST))
			fail_msg("%s: %s (%s): exit %#x, wanted 0x80000021", b, c->name, mode_name[c->mode], r);
		assert_int_equal(ke_r(&k, VMCS_RO_EXIT_QUALIFIC), 0);
		assert_int_equal(ke_reg(&k, HV_X86_RIP), start_rip(c->mode)); /* nothing ran */
		assert_int_equal(ke_r(&k, VMCS_CTRL_VMENTRY_IRQ_INFO), inj); /* valid bit not cleared (SDM 26.7) */
		ke_teardown(&k);
		n++;
	}
	printf("%s: %u invalid guest states failed the entry, %u not run\n", b, n, skipped);
	assert_int_equal(n + skipped, sizeof bad / sizeof bad[0]);
	assert_true(skipped <= 3); /* at most PAT (emu) or the three v86 cases (kvm on a software KVM) */
}

static void run_good(const char *b)
{
	bool v86 = mode_runs(b, MV86);
	for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
		const struct gcase *c = &good[i];
		if (c->mode == MV86 && !v86)
			continue;
		struct ke k;
		setup(&k, b, c->mode);
		apply(&k, c->w);
		expect_ran(&k, c->mode, c->name);
		ke_teardown(&k);
	}
}

/* A failed entry retried: still fails while the field is bad, runs once it is fixed (emu: the fast paths reach the
 * checks; the failure forces the full checks on the next entry). */
static void run_retry(const char *b)
{
	struct ke k;
	setup(&k, b, M64);
	ke_w(&k, VMCS_GUEST_GDTR_LIMIT, 0x10000);
	assert_int_equal(ke_run(&k), 0x80000000u | VMX_REASON_VMENTRY_GUEST);
	ke_set(&k, HV_X86_RIP, KE_CODE); /* only RIP written */
	assert_int_equal(ke_run(&k), 0x80000000u | VMX_REASON_VMENTRY_GUEST);
	ke_w(&k, VMCS_GUEST_GDTR_LIMIT, 0xffff);
	expect_ran(&k, M64, "gdtr fixed");
	/* After an exit: a DR7 write alone (the DR group) and an interruptibility write alone are checked. */
	ke_set(&k, HV_X86_RIP, KE_CODE);
	ke_w(&k, VMCS_GUEST_DR7, 0x400 | (1ull << 33));
	assert_int_equal(ke_run(&k), 0x80000000u | VMX_REASON_VMENTRY_GUEST);
	ke_w(&k, VMCS_GUEST_DR7, 0x400);
	expect_ran(&k, M64, "dr7 fixed");
	ke_set(&k, HV_X86_RIP, KE_CODE);
	ke_w(&k, VMCS_GUEST_INTERRUPTIBILITY, 1); /* STI blocking, RFLAGS.IF = 0 */
	assert_int_equal(ke_run(&k), 0x80000000u | VMX_REASON_VMENTRY_GUEST);
	ke_set(&k, HV_X86_RFLAGS, 0x3202);
	expect_ran(&k, M64, "IF set");
	ke_teardown(&k);
}

static void test_emu_invalid(void **state)
{
	(void)state;
	run_bad("emu");
}

static void test_emu_valid_edges(void **state)
{
	(void)state;
	run_good("emu");
}

static void test_emu_retry(void **state)
{
	(void)state;
	run_retry("emu");
}

#define NEED_KVM() do { if (!ke_available()) skip(); } while (0)

static void test_kvm_invalid(void **state)
{
	(void)state;
	NEED_KVM();
	run_bad("kvm");
}

static void test_kvm_valid_edges(void **state)
{
	(void)state;
	NEED_KVM();
	run_good("kvm");
}

static void test_kvm_retry(void **state)
{
	(void)state;
	NEED_KVM();
	run_retry("kvm");
}

/* The shared function itself, for what neither backend exercises: the rules that hold only without unrestricted
 * guest, and groups whose values are not current (skipped, never guessed). */
static void test_restricted_rules_and_groups(void **state)
{
	(void)state;
	static struct hvx_vcpu_state s; /* large: not on the stack */
	memset(&s, 0, sizeof s);
	uint64_t *v = s.vmcs;
	v[HVX_SLOT_CTRL_VMENTRY_CONTROLS] = VMENTRY_LOAD_DBG_CONTROLS | VMENTRY_LOAD_EFER;
	v[HVX_SLOT_GUEST_CR0] = 0x31;
	v[HVX_SLOT_GUEST_CR4] = 0x2000;
	for (unsigned i = 0; i < 6; i++) {
		v[HVX_SLOT_GUEST_ES + i] = 0x10;
		v[HVX_SLOT_GUEST_ES_LIMIT + i] = 0xffffffff;
		v[HVX_SLOT_GUEST_ES_AR + i] = 0xc093;
	}
	v[HVX_SLOT_GUEST_CS] = 0x08;
	v[HVX_SLOT_GUEST_CS_AR] = 0xc09b;
	v[HVX_SLOT_GUEST_LDTR_AR] = 0x10000;
	v[HVX_SLOT_GUEST_TR] = 0x28;
	v[HVX_SLOT_GUEST_TR_LIMIT] = 0x67;
	v[HVX_SLOT_GUEST_TR_AR] = 0x8b;
	s.rflags = 2;
	struct hvx_guest_check_env unr = {true, 48, 48, HVX_GROUP_ALL}, res = {false, 48, 48, HVX_GROUP_ALL};
	uint64_t q = 1;
	assert_true(hvx_guest_state_check(&s, &unr, &q));
	assert_int_equal(q, 0);
	assert_true(hvx_guest_state_check(&s, &res, &q));
	/* SS.RPL != CS.RPL */
	v[HVX_SLOT_GUEST_SS] = 0x13;
	assert_true(hvx_guest_state_check(&s, &unr, &q));
	assert_false(hvx_guest_state_check(&s, &res, &q));
	v[HVX_SLOT_GUEST_SS] = 0x10;
	/* DS.DPL < DS.RPL */
	v[HVX_SLOT_GUEST_DS] = 0x13;
	assert_true(hvx_guest_state_check(&s, &unr, &q));
	assert_false(hvx_guest_state_check(&s, &res, &q));
	v[HVX_SLOT_GUEST_DS_AR] = 0x10000; /* unusable: no DPL rule */
	assert_true(hvx_guest_state_check(&s, &res, &q));
	v[HVX_SLOT_GUEST_DS] = 0x10;
	v[HVX_SLOT_GUEST_DS_AR] = 0xc093;
	/* CS type 3 only with unrestricted guest */
	v[HVX_SLOT_GUEST_CS_AR] = 0xc093;
	assert_true(hvx_guest_state_check(&s, &unr, &q));
	assert_false(hvx_guest_state_check(&s, &res, &q));
	v[HVX_SLOT_GUEST_CS_AR] = 0xc09b;
	/* CR4.CET needs CR0.WP */
	v[HVX_SLOT_GUEST_CR4] = 0x2000 | (1u << 23);
	assert_false(hvx_guest_state_check(&s, &unr, &q));
	v[HVX_SLOT_GUEST_CR0] |= 1u << 16;
	assert_true(hvx_guest_state_check(&s, &unr, &q));
	/* CR3 width: bit 47 passes with 48 physical bits, fails with 46 */
	v[HVX_SLOT_GUEST_CR3] = 1ull << 47;
	assert_true(hvx_guest_state_check(&s, &unr, &q));
	struct hvx_guest_check_env narrow = unr;
	narrow.phys_bits = 46;
	assert_false(hvx_guest_state_check(&s, &narrow, &q));
	v[HVX_SLOT_GUEST_CR3] = 0;
	/* a group not current is not read: a bad DEBUGCTL, DR7 or interruptibility then passes */
	struct hvx_guest_check_env stale = unr;
	stale.groups = HVX_GROUP_ALL & ~(HVX_GROUP_MSR | HVX_GROUP_DR | HVX_GROUP_EVENT);
	v[HVX_SLOT_GUEST_IA32_DEBUGCTL] = 1u << 4;
	assert_false(hvx_guest_state_check(&s, &unr, &q));
	assert_true(hvx_guest_state_check(&s, &stale, &q));
	v[HVX_SLOT_GUEST_IA32_DEBUGCTL] = 0;
	v[HVX_SLOT_GUEST_DR7] = 1ull << 40;
	assert_false(hvx_guest_state_check(&s, &unr, &q));
	assert_true(hvx_guest_state_check(&s, &stale, &q));
	v[HVX_SLOT_GUEST_DR7] = 0;
	v[HVX_SLOT_GUEST_INTERRUPTIBILITY] = 1;
	assert_false(hvx_guest_state_check(&s, &unr, &q));
	assert_true(hvx_guest_state_check(&s, &stale, &q));
	/* the linear width: bit 56 set in a base is canonical only with 57 bits... and bits 63:56 all set */
	v[HVX_SLOT_GUEST_INTERRUPTIBILITY] = 0;
	v[HVX_SLOT_GUEST_FS_BASE] = 0xff00000000000000ull;
	assert_false(hvx_guest_state_check(&s, &unr, &q));
	struct hvx_guest_check_env la57 = unr;
	la57.linear_bits = 57;
	assert_true(hvx_guest_state_check(&s, &la57, &q));
}

int main(void)
{
	alarm(120); /* a hung KVM_RUN must fail the test, never hang it */
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_emu_invalid, cleanup),
		cmocka_unit_test_teardown(test_emu_valid_edges, cleanup),
		cmocka_unit_test_teardown(test_emu_retry, cleanup),
		cmocka_unit_test_teardown(test_kvm_invalid, cleanup),
		cmocka_unit_test_teardown(test_kvm_valid_edges, cleanup),
		cmocka_unit_test_teardown(test_kvm_retry, cleanup),
		cmocka_unit_test(test_restricted_rules_and_groups),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
