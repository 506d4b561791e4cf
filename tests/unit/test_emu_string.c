/* test_emu_string.c: REP MOVS on the emu's page-at-a-time bulk path against the element-by-element rules: unaligned page-crossing copies, overlap, direction, a fault mid-copy and copies over decoded code. */
#include "emu_guest.h"

#define SRC (EG_DATA + 3)      /* unaligned source: chunks end at different offsets on each side */
#define DST (0x200000u + 0x7f5) /* unaligned destination, another 2-MiB page */

static const uint8_t rep_movsb_hlt[] = {0xf3, 0xa4, 0xf4};
static const uint8_t rep_movsq_hlt[] = {0xf3, 0x48, 0xa5, 0xf4};
static const uint8_t std_rep_movsb_hlt[] = {0xfd, 0xf3, 0xa4, 0xf4};

static void setup(struct eg *g, const uint8_t *code, size_t n, uint64_t rsi, uint64_t rdi, uint64_t rcx)
{
	eg_create(g);
	eg_load(g, EG_CODE, code, n);
	eg_long64(g, EG_CODE);
	eg_setreg(g, HV_X86_RSI, rsi);
	eg_setreg(g, HV_X86_RDI, rdi);
	eg_setreg(g, HV_X86_RCX, rcx);
}

static void run_to_hlt(struct eg *g)
{
	uint64_t r = eg_run(g);
	if (r != VMX_REASON_HLT)
		fail_msg("exit %llu at %#llx", (unsigned long long)r, (unsigned long long)eg_rd(g, VMCS_GUEST_RIP));
}

/* 10000 bytes from an unaligned source to an unaligned destination: every page boundary on both sides is crossed. */
static void test_movsb_crosses_pages(void **state)
{
	(void)state;
	struct eg g;
	setup(&g, rep_movsb_hlt, sizeof rep_movsb_hlt, SRC, DST, 10000);
	for (unsigned i = 0; i < 10000; i++)
		g.mem[SRC + i] = (uint8_t)(i * 7 + (i >> 8));
	g.mem[DST - 1] = 0x5a;
	g.mem[DST + 10000] = 0xa5;
	run_to_hlt(&g);
	assert_memory_equal(g.mem + DST, g.mem + SRC, 10000);
	assert_int_equal(g.mem[DST - 1], 0x5a); /* nothing outside the destination is written */
	assert_int_equal(g.mem[DST + 10000], 0xa5);
	assert_int_equal(eg_reg(&g, HV_X86_RCX), 0);
	assert_int_equal(eg_reg(&g, HV_X86_RSI), SRC + 10000);
	assert_int_equal(eg_reg(&g, HV_X86_RDI), DST + 10000);
	assert_int_equal(eg_reg(&g, HV_X86_RIP), EG_CODE + 2);
	eg_destroy(&g);

	/* page-aligned on both sides: whole pages at a time */
	setup(&g, rep_movsb_hlt, sizeof rep_movsb_hlt, EG_DATA, 0x200000, 3 * 4096);
	for (unsigned i = 0; i < 3 * 4096; i++)
		g.mem[EG_DATA + i] = (uint8_t)(i * 11 + (i >> 12));
	run_to_hlt(&g);
	assert_memory_equal(g.mem + 0x200000, g.mem + EG_DATA, 3 * 4096);
	assert_int_equal(eg_reg(&g, HV_X86_RCX), 0);
	assert_int_equal(eg_reg(&g, HV_X86_RSI), EG_DATA + 3 * 4096);
	assert_int_equal(eg_reg(&g, HV_X86_RDI), 0x200000 + 3 * 4096);
	eg_destroy(&g);
}

/* Destination one byte above the source: element-wise copying replicates the first byte (memmove would not). */
static void test_overlap_replicates(void **state)
{
	(void)state;
	struct eg g;
	setup(&g, rep_movsb_hlt, sizeof rep_movsb_hlt, EG_DATA, EG_DATA + 1, 300);
	for (unsigned i = 0; i < 301; i++)
		g.mem[EG_DATA + i] = (uint8_t)(i + 1);
	run_to_hlt(&g);
	for (unsigned i = 0; i < 301; i++)
		assert_int_equal(g.mem[EG_DATA + i], 1);
	eg_destroy(&g);

	/* quadwords, destination 8 bytes above: the first quadword repeats */
	setup(&g, rep_movsq_hlt, sizeof rep_movsq_hlt, EG_DATA, EG_DATA + 8, 64);
	for (unsigned i = 0; i < 65 * 8; i++)
		g.mem[EG_DATA + i] = (uint8_t)(i ^ 0x33);
	uint64_t first;
	memcpy(&first, g.mem + EG_DATA, 8);
	run_to_hlt(&g);
	for (unsigned i = 0; i < 65; i++) {
		uint64_t q;
		memcpy(&q, g.mem + EG_DATA + 8 * i, 8);
		assert_int_equal(q, first);
	}
	assert_int_equal(eg_reg(&g, HV_X86_RDI), EG_DATA + 8 + 64 * 8);
	eg_destroy(&g);

	/* destination below the source (memmove-safe): a plain copy */
	setup(&g, rep_movsb_hlt, sizeof rep_movsb_hlt, EG_DATA + 5, EG_DATA, 5000);
	uint8_t want[5000];
	for (unsigned i = 0; i < 5005; i++)
		g.mem[EG_DATA + i] = (uint8_t)(i * 13);
	memcpy(want, g.mem + EG_DATA + 5, sizeof want);
	run_to_hlt(&g);
	assert_memory_equal(g.mem + EG_DATA, want, sizeof want);
	eg_destroy(&g);
}

/* DF = 1 copies downwards. */
static void test_backward_copy(void **state)
{
	(void)state;
	struct eg g;
	setup(&g, std_rep_movsb_hlt, sizeof std_rep_movsb_hlt, SRC + 4999, DST + 4999, 5000);
	for (unsigned i = 0; i < 5000; i++)
		g.mem[SRC + i] = (uint8_t)(i * 5);
	run_to_hlt(&g);
	assert_memory_equal(g.mem + DST, g.mem + SRC, 5000);
	assert_int_equal(eg_reg(&g, HV_X86_RSI), SRC - 1);
	assert_int_equal(eg_reg(&g, HV_X86_RDI), DST - 1);
	eg_destroy(&g);
}

/* The destination runs off the end of guest RAM: the copy stops at the first unmapped byte with an EPT violation on the
 * REP MOVSB itself, and RCX/RSI/RDI say how far it got (the part before the boundary is written). */
static void test_fault_mid_copy_keeps_progress(void **state)
{
	(void)state;
	struct eg g;
	uint64_t dst = EG_MEM - 0x900;
	setup(&g, rep_movsb_hlt, sizeof rep_movsb_hlt, SRC, dst, 0x1000);
	for (unsigned i = 0; i < 0x1000; i++)
		g.mem[SRC + i] = (uint8_t)(i + 9);
	uint64_t r = eg_run(&g);
	struct eg_exit e = eg_exit_info(&g);
	assert_int_equal(r, VMX_REASON_EPT_VIOLATION);
	assert_int_equal(e.rip, EG_CODE);
	assert_int_equal(e.gpa, EG_MEM);
	assert_int_equal(e.gla, EG_MEM);
	assert_int_equal(e.qual & 7, 2); /* a data write */
	assert_int_equal(eg_reg(&g, HV_X86_RCX), 0x1000 - 0x900);
	assert_int_equal(eg_reg(&g, HV_X86_RSI), SRC + 0x900);
	assert_int_equal(eg_reg(&g, HV_X86_RDI), EG_MEM);
	assert_memory_equal(g.mem + dst, g.mem + SRC, 0x900);
	eg_destroy(&g);
}

/* A copy that overwrites the instructions after it: the new instructions run (mov eax, 0x12345678 replaces NOPs). */
static void test_copy_over_decoded_code(void **state)
{
	(void)state;
	struct eg g;
	uint8_t code[16] = {0xf3, 0xa4};
	memset(code + 2, 0x90, 8);
	code[10] = 0xf4;
	static const uint8_t patch[8] = {0xb8, 0x78, 0x56, 0x34, 0x12, 0x90, 0x90, 0x90};
	setup(&g, code, sizeof code, EG_DATA, EG_CODE + 2, sizeof patch);
	memcpy(g.mem + EG_DATA, patch, sizeof patch);
	eg_setreg(&g, HV_X86_RAX, 0);
	run_to_hlt(&g);
	assert_int_equal(eg_reg(&g, HV_X86_RAX), 0x12345678);
	assert_memory_equal(g.mem + EG_CODE + 2, patch, sizeof patch);
	eg_destroy(&g);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		EG_TEST(test_movsb_crosses_pages),
		EG_TEST(test_overlap_replicates),
		EG_TEST(test_backward_copy),
		EG_TEST(test_fault_mid_copy_keeps_progress),
		EG_TEST(test_copy_over_decoded_code),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
