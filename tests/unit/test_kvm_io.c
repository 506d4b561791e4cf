/* test_kvm_io.c: kvm backend I/O exits: every size and encoding, INS/OUTS with REP and overrides, fault-like RIP, the VMM's register writes winning, deadlines; exits stay exact when the code, its page tables, its memory mapping or the segment state change between them (the backend's translation cache and segment-state shortcut). */
#include <stdlib.h>

#include "kvm_test_env.h"

static void *load_guest(const char *name, size_t *len)
{
	char path[512];
	snprintf(path, sizeof path, "%s/%s", HVX_KVM_GUEST_DIR, name);
	FILE *f = fopen(path, "rb");
	if (!f)
		fail_msg("cannot open %s", path);
	static uint8_t buf[4096];
	*len = fread(buf, 1, sizeof buf, f);
	fclose(f);
	return buf;
}

/* Expect an I/O exit with this qualification and length at the current RIP; returns RIP. */
static uint64_t expect_io(struct ke *k, uint64_t qual, unsigned len)
{
	ke_expect_reason(k, VMX_REASON_IO);
	if (getenv("KE_DEBUG"))
		printf("io exit rip %#llx qual %#llx len %llu\n", (unsigned long long)ke_reg(k, HV_X86_RIP), (unsigned long long)ke_r(k, VMCS_RO_EXIT_QUALIFIC), (unsigned long long)ke_r(k, VMCS_RO_VMEXIT_INSTR_LEN));
	assert_int_equal(ke_r(k, VMCS_RO_EXIT_QUALIFIC), qual);
	assert_int_equal(ke_r(k, VMCS_RO_VMEXIT_INSTR_LEN), len);
	return ke_reg(k, HV_X86_RIP);
}

#define Q(size, in, str, rep, imm, port) \
	((uint64_t)((size) - 1) | (uint64_t)(in) << 3 | (uint64_t)(str) << 4 | (uint64_t)(rep) << 5 | (uint64_t)(imm) << 6 | (uint64_t)(port) << 16)

static void skip_insn(struct ke *k, uint64_t rip)
{
	ke_set(k, HV_X86_RIP, rip + ke_r(k, VMCS_RO_VMEXIT_INSTR_LEN));
}

static void test_io_all_forms(void **state)
{
	(void)state;
	if (!ke_available())
		skip();
	size_t len;
	void *code = load_guest("io.bin", &len);
	struct ke k;
	ke_setup(&k, 3, code, len);

	/* out 0x80, al: immediate form; the exit is fault-like and nothing has executed. */
	uint64_t rip = expect_io(&k, Q(1, 0, 0, 0, 1, 0x80), 2);
	assert_int_equal(rip, KE_CODE + 2);
	assert_int_equal(ke_reg(&k, HV_X86_RAX) & 0xff, 0x42);
	/* Not advancing RIP re-executes the OUT: the same exit again. */
	assert_int_equal(expect_io(&k, Q(1, 0, 0, 0, 1, 0x80), 2), rip);
	skip_insn(&k, rip);
	rip = expect_io(&k, Q(2, 0, 0, 0, 0, 0xf8), 2);     /* out dx, ax */
	assert_int_equal(ke_reg(&k, HV_X86_RAX) & 0xffff, 0x1234);
	skip_insn(&k, rip);
	rip = expect_io(&k, Q(4, 0, 0, 0, 0, 0xf8), 1);     /* out dx, eax */
	assert_int_equal(ke_reg(&k, HV_X86_RAX), 0x89abcdef);
	skip_insn(&k, rip);
	rip = expect_io(&k, Q(1, 1, 0, 0, 1, 0x71), 2);      /* in al, 0x71 */
	/* Not advancing RIP re-executes the IN too (KVM's pending completion is dropped, RAX untouched). */
	ke_set(&k, HV_X86_RAX, 0x77);
	assert_int_equal(expect_io(&k, Q(1, 1, 0, 0, 1, 0x71), 2), rip);
	assert_int_equal(ke_reg(&k, HV_X86_RAX), 0x77);
	ke_set(&k, HV_X86_RAX, 0x5a);
	skip_insn(&k, rip);
	rip = expect_io(&k, Q(2, 1, 0, 0, 0, 0xf8), 2);     /* in ax, dx */
	ke_set(&k, HV_X86_RAX, 0xbeef);
	ke_set(&k, HV_X86_RFLAGS, ke_reg(&k, HV_X86_RFLAGS) | 0x1); /* the VMM's flags win too (CF) */
	skip_insn(&k, rip);
	rip = expect_io(&k, Q(4, 1, 0, 0, 0, 0xf8), 1);     /* in eax, dx */
	assert_int_equal(ke_reg(&k, HV_X86_RFLAGS) & 1, 1);
	ke_set(&k, HV_X86_RAX, 0x11223344);
	skip_insn(&k, rip);

	/* rep outsb: string, REP, DX; linear address DS:RSI, instruction information: 64-bit address, DS. */
	rip = expect_io(&k, Q(1, 0, 1, 1, 0, 0xf8), 2);
	assert_int_equal(ke_r(&k, VMCS_RO_GUEST_LIN_ADDR), 0x20100);
	assert_int_equal(ke_r(&k, VMCS_RO_VMX_INSTR_INFO), 2u << 7 | 3u << 15);
	assert_int_equal(ke_reg(&k, HV_X86_RCX), 3); /* before the first iteration */
	assert_int_equal(ke_reg(&k, HV_X86_RSI), 0x20100);
	ke_set(&k, HV_X86_RCX, 0);
	ke_set(&k, HV_X86_RSI, 0x20103);
	skip_insn(&k, rip);
	/* rep insw: ES:RDI; the VMM writes guest memory itself. */
	rip = expect_io(&k, Q(2, 1, 1, 1, 0, 0xf8), 3);
	assert_int_equal(ke_r(&k, VMCS_RO_GUEST_LIN_ADDR), 0x20200);
	assert_int_equal(ke_r(&k, VMCS_RO_VMX_INSTR_INFO) & (7u << 7), 2u << 7);
	assert_int_equal(ke_reg(&k, HV_X86_RCX), 2);
	memcpy(k.mem + 0x20200, "\x01\x02\x03\x04", 4);
	ke_set(&k, HV_X86_RCX, 0);
	ke_set(&k, HV_X86_RDI, 0x20204);
	skip_insn(&k, rip);
	/* fs outsd: segment override in the instruction information. */
	rip = expect_io(&k, Q(4, 0, 1, 0, 0, 0xf8), 2);
	assert_int_equal(ke_r(&k, VMCS_RO_GUEST_LIN_ADDR), 0x20300);
	assert_int_equal(ke_r(&k, VMCS_RO_VMX_INSTR_INFO), 2u << 7 | 4u << 15);
	ke_set(&k, HV_X86_RCX, 0x77);
	skip_insn(&k, rip);

	/* The guest spins; the deadline ends the run with VMX_TIMER_EXPIRED at the loop. */
	uint64_t t0 = ke_now_ns();
	assert_int_equal(ke_run_ms(&k, 50), VMX_REASON_VMX_TIMER_EXPIRED);
	assert_true(ke_now_ns() - t0 < 1000000000ull);
	assert_int_equal(ke_reg(&k, HV_X86_RIP), KE_CODE + len - 2);
	/* The VMM's register writes won: what the guest stored is what the VMM gave. */
	assert_int_equal(k.mem[0x20010], 0x5a);
	assert_int_equal(*(uint16_t *)(k.mem + 0x20020), 0xbeef);
	assert_int_equal(*(uint32_t *)(k.mem + 0x20000), 0x11223344);
	assert_int_equal(*(uint64_t *)(k.mem + 0x20030), 0x77);
	assert_memory_equal(k.mem + 0x20200, "\x01\x02\x03\x04", 4);
	ke_teardown(&k);
}

/* The guest rewrites its OUT between exits (port + 1, OUT imm8, AL <-> OUT imm8, EAX): every exit at the same RIP reports
 * the instruction as it is now, through the translation the backend cached for that code. */
static void test_io_guest_rewrites_its_out(void **state)
{
	(void)state;
	if (!ke_available())
		skip();
	size_t len;
	void *code = load_guest("io_smc.bin", &len);
	struct ke k;
	ke_setup(&k, 3, code, len);
	for (unsigned i = 0; i < 24; i++) {
		unsigned size = (i & 1) ? 4 : 1;
		uint64_t rip = expect_io(&k, Q(size, 0, 0, 0, 1, 0x80 + i), 2);
		assert_int_equal(rip, KE_CODE + 5);
		assert_int_equal(k.mem[KE_CODE + 5], (i & 1) ? 0xe7 : 0xe6);
		assert_int_equal(ke_reg(&k, HV_X86_RAX), 0x11223344);
		skip_insn(&k, rip);
	}
	ke_teardown(&k);
}

/* The guest maps the linear page of its I/O instruction to another physical page each round (its page-table entry
 * flipped, CR3 reloaded): the same linear RIP is a different instruction at every other exit. */
static void test_io_guest_remaps_its_code(void **state)
{
	(void)state;
	if (!ke_available())
		skip();
	size_t len;
	void *code = load_guest("io_remap.bin", &len);
	struct ke k;
	ke_setup(&k, 0, code, len);
	uint64_t pdpte = 0x40000 | 3, pde = 0x41000 | 3, pte = 0x43000 | 3; /* the first round flips it to 0x42000 */
	memcpy(k.mem + KE_PDPT + 8, &pdpte, 8);                            /* 0x40000000: PDPT[1] -> PD at 0x40000 */
	memcpy(k.mem + 0x40000, &pde, 8);                                   /* PD[0] -> page table at 0x41000 */
	memcpy(k.mem + 0x41000, &pte, 8);
	memcpy(k.mem + 0x42800, "\xe6\x80\xff\xe1", 4); /* out 0x80, al; jmp rcx */
	memcpy(k.mem + 0x43800, "\xee\xff\xe1", 3);     /* out dx, al; jmp rcx */
	ke_set(&k, HV_X86_RDX, 0xf8);
	for (unsigned i = 0; i < 16; i++) {
		bool a = !(i & 1);
		uint64_t rip = expect_io(&k, a ? Q(1, 0, 0, 0, 1, 0x80) : Q(1, 0, 0, 0, 0, 0xf8), a ? 2 : 1);
		assert_int_equal(rip, 0x40000800);
		uint64_t now;
		memcpy(&now, k.mem + 0x41000, 8);
		assert_int_equal(now & ~0x60ull, (a ? 0x42000u : 0x43000u) | 3); /* the walk may set A (and D) */
		skip_insn(&k, rip);
	}
	ke_teardown(&k);
}

/* The VMM maps other host memory at the code's guest-physical page between exits: the next exit decodes the new
 * bytes (page tables, CR3 and RIP are unchanged; only the memory map says the translation is stale). */
static void test_io_code_page_remapped_by_the_vmm(void **state)
{
	(void)state;
	if (!ke_available())
		skip();
	static const uint8_t loop[] = {0xe6, 0x80, 0xeb, 0xfc}; /* out 0x80, al; jmp $-2 */
	struct ke k;
	ke_setup(&k, 3, loop, sizeof loop);
	ke_set(&k, HV_X86_RDX, 0xf8);
	uint8_t *page = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(page != MAP_FAILED);
	memcpy(page, "\xee\x90\xeb\xfc", 4); /* out dx, al; nop; jmp $-2 */
	for (unsigned round = 0; round < 3; round++) {
		for (unsigned i = 0; i < 3; i++)
			skip_insn(&k, expect_io(&k, Q(1, 0, 0, 0, 1, 0x80), 2));
		assert_int_equal(hv_vm_unmap(KE_CODE, 4096), HV_SUCCESS);
		assert_int_equal(hv_vm_map(page, KE_CODE, 4096, HV_MEMORY_READ | HV_MEMORY_WRITE | HV_MEMORY_EXEC), HV_SUCCESS);
		for (unsigned i = 0; i < 3; i++) {
			assert_int_equal(expect_io(&k, Q(1, 0, 0, 0, 0, 0xf8), 1), KE_CODE);
			skip_insn(&k, KE_CODE);
		}
		assert_int_equal(hv_vm_unmap(KE_CODE, 4096), HV_SUCCESS);
		assert_int_equal(hv_vm_map(k.mem + KE_CODE, KE_CODE, 4096, HV_MEMORY_READ | HV_MEMORY_WRITE | HV_MEMORY_EXEC),
				 HV_SUCCESS);
		ke_set(&k, HV_X86_RIP, KE_CODE);
	}
	ke_teardown(&k);
	munmap(page, 4096);
}

/* Segment state at each exit: DS loaded by the guest between exits, FS base written by the VMM; consecutive exits
 * with unchanged segment state keep the VMM's and the guest's values. */
static void test_io_segment_state_at_each_exit(void **state)
{
	(void)state;
	if (!ke_available())
		skip();
	size_t len;
	void *code = load_guest("io_segs.bin", &len);
	struct ke k;
	ke_setup(&k, 0, code, len);
	static const unsigned port[4] = {0x80, 0x82, 0x81, 0x83};
	for (unsigned i = 0; i < 16; i++) {
		skip_insn(&k, expect_io(&k, Q(1, 0, 0, 0, 1, port[i & 3]), 2));
		bool ring0 = (i & 3) < 2;
		assert_int_equal(ke_r(&k, VMCS_GUEST_DS), ring0 ? 0x10 : 0x20);
		assert_int_equal((ke_r(&k, VMCS_GUEST_DS_AR) >> 5) & 3, ring0 ? 0 : 3);
		assert_int_equal(ke_r(&k, VMCS_GUEST_FS_BASE), i < 5 ? 0 : 0x5000 + (i - 5) / 4 * 0x1000);
		assert_int_equal(ke_r(&k, VMCS_GUEST_CS), 0x08);
		assert_int_equal(ke_r(&k, VMCS_GUEST_CR3), KE_PML4);
		if ((i & 3) == 0 && i >= 4)
			ke_w(&k, VMCS_GUEST_FS_BASE, 0x5000 + (i - 4) / 4 * 0x1000); /* seen from the next exit on */
	}
	ke_teardown(&k);
}

int main(void)
{
	alarm(50); /* a hung KVM_RUN must fail the test, never hang it */
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_io_all_forms),
		cmocka_unit_test(test_io_guest_rewrites_its_out),
		cmocka_unit_test(test_io_guest_remaps_its_code),
		cmocka_unit_test(test_io_code_page_remapped_by_the_vmm),
		cmocka_unit_test(test_io_segment_state_at_each_exit),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
