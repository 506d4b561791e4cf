/* test_emu_exits.c: the emu backend's VM exits, each with every exit-information field and the saved guest state. */
#include "emu_guest.h"

static void test_real_mode_hvdos_style(void **state)
{
	(void)state;
	struct eg g;
	eg_create(&g);
	eg_controls(&g, CPU_BASED_HLT | CPU_BASED_UNCOND_IO, 0);
	eg_load_file(&g, 0x100, "real_hvdos");
	eg_real(&g, 0x100);
	eg_wr(&g, VMCS_GUEST_IDTR_LIMIT, 0);
	eg_wr(&g, VMCS_CTRL_EXC_BITMAP, 0xffffffff);

	/* INT 21h: #GP during delivery exits with IDT-vectoring naming vector 0x21 (software interrupt). */
	uint64_t r = eg_run(&g);
	struct eg_exit e = eg_exit_info(&g);
	assert_int_equal(r, VMX_REASON_EXC_NMI);
	assert_int_equal(e.intr, 0x80000000u | (3u << 8) | 13);
	assert_int_equal(e.idt, 0x80000000u | (4u << 8) | 0x21);
	assert_int_equal(e.len, 2);
	assert_int_equal(e.qual, 0);
	assert_int_equal(e.rip, 0x10a);
	assert_int_equal(eg_reg(&g, HV_X86_RAX), 0x0944);
	assert_int_equal(eg_reg(&g, HV_X86_RSP), 0x7000);
	eg_skip(&g);

	/* OUT DX, AL */
	eg_expect_insn_exit(&g, VMX_REASON_IO, 0x111, 1, 0x3f8ull << 16, 0);
	assert_int_equal(eg_reg(&g, HV_X86_RAX) & 0xff, 'A');
	eg_skip(&g);
	/* IN AL, 0x60: size 1, IN, immediate */
	eg_expect_insn_exit(&g, VMX_REASON_IO, 0x112, 2, (0x60ull << 16) | 0x48, 0);
	eg_skip(&g);
	/* REP INSB: string + REP, ES:DI linear address, address size 16, segment ES */
	eg_expect_insn_exit(&g, VMX_REASON_IO, 0x11a, 2, (0x3f8ull << 16) | 0x38, 0);
	assert_int_equal(eg_rd(&g, VMCS_RO_GUEST_LIN_ADDR), 0x500);
	assert_int_equal(eg_reg(&g, HV_X86_RCX), 3);
	eg_skip(&g);
	eg_expect_insn_exit(&g, VMX_REASON_CPUID, 0x11c, 2, 0, 0);
	eg_skip(&g);
	eg_expect_insn_exit(&g, VMX_REASON_HLT, 0x11e, 1, 0, 0);
	eg_destroy(&g);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_real_mode_hvdos_style),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
