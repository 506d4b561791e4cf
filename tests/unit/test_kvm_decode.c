/* test_kvm_decode.c: the kvm backend's instruction decoder (lengths, memory operands, read-modify-write forms), checked against NASM's encodings. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "backend/kvm/kvm.h"

struct row {
	const char *text;
	const char *bytes;
	unsigned len;
	int mem, rmw;
};

/* 64-bit mode; bytes and lengths from nasm -f bin (bits 64). mem/rmw: -1 = not checked. */
static const struct row rows64[] = {
	{"mov eax, [rbx]", "\x8b\x03", 2, 1, 0},
	{"mov eax, [rbx+rcx*4+0x10]", "\x8b\x44\x8b\x10", 4, 1, 0},
	{"mov rax, [rsp+8]", "\x48\x8b\x44\x24\x08", 5, 1, 0},
	{"mov [rbp-0x80], r9", "\x4c\x89\x4d\x80", 4, 1, 0},
	{"mov eax, [rel $+0x100]", "\x8b\x05\xfa\x00\x00\x00", 6, 1, 0},
	{"mov byte [0x800000], 1", "\xc6\x04\x25\x00\x00\x80\x00\x01", 8, 1, 0},
	{"mov dword [0x800000], 0x12345678", "\xc7\x04\x25\x00\x00\x80\x00\x78\x56\x34\x12", 11, 1, 0},
	{"mov word [rdi], 0x1234", "\x66\xc7\x07\x34\x12", 5, 1, 0},
	{"mov qword [r12+r13*8+0x12345678], rax", "\x4b\x89\x84\xec\x78\x56\x34\x12", 8, 1, 0},
	{"add [rax], eax", "\x01\x00", 2, 1, 1},
	{"lock xadd [rcx], edx", "\xf0\x0f\xc1\x11", 4, 1, 1},
	{"movzx eax, byte [rsi]", "\x0f\xb6\x06", 3, 1, 0},
	{"movdqa [rdx], xmm1", "\x66\x0f\x7f\x0a", 4, 1, 0},
	{"vmovdqu [rax+rbx], ymm2", "\xc5\xfe\x7f\x14\x18", 5, 1, 0},
	{"vmovdqu32 [rax], zmm3", "\x62\xf1\x7e\x48\x7f\x18", 6, 1, 0},
	{"movnti [rax], eax", "\x0f\xc3\x00", 3, 1, 0},
	{"mov rax, [qword 0x1122334455667788]", "\x48\xa1\x88\x77\x66\x55\x44\x33\x22\x11", 10, 0, 0},
	{"mov al, [fs:0x10]", "\x64\x8a\x04\x25\x10\x00\x00\x00", 8, 1, 0},
	{"in al, 0x80", "\xe4\x80", 2, 0, 0},
	{"out dx, eax", "\xef", 1, 0, 0},
	{"rep outsb", "\xf3\x6e", 2, 0, 0},
	{"rep insw", "\xf3\x66\x6d", 3, 0, 0},
	{"fs outsd", "\x64\x6f", 2, 0, 0},
	{"rep stosb", "\xf3\xaa", 2, 0, 0},
	{"rep movsq", "\xf3\x48\xa5", 3, 0, 0},
	{"push qword [rax]", "\xff\x30", 2, 1, 0},
	{"pop qword [rbx]", "\x8f\x03", 2, 1, 0},
	{"cmpxchg16b [rsi]", "\x48\x0f\xc7\x0e", 4, 1, 1},
	{"bt dword [rax], 5", "\x0f\xba\x20\x05", 4, 1, 0},
	{"shl dword [rax], 3", "\xc1\x20\x03", 3, 1, 1},
	{"test byte [rax], 1", "\xf6\x00\x01", 3, 1, 0},
	{"imul eax, [rbx], 1000", "\x69\x03\xe8\x03\x00\x00", 6, 1, 0},
	{"jmp short $", "\xeb\xfe", 2, 0, 0},
	{"call $+0x1000", "\xe8\xfb\x0f\x00\x00", 5, 0, 0},
	{"mov eax, 0x12345678", "\xb8\x78\x56\x34\x12", 5, 0, 0},
	{"mov rax, 0x1122334455667788", "\x48\xb8\x88\x77\x66\x55\x44\x33\x22\x11", 10, 0, 0},
	{"xchg [rax], ecx", "\x87\x08", 2, 1, 1},
	{"inc byte [rax]", "\xfe\x00", 2, 1, 1},
	{"not qword [rax]", "\x48\xf7\x10", 3, 1, 1},
	{"cpuid", "\x0f\xa2", 2, 0, 0},
	{"rdmsr", "\x0f\x32", 2, 0, 0},
	{"wrmsr", "\x0f\x30", 2, 0, 0},
	{"hlt", "\xf4", 1, 0, 0},
	{"vmcall", "\x0f\x01\xc1", 3, -1, -1},
	{"sete byte [rax]", "\x0f\x94\x00", 3, -1, -1},
	{"cmovne eax, [rbx+4]", "\x0f\x45\x43\x04", 4, -1, -1},
	{"bswap eax", "\x0f\xc8", 2, -1, -1},
	{"bsf eax, [rcx]", "\x0f\xbc\x01", 3, -1, -1},
	{"popcnt rax, [rdx]", "\xf3\x48\x0f\xb8\x02", 5, -1, -1},
	{"movss xmm0, [rax]", "\xf3\x0f\x10\x00", 4, -1, -1},
	{"movsd [rax+8], xmm1", "\xf2\x0f\x11\x48\x08", 5, -1, -1},
	{"movups xmm2, [rbx+rcx*2]", "\x0f\x10\x14\x4b", 4, -1, -1},
	{"pshufd xmm0, [rax], 0x1b", "\x66\x0f\x70\x00\x1b", 5, -1, -1},
	{"pextrw eax, xmm1, 3", "\x66\x0f\xc5\xc1\x03", 5, -1, -1},
	{"pinsrw xmm0, [rax], 2", "\x66\x0f\xc4\x00\x02", 5, -1, -1},
	{"shufps xmm0, [rax], 0x44", "\x0f\xc6\x00\x44", 4, -1, -1},
	{"cmpps xmm0, [rax], 1", "\x0f\xc2\x00\x01", 4, -1, -1},
	{"palignr xmm0, [rax], 4", "\x66\x0f\x3a\x0f\x00\x04", 6, -1, -1},
	{"pshufb xmm0, [rax]", "\x66\x0f\x38\x00\x00", 5, -1, -1},
	{"crc32 eax, byte [rax]", "\xf2\x0f\x38\xf0\x00", 5, -1, -1},
	{"vpbroadcastd ymm0, [rax]", "\xc4\xe2\x7d\x58\x00", 5, -1, -1},
	{"vpermq ymm0, [rax], 0x4e", "\xc4\xe3\xfd\x00\x00\x4e", 6, -1, -1},
	{"vzeroupper", "\xc5\xf8\x77", 3, -1, -1},
	{"vaddps zmm0, zmm1, [rax+0x40]", "\x62\xf1\x74\x48\x58\x40\x01", 7, -1, -1},
	{"lea eax, [eax*2+ebx]", "\x67\x8d\x04\x43", 4, -1, -1},
	{"movsx rax, word [rax]", "\x48\x0f\xbf\x00", 4, -1, -1},
	{"movsxd rax, dword [rbx]", "\x48\x63\x03", 3, -1, -1},
	{"shld [rax], ebx, 4", "\x0f\xa4\x18\x04", 4, -1, -1},
	{"shrd [rax], ebx, cl", "\x0f\xad\x18", 3, -1, -1},
	{"xlatb", "\xd7", 1, -1, -1},
	{"enter 0x10, 1", "\xc8\x10\x00\x01", 4, -1, -1},
	{"ret 8", "\xc2\x08\x00", 3, -1, -1},
	{"retf", "\xcb", 1, -1, -1},
	{"int 0x21", "\xcd\x21", 2, -1, -1},
	{"int3", "\xcc", 1, -1, -1},
	{"loop $", "\xe2\xfe", 2, -1, -1},
	{"jrcxz $", "\xe3\xfe", 2, -1, -1},
	{"jz near $+0x100", "\x0f\x84\xfa\x00\x00\x00", 6, -1, -1},
	{"nop dword [rax+rax*1+0x0]", "\x0f\x1f\x04\x00", 4, -1, -1},
	{"prefetcht0 [rax]", "\x0f\x18\x08", 3, -1, -1},
	{"clflush [rax]", "\x0f\xae\x38", 3, -1, -1},
	{"lfence", "\x0f\xae\xe8", 3, -1, -1},
	{"xsave [rax]", "\x0f\xae\x20", 3, -1, -1},
	{"fld dword [rax]", "\xd9\x00", 2, -1, -1},
	{"fstp qword [rbx+8]", "\xdd\x5b\x08", 3, -1, -1},
	{"fnstsw ax", "\xdf\xe0", 2, -1, -1},
	{"rdtsc", "\x0f\x31", 2, -1, -1},
	{"rdtscp", "\x0f\x01\xf9", 3, -1, -1},
	{"swapgs", "\x0f\x01\xf8", 3, -1, -1},
	{"syscall", "\x0f\x05", 2, -1, -1},
	{"mov cr3, rax", "\x0f\x22\xd8", 3, -1, -1},
	{"mov rax, dr7", "\x0f\x21\xf8", 3, -1, -1},
	{"lgdt [rax]", "\x0f\x01\x10", 3, -1, -1},
	{"invlpg [rax]", "\x0f\x01\x38", 3, -1, -1},
	{"cmpxchg [rax], ebx", "\x0f\xb1\x18", 3, -1, -1},
	{"adc qword [rax], 0x7f", "\x48\x83\x10\x7f", 4, -1, -1},
	{"sbb byte [rax], 0x80", "\x80\x18\x80", 3, -1, -1},
	{"and qword [rax], 0x12345678", "\x48\x81\x20\x78\x56\x34\x12", 7, -1, -1},
	{"mov ax, es", "\x66\x8c\xc0", 3, -1, -1},
	{"mov ds, ax", "\x8e\xd8", 2, -1, -1},
	{"cwde", "\x98", 1, -1, -1},
	{"cqo", "\x48\x99", 2, -1, -1},
};

/* 32-bit and 16-bit code segments (bits 32 / bits 16 in nasm). */
static const struct row rows32[] = {
	{"mov eax, [ebx+ecx*4+8]", "\x8b\x44\x8b\x08", 4, -1, -1},
	{"out dx, ax", "\x66\xef", 2, -1, -1},
	{"rep insd", "\xf3\x6d", 2, -1, -1},
	{"mov eax, [0x12345678]", "\xa1\x78\x56\x34\x12", 5, -1, -1},
	{"mov [0x12345678], al", "\xa2\x78\x56\x34\x12", 5, -1, -1},
	{"push dword [eax]", "\xff\x30", 2, -1, -1},
	{"lea eax, [bx+si]", "\x67\x8d\x00", 3, -1, -1},
	{"mov ax, [bp+di+0x1234]", "\x66\x67\x8b\x83\x34\x12", 6, -1, -1},
	{"jmp 0x08:0x12345678", "\xea\x78\x56\x34\x12\x08\x00", 7, -1, -1},
	{"call far [eax]", "\xff\x18", 2, -1, -1},
	{"rep outsw", "\xf3\x66\x6f", 3, -1, -1},
	{"es lodsb", "\x26\xac", 2, -1, -1},
	{"mov dword [esp+4], 7", "\xc7\x44\x24\x04\x07\x00\x00\x00", 8, -1, -1},
	{"bound eax, [ebx]", "\x62\x03", 2, -1, -1},
	{"les eax, [ebx]", "\xc4\x03", 2, -1, -1},
	{"vmovdqu ymm0, [eax]", "\xc5\xfe\x6f\x00", 4, -1, -1},
};
static const struct row rows16[] = {
	{"mov ax, [bx+si+4]", "\x8b\x40\x04", 3, -1, -1},
	{"mov eax, [ebx+ecx*4]", "\x66\x67\x8b\x04\x8b", 5, -1, -1},
	{"out 0x80, al", "\xe6\x80", 2, -1, -1},
	{"rep outsb", "\xf3\x6e", 2, -1, -1},
	{"in ax, dx", "\xed", 1, -1, -1},
	{"mov word [0x1234], 5", "\xc7\x06\x34\x12\x05\x00", 6, -1, -1},
	{"jmp 0xf000:0xfff0", "\xea\xf0\xff\x00\xf0", 5, -1, -1},
	{"call 0x1234", "\xe8\x31\x12", 3, -1, -1},
	{"int 0x10", "\xcd\x10", 2, -1, -1},
	{"mov [bp], ax", "\x89\x46\x00", 3, -1, -1},
};

static void check_rows(const struct row *rows, size_t n, bool long64, bool def32)
{
	struct kvm_regs r;
	memset(&r, 0, sizeof r);
	for (size_t i = 0; i < n; i++) {
		const struct row *w = &rows[i];
		uint8_t buf[15];
		memset(buf, 0x90, sizeof buf);
		memcpy(buf, w->bytes, w->len);
		struct kvm_insn d;
		if (!kvm_decode(buf, sizeof buf, long64, def32, &r, &d))
			fail_msg("%s: not decoded", w->text);
		if (d.len != w->len)
			fail_msg("%s: length %u, wanted %u", w->text, d.len, w->len);
	}
}

static void test_lengths_32_and_16(void **state)
{
	(void)state;
	check_rows(rows32, sizeof rows32 / sizeof rows32[0], false, true);
	check_rows(rows16, sizeof rows16 / sizeof rows16[0], false, false);
}

static void test_lengths_and_forms_64(void **state)
{
	(void)state;
	struct kvm_regs r;
	memset(&r, 0, sizeof r);
	for (size_t i = 0; i < sizeof rows64 / sizeof rows64[0]; i++) {
		const struct row *w = &rows64[i];
		uint8_t buf[15];
		memset(buf, 0x90, sizeof buf);
		memcpy(buf, w->bytes, w->len);
		struct kvm_insn d;
		if (!kvm_decode(buf, sizeof buf, true, false, &r, &d))
			fail_msg("%s: not decoded", w->text);
		if (d.len != w->len)
			fail_msg("%s: length %u, wanted %u", w->text, d.len, w->len);
		if (w->mem >= 0 && d.mem != (bool)w->mem)
			fail_msg("%s: memory operand %d, wanted %d", w->text, d.mem, w->mem);
		if (w->rmw >= 0 && d.rmw != (bool)w->rmw)
			fail_msg("%s: read-modify-write %d, wanted %d", w->text, d.rmw, w->rmw);
	}
}

static void test_effective_addresses(void **state)
{
	(void)state;
	struct kvm_regs r;
	memset(&r, 0, sizeof r);
	r.rbx = 0x1000;
	r.rcx = 2;
	r.rsp = 0x8000;
	r.rbp = 0x9000;
	r.r12 = 0x100000;
	r.r13 = 3;
	r.rip = 0x10000;
	struct kvm_insn d;
	assert_true(kvm_decode((const uint8_t *)"\x8b\x44\x8b\x10", 4, true, false, &r, &d));
	assert_int_equal(d.ea, 0x1000 + 2 * 4 + 0x10);
	assert_int_equal(d.ea_seg, 3);
	assert_true(kvm_decode((const uint8_t *)"\x48\x8b\x44\x24\x08", 5, true, false, &r, &d));
	assert_int_equal(d.ea, 0x8008);
	assert_int_equal(d.ea_seg, 2); /* RSP base: SS */
	assert_true(kvm_decode((const uint8_t *)"\x4c\x89\x4d\x80", 4, true, false, &r, &d));
	assert_int_equal(d.ea, 0x9000 - 0x80);
	assert_true(kvm_decode((const uint8_t *)"\x8b\x05\xfa\x00\x00\x00", 6, true, false, &r, &d));
	assert_int_equal(d.ea, 0x10000 + 6 + 0xfa); /* RIP-relative: from the next instruction */
	assert_true(kvm_decode((const uint8_t *)"\x4b\x89\x84\xec\x78\x56\x34\x12", 8, true, false, &r, &d));
	assert_int_equal(d.ea, 0x100000 + 3 * 8 + 0x12345678);
	assert_true(kvm_decode((const uint8_t *)"\x64\x8a\x04\x25\x10\x00\x00\x00", 8, true, false, &r, &d));
	assert_int_equal(d.ea, 0x10);
	assert_int_equal(d.ea_seg, 4); /* FS override */
	/* 16-bit addressing (real mode): [bp+si+4] defaults to SS. */
	r.rbp = 0x100;
	r.rsi = 0x20;
	assert_true(kvm_decode((const uint8_t *)"\x8b\x42\x04", 3, false, false, &r, &d));
	assert_int_equal(d.len, 3);
	assert_int_equal(d.ea, 0x124);
	assert_int_equal(d.ea_seg, 2);
	assert_int_equal(d.opsize, 2);
	/* 32-bit code: 66 selects 16-bit operands, 67 16-bit addressing. */
	assert_true(kvm_decode((const uint8_t *)"\x66\xef", 2, false, true, &r, &d));
	assert_int_equal(d.opsize, 2);
	assert_true(kvm_decode((const uint8_t *)"\x67\x8b\x07", 3, false, true, &r, &d));
	assert_int_equal(d.addrsize, 2);
	/* Truncated input is refused, not over-read. */
	assert_false(kvm_decode((const uint8_t *)"\xc7\x04\x25\x00", 4, true, false, &r, &d));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lengths_and_forms_64),
		cmocka_unit_test(test_effective_addresses),
		cmocka_unit_test(test_lengths_32_and_16),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
