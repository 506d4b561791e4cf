/* test_mmio.c: unit tests of the MMIO emulator core: MOV forms, zero/sign extension, ALU flags, string forms, page walks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "mmio_internal.h"

/* Guest: 1 MiB of RAM at 0; everything at or above DEV is a device with 16 byte registers. */
#define RAMSZ 0x100000u
#define DEV 0xfee00000ull
static uint8_t ram[RAMSZ];
static uint8_t dev[16];
static unsigned dev_reads, dev_writes;

static int ram_read(void *ctx, uint64_t gpa, void *buf, size_t len)
{
	(void)ctx;
	if (gpa >= RAMSZ || len > RAMSZ - gpa)
		return -1;
	memcpy(buf, ram + gpa, len);
	return 0;
}
static int ram_write(void *ctx, uint64_t gpa, const void *buf, size_t len)
{
	(void)ctx;
	if (gpa >= RAMSZ || len > RAMSZ - gpa)
		return -1;
	memcpy(ram + gpa, buf, len);
	return 0;
}
static int dev_read(void *ctx, uint64_t gpa, unsigned size, uint64_t *v)
{
	(void)ctx;
	uint64_t x = 0;
	memcpy(&x, dev + ((gpa - DEV) & 15), size);
	*v = x;
	dev_reads++;
	return 0;
}
static int dev_write(void *ctx, uint64_t gpa, unsigned size, uint64_t v)
{
	(void)ctx;
	memcpy(dev + ((gpa - DEV) & 15), &v, size);
	dev_writes++;
	return 0;
}
static const struct hvx_mmio_ops ops = {ram_read, ram_write, dev_read, dev_write};

static void cpu64(struct mmio_cpu *c)
{
	memset(c, 0, sizeof *c);
	c->code_bits = 64;
	c->cr0 = 0x80000011;
	c->cr4 = 0x20;
	c->efer = 0x500;
	c->cr3 = 0x1000;
	c->rip = 0x400000;
	c->rflags = 2;
	/* identity map the first GiB with a 1 GiB page and 0xfee00000 with a 2 MiB page */
	memset(ram + 0x1000, 0, 0x3000);
	uint64_t e;
	e = 0x2000 | 3;
	memcpy(ram + 0x1000, &e, 8);
	e = 0x83;                                 /* PDPT[0]: 1 GiB page at 0 */
	memcpy(ram + 0x2000, &e, 8);
	e = 0x3000 | 3;                           /* PDPT[3] -> PD */
	memcpy(ram + 0x2000 + 3 * 8, &e, 8);
	e = 0xfee00000ull | 0x83;                 /* PD[0x1f7]: 2 MiB page */
	memcpy(ram + 0x3000 + 0x1f7 * 8, &e, 8);
	memset(dev, 0, sizeof dev);
	dev_reads = dev_writes = 0;
}

static hv_return_t run(struct mmio_cpu *c, const char *bytes, unsigned len, struct hvx_mmio_access *a)
{
	return mmio_execute(c, (const uint8_t *)bytes, len, &ops, NULL, a);
}

static void mov_store_and_load(void **state)
{
	(void)state;
	struct mmio_cpu c;
	struct hvx_mmio_access a;
	cpu64(&c);
	c.gpr[3] = DEV;
	c.gpr[0] = 0x11223344aabbccddull;
	assert_int_equal(run(&c, "\x89\x43\x04", 3, &a), HV_SUCCESS);     /* mov [rbx+4], eax */
	assert_int_equal(a.size, 4);
	assert_true(a.write);
	assert_int_equal(a.value, 0xaabbccdd);
	assert_int_equal(a.length, 3);
	assert_int_equal(c.rip, 0x400003);
	assert_int_equal(dev[4], 0xdd);
	assert_int_equal(run(&c, "\x8b\x4b\x04", 3, &a), HV_SUCCESS);     /* mov ecx, [rbx+4] */
	assert_int_equal(c.gpr[1], 0xaabbccdd);
	assert_true(c.gpr_dirty & 2);
	c.gpr[1] = ~0ull;
	assert_int_equal(run(&c, "\x66\x8b\x4b\x04", 4, &a), HV_SUCCESS); /* mov cx, [rbx+4]: merge */
	assert_int_equal(c.gpr[1], 0xffffffffffffccddull);
	assert_int_equal(run(&c, "\x8a\x63\x05", 3, &a), HV_SUCCESS);     /* mov ah, [rbx+5] */
	assert_int_equal((c.gpr[0] >> 8) & 0xff, 0xcc);
	assert_int_equal(run(&c, "\xc7\x03\x78\x56\x34\x12", 6, &a), HV_SUCCESS); /* mov dword [rbx], imm */
	assert_int_equal(a.value, 0x12345678);
	assert_int_equal(run(&c, "\x48\x8b\x13", 3, &a), HV_SUCCESS);         /* mov rdx, [rbx]: 8 bytes */
	assert_int_equal(a.size, 8);
	assert_int_equal(c.gpr[2] & 0xffffffff, 0x12345678);
}

static void extensions(void **state)
{
	(void)state;
	struct mmio_cpu c;
	cpu64(&c);
	c.gpr[3] = DEV;
	dev[0] = 0x80;
	dev[1] = 0xff;
	assert_int_equal(run(&c, "\x0f\xb6\x03", 3, NULL), HV_SUCCESS);       /* movzx eax, byte [rbx] */
	assert_int_equal(c.gpr[0], 0x80);
	assert_int_equal(run(&c, "\x48\x0f\xbe\x03", 4, NULL), HV_SUCCESS);   /* movsx rax, byte [rbx] */
	assert_int_equal(c.gpr[0], 0xffffffffffffff80ull);
	assert_int_equal(run(&c, "\x0f\xbf\x03", 3, NULL), HV_SUCCESS);       /* movsx eax, word [rbx] */
	assert_int_equal(c.gpr[0], 0xffffff80u);
	assert_int_equal(c.gpr[0] >> 32, 0);
}

static void alu_flags(void **state)
{
	(void)state;
	struct mmio_cpu c;
	cpu64(&c);
	c.gpr[3] = DEV;
	dev[0] = 0x0f;
	assert_int_equal(run(&c, "\x83\x0b\x30", 3, NULL), HV_SUCCESS);       /* or dword [rbx], 0x30 */
	assert_int_equal(dev[0], 0x3f);
	assert_true(c.rflags_dirty);
	assert_int_equal(c.rflags & 0x8d5, 0x04);                                   /* PF (0x3f has 6 bits) */
	assert_int_equal(run(&c, "\xf7\x03\x00\x01\x00\x00", 6, NULL), HV_SUCCESS); /* test dword [rbx], 0x100 */
	assert_true(c.rflags & 0x40);                                               /* ZF */
	assert_int_equal(dev_writes, 1);                                            /* TEST does not write */
	assert_int_equal(run(&c, "\x83\x3b\x40", 3, NULL), HV_SUCCESS);       /* cmp dword [rbx], 0x40 */
	assert_true(c.rflags & 0x01);                                               /* CF: 0x3f < 0x40 */
	assert_true(c.rflags & 0x80);                                               /* SF */
	assert_int_equal(run(&c, "\x83\x23\xf0", 3, NULL), HV_SUCCESS);       /* and dword [rbx], -16 */
	assert_int_equal(dev[0], 0x30);
	assert_false(c.rflags & 0x01);
	c.rflags |= 1;
	dev[0] = 0xff;
	dev[1] = dev[2] = dev[3] = 0xff;
	assert_int_equal(run(&c, "\xff\x03", 2, NULL), HV_SUCCESS);           /* inc dword [rbx]: wraps, CF kept */
	assert_int_equal(dev[0], 0);
	assert_true(c.rflags & 0x40);
	assert_true(c.rflags & 0x01);
	c.gpr[0] = 5;
	assert_int_equal(run(&c, "\x03\x03", 2, NULL), HV_SUCCESS);           /* add eax, [rbx] */
	assert_int_equal(c.gpr[0], 5);
	assert_int_equal(run(&c, "\x87\x03", 2, NULL), HV_SUCCESS);           /* xchg [rbx], eax */
	assert_int_equal(dev[0], 5);
	assert_int_equal(c.gpr[0], 0);
}

static void string_forms(void **state)
{
	(void)state;
	struct mmio_cpu c;
	struct hvx_mmio_access a;
	cpu64(&c);
	c.gpr[7] = DEV;
	c.gpr[0] = 0xab;
	c.gpr[1] = 4;
	assert_int_equal(run(&c, "\xf3\xaa", 2, &a), HV_SUCCESS);             /* rep stosb */
	assert_int_equal(a.repeats, 4);
	assert_int_equal(dev_writes, 4);
	assert_memory_equal(dev, "\xab\xab\xab\xab", 4);
	assert_int_equal(c.gpr[1], 0);
	assert_int_equal(c.gpr[7], DEV + 4);
	/* movsd from RAM to the device and back */
	memcpy(ram + 0x8000, "\x01\x02\x03\x04", 4);
	c.gpr[6] = 0x8000;
	c.gpr[7] = DEV + 8;
	assert_int_equal(run(&c, "\xa5", 1, &a), HV_SUCCESS);             /* movsd */
	assert_memory_equal(dev + 8, "\x01\x02\x03\x04", 4);
	assert_int_equal(c.gpr[6], 0x8004);
	c.gpr[6] = DEV + 8;
	c.gpr[7] = 0x9000;
	c.rflags |= 0x400;                                                          /* DF: addresses go down */
	assert_int_equal(run(&c, "\xa5", 1, &a), HV_SUCCESS);
	assert_memory_equal(ram + 0x9000, "\x01\x02\x03\x04", 4);
	assert_int_equal(c.gpr[7], 0x9000 - 4);
}

static void unsupported_and_modes(void **state)
{
	(void)state;
	struct mmio_cpu c;
	cpu64(&c);
	uint64_t rip = c.rip;
	assert_int_equal(run(&c, "\xd9\x03", 2, NULL), HV_UNSUPPORTED);       /* fld dword [rbx] */
	assert_int_equal(run(&c, "\x0f\x0b", 2, NULL), HV_UNSUPPORTED);       /* ud2 */
	assert_int_equal(run(&c, "\x0f", 1, NULL), HV_UNSUPPORTED);           /* truncated */
	assert_int_equal(c.rip, rip);
	/* 16-bit real mode: mov [bx], al (DS:BX = ffff:0010 = 0x100000, above RAM) with the IP wrapping at 64 KiB */
	memset(&c, 0, sizeof c);
	c.code_bits = 16;
	c.rip = 0xfffe;
	c.gpr[0] = 0x42;
	c.gpr[3] = 0x10;
	c.seg_base[MMIO_SEG_DS] = 0xffff0;
	assert_int_equal(run(&c, "\x88\x07", 2, NULL), HV_SUCCESS);
	assert_int_equal(dev[0], 0x42);
	assert_int_equal(c.rip, 0);
}

static void page_walks(void **state)
{
	(void)state;
	struct mmio_cpu c;
	uint64_t gpa;
	cpu64(&c);
	assert_int_equal(mmio_translate(&c, &ops, NULL, 0x12345678, &gpa), 0);     /* 1 GiB page */
	assert_int_equal(gpa, 0x12345678);
	assert_int_equal(mmio_translate(&c, &ops, NULL, 0xfee00030, &gpa), 0);     /* 2 MiB page */
	assert_int_equal(gpa, 0xfee00030);
	assert_int_equal(mmio_translate(&c, &ops, NULL, 0x80000000, &gpa), -1);    /* PDPT[2] not present */
	/* 32-bit paging: a 4 KiB page mapping 0x400000 -> 0x7000 */
	memset(&c, 0, sizeof c);
	c.code_bits = 32;
	c.cr0 = 0x80000011;
	c.cr3 = 0x10000;
	memset(ram + 0x10000, 0, 0x2000);
	uint32_t pde = 0x11000 | 3, pte = 0x7000 | 3, big = 0x00c00000 | 0x83;
	memcpy(ram + 0x10000 + 1 * 4, &pde, 4);
	memcpy(ram + 0x11000, &pte, 4);
	memcpy(ram + 0x10000 + 2 * 4, &big, 4);
	assert_int_equal(mmio_translate(&c, &ops, NULL, 0x400123, &gpa), 0);
	assert_int_equal(gpa, 0x7123);
	assert_int_equal(mmio_translate(&c, &ops, NULL, 0x800000, &gpa), -1);      /* PSE off: PS ignored, PT at 0xc00000 not RAM */
	c.cr4 = 0x10;
	assert_int_equal(mmio_translate(&c, &ops, NULL, 0x812345, &gpa), 0);       /* 4 MiB page */
	assert_int_equal(gpa, 0xc12345);
	c.cr0 = 0x11;                                                               /* paging off */
	assert_int_equal(mmio_translate(&c, &ops, NULL, 0xfee00000, &gpa), 0);
	assert_int_equal(gpa, 0xfee00000);
}

/* Forms the emu CPU runs that a MOV/ALU-only emulator would not: every one goes through the emu handlers. */
static void emu_forms(void **state)
{
	(void)state;
	struct mmio_cpu c;
	struct hvx_mmio_access a;
	uint32_t d;
	cpu64(&c);
	c.gpr[3] = DEV;
	/* add dword [rbx], eax: 0xffffffff + 1 wraps: CF, ZF, AF set, OF clear */
	memcpy(dev, "\xff\xff\xff\xff", 4);
	c.gpr[0] = 1;
	assert_int_equal(run(&c, "\x01\x03", 2, &a), HV_SUCCESS);
	assert_memory_equal(dev, "\0\0\0\0", 4);
	assert_int_equal(c.rflags & 0x8d5, 0x01 | 0x04 | 0x10 | 0x40);
	assert_int_equal(dev_reads, 1);
	assert_int_equal(dev_writes, 1);
	assert_true(a.write);
	/* adc dword [rbx], eax consumes that carry: 0 + 1 + CF = 2 */
	assert_int_equal(run(&c, "\x11\x03", 2, NULL), HV_SUCCESS);
	assert_int_equal(dev[0], 2);
	assert_false(c.rflags & 1);
	/* bts dword [rbx], eax with eax = 35: bit 3 of the dword at rbx + 4; CF = old bit */
	memset(dev, 0, sizeof dev);
	dev[4] = 0x08;
	c.gpr[0] = 35;
	assert_int_equal(run(&c, "\x0f\xab\x03", 3, &a), HV_SUCCESS);
	assert_true(c.rflags & 1);
	assert_int_equal(a.gpa, DEV + 4);
	c.gpr[0] = 36;
	assert_int_equal(run(&c, "\x0f\xab\x03", 3, &a), HV_SUCCESS);   /* bts: bit 4 was clear */
	assert_false(c.rflags & 1);
	assert_int_equal(dev[4], 0x18);
	assert_int_equal(run(&c, "\x0f\xb3\x03", 3, &a), HV_SUCCESS);   /* btr dword [rbx], eax */
	assert_int_equal(dev[4], 0x08);
	assert_true(c.rflags & 1);
	/* movbe eax, [rbx] / movbe [rbx+8], eax */
	memcpy(dev, "\x11\x22\x33\x44", 4);
	assert_int_equal(run(&c, "\x0f\x38\xf0\x03", 4, &a), HV_SUCCESS);
	assert_int_equal(c.gpr[0], 0x11223344);
	assert_int_equal(run(&c, "\x0f\x38\xf1\x43\x08", 5, &a), HV_SUCCESS);
	assert_memory_equal(dev + 8, "\x11\x22\x33\x44", 4);  /* big-endian store of 0x11223344 */
	/* xadd [rbx], ecx: device gets the sum, ecx the old value */
	d = 40;
	memcpy(dev, &d, 4);
	c.gpr[1] = 2;
	assert_int_equal(run(&c, "\x0f\xc1\x0b", 3, NULL), HV_SUCCESS);
	memcpy(&d, dev, 4);
	assert_int_equal(d, 42);
	assert_int_equal(c.gpr[1], 40);
	/* lock cmpxchg [rbx], ecx: equal -> store ecx, ZF; unequal -> eax loaded, ZF clear */
	c.gpr[0] = 42;
	c.gpr[1] = 7;
	assert_int_equal(run(&c, "\xf0\x0f\xb1\x0b", 4, NULL), HV_SUCCESS);
	assert_int_equal(dev[0], 7);
	assert_true(c.rflags & 0x40);
	c.gpr[0] = 1;
	assert_int_equal(run(&c, "\xf0\x0f\xb1\x0b", 4, NULL), HV_SUCCESS);
	assert_int_equal(c.gpr[0], 7);
	assert_false(c.rflags & 0x40);
	/* movnti [rbx+12], eax */
	c.gpr[0] = 0xcafef00d;
	assert_int_equal(run(&c, "\x0f\xc3\x43\x0c", 4, &a), HV_SUCCESS);
	assert_memory_equal(dev + 12, "\x0d\xf0\xfe\xca", 4);
	assert_int_equal(a.size, 4);
	assert_string_equal(a.mnemonic, "movnti");
	/* push qword [rbx]: device read, the stack (RAM) written; pop qword [rbx]: the other way */
	memcpy(dev, "\x01\x02\x03\x04\x05\x06\x07\x08", 8);
	c.gpr[4] = 0x7000;
	assert_int_equal(run(&c, "\xff\x33", 2, NULL), HV_SUCCESS);
	assert_int_equal(c.gpr[4], 0x6ff8);
	assert_memory_equal(ram + 0x6ff8, "\x01\x02\x03\x04\x05\x06\x07\x08", 8);
	memcpy(ram + 0x6ff8, "\xa1\xa2\xa3\xa4\xa5\xa6\xa7\xa8", 8);
	assert_int_equal(run(&c, "\x8f\x03", 2, NULL), HV_SUCCESS);
	assert_int_equal(c.gpr[4], 0x7000);
	assert_memory_equal(dev, "\xa1\xa2\xa3\xa4\xa5\xa6\xa7\xa8", 8);
	/* shl dword [rbx], 4 and setnz byte [rbx+15] */
	memcpy(dev, "\x01\0\0\0", 4);
	assert_int_equal(run(&c, "\xc1\x23\x04", 3, NULL), HV_SUCCESS);
	assert_int_equal(dev[0], 0x10);
	assert_int_equal(run(&c, "\x0f\x95\x43\x0f", 4, NULL), HV_SUCCESS);
	assert_int_equal(dev[15], 1);
	/* rep lodsd from the device: the last value in eax, count repeats */
	c.gpr[6] = DEV;
	c.gpr[1] = 3;
	unsigned before = dev_reads;
	assert_int_equal(run(&c, "\xf3\xad", 2, &a), HV_SUCCESS);
	assert_int_equal(dev_reads - before, 3);
	assert_int_equal(a.repeats, 3);
	assert_int_equal(c.gpr[6], DEV + 12);
}

/* An 8-byte access that straddles RAM and the device is split at the page boundary: RAM part copied, device part
 * in device-sized pieces. */
static void split_access(void **state)
{
	(void)state;
	struct mmio_cpu c;
	struct hvx_mmio_access a;
	cpu64(&c);
	/* map linear 0x200000 -> RAM page 0x5000 and 0x201000 -> the device page with a PT under PD[1] */
	uint64_t e = 0x4000 | 3;
	memcpy(ram + 0x3000 + 0 * 8, &e, 8);            /* not used: PD of GiB 3 */
	memset(ram + 0x4000, 0, 0x1000);
	uint64_t pd = 0x9000 | 3, pte0 = 0x5000 | 3, pte1 = DEV | 3;
	memset(ram + 0x9000, 0, 0x1000);
	uint64_t pdpt0 = 0xa000 | 3;                       /* replace the 1 GiB page by a PD */
	memset(ram + 0xa000, 0, 0x1000);
	memcpy(ram + 0x2000, &pdpt0, 8);
	memcpy(ram + 0xa000 + 1 * 8, &pd, 8);              /* PD[1] covers 0x200000 */
	memcpy(ram + 0x9000 + 0 * 8, &pte0, 8);
	memcpy(ram + 0x9000 + 1 * 8, &pte1, 8);
	memcpy(ram + 0x5ffc, "\x01\x02\x03\x04", 4);
	memcpy(dev, "\x05\x06\x07\x08", 4);
	c.gpr[3] = 0x200ffc;
	assert_int_equal(run(&c, "\x48\x8b\x03", 3, &a), HV_SUCCESS);   /* mov rax, [rbx] */
	assert_int_equal(c.gpr[0], 0x0807060504030201ull);
	assert_int_equal(dev_reads, 1);
	assert_int_equal(a.gpa, DEV);
	assert_int_equal(a.size, 4);
	/* accessed bits were set in the guest's paging structures, the dirty bit only by a write */
	uint64_t got;
	memcpy(&got, ram + 0x9000 + 8, 8);
	assert_true(got & 0x20);
	assert_false(got & 0x40);
	assert_int_equal(run(&c, "\x48\x89\x03", 3, &a), HV_SUCCESS);   /* mov [rbx], rax */
	memcpy(&got, ram + 0x9000 + 8, 8);
	assert_true(got & 0x40);
	assert_memory_equal(dev, "\x05\x06\x07\x08", 4);
	assert_true(a.write);
}

static int failing_dev(void *ctx, uint64_t gpa, unsigned size, uint64_t *v)
{
	(void)ctx, (void)gpa, (void)size, (void)v;
	return -1;
}

/* Instruction bytes fetched at CS:RIP through paging; bad code and failures leave the state unchanged. */
static void fetch_and_failures(void **state)
{
	(void)state;
	struct mmio_cpu c, saved;
	struct hvx_mmio_access a;
	cpu64(&c);
	c.gpr[3] = DEV;
	c.gpr[0] = 0x55;
	c.rip = 0x5000;
	memcpy(ram + 0x5000, "\x88\x43\x02", 3);                          /* mov [rbx+2], al */
	assert_int_equal(mmio_execute(&c, NULL, 0, &ops, NULL, &a), HV_SUCCESS);
	assert_int_equal(dev[2], 0x55);
	assert_int_equal(c.rip, 0x5003);
	assert_int_equal(a.length, 3);
	/* an instruction that crosses into a page that is not RAM (the PT maps nothing there): not fetched */
	c.rip = 0xffffe;
	memcpy(ram + 0xffffe, "\x88\x43", 2);
	saved = c;
	assert_int_equal(mmio_execute(&c, NULL, 0, &ops, NULL, &a), HV_ERROR);
	assert_memory_equal(&c, &saved, sizeof c);
	/* code in the device page: refused */
	c.rip = DEV;
	assert_int_equal(mmio_execute(&c, NULL, 0, &ops, NULL, NULL), HV_ERROR);
	/* code at a linear address with no translation (PDPT[2] not present) */
	c.rip = 0x80000000;
	assert_int_equal(mmio_execute(&c, NULL, 0, &ops, NULL, NULL), HV_ERROR);
	/* bad byte counts */
	assert_int_equal(mmio_execute(&c, (const uint8_t *)"\x90", 0, &ops, NULL, NULL), HV_UNSUPPORTED);
	assert_int_equal(mmio_execute(&c, (const uint8_t *)"0123456789abcdef", 16, &ops, NULL, NULL), HV_UNSUPPORTED);
	/* a register-only instruction touches no memory: refused; so are control transfers and system instructions */
	c = saved;
	assert_int_equal(run(&c, "\x48\x01\xd8", 3, NULL), HV_UNSUPPORTED);        /* add rax, rbx */
	assert_int_equal(run(&c, "\xff\x23", 2, NULL), HV_UNSUPPORTED);            /* jmp [rbx] */
	assert_int_equal(run(&c, "\x0f\x01\x13", 3, NULL), HV_UNSUPPORTED);        /* lgdt [rbx] */
	assert_int_equal(run(&c, "\x8e\x1b", 2, NULL), HV_UNSUPPORTED);            /* mov ds, [rbx] */
	assert_int_equal(run(&c, "\x0f\x29\x03", 3, NULL), HV_UNSUPPORTED);        /* movaps [rbx], xmm0 */
	assert_memory_equal(&c, &saved, sizeof c);
	/* an exception: div by a zero device register is #DE, nothing written back, the fault reported */
	struct hvx_mmio_fault f = {0};
	memset(dev, 0, sizeof dev);
	c.fault = &f;
	saved = c;
	assert_int_equal(run(&c, "\xf7\x33", 2, NULL), HV_ERROR);                 /* div dword [rbx] */
	assert_memory_equal(&c, &saved, sizeof c);
	assert_true(f.valid);
	assert_int_equal(f.vector, 0);
	assert_false(f.has_error_code);
	/* push qword [rbx] with RSP in a page that is not present: #PF, write, supervisor, CR2 = the stack slot */
	memset(&f, 0, sizeof f);
	c.gpr[4] = 0x80000010;
	assert_int_equal(run(&c, "\xff\x33", 2, NULL), HV_ERROR);
	assert_true(f.valid);
	assert_int_equal(f.vector, 14);
	assert_true(f.has_error_code);
	assert_int_equal(f.error_code, 2);
	assert_int_equal(f.cr2, 0x80000008);
	assert_int_equal(dev_reads, 2);                                            /* the device was read first */
	c.gpr[4] = saved.gpr[4];
	/* a device callback that fails */
	struct hvx_mmio_ops bad = ops;
	bad.mmio_read = failing_dev;
	assert_int_equal(mmio_execute(&c, (const uint8_t *)"\x8b\x03", 2, &bad, NULL, NULL), HV_ERROR);
	assert_memory_equal(&c, &saved, sizeof c);
}

static unsigned fp_loads;
static uint8_t fp_source[4096];
static int load_fp(void *src, uint8_t *buf)
{
	(void)src;
	fp_loads++;
	memcpy(buf, fp_source, sizeof fp_source);
	return 0;
}

/* SSE moves to and from the device: the vector state is loaded only when the instruction needs it. */
static void sse_moves(void **state)
{
	(void)state;
	struct mmio_cpu c;
	struct hvx_mmio_access a;
	static uint8_t fp[4096];
	cpu64(&c);
	c.cr4 |= 0x200;                                   /* OSFXSR */
	c.gpr[3] = DEV;
	memset(fp_source, 0, sizeof fp_source);
	for (unsigned i = 0; i < 16; i++)
		fp_source[160 + i] = (uint8_t)(0xa0 + i);  /* XMM0 */
	fp_loads = 0;
	c.fpstate = fp;
	c.load_fpstate = load_fp;
	c.gpr[0] = 1;
	assert_int_equal(run(&c, "\x89\x03", 2, NULL), HV_SUCCESS);                 /* mov [rbx], eax: no vector state */
	assert_int_equal(fp_loads, 0);
	assert_int_equal(run(&c, "\x66\x0f\x7f\x03", 4, &a), HV_SUCCESS);         /* movdqa [rbx], xmm0 */
	assert_int_equal(fp_loads, 1);
	assert_memory_equal(dev, fp_source + 160, 16);
	assert_int_equal(dev_writes, 3);                                            /* 4 + 8 + 8 bytes */
	assert_int_equal(a.size, 8);
	assert_false(c.fpstate_dirty);
	dev[3] = 0x33;
	assert_int_equal(run(&c, "\x0f\x10\x0b", 3, NULL), HV_SUCCESS);             /* movups xmm1, [rbx] */
	assert_int_equal(fp_loads, 1);
	assert_true(c.fpstate_dirty);
	assert_memory_equal(fp + 176, dev, 16);
	assert_int_equal(run(&c, "\x66\x0f\xd6\x4b\x08", 5, NULL), HV_SUCCESS);     /* movq [rbx+8], xmm1 */
	assert_memory_equal(dev + 8, fp + 176, 8);
	assert_int_equal(run(&c, "\xf3\x0f\x7e\x53\x04", 5, NULL), HV_SUCCESS);     /* movq xmm2, [rbx+4]: zero-extends */
	assert_memory_equal(fp + 192, dev + 4, 8);
	assert_memory_equal(fp + 200, "\0\0\0\0\0\0\0\0", 8);
	/* movdqa needs 16-byte alignment: #GP, nothing written */
	struct mmio_cpu saved = c;
	uint8_t before[16];
	memcpy(before, dev, 16);
	assert_int_equal(run(&c, "\x66\x0f\x7f\x43\x04", 5, NULL), HV_ERROR);
	assert_memory_equal(&c, &saved, sizeof c);
	assert_memory_equal(dev, before, 16);
	/* without CR4.OSFXSR an SSE instruction is #UD */
	c.cr4 &= ~0x200ull;
	assert_int_equal(run(&c, "\x66\x0f\x7f\x03", 4, NULL), HV_ERROR);
	/* without a vector state at all: not emulated */
	c.cr4 |= 0x200;
	c.fpstate = NULL;
	assert_int_equal(run(&c, "\x66\x0f\x7f\x03", 4, NULL), HV_UNSUPPORTED);
}

/* A device callback that itself emulates an instruction (re-entry on the same thread) gets its own CPU. */
static int nested_dev_read(void *ctx, uint64_t gpa, unsigned size, uint64_t *v)
{
	(void)gpa, (void)size;
	struct mmio_cpu inner;
	cpu64(&inner);
	inner.gpr[3] = DEV;
	inner.gpr[1] = 0x77;
	dev_write(ctx, DEV + 8, 1, 0);
	if (mmio_execute(&inner, (const uint8_t *)"\x88\x4b\x08", 3, &ops, NULL, NULL) != HV_SUCCESS) /* mov [rbx+8], cl */
		return -1;
	*v = 0x1234;
	return 0;
}

static void reentry(void **state)
{
	(void)state;
	static const struct hvx_mmio_ops nops = {ram_read, ram_write, nested_dev_read, dev_write};
	struct mmio_cpu c;
	cpu64(&c);
	c.gpr[3] = DEV;
	c.gpr[2] = 0x100;
	assert_int_equal(mmio_execute(&c, (const uint8_t *)"\x66\x03\x13", 3, &nops, NULL, NULL), HV_SUCCESS); /* add dx, [rbx] */
	assert_int_equal(c.gpr[2], 0x1334);
	assert_int_equal(dev[8], 0x77);
	assert_int_equal(c.rip, 0x400003);
}

/* A long REP string instruction stops after the emu's chunk (65536 elements) with RIP on it and the registers
 * advanced; calling again finishes it. CMPXCHG8B and REP MOVS from device to device complete too. */
static void long_rep_and_wide(void **state)
{
	(void)state;
	struct mmio_cpu c;
	struct hvx_mmio_access a;
	cpu64(&c);
	c.gpr[7] = DEV;
	c.gpr[0] = 0x5a;
	c.gpr[1] = 70000;

	uint64_t rip = c.rip;
	assert_int_equal(run(&c, "\xf3\xaa", 2, &a), HV_SUCCESS);                 /* rep stosb */
	assert_int_equal(a.repeats, 65536);
	assert_int_equal(c.rip, rip);                                               /* not finished: RIP stays */
	assert_int_equal(c.gpr[1], 70000 - 65536);
	assert_int_equal(c.gpr[7], DEV + 65536);
	assert_int_equal(dev_writes, 65536);
	assert_int_equal(run(&c, "\xf3\xaa", 2, &a), HV_SUCCESS);
	assert_int_equal(a.repeats, 70000 - 65536);
	assert_int_equal(c.rip, rip + 2);
	assert_int_equal(c.gpr[1], 0);
	assert_int_equal(dev_writes, 70000);
	/* cmpxchg8b [rbx]: equal -> ECX:EBX stored, ZF */
	cpu64(&c);
	c.gpr[3] = DEV;
	memcpy(dev, "\x01\x00\x00\x00\x02\x00\x00\x00", 8);
	c.gpr[0] = 1;
	c.gpr[2] = 2;
	c.gpr[1] = 0x44;
	c.gpr[3] = DEV;
	c.gpr[6] = DEV;                                                             /* address in rsi */
	assert_int_equal(run(&c, "\x0f\xc7\x0e", 3, &a), HV_SUCCESS);             /* cmpxchg8b [rsi] */
	assert_true(c.rflags & 0x40);
	assert_int_equal(dev[0], DEV & 0xff);                                       /* EBX low byte */
	assert_int_equal(dev[4], 0x44);                                             /* ECX */
	/* rep movsb device -> device, 4 bytes, forward */
	memcpy(dev, "abcd", 4);
	c.gpr[6] = DEV;
	c.gpr[7] = DEV + 8;
	c.gpr[1] = 4;
	assert_int_equal(run(&c, "\xf3\xa4", 2, &a), HV_SUCCESS);
	assert_memory_equal(dev + 8, "abcd", 4);
	assert_int_equal(a.repeats, 4);
}

/* ---- random instructions: whatever the bytes and the state, a defined result and no stray access ---- */
static uint64_t rng = 0x9e3779b97f4a7c15ull;
static uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static unsigned stray;
static int any_dev_read(void *ctx, uint64_t gpa, unsigned size, uint64_t *v)
{
	(void)ctx;
	if (size != 1 && size != 2 && size != 4 && size != 8)
		stray++;
	*v = gpa * 0x9e3779b97f4a7c15ull;
	return (gpa & 0xfff) == 0xbad ? -1 : 0;
}
static int any_dev_write(void *ctx, uint64_t gpa, unsigned size, uint64_t v)
{
	(void)ctx, (void)v;
	if (size != 1 && size != 2 && size != 4 && size != 8)
		stray++;
	return (gpa & 0xfff) == 0xbad ? -1 : 0;
}

static void random_instructions(void **state)
{
	(void)state;
	static const struct hvx_mmio_ops rops = {ram_read, ram_write, any_dev_read, any_dev_write};
	static const uint8_t prefixes[] = {0x66, 0x67, 0xf0, 0xf2, 0xf3, 0x2e, 0x26, 0x64, 0x65, 0x48, 0x41, 0x4c, 0x0f};
	static const uint64_t ptrs[] = {DEV, DEV + 0xff8, 0x8000, 0xffffc, 0x80000000, 0, ~0ull, 0xfffffffffee00000ull};
	unsigned counts[8] = {0};
	for (unsigned iter = 0; iter < 200000; iter++) {
		struct mmio_cpu c, before;
		cpu64(&c);
		switch (iter % 5) {
		case 0: break;                                             /* 64-bit, 4-level paging */
		case 1: c.code_bits = 32; c.efer = 0; c.cr0 = 0x11; c.cr4 = 0; break; /* 32-bit, no paging */
		case 2: c.code_bits = 16; c.efer = 0; c.cr0 = 0x11; c.cr4 = 0; break; /* 16-bit protected */
		case 3: c.code_bits = 16; c.efer = 0; c.cr0 = 0; c.cr4 = 0; break;    /* real mode */
		default: c.code_bits = 32; c.efer = 0; c.cr0 = 0x80000011; c.cr3 = 0x10000; c.cr4 = 0x10; break; /* 32-bit paging */
		}
		for (unsigned i = 0; i < 16; i++)
			c.gpr[i] = (rnd() & 1) ? ptrs[rnd() % 8] + (rnd() & 0x1f) : rnd();
		c.gpr[4] = (rnd() & 1) ? 0x7000 : rnd();
		static uint8_t rfp[4096];
		if (rnd() & 1) {
			c.fpstate = rfp;             /* SSE moves run too */
			c.cr4 |= 0x200;
		}
		c.rflags = 2 | (rnd() & 0xcd5) ;
		uint8_t b[15];
		unsigned len = 1 + (unsigned)(rnd() % 15), p = 0;
		for (unsigned i = 0; i < len; i++)
			b[i] = (uint8_t)rnd();
		while (p < len && (rnd() & 3) == 0)
			b[p++] = prefixes[rnd() % sizeof prefixes];
		if (p < len - 1 && (rnd() & 1))
			b[p + 1] = (uint8_t)((b[p + 1] & 0x38) | (rnd() & 0x47)); /* ModRM with a memory operand, mostly */
		before = c;
		struct hvx_mmio_access a;
		hv_return_t r = mmio_execute(&c, b, len, &rops, NULL, &a);
		if (r == HV_SUCCESS)
			counts[0]++;
		else if (r == HV_UNSUPPORTED)
			counts[1]++;
		else if (r == HV_ERROR)
			counts[2]++;
		else
			fail_msg("unexpected result %#x", r);
		if (r != HV_SUCCESS)
			assert_memory_equal(&c, &before, sizeof c);
		else
			assert_true(a.length >= 1 && a.length <= len);
	}
	printf("random: %u done, %u unsupported, %u errors\n", counts[0], counts[1], counts[2]);
	assert_int_equal(stray, 0);
	/* The mix exercises all three outcomes. */
	assert_true(counts[0] > 1000);
	assert_true(counts[1] > 1000);
	assert_true(counts[2] > 1000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(mov_store_and_load),
		cmocka_unit_test(extensions),
		cmocka_unit_test(alu_flags),
		cmocka_unit_test(string_forms),
		cmocka_unit_test(unsupported_and_modes),
		cmocka_unit_test(page_walks),
		cmocka_unit_test(emu_forms),
		cmocka_unit_test(split_access),
		cmocka_unit_test(fetch_and_failures),
		cmocka_unit_test(sse_moves),
		cmocka_unit_test(reentry),
		cmocka_unit_test(long_rep_and_wide),
		cmocka_unit_test(random_instructions),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
