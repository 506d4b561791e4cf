/* test_emu_bcache.c: the emu decoded-block cache: a code working set larger than the block arena must run correctly (the arena's reuse drops every stale jump-cache entry), and code the VMM rewrites between runs takes effect in the next run wherever it is reached (blocks the run loop compares inline, longer ones and ones at a page's end). */
#include "emu_guest.h"

#define PAGES 48           /* 48 pages of 4095 NOPs: ~196k decoded instructions, more than the arena holds */
#define PAGE_BASE 0x100000 /* the NOP pages; EG_CODE holds the driver loop */
#define PASSES 3

/* The driver calls every NOP page PASSES times in one run; each page adds 1 to RDX. A jump-cache entry left pointing
 * into the recycled arena runs whatever was decoded over it: a crash or a wrong count. */
static void test_block_arena_recycling(void **state)
{
	(void)state;
	struct eg g;
	eg_create(&g);
	eg_long64(&g, EG_CODE);
	static const uint8_t driver[] = {
		0x31, 0xd2,                                     /* xor edx, edx */
		0xb9, PASSES, 0, 0, 0,                          /* mov ecx, PASSES */
		/* outer: */
		0xbb, 0x00, 0x00, 0x10, 0x00,                   /* mov ebx, PAGE_BASE */
		/* inner: */
		0xff, 0xd3,                                     /* call rbx */
		0x81, 0xc3, 0x00, 0x10, 0x00, 0x00,             /* add ebx, 0x1000 */
		0x81, 0xfb, 0x00, 0x00, 0x10 + PAGES / 16, 0x00, /* cmp ebx, PAGE_BASE + PAGES * 0x1000 */
		0x75, 0xf0,                                     /* jne inner */
		0xff, 0xc9,                                     /* dec ecx */
		0x75, 0xe7,                                     /* jnz outer */
		0xf4,                                           /* hlt */
	};
	_Static_assert(PAGES % 16 == 0, "the cmp immediate encodes PAGES / 16 in its third byte");
	eg_load(&g, EG_CODE, driver, sizeof driver);
	for (unsigned p = 0; p < PAGES; p++) {
		uint8_t *page = g.mem + PAGE_BASE + p * 0x1000;
		memset(page, 0x90, 0x1000);
		page[0] = 0xff; /* inc edx */
		page[1] = 0xc2;
		page[0xfff] = 0xc3; /* ret */
	}
	uint64_t r = eg_run(&g);
	assert_int_equal(r, VMX_REASON_HLT);
	assert_int_equal(eg_reg(&g, HV_X86_RDX), PASSES * PAGES);
	assert_int_equal(eg_reg(&g, HV_X86_RCX), 0);
	assert_int_equal(eg_rd(&g, VMCS_GUEST_RIP), EG_CODE + sizeof driver - 1);
	eg_destroy(&g);
}

/*
 * The VMM rewrites guest code between runs in a block the next run reaches only through other blocks (a jump the
 * JIT links directly, and the jump cache, which both outlive a run). A loop: HLT (the exit); INC EBX; JMP C;
 * C: ADD EAX, imm32; JMP back to the HLT. After a few warm-up runs the VMM changes C's immediate from 1 to 5: the next
 * run must add 5. Then it changes the first block of the run (INC EBX to DEC EBX) and also a byte the run reaches
 * last (C's immediate again), in the interpreter and in the JIT tier.
 */
static void rewrite_between_runs(const char *jit)
{
	setenv("HVX_EMU_JIT", jit, 1);
	struct eg g;
	eg_create(&g);
	eg_long64(&g, EG_CODE);
	static const uint8_t a[] = {0xf4, 0xff, 0xc3, 0xe9, 0x38, 0x00, 0x00, 0x00}; /* hlt; inc ebx; jmp EG_CODE+0x40 */
	static const uint8_t c[] = {0x05, 0x01, 0x00, 0x00, 0x00,                   /* add eax, 1 */
				    0xe9, 0xb6, 0xff, 0xff, 0xff};                  /* jmp EG_CODE */
	eg_load(&g, EG_CODE, a, sizeof a);
	eg_load(&g, EG_CODE + 0x40, c, sizeof c);
	eg_setreg(&g, HV_X86_RAX, 0);
	eg_setreg(&g, HV_X86_RBX, 0);
	uint64_t want_a = 0, want_b = 0;
	for (unsigned i = 0; i < 40; i++) {
		eg_expect_insn_exit(&g, VMX_REASON_HLT, EG_CODE, 1, 0, 0);
		assert_int_equal(eg_reg(&g, HV_X86_RAX), want_a);
		assert_int_equal(eg_reg(&g, HV_X86_RBX), want_b);
		if (i == 10)
			g.mem[EG_CODE + 0x41] = 5; /* C, reached from the run's first block by a direct jump */
		if (i == 20) {
			g.mem[EG_CODE + 2] = 0xcb; /* inc ebx -> dec ebx: the first block of the next run */
			g.mem[EG_CODE + 0x41] = 7;
		}
		want_a += i < 10 ? 1 : i < 20 ? 5 : 7;
		want_b += i < 20 ? 1 : (uint64_t)-1;
		want_a &= 0xffffffff;
		want_b &= 0xffffffff;
		eg_skip(&g);
	}
	eg_destroy(&g);
	unsetenv("HVX_EMU_JIT");
}

static void test_rewrite_between_runs_interpreter(void **state)
{
	(void)state;
	rewrite_between_runs("0");
}

static void test_rewrite_between_runs_jit(void **state)
{
	(void)state;
	rewrite_between_runs("1");
}

/*
 * The same for the three ways the run loop compares a block: a block of up to 16 bytes by two 8-byte loads (rewritten
 * in its second word), one longer than 16 bytes (rewritten in its 17th byte) and one within 16 bytes of its page's
 * end (by memcmp). A loop: HLT (the exit); JMP C; C: the block, which adds its immediates to EAX, then JMP back.
 */
enum block_kind { BLOCK_INLINE, BLOCK_LONG, BLOCK_PAGE_END };

static void rewrite_block(const char *jit, enum block_kind kind)
{
	setenv("HVX_EMU_JIT", jit, 1);
	uint64_t at = kind == BLOCK_PAGE_END ? EG_CODE + 0xff4 : EG_CODE + 0x80;
	struct eg g;
	eg_create(&g);
	eg_long64(&g, EG_CODE);
	uint8_t a[6] = {0xf4, 0xe9}; /* hlt; jmp C */
	int32_t to_c = (int32_t)(at - (EG_CODE + sizeof a));
	memcpy(a + 2, &to_c, 4);
	/* inline: nop x 4; add eax, 1 (imm at bytes 5-8). long: nop x 10; add eax, 1; add eax, 2 (imm at bytes 16-19).
	 * page end: add eax, 1. Then jmp EG_CODE. */
	uint8_t c[32];
	size_t n = kind == BLOCK_INLINE ? 4 : kind == BLOCK_LONG ? 10 : 0, patch, shift;
	memset(c, 0x90, n);
	c[n++] = 0x05, c[n++] = 1, c[n++] = 0, c[n++] = 0, c[n++] = 0;
	patch = kind == BLOCK_INLINE ? n - 1 : n - 4; /* inline: the immediate's top byte, in the second word */
	shift = kind == BLOCK_INLINE ? 24 : 0;
	if (kind == BLOCK_LONG) {
		patch = n + 1;
		c[n++] = 0x05, c[n++] = 2, c[n++] = 0, c[n++] = 0, c[n++] = 0;
	}
	c[n++] = 0xe9;
	int32_t back = (int32_t)(EG_CODE - (at + n + 4));
	memcpy(c + n, &back, 4);
	n += 4;
	assert_true(kind == BLOCK_INLINE ? n <= 16 && patch >= 8 : kind == BLOCK_LONG ? patch == 16 : n <= 16);
	assert_true((at & 0xfff) + n <= 0x1000); /* one block: it does not cross its page */
	eg_load(&g, EG_CODE, a, sizeof a);
	eg_load(&g, at, c, n);
	eg_setreg(&g, HV_X86_RAX, 0);
	uint64_t want = 0, add = kind == BLOCK_LONG ? 3 : 1;
	for (unsigned i = 0; i < 30; i++) {
		eg_expect_insn_exit(&g, VMX_REASON_HLT, EG_CODE, 1, 0, 0);
		assert_int_equal(eg_reg(&g, HV_X86_RAX), want);
		if (i == 10 || i == 20) {
			g.mem[at + patch] += 4; /* one of the block's immediates */
			add += 4ull << shift;
		}
		want = (want + add) & 0xffffffff;
		eg_skip(&g);
	}
	eg_destroy(&g);
	unsetenv("HVX_EMU_JIT");
}

static void test_rewrite_inline_compared_block(void **state)
{
	(void)state;
	rewrite_block("0", BLOCK_INLINE);
	rewrite_block("1", BLOCK_INLINE);
}

static void test_rewrite_long_block(void **state)
{
	(void)state;
	rewrite_block("0", BLOCK_LONG);
	rewrite_block("1", BLOCK_LONG);
}

static void test_rewrite_block_at_page_end(void **state)
{
	(void)state;
	rewrite_block("0", BLOCK_PAGE_END);
	rewrite_block("1", BLOCK_PAGE_END);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		EG_TEST(test_block_arena_recycling),
		EG_TEST(test_rewrite_between_runs_interpreter),
		EG_TEST(test_rewrite_between_runs_jit),
		EG_TEST(test_rewrite_inline_compared_block),
		EG_TEST(test_rewrite_long_block),
		EG_TEST(test_rewrite_block_at_page_end),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
