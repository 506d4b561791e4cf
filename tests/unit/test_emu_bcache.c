/* test_emu_bcache.c: the emu decoded-block cache under pressure: a code working set larger than the block arena must run correctly (the arena's reuse drops every stale jump-cache entry). */
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		EG_TEST(test_block_arena_recycling),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
