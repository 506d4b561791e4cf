/* test_emu_insns.c: emu instruction groups beyond the differential test: SSE2, REP string operations, locked and wide compare-exchange, ENTER/LEAVE, SYSCALL/SYSRET, CPUID contents, unimplemented-opcode counting. */
#include "emu_guest.h"

#define SLOT(n) (0x10000u + 64u * (n))

static void setup(struct eg *g, unsigned slot)
{
	eg_create(g);
	eg_load_file(g, 0x10000, "insns64");
	eg_long64(g, SLOT(slot));
	eg_wr(g, VMCS_GUEST_CR4, 0x2020 | (1u << 9)); /* OSFXSR */
	eg_setreg(g, HV_X86_RBX, EG_DATA);
}

static void run_to_hlt(struct eg *g)
{
	uint64_t r = eg_run(g);
	if (r != VMX_REASON_HLT)
		fail_msg("exit %llu at %#llx", (unsigned long long)r, (unsigned long long)eg_rd(g, VMCS_GUEST_RIP));
}

static void test_sse2(void **state)
{
	(void)state;
	struct eg g;
	setup(&g, 0);
	uint32_t v[4] = {1, 0x80000000u, 0, 7};
	memcpy(g.mem + EG_DATA, v, 16);
	eg_setreg(&g, HV_X86_RCX, 7);
	run_to_hlt(&g);
	uint32_t out[4];
	memcpy(out, g.mem + EG_DATA + 16, 16);
	assert_int_equal(out[0], 2);
	assert_int_equal(out[1], 0);
	assert_int_equal(out[2], 0);
	assert_int_equal(out[3], 14);
	assert_int_equal(eg_reg(&g, HV_X86_RAX), 0xeffe); /* mask of the zero bytes */
	assert_int_equal(eg_reg(&g, HV_X86_RDX), 49);
	assert_int_equal(eg_reg(&g, HV_X86_RFLAGS) & 0x8d5, 0x40); /* UCOMISD equal: ZF only */
	eg_destroy(&g);
}

static void test_rep_strings(void **state)
{
	(void)state;
	struct eg g;
	setup(&g, 1);
	for (int i = 0; i < 100; i++)
		g.mem[EG_DATA + i] = (uint8_t)(i * 3);
	run_to_hlt(&g);
	assert_memory_equal(g.mem + EG_DATA + 0x100, g.mem + EG_DATA, 100);
	for (int i = 0; i < 16; i++)
		assert_int_equal(*(uint64_t *)(void *)(g.mem + EG_DATA + 0x200 + 8 * i), 0x1122334455667788ull);
	assert_int_equal(eg_reg(&g, HV_X86_RCX), 0);
	assert_int_equal(eg_reg(&g, HV_X86_RDI), EG_DATA + 0x280);
	eg_destroy(&g);

	setup(&g, 2);
	for (int i = 0; i < 64; i++)
		g.mem[EG_DATA + i] = g.mem[EG_DATA + 0x100 + i] = (uint8_t)i;
	g.mem[EG_DATA + 10] = 0xee;  /* first difference at index 10 */
	g.mem[EG_DATA + 0x100 + 20] = 0x42;
	run_to_hlt(&g);
	assert_int_equal(eg_reg(&g, HV_X86_R8), 64 - 11);  /* REPE CMPSB stopped after comparing byte 10 */
	assert_int_equal(eg_reg(&g, HV_X86_RCX), 64 - 21); /* REPNE SCASB found 0x42 at index 20 */
	assert_int_equal(eg_reg(&g, HV_X86_RDI), EG_DATA + 0x100 + 21);
	eg_destroy(&g);
}

static void test_locked_and_wide_exchange(void **state)
{
	(void)state;
	struct eg g;
	setup(&g, 3);
	*(uint64_t *)(void *)(g.mem + EG_DATA + 0x40) = 100;
	memset(g.mem + EG_DATA + 0x60, 0, 16); /* equals RDX:RAX = 0 */
	run_to_hlt(&g);
	assert_int_equal(*(uint64_t *)(void *)(g.mem + EG_DATA + 0x40), 107);
	assert_int_equal(*(uint64_t *)(void *)(g.mem + EG_DATA + 0x60), 5);
	assert_int_equal(*(uint64_t *)(void *)(g.mem + EG_DATA + 0x68), 9);
	assert_int_equal(eg_reg(&g, HV_X86_RFLAGS) & 0x40, 0x40);
	assert_int_equal(eg_reg(&g, HV_X86_RSP), EG_STACK);
	eg_destroy(&g);
}

static void test_syscall_sysret(void **state)
{
	(void)state;
	struct eg g;
	setup(&g, 4);
	assert_int_equal(hv_vcpu_write_msr(g.vcpu, 0xc0000081, (0x40ull << 48) | (0x28ull << 32)), HV_SUCCESS);
	assert_int_equal(hv_vcpu_write_msr(g.vcpu, 0xc0000082, SLOT(5)), HV_SUCCESS);
	assert_int_equal(hv_vcpu_write_msr(g.vcpu, 0xc0000084, 0x200), HV_SUCCESS);
	assert_int_equal(eg_rd(&g, VMCS_GUEST_IA32_EFER), 0x500);
	eg_wr(&g, VMCS_GUEST_IA32_EFER, 0x501); /* SCE */
	eg_setreg(&g, HV_X86_RFLAGS, 0x202);
	eg_expect_insn_exit(&g, VMX_REASON_VMCALL, SLOT(4) + 2, 3, 0, 0);
	assert_int_equal(eg_reg(&g, HV_X86_R12), SLOT(4) + 2);
	assert_int_equal(eg_reg(&g, HV_X86_R13), 0x202);
	assert_int_equal(eg_rd(&g, VMCS_GUEST_CS), 0x53);
	assert_int_equal(eg_rd(&g, VMCS_GUEST_SS), 0x4b);
	assert_int_equal(eg_rd(&g, VMCS_GUEST_SS_AR) & 0x60, 0x60); /* CPL 3 */
	assert_int_equal(eg_reg(&g, HV_X86_RFLAGS) & 0x200, 0x200);
	eg_destroy(&g);
}

static void test_unimplemented_counted(void **state)
{
	(void)state;
	struct eg g;
	eg_create(&g);
	eg_long64(&g, EG_CODE);
	static const uint8_t code[] = {0x0f, 0x0d, 0x00, 0xf4, 0x0f, 0x77, 0xf4}; /* prefetch(w) [rax]; hlt; emms; hlt */
	eg_load(&g, EG_CODE, code, sizeof code);
	eg_wr(&g, VMCS_CTRL_EXC_BITMAP, 1u << 6);
	eg_expect_insn_exit(&g, VMX_REASON_HLT, EG_CODE + 3, 1, 0, 0);
	eg_skip(&g);
	uint64_t before = hvx_emu_unimplemented_count();
	assert_int_equal(eg_run(&g), VMX_REASON_EXC_NMI); /* MMX is not implemented: #UD, counted */
	assert_int_equal(eg_rd(&g, VMCS_RO_VMEXIT_IRQ_INFO), 0x80000306u);
	assert_int_equal(hvx_emu_unimplemented_count(), before + 1);
	eg_destroy(&g);
}

static void test_iret_forms(void **state)
{
	(void)state;
	struct eg g;
	/* 64-bit: #UD handler skips the UD2 and IRETQs back */
	eg_create(&g);
	eg_long64(&g, EG_CODE);
	static const uint8_t code[] = {0x0f, 0x0b, 0xf4};
	static const uint8_t handler[] = {0x48, 0x83, 0x04, 0x24, 0x02, 0x48, 0xcf}; /* add qword [rsp], 2; iretq */
	eg_load(&g, EG_CODE, code, sizeof code);
	eg_load(&g, 0x20000, handler, sizeof handler);
	eg_put64(&g, EG_IDT + 6 * 16, 0x0000 | ((uint64_t)SEL_CODE64 << 16) | (0x8eull << 40) | (0x0002ull << 48));
	eg_put64(&g, EG_IDT + 6 * 16 + 8, 0);
	eg_wr(&g, VMCS_GUEST_IDTR_LIMIT, 0xfff);
	eg_expect_insn_exit(&g, VMX_REASON_HLT, EG_CODE + 2, 1, 0, 0);
	assert_int_equal(eg_reg(&g, HV_X86_RSP), EG_STACK);
	eg_destroy(&g);
	/* 32-bit: IRETD from CPL 0 to CPL 3 (pops EIP, CS, EFLAGS, ESP, SS) */
	eg_create(&g);
	static const uint8_t k[] = {0x6a, SEL_UDATA, 0x68, 0x00, 0x00, 0x06, 0x00, 0x68, 0x02, 0x02, 0x00, 0x00,
				    0x6a, SEL_UCODE32, 0x68, 0x00, 0x00, 0x03, 0x00, 0xcf};
	/* push 0x3b; push 0x60000; push 0x202; push 0x33; push 0x30000; iretd */
	static const uint8_t u[] = {0x0f, 0x01, 0xc1}; /* vmcall */
	eg_load(&g, 0x10000, k, sizeof k);
	eg_load(&g, 0x30000, u, sizeof u);
	eg_prot32(&g, 0x10000);
	eg_expect_insn_exit(&g, VMX_REASON_VMCALL, 0x30000, 3, 0, 0);
	assert_int_equal(eg_rd(&g, VMCS_GUEST_CS), SEL_UCODE32);
	assert_int_equal(eg_rd(&g, VMCS_GUEST_SS), SEL_UDATA);
	assert_int_equal(eg_reg(&g, HV_X86_RSP), 0x60000);
	assert_int_equal(eg_reg(&g, HV_X86_RFLAGS), 0x202);
	eg_destroy(&g);
}

static void test_sysenter_sysexit(void **state)
{
	(void)state;
	struct eg g;
	eg_create(&g);
	static const uint8_t user[] = {0x0f, 0x34};                               /* sysenter */
	static const uint8_t kern[] = {0xbe, 7, 0, 0, 0, 0x0f, 0x35};             /* mov esi, 7; sysexit */
	static const uint8_t back[] = {0x0f, 0x01, 0xc1};                         /* vmcall */
	eg_load(&g, 0x10000, user, sizeof user);
	eg_load(&g, 0x20000, kern, sizeof kern);
	eg_load(&g, 0x30000, back, sizeof back);
	eg_prot32(&g, 0x10000);
	eg_all_segs(&g, SEL_UCODE32, 0xc0fb, SEL_UDATA, 0xc0f3, 0xffffffff);
	eg_wr(&g, VMCS_GUEST_IA32_SYSENTER_CS, SEL_CODE32);
	eg_wr(&g, VMCS_GUEST_SYSENTER_EIP, 0x20000);
	eg_wr(&g, VMCS_GUEST_SYSENTER_ESP, 0x70000);
	eg_setreg(&g, HV_X86_RDX, 0x30000);
	eg_setreg(&g, HV_X86_RCX, 0x61000);
	eg_expect_insn_exit(&g, VMX_REASON_VMCALL, 0x30000, 3, 0, 0);
	assert_int_equal(eg_reg(&g, HV_X86_RSI), 7);
	assert_int_equal(eg_rd(&g, VMCS_GUEST_CS), (SEL_CODE32 + 16) | 3);
	assert_int_equal(eg_rd(&g, VMCS_GUEST_SS), (SEL_CODE32 + 24) | 3);
	assert_int_equal(eg_reg(&g, HV_X86_RSP), 0x61000);
	eg_destroy(&g);
}

/* A guest store into the block being executed takes effect for the very next instruction. */
static void test_self_modifying_code(void **state)
{
	(void)state;
	struct eg g;
	eg_create(&g);
	eg_long64(&g, EG_CODE);
	/* lea rdi, [rip + 3]; mov byte [rdi], 0xf4; nop (becomes HLT); mov eax, 1; hlt */
	static const uint8_t code[] = {0x48, 0x8d, 0x3d, 0x03, 0x00, 0x00, 0x00, 0xc6, 0x07, 0xf4,
				       0x90, 0xb8, 0x01, 0x00, 0x00, 0x00, 0xf4};
	eg_load(&g, EG_CODE, code, sizeof code);
	eg_setreg(&g, HV_X86_RAX, 0);
	eg_expect_insn_exit(&g, VMX_REASON_HLT, EG_CODE + 10, 1, 0, 0);
	assert_int_equal(eg_reg(&g, HV_X86_RAX), 0);
	/* The host rewrites guest code between runs: the next run sees the new bytes. */
	static const uint8_t code2[] = {0xb8, 0x02, 0x00, 0x00, 0x00, 0xf4}; /* mov eax, 2; hlt */
	eg_load(&g, EG_CODE + 0x100, code2, sizeof code2);
	eg_setreg(&g, HV_X86_RIP, EG_CODE + 0x100);
	eg_expect_insn_exit(&g, VMX_REASON_HLT, EG_CODE + 0x105, 1, 0, 0);
	g.mem[EG_CODE + 0x101] = 0x03;
	eg_setreg(&g, HV_X86_RIP, EG_CODE + 0x100);
	eg_expect_insn_exit(&g, VMX_REASON_HLT, EG_CODE + 0x105, 1, 0, 0);
	assert_int_equal(eg_reg(&g, HV_X86_RAX), 3);
	eg_destroy(&g);
}

#if defined(__x86_64__)
#include "../guests/c/workload.c"

/* Compiled C (gcc/clang -O2, vectorized loops, SSE2 doubles, divisions, jump tables) gives the same results as on the host. */
static void test_compiled_c_workload(void **state)
{
	(void)state;
	struct eg g;
	eg_create(&g);
	eg_load_file(&g, 0x10000, "workload");
	eg_long64(&g, 0x10000);
	eg_wr(&g, VMCS_GUEST_CR4, 0x2020 | (1u << 9));
	run_to_hlt(&g);
	struct workload_result native, emu;
	uint8_t *scratch = calloc(1, 65536);
	memset(&native, 0, sizeof native);
	workload_run(&native, scratch);
	free(scratch);
	memcpy(&emu, g.mem + 0x90000, sizeof emu);
	assert_int_equal(emu.primes, native.primes);
	assert_int_equal(emu.sort_checksum, native.sort_checksum);
	assert_int_equal(emu.crc, native.crc);
	assert_int_equal(emu.divs, native.divs);
	assert_int_equal(emu.fp_bits, native.fp_bits);
	assert_int_equal(emu.strlen_sum, native.strlen_sum);
	assert_int_equal(emu.switch_sum, native.switch_sum);
	assert_int_equal(emu.memops, native.memops);
	assert_int_equal(emu.ld_lo, native.ld_lo);
	assert_int_equal(emu.ld_hi, native.ld_hi);
	assert_int_equal(emu.ld_int, native.ld_int);
	assert_int_equal(emu.primes, 2262);
	eg_destroy(&g);
}
#else
static void test_compiled_c_workload(void **state)
{
	(void)state;
	print_message("skipped: the C workload guest is built for x86-64 hosts only\n");
}
#endif

/*
 * Instructions retired (hvx_emu_instructions_retired) count every instruction that completed before an exit or a
 * fault, also those earlier in the same decoded block, in the interpreter and the JIT alike. The guest: a counted
 * loop of 5 instructions run 10 times, then 4 ALU instructions and an OUT (exit) in one block; after the OUT, 6
 * instructions and a load from an unmapped page (EPT violation) in one block.
 */
static void retired_counts(const char *jit)
{
	setenv("HVX_EMU_JIT", jit, 1);
	struct eg g;
	eg_create(&g);
	eg_long64(&g, EG_CODE);
	eg_controls(&g, CPU_BASED_HLT | CPU_BASED_UNCOND_IO, 0);
	static const uint8_t code[] = {
		0xb9, 0x0a, 0x00, 0x00, 0x00, /* mov ecx, 10 */
		0x31, 0xc0,                   /* L: xor eax, eax */
		0x01, 0xc3,                   /* add ebx, eax */
		0xff, 0xc0,                   /* inc eax */
		0xff, 0xc9,                   /* dec ecx */
		0x75, 0xf6,                   /* jnz L */
		0x31, 0xd2,                   /* xor edx, edx */
		0xff, 0xc2,                   /* inc edx */
		0x01, 0xd0,                   /* add eax, edx */
		0x09, 0xc0,                   /* or eax, eax */
		0xe6, 0x80,                   /* out 0x80, al */
		0xff, 0xc2, 0xff, 0xc2, 0xff, 0xc2, /* inc edx (x 6: long enough for the JIT to translate the block, */
		0xff, 0xc2, 0xff, 0xc2, 0xff, 0xc2, /* whose load then faults in its slow path) */
		0x8b, 0x04, 0x25, 0x00, 0x00, 0x00, 0x01, /* mov eax, [0x1000000] (beyond guest memory) */
		0xf4,
	};
	eg_load(&g, EG_CODE, code, sizeof code);
	uint64_t r0 = hvx_emu_instructions_retired();
	assert_int_equal(eg_run(&g), VMX_REASON_IO);
	assert_int_equal(hvx_emu_instructions_retired() - r0, 1 + 10 * 5 + 4);
	eg_skip(&g);
	r0 = hvx_emu_instructions_retired();
	assert_int_equal(eg_run(&g), VMX_REASON_EPT_VIOLATION);
	assert_int_equal(hvx_emu_instructions_retired() - r0, 6);
	assert_int_equal(eg_reg(&g, HV_X86_RDX), 7);
	eg_destroy(&g);
	unsetenv("HVX_EMU_JIT");
}

static void test_retired_counts_interpreter(void **state)
{
	(void)state;
	retired_counts("0");
}

static void test_retired_counts_jit(void **state)
{
	(void)state;
	retired_counts("1");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		EG_TEST(test_retired_counts_interpreter),
		EG_TEST(test_retired_counts_jit),
		EG_TEST(test_sse2),
		EG_TEST(test_rep_strings),
		EG_TEST(test_locked_and_wide_exchange),
		EG_TEST(test_syscall_sysret),
		EG_TEST(test_unimplemented_counted),
		EG_TEST(test_iret_forms),
		EG_TEST(test_sysenter_sysexit),
		EG_TEST(test_compiled_c_workload),
		EG_TEST(test_self_modifying_code),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
