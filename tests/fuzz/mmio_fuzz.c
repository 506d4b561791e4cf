/* mmio_fuzz.c: libFuzzer target for the MMIO emulator (the emu CPU's one-instruction mode): random instruction bytes on a random register state in five modes, RAM and device callbacks that check every access; a defined result and, on failure, an unchanged state. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mmio_internal.h"

#define RAMSZ 0x100000u
#define DEV 0xfee00000ull
static uint8_t ram[RAMSZ];
static uint8_t fp[4096];

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

static void check_size(unsigned size)
{
	if (size != 1 && size != 2 && size != 4 && size != 8)
		abort();
}

static int dev_read(void *ctx, uint64_t gpa, unsigned size, uint64_t *v)
{
	(void)ctx;
	check_size(size);
	if (gpa < RAMSZ)
		abort(); /* RAM never reaches the device */
	*v = gpa * 0x9e3779b97f4a7c15ull;
	return (gpa & 0xfff) == 0xbad ? -1 : 0;
}

static int dev_write(void *ctx, uint64_t gpa, unsigned size, uint64_t v)
{
	(void)ctx, (void)v;
	check_size(size);
	if (gpa < RAMSZ)
		abort();
	return (gpa & 0xfff) == 0xbad ? -1 : 0;
}

static const struct hvx_mmio_ops ops = {ram_read, ram_write, dev_read, dev_write};

static void put64(uint64_t at, uint64_t v)
{
	memcpy(ram + at, &v, 8);
}

/* 4-level tables: the first GiB identity-mapped with one 1-GiB page, 0xfee00000 with a 2-MiB page. */
static void tables(void)
{
	memset(ram + 0x1000, 0, 0x3000);
	put64(0x1000, 0x2000 | 3);
	put64(0x2000, 0x83);
	put64(0x2000 + 3 * 8, 0x3000 | 3);
	put64(0x3000 + 0x1f7 * 8, DEV | 0x83);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 4)
		return 0;
	uint8_t mode = data[0], sel = data[1];
	data += 2;
	size -= 2;
	tables();
	struct mmio_cpu c;
	memset(&c, 0, sizeof c);
	c.code_bits = 64;
	c.cr0 = 0x80000011;
	c.cr4 = 0x20;
	c.efer = 0x500;
	c.cr3 = 0x1000;
	c.rip = 0x5000;
	switch (mode % 5) {
	case 1: c.code_bits = 32; c.efer = 0; c.cr0 = 0x11; c.cr4 = 0; break;
	case 2: c.code_bits = 16; c.efer = 0; c.cr0 = 0x11; c.cr4 = 0; break;
	case 3: c.code_bits = 16; c.efer = 0; c.cr0 = 0; c.cr4 = 0; break;
	case 4: c.code_bits = 32; c.efer = 0; c.cr4 = 0x10; c.cr3 = 0x1000; break; /* 32-bit paging over the same page */
	default: break;
	}
	if (mode & 0x80) {
		c.cr4 |= 0x200;
		c.fpstate = fp;
	}
	c.rflags = 2 | ((mode & 0x40) ? 0x400 : 0) | ((uint64_t)(sel & 0xd5));
	/* Registers: from the input, each one optionally a pointer at the device, RAM or an unmapped address. */
	static const uint64_t ptrs[] = {DEV, DEV + 0xff8, 0x8000, 0xffffc, 0x80000000, 0, ~0ull, 0xfffffffffee00000ull};
	for (unsigned i = 0; i < 16; i++) {
		uint64_t v = 0;
		size_t n = size >= 8 ? 8 : size;
		memcpy(&v, data, n);
		if ((sel >> (i & 7)) & 1)
			v = ptrs[v & 7] + ((v >> 3) & 0x1f);
		c.gpr[i] = v;
		if (size > 15 + 8) {
			data += 8;
			size -= 8;
		}
	}
	unsigned len = size > 15 ? 15 : (unsigned)size;
	struct mmio_cpu before = c;
	struct hvx_mmio_fault f;
	c.fault = &f;
	before.fault = &f;
	hv_return_t r;
	if (mode & 0x20) {
		memcpy(ram + 0x5000, data, len); /* fetched through paging */
		r = mmio_execute(&c, NULL, 0, &ops, NULL, NULL);
	} else {
		r = mmio_execute(&c, data, len, &ops, NULL, NULL);
	}
	if (r != HV_SUCCESS && r != HV_UNSUPPORTED && r != HV_ERROR)
		abort();
	if (r != HV_SUCCESS && memcmp(&c, &before, sizeof c))
		abort();
	return 0;
}
