/* test_emu_segchk.c: VERR, VERW, LAR and LSL on the emu backend (ZF and destination for valid, invalid, null, out-of-limit and privilege-failing selectors; #UD in real mode). */
#include "emu_guest.h"

struct want {
	uint64_t rax;
	bool zf;
};

#define KEEP 0x5555555555555555ull

static void test_segchk_long_mode(void **state)
{
	(void)state;
	struct eg g;
	eg_create(&g);
	eg_long64(&g, EG_CODE);
	uint64_t *gdt = (uint64_t *)(void *)(g.mem + EG_GDT);
	gdt[0x60 >> 3] = 0x0000810000000067ull;       /* 16-bit TSS (type 1) */
	gdt[0x70 >> 3] = 0x00008c0000280000ull;       /* 64-bit call gate to 0x28:0 */
	gdt[0x80 >> 3] = 0x0000890000000067ull;       /* 64-bit TSS ... */
	gdt[(0x80 >> 3) + 1] = 1ull << 40;            /* ... whose upper half has a non-zero type field */
	gdt[0x90 >> 3] = 0x00af9f000000ffffull;       /* conforming readable code, DPL 0 */
	gdt[0x98 >> 3] = 0x00cf91000000ffffull;       /* read-only data, DPL 0 */
	eg_load_file(&g, EG_CODE, "segchk64");
	eg_setreg(&g, HV_X86_RBX, EG_DATA);
	assert_int_equal(eg_run(&g), VMX_REASON_HLT);
	static const struct want w[] = {
		{KEEP, true}, {KEEP, false}, {KEEP, true}, {KEEP, false}, {KEEP, false}, {KEEP, false}, {KEEP, true},
		{0x00c09300, true}, {0x5555555555559b00ull, true}, {0x8900, true}, {KEEP, false}, {0xffffffff, true},
		{0x67, true}, {0x8c00, true}, {KEEP, false}, {KEEP, false}, {KEEP, true}, {0x00a09f00, true},
		{KEEP, false}, {KEEP, true}, {0xffff, true},
	};
	for (unsigned i = 0; i < sizeof w / sizeof w[0]; i++) {
		uint64_t rax, fl;
		memcpy(&rax, g.mem + EG_DATA + 16 * i, 8);
		memcpy(&fl, g.mem + EG_DATA + 16 * i + 8, 8);
		if (rax != w[i].rax || !!(fl & 0x40) != w[i].zf)
			fail_msg("check %u: rax %#llx zf %d, wanted %#llx zf %d", i, (unsigned long long)rax,
				 !!(fl & 0x40), (unsigned long long)w[i].rax, w[i].zf);
	}
	assert_int_equal(eg_reg(&g, HV_X86_RBX), EG_DATA + 16 * (sizeof w / sizeof w[0]));
	eg_destroy(&g);
}

/* Real mode: #UD (delivered through the exception bitmap as an exit). */
static void test_segchk_real_mode_ud(void **state)
{
	(void)state;
	struct eg g;
	eg_create(&g);
	eg_real(&g, 0x7c00);
	eg_wr(&g, VMCS_CTRL_EXC_BITMAP, 1u << 6);
	static const uint8_t verw[] = {0x0f, 0x00, 0xe9}; /* verw cx */
	eg_load(&g, 0x7c00, verw, sizeof verw);
	assert_int_equal(eg_run(&g), VMX_REASON_EXC_NMI);
	assert_int_equal(eg_rd(&g, VMCS_RO_VMEXIT_IRQ_INFO) & 0x800007ffu, 0x80000306u);
	assert_int_equal(eg_rd(&g, VMCS_GUEST_RIP), 0x7c00);
	eg_destroy(&g);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		EG_TEST(test_segchk_long_mode),
		EG_TEST(test_segchk_real_mode_ud),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
