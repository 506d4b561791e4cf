/* cmos_rtc.c: MC146818 CMOS RTC and NVRAM (0x70 index with NMI-disable bit, 0x71 data): host time, memory sizes. */
#include <string.h>
#include <time.h>

#include "devices.h"

#define REG_A 0x0a
#define REG_B 0x0b
#define REG_C 0x0c
#define REG_D 0x0d
#define B_24H 0x02
#define B_BINARY 0x04

static void put16(uint8_t *ram, unsigned lo, uint64_t v)
{
	if (v > 0xffff)
		v = 0xffff;
	ram[lo] = (uint8_t)v;
	ram[lo + 1] = (uint8_t)(v >> 8);
}

void cmos_init(struct cmos *c, uint64_t ram_size, unsigned cpus)
{
	memset(c, 0, sizeof *c);
	c->ram[REG_A] = 0x26;
	c->ram[REG_B] = B_24H;
	c->ram[REG_D] = 0x80; /* valid RAM and time */
	put16(c->ram, 0x15, 640);
	uint64_t low = ram_size < 0xc0000000ull ? ram_size : 0xc0000000ull;
	uint64_t ext_k = low > 0x100000 ? (low - 0x100000) / 1024 : 0;
	put16(c->ram, 0x17, ext_k);
	put16(c->ram, 0x30, ext_k);
	put16(c->ram, 0x34, low > 0x1000000 ? (low - 0x1000000) >> 16 : 0);
	uint64_t high = ram_size > low ? (ram_size - low) >> 16 : 0;
	c->ram[0x5b] = (uint8_t)high;
	c->ram[0x5c] = (uint8_t)(high >> 8);
	c->ram[0x5d] = (uint8_t)(high >> 16);
	c->ram[0x5f] = (uint8_t)(cpus ? cpus - 1 : 0);
}

static uint8_t enc(const struct cmos *c, unsigned v)
{
	return (c->ram[REG_B] & B_BINARY) ? (uint8_t)v : (uint8_t)(((v / 10) << 4) | (v % 10));
}

uint8_t cmos_read(struct cmos *c, unsigned port, int64_t host_unix_s)
{
	if (port == 0x70)
		return 0xff; /* the index register is write-only */
	unsigned i = c->index & 0x7f;
	time_t t = (time_t)(host_unix_s + c->offset_s);
	struct tm tm;
	gmtime_r(&t, &tm);
	switch (i) {
	case 0x00: return enc(c, (unsigned)tm.tm_sec);
	case 0x02: return enc(c, (unsigned)tm.tm_min);
	case 0x04:
		if (c->ram[REG_B] & B_24H)
			return enc(c, (unsigned)tm.tm_hour);
		return (uint8_t)(enc(c, (unsigned)(tm.tm_hour % 12 ? tm.tm_hour % 12 : 12)) | (tm.tm_hour >= 12 ? 0x80 : 0));
	case 0x06: return enc(c, (unsigned)tm.tm_wday + 1);
	case 0x07: return enc(c, (unsigned)tm.tm_mday);
	case 0x08: return enc(c, (unsigned)tm.tm_mon + 1);
	case 0x09: return enc(c, (unsigned)(tm.tm_year % 100));
	case 0x32: return enc(c, (unsigned)(tm.tm_year / 100 + 19));
	case REG_A: return c->ram[REG_A] & 0x7f; /* update never in progress */
	case REG_C: {
		uint8_t v = c->ram[REG_C];
		c->ram[REG_C] = 0; /* reading C acknowledges */
		return v;
	}
	default: return c->ram[i];
	}
}

void cmos_write(struct cmos *c, unsigned port, uint8_t value)
{
	if (port == 0x70) {
		c->index = value & 0x7f;
		c->nmi_disabled = (value & 0x80) != 0;
		return;
	}
	unsigned i = c->index & 0x7f;
	if (i == REG_C || i == REG_D)
		return; /* read-only */
	if (i < 10 || i == 0x32)
		return; /* the clock follows host time; writes to time registers are ignored */
	c->ram[i] = value;
}
