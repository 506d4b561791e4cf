/* test_emu_diff.c: differential check of the emu CPU against the host CPU: random ring-3-safe integer instruction sequences run natively and in a 64-bit emu guest; registers, defined flags and memory must match. */
#include "emu_guest.h"

#include "diff_gen.h"

#if defined(__x86_64__)

struct cpu_state {
	uint64_t gpr[16];
	uint64_t rflags;
};

void diff_native_run(struct cpu_state *s, void *code);
__asm__(".text\n"
	".globl diff_native_run\n"
	"diff_native_run:\n"
	"push %rbx\n push %rbp\n push %r12\n push %r13\n push %r14\n push %r15\n"
	"push %rdi\n push %rsi\n"
	"pushq 128(%rdi)\n popfq\n"
	"mov 0(%rdi), %rax\n mov 8(%rdi), %rcx\n mov 16(%rdi), %rdx\n mov 24(%rdi), %rbx\n"
	"mov 40(%rdi), %rbp\n mov 48(%rdi), %rsi\n"
	"mov 64(%rdi), %r8\n mov 72(%rdi), %r9\n mov 80(%rdi), %r10\n mov 88(%rdi), %r11\n"
	"mov 96(%rdi), %r12\n mov 104(%rdi), %r13\n mov 112(%rdi), %r14\n mov 120(%rdi), %r15\n"
	"mov 56(%rdi), %rdi\n"
	"call *(%rsp)\n"
	"xchg %rdi, 8(%rsp)\n"
	"mov %rax, 0(%rdi)\n mov %rcx, 8(%rdi)\n mov %rdx, 16(%rdi)\n mov %rbx, 24(%rdi)\n"
	"mov %rbp, 40(%rdi)\n mov %rsi, 48(%rdi)\n"
	"mov %r8, 64(%rdi)\n mov %r9, 72(%rdi)\n mov %r10, 80(%rdi)\n mov %r11, 88(%rdi)\n"
	"mov %r12, 96(%rdi)\n mov %r13, 104(%rdi)\n mov %r14, 112(%rdi)\n mov %r15, 120(%rdi)\n"
	"pushfq\n popq 128(%rdi)\n"
	"mov 8(%rsp), %rax\n mov %rax, 56(%rdi)\n"
	"add $16, %rsp\n"
	"pop %r15\n pop %r14\n pop %r13\n pop %r12\n pop %rbp\n pop %rbx\n"
	"ret\n");

/* One random-sequence campaign in a mode: 64-bit long mode, 32-bit protected mode or real mode. */
enum { SUB_NONE, SUB_COMPAT, SUB_PROT16 };

static void diff_campaign_sub(ZydisMachineMode mode, unsigned runs, int sub);
static void diff_campaign(ZydisMachineMode mode, unsigned runs)
{
	diff_campaign_sub(mode, runs, SUB_NONE);
}

static void diff_campaign_sub(ZydisMachineMode mode, unsigned runs, int sub)
{
	bool feat[7];
	diff_gen_mode(mode, feat);
	bool legacy = mode != ZYDIS_MACHINE_MODE_LONG_64;
	uint8_t *native = mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	uint8_t *nbuf = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT, -1, 0);
	assert_true(native != MAP_FAILED && nbuf != MAP_FAILED);
	struct eg g;
	eg_create(&g);
	uint64_t data_reg = EG_DATA;
	if (mode == ZYDIS_MACHINE_MODE_LONG_64) {
		eg_long64(&g, EG_CODE);
		eg_wr(&g, VMCS_GUEST_CR4, 0x2020 | (1u << 9)); /* OSFXSR for the SSE blocks */
	} else if (mode == ZYDIS_MACHINE_MODE_LEGACY_32 && sub == SUB_COMPAT) {
		eg_long64(&g, EG_CODE); /* IA-32e mode with a 32-bit code segment: compatibility mode */
		eg_wr(&g, VMCS_GUEST_CS, SEL_CODE32);
		eg_wr(&g, VMCS_GUEST_CS_AR, 0xc09b);
	} else if (mode == ZYDIS_MACHINE_MODE_LEGACY_32) {
		eg_prot32(&g, EG_CODE);
	} else if (sub == SUB_PROT16) {
		eg_prot32(&g, 0); /* 16-bit protected mode: 16-bit code and data segments */
		eg_all_segs(&g, SEL_CODE16, 0x9b, SEL_DATA16, 0x93, 0xffff);
		eg_wr(&g, VMCS_GUEST_CS_BASE, EG_CODE);
		eg_wr(&g, VMCS_GUEST_DS_BASE, EG_DATA);
		data_reg = 0;
	} else {
		eg_real(&g, 0);
		eg_wr(&g, VMCS_GUEST_CS, EG_CODE >> 4);
		eg_wr(&g, VMCS_GUEST_CS_BASE, EG_CODE);
		eg_wr(&g, VMCS_GUEST_DS, EG_DATA >> 4);
		eg_wr(&g, VMCS_GUEST_DS_BASE, EG_DATA);
		data_reg = 0;
	}
	uint64_t rip0 = mode == ZYDIS_MACHINE_MODE_REAL_16 ? 0 : EG_CODE;
	if (sub == SUB_PROT16)
		eg_wr(&g, VMCS_GUEST_SS_BASE, 0);
	uint64_t cmp_mask = legacy ? 0xffffffffull : ~0ull;
	if (mode == ZYDIS_MACHINE_MODE_REAL_16)
		cmp_mask = 0xffffffffull;
	unsigned compared = 0;
	static struct diff_seq seq;
	for (unsigned run = 0; run < runs; run++) {
		if (!diff_gen_seq(&seq, mode, feat))
			continue;
		const uint8_t *code = seq.code, *ncode = seq.ncode, *mem0 = seq.mem0;
		unsigned len = seq.len, nlen = seq.nlen;
		uint32_t undef = seq.undef;
		const char *names = seq.names;
		struct cpu_state in;
		memcpy(in.gpr, seq.gpr, sizeof in.gpr);
		in.rflags = seq.rflags;

		memcpy(native, ncode, nlen);
		native[nlen] = 0xc3;
		memcpy(nbuf, mem0, BUF);
		struct cpu_state nat = in;
		nat.gpr[3] = (uint64_t)(uintptr_t)nbuf;
		diff_native_run(&nat, native);

		memcpy(g.mem + EG_CODE, code, len);
		g.mem[EG_CODE + len] = 0xf4;
		memcpy(g.mem + EG_DATA, mem0, BUF);
		static const hv_x86_reg_t regs[16] = {HV_X86_RAX, HV_X86_RCX, HV_X86_RDX, HV_X86_RBX, HV_X86_RSP, HV_X86_RBP,
						      HV_X86_RSI, HV_X86_RDI, HV_X86_R8, HV_X86_R9, HV_X86_R10, HV_X86_R11,
						      HV_X86_R12, HV_X86_R13, HV_X86_R14, HV_X86_R15};
		for (int i = 0; i < 16; i++)
			if (i != 4)
				eg_setreg(&g, regs[i], i == 3 ? data_reg : in.gpr[i]);
		eg_setreg(&g, HV_X86_RSP, legacy && sub != SUB_COMPAT ? 0x7000 : EG_STACK);
		eg_setreg(&g, HV_X86_RFLAGS, in.rflags);
		eg_setreg(&g, HV_X86_RIP, rip0);
		uint64_t r = eg_run(&g);
		if (r != VMX_REASON_HLT)
			fail_msg("mode %d run %u (%s): exit %llu at %#llx", mode, run, names, (unsigned long long)r,
				 (unsigned long long)eg_rd(&g, VMCS_GUEST_RIP));
		for (int i = 0; i < 16; i++) {
			if (i == 4 || i == 3 || (legacy && i >= 8))
				continue;
			uint64_t ev = eg_reg(&g, regs[i]) & cmp_mask;
			if (ev != (nat.gpr[i] & cmp_mask))
				fail_msg("mode %d run %u (%s): reg %d emu %#llx native %#llx", mode, run, names, i,
					 (unsigned long long)ev, (unsigned long long)nat.gpr[i]);
		}
		uint64_t ef = eg_reg(&g, HV_X86_RFLAGS) & ALLF & ~undef, nf = nat.rflags & ALLF & ~undef;
		if (ef != nf)
			fail_msg("mode %d run %u (%s): flags emu %#llx native %#llx (undefined %#x)", mode, run, names,
				 (unsigned long long)ef, (unsigned long long)nf, undef);
		if (memcmp(g.mem + EG_DATA, nbuf, BUF))
			fail_msg("mode %d run %u (%s): memory differs", mode, run, names);
		compared++;
	}
	print_message("mode %d: compared %u of %u random sequences\n", mode, compared, runs);
	assert_true(compared > runs / 2);
	eg_destroy(&g);
	munmap(native, 4096);
	munmap(nbuf, 4096);
}

static void test_diff_random_sequences(void **state)
{
	(void)state;
	diff_campaign(ZYDIS_MACHINE_MODE_LONG_64, 30000);
}

static void test_diff_random_sequences_prot32(void **state)
{
	(void)state;
	diff_campaign(ZYDIS_MACHINE_MODE_LEGACY_32, 10000);
}

static void test_diff_random_sequences_compat32(void **state)
{
	(void)state;
	diff_campaign_sub(ZYDIS_MACHINE_MODE_LEGACY_32, 5000, SUB_COMPAT);
}

static void test_diff_random_sequences_prot16(void **state)
{
	(void)state;
	diff_campaign_sub(ZYDIS_MACHINE_MODE_REAL_16, 5000, SUB_PROT16);
}

static void test_diff_random_sequences_real(void **state)
{
	(void)state;
	diff_campaign(ZYDIS_MACHINE_MODE_REAL_16, 10000);
}

/* DIV/IDIV with #DE cases compared against the host's own results (no native fault: inputs are chosen to be valid). */
static void test_diff_divide(void **state)
{
	(void)state;
	struct eg g;
	eg_create(&g);
	eg_long64(&g, EG_CODE);
	static const uint8_t code[] = {0x48, 0xf7, 0xf1, 0xf4}; /* div rcx; hlt */
	eg_load(&g, EG_CODE, code, sizeof code);
	for (int i = 0; i < 200; i++) {
		uint64_t d = rnd() | 1, hi = rnd() % d, lo = rnd();
		eg_setreg(&g, HV_X86_RAX, lo);
		eg_setreg(&g, HV_X86_RDX, hi);
		eg_setreg(&g, HV_X86_RCX, d);
		eg_setreg(&g, HV_X86_RIP, EG_CODE);
		assert_int_equal(eg_run(&g), VMX_REASON_HLT);
		uint64_t q, r;
		__asm__("divq %4" : "=a"(q), "=d"(r) : "a"(lo), "d"(hi), "r"(d));
		assert_int_equal(eg_reg(&g, HV_X86_RAX), q);
		assert_int_equal(eg_reg(&g, HV_X86_RDX), r);
	}
	eg_destroy(&g);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		EG_TEST(test_diff_random_sequences),
		EG_TEST(test_diff_random_sequences_prot32),
		EG_TEST(test_diff_random_sequences_real),
		EG_TEST(test_diff_random_sequences_compat32),
		EG_TEST(test_diff_random_sequences_prot16),
		EG_TEST(test_diff_divide),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
#else
int main(void)
{
	printf("test_emu_diff: skipped: the differential check runs native x86-64 code and this host is not x86-64\n");
	return 0;
}
#endif
