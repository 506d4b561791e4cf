/* test_emu_jit_emit.c: the JIT's x86-64 encoder never writes past the end of its buffer, also when a jump's rel32 is patched after the buffer ran out (the code cache's W^X window ends there: that write crashed the Linux boot). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "backend/emu/jit/x86emit.h"

static void check_jump_at_end(unsigned room, bool jcc)
{
	uint8_t mem[32];
	memset(mem, 0xaa, sizeof mem);
	struct xbuf b = {mem, mem + room, false};
	while ((size_t)(b.end - b.p) > (jcc ? 5u : 4u)) /* leave less room than the jump needs */
		x1(&b, 0x90);
	uint8_t *at = jcc ? xjcc32(&b, 4) : xjmp32(&b);
	assert_true(b.full);
	assert_null(at);
	xpatch(at, mem); /* what the translator does next */
	for (unsigned i = room; i < sizeof mem; i++)
		assert_int_equal(mem[i], 0xaa); /* nothing past the end */
}

static void test_jump_rel32_past_end(void **state)
{
	(void)state;
	for (unsigned room = 0; room < 12; room++) {
		check_jump_at_end(room, false);
		check_jump_at_end(room, true);
	}
}

static void test_jump_rel32_fits(void **state)
{
	(void)state;
	uint8_t mem[16] = {0};
	struct xbuf b = {mem, mem + sizeof mem, false};
	uint8_t *at = xjmp32(&b);
	assert_ptr_equal(at, mem + 1);
	xpatch(at, mem + 16);
	assert_int_equal(mem[0], 0xe9);
	assert_int_equal(mem[1], 11); /* rel32 from the end of the 5-byte jmp */
	at = xjcc32(&b, 5);
	assert_ptr_equal(at, mem + 7);
	assert_false(b.full);
	assert_int_equal(mem[5], 0x0f);
	assert_int_equal(mem[6], 0x85);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_jump_rel32_past_end),
		cmocka_unit_test(test_jump_rel32_fits),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
