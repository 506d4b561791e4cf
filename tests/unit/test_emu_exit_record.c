/* test_emu_exit_record.c: the published exit record read through hv_vmx_vcpu_read_vmcs: every exit-information field (full and high-half encodings) holds the last exit's value, 0 where that exit defines none; failed entries leave it, kicks replace it. */
#include "emu_guest.h"

#define PD2 0x5000u                       /* page directory for linear 1 GiB - 2 GiB */
#define FAR_GPA 0x123400000ull            /* above 4 GiB, not mapped: bits 63:32 of the GPA are nonzero */
#define FAR_LINEAR 0x40000010ull

/* mov rax, [0x40000010]; out 0x80, al; hlt */
static const uint8_t code[] = {0x48, 0x8b, 0x04, 0x25, 0x10, 0x00, 0x00, 0x40, 0xe6, 0x80, 0xf4};

/* Every exit-information field the API has, by encoding: the expected value of the last exit. */
struct want {
	uint32_t field;
	uint64_t value;
};

static void expect_fields(struct eg *g, const struct want *w, size_t n)
{
	static const uint32_t all[] = {
		VMCS_RO_EXIT_REASON,     VMCS_RO_EXIT_QUALIFIC,   VMCS_RO_VMEXIT_INSTR_LEN, VMCS_RO_VMX_INSTR_INFO,
		VMCS_RO_GUEST_LIN_ADDR,  VMCS_GUEST_PHYSICAL_ADDRESS, VMCS_GUEST_PHYSICAL_ADDRESS + 1,
		VMCS_RO_VMEXIT_IRQ_INFO, VMCS_RO_VMEXIT_IRQ_ERROR, VMCS_RO_IDT_VECTOR_INFO, VMCS_RO_IDT_VECTOR_ERROR,
		VMCS_RO_IO_RCX,          VMCS_RO_IO_RSI,          VMCS_RO_IO_RDI,           VMCS_RO_IO_RIP,
	};
	for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
		uint64_t want = 0, got = ~0ull;
		for (size_t j = 0; j < n; j++)
			if (w[j].field == all[i])
				want = w[j].value;
		assert_int_equal(hv_vmx_vcpu_read_vmcs(g->vcpu, all[i], &got), HV_SUCCESS);
		if (got != want)
			fail_msg("field %#x reads %#llx, wanted %#llx", all[i], (unsigned long long)got,
				 (unsigned long long)want);
	}
}

static void guest(struct eg *g)
{
	eg_create(g);
	eg_long64(g, EG_CODE);
	eg_put64(g, EG_PDPT + 8, PD2 | 0x7);
	eg_put64(g, PD2, FAR_GPA | 0x87); /* a 2-MiB page at linear 1 GiB */
	eg_load(g, EG_CODE, code, sizeof code);
	eg_controls(g, CPU_BASED_HLT | CPU_BASED_UNCOND_IO, 0);
}

/* An exit with a 64-bit guest-physical address, then one that defines no address: the second reads 0 there. */
static void each_exit_replaces_every_field(void **state)
{
	(void)state;
	struct eg g;
	guest(&g);
	assert_int_equal(eg_run(&g), VMX_REASON_EPT_VIOLATION);
	const struct want ept[] = {
		{VMCS_RO_EXIT_REASON, VMX_REASON_EPT_VIOLATION},
		{VMCS_RO_EXIT_QUALIFIC, 0x181}, /* data read, linear address valid, final translation */
		{VMCS_RO_GUEST_LIN_ADDR, FAR_LINEAR},
		{VMCS_GUEST_PHYSICAL_ADDRESS, FAR_GPA | 0x10},
		{VMCS_GUEST_PHYSICAL_ADDRESS + 1, FAR_GPA >> 32},
	};
	expect_fields(&g, ept, sizeof ept / sizeof ept[0]);
	assert_int_equal(eg_reg(&g, HV_X86_RIP), EG_CODE);

	eg_wr(&g, VMCS_GUEST_RIP, EG_CODE + 8);
	assert_int_equal(eg_run(&g), VMX_REASON_IO);
	const struct want io[] = {
		{VMCS_RO_EXIT_REASON, VMX_REASON_IO},
		{VMCS_RO_EXIT_QUALIFIC, (0x80u << 16) | (1u << 6)}, /* port 0x80, immediate operand, OUT, 1 byte */
		{VMCS_RO_VMEXIT_INSTR_LEN, 2},
	};
	expect_fields(&g, io, sizeof io / sizeof io[0]);

	/* A failed entry (VMfail) publishes nothing: the record still holds the I/O exit. */
	uint64_t max = 0;
	assert_int_equal(hv_vmx_read_capability(HV_VMX_CAP_MISC, &max), HV_SUCCESS);
	eg_wr(&g, VMCS_CTRL_CR3_COUNT, ((max >> 16) & 0x1ff) + 1);
	assert_int_equal(hv_vcpu_run(g.vcpu), HV_ERROR);
	expect_fields(&g, io, sizeof io / sizeof io[0]);
	eg_wr(&g, VMCS_CTRL_CR3_COUNT, 0);

	/* A kick before the run: VMX_REASON_IRQ and nothing else. */
	hv_vcpuid_t id = g.vcpu;
	assert_int_equal(hv_vcpu_interrupt(&id, 1), HV_SUCCESS);
	assert_int_equal(hv_vcpu_run(g.vcpu), HV_SUCCESS);
	const struct want irq[] = {{VMCS_RO_EXIT_REASON, VMX_REASON_IRQ}};
	expect_fields(&g, irq, 1);

	assert_int_equal(eg_reg(&g, HV_X86_RIP), EG_CODE + 8); /* the kick ran nothing */
	eg_wr(&g, VMCS_GUEST_RIP, EG_CODE + 10);
	eg_expect_insn_exit(&g, VMX_REASON_HLT, EG_CODE + 10, 1, 0, 0);
	const struct want hlt[] = {{VMCS_RO_EXIT_REASON, VMX_REASON_HLT}, {VMCS_RO_VMEXIT_INSTR_LEN, 1}};
	expect_fields(&g, hlt, 2);
	eg_destroy(&g);
}

/* A VM-entry failure is an exit too: bit 31 of the 32-bit reason field. */
static void an_entry_failure_reads_its_full_reason(void **state)
{
	(void)state;
	struct eg g;
	guest(&g);
	eg_setreg(&g, HV_X86_RFLAGS, 0); /* RFLAGS bit 1 clear: guest-state check fails */
	assert_int_equal(hv_vcpu_run(g.vcpu), HV_SUCCESS);
	const struct want fail[] = {{VMCS_RO_EXIT_REASON, 0x80000000u | VMX_REASON_VMENTRY_GUEST}};
	expect_fields(&g, fail, 1);
	eg_destroy(&g);
}

/* The emu writes the published record in place (exit_in_place): a VM-entry failure after an exit with a
 * qualification and a length replaces every field, leaving only its reason. */
static void an_entry_failure_replaces_the_last_exit(void **state)
{
	(void)state;
	struct eg g;
	guest(&g);
	eg_wr(&g, VMCS_GUEST_RIP, EG_CODE + 8);
	assert_int_equal(eg_run(&g), VMX_REASON_IO);
	eg_setreg(&g, HV_X86_RFLAGS, 0); /* RFLAGS bit 1 clear: guest-state check fails */
	assert_int_equal(hv_vcpu_run(g.vcpu), HV_SUCCESS);
	const struct want fail[] = {{VMCS_RO_EXIT_REASON, 0x80000000u | VMX_REASON_VMENTRY_GUEST}};
	expect_fields(&g, fail, 1);
	eg_destroy(&g);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		EG_TEST(each_exit_replaces_every_field),
		EG_TEST(an_entry_failure_reads_its_full_reason),
		EG_TEST(an_entry_failure_replaces_the_last_exit),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
