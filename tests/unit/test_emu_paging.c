/* test_emu_paging.c: emu paging: 32-bit (PSE), PAE and 4/5-level walks, accessed/dirty bits, WP, NX, SMEP, SMAP, and TLB invalidation by INVLPG, CR3 and CR4 writes. */
#include "emu_guest.h"

#define PT 0x6000   /* 4-KiB page table for the 2-MiB region 0x200000-0x3fffff */
#define SLOT(n) (0x10000u + 32u * (n))
#define P 1ull
#define W 2ull
#define U 4ull
#define A 0x20ull
#define D 0x40ull
#define G 0x100ull
#define NX (1ull << 63)

static uint64_t *pte(struct eg *g, uint64_t va)
{
	return (uint64_t *)(void *)(g->mem + PT + ((va >> 12) & 511) * 8);
}

/* Long mode with 4-KiB pages for 0x200000-0x3fffff (identity, P|W|U). */
static void setup(struct eg *g)
{
	eg_create(g);
	eg_load_file(g, 0x10000, "paging64");
	eg_long64(g, SLOT(0));
	for (uint64_t i = 0; i < 512; i++)
		eg_put64(g, PT + i * 8, (0x200000 + i * 4096) | P | W | U);
	eg_put64(g, EG_PD + 8, PT | P | W | U);
	eg_wr(g, VMCS_GUEST_IA32_EFER, 0xd00); /* LME, LMA, NXE */
	eg_wr(g, VMCS_GUEST_CR0, 0x80010031);  /* + WP */
	eg_wr(g, VMCS_CTRL_EXC_BITMAP, 1u << 14);
}

static void expect_pf(struct eg *g, uint64_t rip, uint64_t addr, uint32_t err)
{
	assert_int_equal(eg_run(g), VMX_REASON_EXC_NMI);
	struct eg_exit e = eg_exit_info(g);
	assert_int_equal(e.intr, 0x80000b0eu);
	if (e.intr_err != err)
		fail_msg("#PF error code %#llx, wanted %#x", (unsigned long long)e.intr_err, err);
	if (e.qual != addr || e.rip != rip)
		fail_msg("#PF at %#llx for %#llx, wanted at %#llx for %#llx", (unsigned long long)e.rip,
			 (unsigned long long)e.qual, (unsigned long long)rip, (unsigned long long)addr);
}

static void run_slot(struct eg *g, unsigned slot, uint64_t rcx)
{
	eg_setreg(g, HV_X86_RCX, rcx);
	eg_setreg(g, HV_X86_RIP, SLOT(slot));
	eg_setreg(g, HV_X86_RSP, EG_STACK);
}

static void test_accessed_dirty_bits(void **state)
{
	(void)state;
	struct eg g;
	setup(&g);
	run_slot(&g, 0, 0x201008);
	eg_expect_insn_exit(&g, VMX_REASON_HLT, SLOT(0) + 3, 1, 0, 0);
	assert_int_equal(*pte(&g, 0x201000) & (A | D), A);
	assert_true(*(uint64_t *)(void *)(g.mem + EG_PML4) & A);
	assert_true(*(uint64_t *)(void *)(g.mem + EG_PD + 8) & A);
	run_slot(&g, 1, 0x201010);
	eg_setreg(&g, HV_X86_RAX, 0x1234);
	eg_expect_insn_exit(&g, VMX_REASON_HLT, SLOT(1) + 3, 1, 0, 0);
	assert_int_equal(*pte(&g, 0x201000) & (A | D), A | D);
	assert_int_equal(*(uint64_t *)(void *)(g.mem + 0x201010), 0x1234);
	eg_destroy(&g);
}

static void test_write_protect_and_nx(void **state)
{
	(void)state;
	struct eg g;
	setup(&g);
	*pte(&g, 0x202000) &= ~W;
	run_slot(&g, 1, 0x202000);
	expect_pf(&g, SLOT(1), 0x202000, 0x3); /* present, write, supervisor */
	eg_wr(&g, VMCS_GUEST_CR0, 0x80000031 & ~(1u << 16)); /* CR0.WP = 0: supervisor writes ignore R/W */
	eg_expect_insn_exit(&g, VMX_REASON_HLT, SLOT(1) + 3, 1, 0, 0);
	/* NX: a fetch from an execute-disable page */
	*pte(&g, 0x203000) |= NX;
	g.mem[0x203000] = 0xf4;
	run_slot(&g, 2, 0x203000);
	expect_pf(&g, 0x203000, 0x203000, 0x11); /* present, instruction fetch */
	eg_destroy(&g);
}

static void test_smep_smap(void **state)
{
	(void)state;
	struct eg g;
	setup(&g);
	g.mem[0x205000] = 0xf4;
	eg_put64(&g, EG_PD, 0x83); /* the first 2 MiB (code, stack) become supervisor pages */
	eg_wr(&g, VMCS_GUEST_CR4, 0x2020 | (1u << 20)); /* SMEP */
	run_slot(&g, 2, 0x205000);
	expect_pf(&g, 0x205000, 0x205000, 0x11); /* supervisor fetch from a user page */
	/* SMAP */
	eg_wr(&g, VMCS_GUEST_CR4, 0x2020 | (1u << 21));
	run_slot(&g, 0, 0x205008);
	expect_pf(&g, SLOT(0), 0x205008, 0x1); /* supervisor read of a user page with AC = 0 */
	run_slot(&g, 5, 0x205008);
	eg_expect_insn_exit(&g, VMX_REASON_HLT, SLOT(5) + 9, 1, 0, 0); /* STAC lets it through */
	assert_int_equal(eg_reg(&g, HV_X86_RFLAGS) & (1u << 18), 0);     /* CLAC */
	eg_destroy(&g);
}

static void test_tlb_invalidation(void **state)
{
	(void)state;
	struct eg g;
	setup(&g);
	eg_put64(&g, 0x206000, 0x1111);
	eg_put64(&g, 0x207000, 0x2222);
	run_slot(&g, 0, 0x206000);
	eg_expect_insn_exit(&g, VMX_REASON_HLT, SLOT(0) + 3, 1, 0, 0);
	assert_int_equal(eg_reg(&g, HV_X86_RAX), 0x1111);
	/* Remap 0x206000 -> 0x207000; INVLPG makes the new translation visible. */
	*pte(&g, 0x206000) = 0x207000 | P | W | U;
	run_slot(&g, 3, 0x206000);
	eg_expect_insn_exit(&g, VMX_REASON_HLT, SLOT(3) + 6, 1, 0, 0);
	assert_int_equal(eg_reg(&g, HV_X86_RAX), 0x2222);
	/* A CR3 write flushes non-global translations. */
	*pte(&g, 0x206000) = 0x206000 | P | W | U;
	run_slot(&g, 4, 0x206000);
	eg_setreg(&g, HV_X86_RDX, EG_PML4);
	eg_expect_insn_exit(&g, VMX_REASON_HLT, SLOT(4) + 6, 1, 0, 0);
	assert_int_equal(eg_reg(&g, HV_X86_RAX), 0x1111);
	/* Toggling CR4.PGE flushes global ones too. */
	eg_wr(&g, VMCS_GUEST_CR4, 0x20a0); /* PGE */
	*pte(&g, 0x206000) = 0x207000 | P | W | U | G;
	run_slot(&g, 6, 0x206000);
	eg_setreg(&g, HV_X86_RDX, 0x80);
	eg_expect_insn_exit(&g, VMX_REASON_HLT, SLOT(6) + 12, 1, 0, 0);
	assert_int_equal(eg_reg(&g, HV_X86_RAX), 0x2222);
	eg_destroy(&g);
}

static void test_five_level_paging(void **state)
{
	(void)state;
	struct eg g;
	setup(&g);
	eg_put64(&g, 0x7000, EG_PML4 | P | W | U); /* PML5[0] -> PML4 */
	eg_wr(&g, VMCS_GUEST_CR4, 0x2020 | (1u << 12));
	eg_wr(&g, VMCS_GUEST_CR3, 0x7000);
	eg_put64(&g, 0x201000, 0xabcdef);
	run_slot(&g, 0, 0x201000);
	eg_expect_insn_exit(&g, VMX_REASON_HLT, SLOT(0) + 3, 1, 0, 0);
	assert_int_equal(eg_reg(&g, HV_X86_RAX), 0xabcdef);
	assert_true(*(uint64_t *)(void *)(g.mem + 0x7000) & A);
	eg_destroy(&g);
}

/* 32-bit protected mode: mov eax, [ecx]; hlt at 0x10000. */
static void prot32_paged(struct eg *g, uint64_t cr4, uint64_t cr3)
{
	static const uint8_t code[] = {0x8b, 0x01, 0xf4};
	eg_load(g, 0x10000, code, sizeof code);
	eg_prot32(g, 0x10000);
	eg_wr(g, VMCS_GUEST_CR0, 0x80010031);
	eg_wr(g, VMCS_GUEST_CR4, cr4);
	eg_wr(g, VMCS_GUEST_CR3, cr3);
}

static void test_32bit_pse_and_pae(void **state)
{
	(void)state;
	struct eg g;
	eg_create(&g);
	/* 32-bit paging: PDE 0 = 4-MiB page at 0 (PSE); PDE 1 -> page table mapping 0x400000 -> 0x300000 */
	uint32_t *pd = (uint32_t *)(void *)(g.mem + 0x8000), *pt = (uint32_t *)(void *)(g.mem + 0x9000);
	pd[0] = 0x00000083;
	pd[1] = 0x9000 | 3;
	pt[0] = 0x300000 | 3;
	eg_put64(&g, 0x300004, 0x55aa);
	prot32_paged(&g, 0x2010, 0x8000);
	eg_setreg(&g, HV_X86_RCX, 0x400004);
	eg_expect_insn_exit(&g, VMX_REASON_HLT, 0x10002, 1, 0, 0);
	assert_int_equal(eg_reg(&g, HV_X86_RAX), 0x55aa);
	assert_int_equal(pt[0] & 0x20, 0x20);
	/* PAE: PDPT at 0xa000, PD at 0xb000 with a 2-MiB page at 0 and a table for 0x200000 -> 0x300000 */
	eg_put64(&g, 0xa000, 0xb000 | 1);
	eg_put64(&g, 0xb000, 0x83);
	eg_put64(&g, 0xb008, 0xc000 | 3);
	eg_put64(&g, 0xc000 + 8, 0x300000 | 3); /* 0x201000 -> 0x300000 */
	prot32_paged(&g, 0x2020, 0xa000);
	/* With EPT, VM entry takes the PDPTE registers from the VMCS (as QEMU's HVF code writes them), not from memory. */
	eg_wr(&g, VMCS_GUEST_PDPTE0, 0xb000 | 1);
	eg_setreg(&g, HV_X86_RCX, 0x201004);
	eg_expect_insn_exit(&g, VMX_REASON_HLT, 0x10002, 1, 0, 0);
	assert_int_equal(eg_reg(&g, HV_X86_RAX), 0x55aa);
	/* Not present in PAE: #PF with error code 0 */
	eg_wr(&g, VMCS_CTRL_EXC_BITMAP, 1u << 14);
	eg_setreg(&g, HV_X86_RCX, 0x401000);
	eg_setreg(&g, HV_X86_RIP, 0x10000);
	expect_pf(&g, 0x10000, 0x401000, 0);
	eg_destroy(&g);
}

/*
 * PAE PDPTE registers: the walk uses the VMCS guest PDPTE fields, not the table in memory; the guest's MOV to CR3
 * reloads them from memory (and a present entry with reserved bits is #GP(0), nothing loaded); VM entry with a
 * reserved bit in a PDPTE field fails with qualification 2.
 */
static void test_pae_pdpte_registers(void **state)
{
	(void)state;
	struct eg g;
	eg_create(&g);
	/* PDPT at 0xa000 -> PD 0xb000: 0-2 MiB identity, 2-4 MiB identity. A second PD at 0xd000 maps 2-4 MiB to 0. */
	eg_put64(&g, 0xa000, 0xb000 | 1);
	eg_put64(&g, 0xb000, 0x83);
	eg_put64(&g, 0xb008, 0x200000 | 0x83);
	eg_put64(&g, 0xd000, 0x83);
	eg_put64(&g, 0xd008, 0x000000 | 0x83);
	eg_put64(&g, 0x203000, 0x1111);
	eg_put64(&g, 0x003000, 0x4444);
	/* mov dword [0xa000], 0xd001; mov eax,[ecx]; mov edx,eax; mov ebx,cr3; mov cr3,ebx; mov eax,[ecx]; hlt */
	static const uint8_t code[] = {0xc7, 0x05, 0x00, 0xa0, 0x00, 0x00, 0x01, 0xd0, 0x00, 0x00, 0x8b, 0x01,
				       0x89, 0xc2, 0x0f, 0x20, 0xdb, 0x0f, 0x22, 0xdb, 0x8b, 0x01, 0xf4};
	eg_load(&g, 0x10000, code, sizeof code);
	eg_prot32(&g, 0x10000);
	eg_wr(&g, VMCS_GUEST_CR0, 0x80010031);
	eg_wr(&g, VMCS_GUEST_CR4, 0x2020);
	eg_wr(&g, VMCS_GUEST_CR3, 0xa000);
	eg_setreg(&g, HV_X86_RCX, 0x203000);
	/* Entry refuses a reserved bit (bit 1) in a present PDPTE field. */
	eg_wr(&g, VMCS_GUEST_PDPTE0, 0xb000 | 3);
	assert_int_equal(eg_run(&g), VMX_REASON_VMENTRY_GUEST | 0x80000000u);
	assert_int_equal(eg_rd(&g, VMCS_RO_EXIT_QUALIFIC), 2);
	eg_wr(&g, VMCS_GUEST_PDPTE0, 0xb000 | 1);
	eg_expect_insn_exit(&g, VMX_REASON_HLT, 0x10016, 1, 0, 0);
	/* The read after the PDPT write still went through the PDPTE register; MOV CR3 loaded the new entry. */
	assert_int_equal(eg_reg(&g, HV_X86_RDX), 0x1111);
	assert_int_equal(eg_reg(&g, HV_X86_RAX), 0x4444);
	assert_int_equal(eg_rd(&g, VMCS_GUEST_PDPTE0), 0xd001);
	/* A reserved bit (bit 5) in a present entry in memory: MOV to CR3 is #GP(0) and the registers stay. */
	eg_put64(&g, 0xa008, 0xb000 | 0x21);
	eg_wr(&g, VMCS_CTRL_EXC_BITMAP, 1u << 13);
	eg_wr(&g, VMCS_GUEST_RIP, 0x10011);
	assert_int_equal(eg_run(&g), VMX_REASON_EXC_NMI);
	struct eg_exit e = eg_exit_info(&g);
	assert_int_equal(e.intr, 0x80000b0du);
	assert_int_equal(e.intr_err, 0);
	assert_int_equal(e.rip, 0x10011);
	assert_int_equal(eg_rd(&g, VMCS_GUEST_PDPTE1), 0);
	eg_destroy(&g);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		EG_TEST(test_accessed_dirty_bits),
		EG_TEST(test_write_protect_and_nx),
		EG_TEST(test_smep_smap),
		EG_TEST(test_tlb_invalidation),
		EG_TEST(test_five_level_paging),
		EG_TEST(test_32bit_pse_and_pae),
		EG_TEST(test_pae_pdpte_registers),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
