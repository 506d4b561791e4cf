/* test_loaders.c: unit tests of the image loaders on in-memory images: valid, truncated and corrupt inputs, option parsing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "acpi.h"
#include "cpuid.h"
#include "loaders/loader.h"

#define RAM (16u << 20)

struct fixture {
	struct vmm_mem mem;
	struct vmm_config cfg;
	struct vmm_boot boot;
	char err[256];
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);
	f->mem.host = calloc(1, RAM);
	f->mem.size = f->mem.low = RAM;
	f->cfg.image = "test.img";
	f->cfg.mode = VMM_MODE_DEFAULT;
	f->cfg.cpus = 1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	free(f->mem.host);
	free(f);
	return 0;
}

static int load(struct fixture *f, const uint8_t *img, size_t len)
{
	f->err[0] = 0;
	return loader_load(&f->cfg, img, len, &f->mem, &f->boot, f->err, sizeof f->err);
}

/* ELF32 with one PT_LOAD of `code` at paddr `at`, vaddr `vat`, memsz = filesz + bss. */
static size_t make_elf32(uint8_t *b, uint32_t at, uint32_t vat, uint32_t entry, const void *code, uint32_t n, uint32_t bss)
{
	memset(b, 0, 84 + n);
	memcpy(b, "\177ELF\001\001\001", 7);
	put_le(b + 16, 2, 2);
	put_le(b + 18, 3, 2);
	put_le(b + 20, 1, 4);
	put_le(b + 24, entry, 4);
	put_le(b + 28, 52, 4);
	put_le(b + 40, 52, 2);
	put_le(b + 42, 32, 2);
	put_le(b + 44, 1, 2);
	uint8_t *ph = b + 52;
	put_le(ph, 1, 4);
	put_le(ph + 4, 84, 4);
	put_le(ph + 8, vat, 4);
	put_le(ph + 12, at, 4);
	put_le(ph + 16, n, 4);
	put_le(ph + 20, n + bss, 4);
	memcpy(b + 84, code, n);
	return 84 + n;
}

static void elf32_loads_segment_and_translates_entry(void **state)
{
	struct fixture *f = *state;
	uint8_t img[256];
	memset(f->mem.host + 0x200000, 0xcc, 64);
	size_t len = make_elf32(img, 0x200000, 0xc0200000, 0xc0200004, "\x90\x90\x90\x90\xf4", 5, 32);
	assert_int_equal(load(f, img, len), 0);
	assert_int_equal(f->boot.mode, VMM_MODE_PROTECTED);
	assert_int_equal(f->boot.entry, 0x200004);                 /* virtual entry -> physical */
	assert_memory_equal(f->mem.host + 0x200000, "\x90\x90\x90\x90\xf4", 5);
	assert_int_equal(f->mem.host[0x200005 + 31], 0);            /* bss zeroed */
	assert_string_equal(f->boot.format, "elf32");
	assert_string_equal(loader_detect(img, len), "elf");
}

static void elf_corrupt_inputs(void **state)
{
	struct fixture *f = *state;
	uint8_t img[256];
	size_t len = make_elf32(img, 0x200000, 0x200000, 0x200000, "\xf4", 1, 0);
	assert_int_equal(load(f, img, 30), -1);                     /* header truncated */
	assert_non_null(strstr(f->err, "truncated"));
	assert_int_equal(load(f, img, 70), -1);                     /* program headers cut off */
	assert_non_null(strstr(f->err, "program headers"));
	uint8_t bad[256];
	memcpy(bad, img, len);
	put_le(bad + 52 + 16, 4096, 4);                             /* filesz beyond the file */
	put_le(bad + 52 + 20, 4096, 4);
	assert_int_equal(load(f, bad, len), -1);
	assert_non_null(strstr(f->err, "outside the file"));
	memcpy(bad, img, len);
	put_le(bad + 52 + 4, 80, 4);                                /* memsz < filesz */
	put_le(bad + 52 + 16, 2, 4);
	put_le(bad + 52 + 20, 1, 4);
	assert_int_equal(load(f, bad, len), -1);
	assert_non_null(strstr(f->err, "inconsistent"));
	memcpy(bad, img, len);
	put_le(bad + 18, 40, 2);                                    /* ARM */
	assert_int_equal(load(f, bad, len), -1);
	assert_non_null(strstr(f->err, "machine"));
	memcpy(bad, img, len);
	bad[5] = 2;                                                 /* big-endian */
	assert_int_equal(load(f, bad, len), -1);
	memcpy(bad, img, len);
	put_le(bad + 44, 0, 2);                                     /* no program headers */
	assert_int_equal(load(f, bad, len), -1);
	memcpy(bad, img, len);
	put_le(bad + 52 + 12, RAM - 0x100, 4);                      /* beyond RAM */
	put_le(bad + 52 + 20, 0x1000, 4);
	assert_int_equal(load(f, bad, len), -1);
	assert_non_null(strstr(f->err, "does not fit"));
	memcpy(bad, img, len);
	put_le(bad + 52 + 12, 0x7000, 4);                           /* over the boot data area */
	assert_int_equal(load(f, bad, len), -1);
	assert_non_null(strstr(f->err, "overlaps"));
	memcpy(bad, img, len);
	put_le(bad + 52, 0, 4);                                     /* PT_NULL only: nothing loadable */
	assert_int_equal(load(f, bad, len), -1);
	assert_non_null(strstr(f->err, "no loadable"));
}

static void unknown_and_empty(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(load(f, (const uint8_t *)"hello, world", 12), -1);
	assert_non_null(strstr(f->err, "unknown image format"));
	assert_int_equal(load(f, (const uint8_t *)"", 0), -1);
	assert_non_null(strstr(f->err, "empty"));
	assert_null(loader_detect((const uint8_t *)"\177EL", 3));
}

static void flat_modes(void **state)
{
	struct fixture *f = *state;
	f->cfg.format = "flat";
	assert_int_equal(load(f, (const uint8_t *)"\xf4", 1), 0);
	assert_int_equal(f->boot.mode, VMM_MODE_PROTECTED);
	assert_int_equal(f->boot.entry, 0x100000);
	f->cfg.mode = VMM_MODE_REAL;
	assert_int_equal(load(f, (const uint8_t *)"\xf4", 1), 0);
	assert_int_equal(f->boot.entry, 0x7c00);
	assert_int_equal(f->mem.host[0x7c00], 0xf4);
	f->cfg.have_load_addr = true;
	f->cfg.load_addr = 0x100000;
	assert_int_equal(load(f, (const uint8_t *)"\xf4", 1), -1);   /* real mode must stay below 1 MiB */
	f->cfg.mode = VMM_MODE_LONG;
	f->cfg.have_entry = true;
	f->cfg.entry = 0x100010;
	assert_int_equal(load(f, (const uint8_t *)"\xf4", 1), 0);
	assert_int_equal(f->boot.entry, 0x100010);
	/* identity page tables: PML4[0] -> PDPT, PD entry 1 maps 2 MiB */
	assert_int_equal(get_le(f->mem.host + BOOT_PT, 8), (BOOT_PT + 0x1000) | 3);
	assert_int_equal(get_le(f->mem.host + BOOT_PT + 0x2000 + 8, 8), 0x200000 | 0x83);
	f->cfg.load_addr = RAM - 0x10;
	uint8_t big[64] = {0};
	assert_int_equal(load(f, big, sizeof big), -1);
	assert_non_null(strstr(f->err, "does not fit"));
}

static size_t make_multiboot_aout(uint8_t *b, uint32_t flags, uint32_t load_end_delta)
{
	/* header at offset 0 = load address 0x100000, 64 bytes of file, 64 of bss */
	memset(b, 0, 128);
	put_le(b, 0x1badb002, 4);
	put_le(b + 4, flags, 4);
	put_le(b + 8, (uint32_t)-(0x1badb002u + flags), 4);
	put_le(b + 12, 0x100000, 4);
	put_le(b + 16, 0x100000, 4);
	put_le(b + 20, 0x100000 + 64 + load_end_delta, 4);
	put_le(b + 24, 0x100000 + 128, 4);
	put_le(b + 28, 0x100020, 4);
	b[32] = 0xf4;
	return 64;
}

static void multiboot_aout_info(void **state)
{
	struct fixture *f = *state;
	uint8_t img[128];
	size_t len = make_multiboot_aout(img, 0x10003, 0);
	f->cfg.append = "a=1";
	assert_int_equal(load(f, img, len), 0);
	assert_string_equal(loader_detect(img, len), "multiboot");
	assert_int_equal(f->boot.entry, 0x100020);
	assert_int_equal(f->boot.regs[BR_RAX], 0x2badb002);
	assert_int_equal(f->boot.regs[BR_RBX], BOOT_INFO);
	const uint8_t *mbi = f->mem.host + BOOT_INFO;
	assert_int_equal(get_le(mbi, 4) & 0x4d, 0x4d);
	assert_string_equal((const char *)f->mem.host + get_le(mbi + 16, 4), "test.img a=1");
	assert_int_equal(get_le(mbi + 8, 4), (RAM - 0x100000) / 1024);
	assert_int_equal(get_le(mbi + 20, 4), 0);                     /* no modules */
	assert_int_equal(get_le(mbi + 44, 4) % 24, 0);
	assert_string_equal((const char *)f->mem.host + get_le(mbi + 64, 4), "hvx");
}

static void multiboot_corrupt(void **state)
{
	struct fixture *f = *state;
	uint8_t img[128];
	size_t len = make_multiboot_aout(img, 0x10003, 64);          /* load_end beyond the file */
	assert_int_equal(load(f, img, len), -1);
	assert_non_null(strstr(f->err, "truncated"));
	len = make_multiboot_aout(img, 0x10000 | 0x8, 0);            /* required feature bit 3 */
	assert_int_equal(load(f, img, len), -1);
	assert_non_null(strstr(f->err, "unsupported"));
	len = make_multiboot_aout(img, 0x00003, 0);                  /* no a.out kludge and not ELF */
	assert_int_equal(load(f, img, len), -1);
	assert_non_null(strstr(f->err, "neither ELF"));
	len = make_multiboot_aout(img, 0x10003, 0);
	img[8] ^= 1;                                                  /* bad checksum: not multiboot at all */
	assert_null(loader_detect(img, len));
	len = make_multiboot_aout(img, 0x10003, 0);
	put_le(img + 16, 0x100010, 4);                                /* load_addr above header_addr */
	f->cfg.format = "multiboot";
	assert_int_equal(load(f, img, len), -1);
	assert_non_null(strstr(f->err, "inconsistent"));
}

static size_t make_bzimage(uint8_t *b, uint16_t version, uint8_t loadflags)
{
	size_t len = 3 * 512;
	memset(b, 0, len);
	b[0x1f1] = 2;                          /* setup: 3 sectors with the boot sector */
	b[0x1fe] = 0x55;
	b[0x1ff] = 0xaa;
	b[0x200] = 0xeb;
	b[0x201] = 0x66;
	memcpy(b + 0x202, "HdrS", 4);
	put_le(b + 0x206, version, 2);
	b[0x211] = loadflags;
	put_le(b + 0x214, 0x100000, 4);
	put_le(b + 0x238, 64, 4);              /* cmdline_size */
	return len + 16;                       /* 16 bytes of "kernel" */
}

static void bzimage_zero_page(void **state)
{
	struct fixture *f = *state;
	uint8_t img[2048];
	size_t len = make_bzimage(img, 0x020c, 1);
	img[3 * 512] = 0xf4;
	f->cfg.append = "console=ttyS0";
	assert_int_equal(load(f, img, len), 0);
	assert_string_equal(loader_detect(img, len), "bzimage");
	assert_int_equal(f->boot.entry, 0x100000);
	assert_int_equal(f->boot.regs[BR_RSI], BOOT_INFO);
	assert_int_equal(f->mem.host[0x100000], 0xf4);
	const uint8_t *zp = f->mem.host + BOOT_INFO;
	assert_memory_equal(zp + 0x202, "HdrS", 4);
	assert_int_equal(zp[0x210], 0xff);
	assert_string_equal((const char *)f->mem.host + get_le(zp + 0x228, 4), "console=ttyS0");
	assert_int_equal(zp[0x1e8], 4);                                /* e820 entries */
	assert_int_equal(get_le(zp + 0x2d0 + 16, 4), 1);               /* first is RAM */
	f->cfg.append = "this command line is certainly longer than sixty-four characters in total";
	assert_int_equal(load(f, img, len), -1);
	assert_non_null(strstr(f->err, "too long"));
}

static void bzimage_corrupt(void **state)
{
	struct fixture *f = *state;
	uint8_t img[2048];
	size_t len = make_bzimage(img, 0x0201, 1);
	assert_int_equal(load(f, img, len), -1);
	assert_non_null(strstr(f->err, "too old"));
	len = make_bzimage(img, 0x020c, 0);
	assert_int_equal(load(f, img, len), -1);
	assert_non_null(strstr(f->err, "zImage"));
	len = make_bzimage(img, 0x020c, 1);
	assert_int_equal(load(f, img, 1000), -1);                      /* setup cut short */
	assert_non_null(strstr(f->err, "truncated"));
	f->cfg.mode = VMM_MODE_LONG;                                   /* no XLF_KERNEL_64 */
	assert_int_equal(load(f, img, len), -1);
	assert_non_null(strstr(f->err, "64-bit entry"));
	f->cfg.mode = VMM_MODE_DEFAULT;
	f->cfg.format = "bzimage";
	assert_int_equal(load(f, img, 300), -1);
}

static void pvh_note(void **state)
{
	struct fixture *f = *state;
	/* ELF32: PT_LOAD of 64 bytes at 0x100000 plus a PT_NOTE with the Xen entry note */
	uint8_t img[256] = {0};
	memcpy(img, "\177ELF\001\001\001", 7);
	put_le(img + 16, 2, 2);
	put_le(img + 18, 3, 2);
	put_le(img + 24, 0x100000, 4);
	put_le(img + 28, 52, 4);
	put_le(img + 42, 32, 2);
	put_le(img + 44, 2, 2);
	uint8_t *ph = img + 52;
	put_le(ph, 1, 4);
	put_le(ph + 4, 0, 4);
	put_le(ph + 8, 0x100000, 4);
	put_le(ph + 12, 0x100000, 4);
	put_le(ph + 16, 160, 4);
	put_le(ph + 20, 160, 4);
	ph += 32;
	put_le(ph, 4, 4);
	put_le(ph + 4, 120, 4);
	put_le(ph + 16, 20, 4);
	uint8_t *note = img + 120;
	put_le(note, 4, 4);
	put_le(note + 4, 4, 4);
	put_le(note + 8, 18, 4);
	memcpy(note + 12, "Xen", 4);
	put_le(note + 16, 0x100080, 4);
	assert_string_equal(loader_detect(img, 160), "pvh");
	f->cfg.append = "root=/dev/vda";
	assert_int_equal(load(f, img, 160), 0);
	assert_int_equal(f->boot.entry, 0x100080);
	assert_int_equal(f->boot.regs[BR_RBX], BOOT_INFO);
	const uint8_t *si = f->mem.host + BOOT_INFO;
	assert_int_equal(get_le(si, 4), 0x336ec578);
	assert_int_equal(get_le(si + 4, 4), 1);
	assert_string_equal((const char *)f->mem.host + get_le(si + 24, 8), "root=/dev/vda");
	assert_int_equal(get_le(si + 48, 4), 4);
	put_le(note + 8, 17, 4);                                       /* another note type */
	assert_string_equal(loader_detect(img, 160), "elf");
	f->cfg.format = "pvh";
	assert_int_equal(load(f, img, 160), -1);
	assert_non_null(strstr(f->err, "type 18"));
}

static void option_parsers(void **state)
{
	(void)state;
	uint64_t v;
	assert_true(vmm_parse_size("128M", &v) && v == 128ull << 20);
	assert_true(vmm_parse_size("1G", &v) && v == 1ull << 30);
	assert_true(vmm_parse_size("64KiB", &v) && v == 64ull << 10);
	assert_true(vmm_parse_size("4096", &v) && v == 4096);
	assert_false(vmm_parse_size("12Q", &v));
	assert_false(vmm_parse_size("-1M", &v));
	assert_false(vmm_parse_size("99999999999999999999G", &v));
	struct vmm_cpuid_override c;
	assert_true(vmm_parse_cpuid_override("0x40000000=1,2,3,4", &c));
	assert_true(c.any_subleaf && c.leaf == 0x40000000 && c.regs[3] == 4);
	assert_true(vmm_parse_cpuid_override("7.1=0,0x10,0,0", &c));
	assert_true(!c.any_subleaf && c.subleaf == 1 && c.regs[1] == 0x10);
	assert_false(vmm_parse_cpuid_override("1=2,3", &c));
	assert_false(vmm_parse_cpuid_override("1=2,3,4,5,6", &c));
	assert_false(vmm_parse_cpuid_override("x=1,2,3,4", &c));
	assert_false(vmm_parse_cpuid_override("1=1,2,3,0x100000000", &c));
	struct vmm_msr_override m;
	assert_true(vmm_parse_msr_override("0x1a0=0x850089", &m) && m.msr == 0x1a0 && m.value == 0x850089);
	assert_false(vmm_parse_msr_override("0x1a0", &m));
	assert_false(vmm_parse_msr_override("0x100000000=1", &m));
	uint32_t r[4];
	struct vmm_config cfg = {0};
	vmm_cpuid(&cfg, 2, 1, 0, 0, r);
	assert_memory_equal(&r[1], "Genu", 4);
	vmm_cpuid(&cfg, 2, 1, 1, 0, r);
	assert_int_equal(r[1] >> 24, 1);                               /* APIC id */
	assert_true(r[2] & (1u << 31));                                /* hypervisor bit */
	cfg.cpuid[0] = c;
	cfg.ncpuid = 1;
	vmm_cpuid(&cfg, 1, 0, 7, 1, r);
	assert_int_equal(r[1], 0x10);
	vmm_cpuid(&cfg, 1, 0, 7, 0, r);
	assert_int_equal(r[1], 0);
}

/* With a known guest TSC rate the policy reports it in CPUID 0x15 (crystal = TSC, ratio 1:1) and 0x16 (MHz) and
 * raises the maximum basic leaf to 0x16; without one, neither leaf exists. */
static void cpuid_tsc_leaves(void **state)
{
	(void)state;
	uint32_t r[4];
	struct vmm_config cfg = {0};
	vmm_cpuid(&cfg, 1, 0, 0, 0, r);
	assert_int_equal(r[0], 7);
	vmm_cpuid(&cfg, 1, 0, 0x15, 0, r);
	assert_true(!r[0] && !r[1] && !r[2] && !r[3]);
	cfg.tsc_hz = 1000000000u;
	vmm_cpuid(&cfg, 1, 0, 0, 0, r);
	assert_int_equal(r[0], 0x16);
	assert_memory_equal(&r[1], "Genu", 4);
	vmm_cpuid(&cfg, 1, 0, 0x15, 0, r);
	assert_int_equal(r[0], 1);
	assert_int_equal(r[1], 1);
	assert_int_equal(r[2], 1000000000u);
	assert_int_equal(r[3], 0);
	vmm_cpuid(&cfg, 1, 0, 0x16, 0, r);
	assert_int_equal(r[0], 1000);
	assert_int_equal(r[1], 1000);
	assert_int_equal(r[2], 1000);
	for (uint32_t leaf = 8; leaf < 0x15; leaf++) {
		vmm_cpuid(&cfg, 1, 0, leaf, 0, r);
		assert_true(!r[0] && !r[1] && !r[2] && !r[3]); /* the leaves below report nothing */
	}
	cfg.cpuid[0] = (struct vmm_cpuid_override){.leaf = 0x15, .any_subleaf = true, .regs = {2, 5, 0, 0}};
	cfg.ncpuid = 1;
	vmm_cpuid(&cfg, 1, 0, 0x15, 0, r);
	assert_int_equal(r[0], 2); /* --cpuid still wins */
	assert_int_equal(r[1], 5);
}

static void e820_map(void **state)
{
	(void)state;
	struct vmm_mem m = {NULL, 5ull << 30, 3ull << 30};
	struct vmm_e820 e[8];
	unsigned n = vmm_e820_build(&m, e, 8);
	assert_int_equal(n, 5);
	assert_int_equal(e[3].addr, 0x100000);
	assert_int_equal(e[3].size, (3ull << 30) - 0x100000);
	assert_int_equal(e[4].addr, 1ull << 32);
	assert_int_equal(e[4].size, 2ull << 30);
	uint8_t *host = (uint8_t *)0x1000;
	m.host = host;
	assert_ptr_equal(vmm_mem_ptr(&m, 1ull << 32, 16), host + (3ull << 30));
	assert_null(vmm_mem_ptr(&m, (3ull << 30) - 8, 16));          /* runs into the hole */
	assert_null(vmm_mem_ptr(&m, 0xfee00000, 4));
	assert_null(vmm_mem_ptr(&m, ~0ull - 4, 16));                 /* wraps */
}

static uint8_t sum8(const uint8_t *p, size_t n)
{
	uint8_t s = 0;
	while (n--)
		s = (uint8_t)(s + *p++);
	return s;
}

static void acpi_tables(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(vmm_acpi_write(&f->mem, 3), 0);
	const uint8_t *rsdp = f->mem.host + VMM_ACPI_RSDP;
	assert_memory_equal(rsdp, "RSD PTR ", 8);
	assert_int_equal(sum8(rsdp, 20), 0);
	const uint8_t *rsdt = f->mem.host + get_le(rsdp + 16, 4);
	assert_memory_equal(rsdt, "RSDT", 4);
	assert_int_equal(sum8(rsdt, get_le(rsdt + 4, 4)), 0);
	const uint8_t *madt = f->mem.host + get_le(rsdt + 36, 4);
	assert_memory_equal(madt, "APIC", 4);
	uint32_t len = (uint32_t)get_le(madt + 4, 4);
	assert_int_equal(sum8(madt, len), 0);
	assert_int_equal(get_le(madt + 36, 4), 0xfee00000);
	unsigned cpus = 0;
	for (uint32_t off = 44; off < len; off += madt[off + 1])
		if (madt[off] == 0 && (madt[off + 4] & 1))
			assert_int_equal(madt[off + 3], cpus++);
	assert_int_equal(cpus, 3);
	unsigned ioapics = 0, overrides = 0;
	for (uint32_t off = 44; off < len; off += madt[off + 1]) {
		if (madt[off] == 1) { /* the I/O APIC: ID 0 at 0xfec00000, GSI base 0 */
			assert_int_equal(madt[off + 1], 12);
			assert_int_equal(madt[off + 2], 0);
			assert_int_equal(get_le(madt + off + 4, 4), 0xfec00000);
			assert_int_equal(get_le(madt + off + 8, 4), 0);
			ioapics++;
		} else if (madt[off] == 2) { /* ISA IRQ 0 -> GSI 2, bus-default polarity and trigger */
			assert_int_equal(madt[off + 1], 10);
			assert_int_equal(madt[off + 2], 0);
			assert_int_equal(madt[off + 3], 0);
			assert_int_equal(get_le(madt + off + 4, 4), 2);
			assert_int_equal(get_le(madt + off + 8, 2), 0);
			overrides++;
		}
	}
	assert_int_equal(ioapics, 1);
	assert_int_equal(overrides, 1);
	/* The FADT (second RSDT entry): FACS, DSDT, SCI 9, PM1a event/control blocks, PM timer, no SMI command port. */
	assert_int_equal(get_le(rsdt + 4, 4), 44);
	const uint8_t *fadt = f->mem.host + get_le(rsdt + 40, 4);
	assert_memory_equal(fadt, "FACP", 4);
	assert_int_equal(get_le(fadt + 4, 4), 116);
	assert_int_equal(sum8(fadt, 116), 0);
	assert_int_equal(get_le(fadt + 46, 2), 9);
	assert_int_equal(get_le(fadt + 48, 4), 0);
	assert_int_equal(get_le(fadt + 56, 4), 0x600);
	assert_int_equal(get_le(fadt + 64, 4), 0x604);
	assert_int_equal(get_le(fadt + 76, 4), 0x608);
	assert_int_equal(fadt[88], 4);
	assert_int_equal(fadt[89], 2);
	assert_int_equal(fadt[91], 4);
	uint64_t facs_at = get_le(fadt + 36, 4);
	assert_int_equal(facs_at % 64, 0);
	assert_memory_equal(f->mem.host + facs_at, "FACS", 4);
	assert_int_equal(get_le(f->mem.host + facs_at + 4, 4), 64);
	const uint8_t *dsdt = f->mem.host + get_le(fadt + 40, 4);
	assert_memory_equal(dsdt, "DSDT", 4);
	uint32_t dlen = (uint32_t)get_le(dsdt + 4, 4);
	assert_int_equal(sum8(dsdt, dlen), 0);
	static const uint8_t s5[] = {0x08, '_', 'S', '5', '_', 0x12, 0x06, 0x04, 0, 0, 0, 0};
	assert_int_equal(dlen, 36 + sizeof s5);
	assert_memory_equal(dsdt + 36, s5, sizeof s5); /* Name (_S5, Package (4) {0, 0, 0, 0}) */
	assert_true(vmm_acpi_fits(0x100000, 0x200000));
	assert_true(vmm_acpi_fits(0x7c00, 0x7e00));
	assert_false(vmm_acpi_fits(0xe8000, 0xf0001));
	assert_int_equal(vmm_acpi_write(&f->mem, 0), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(elf32_loads_segment_and_translates_entry, setup, teardown),
		cmocka_unit_test_setup_teardown(elf_corrupt_inputs, setup, teardown),
		cmocka_unit_test_setup_teardown(unknown_and_empty, setup, teardown),
		cmocka_unit_test_setup_teardown(flat_modes, setup, teardown),
		cmocka_unit_test_setup_teardown(multiboot_aout_info, setup, teardown),
		cmocka_unit_test_setup_teardown(multiboot_corrupt, setup, teardown),
		cmocka_unit_test_setup_teardown(bzimage_zero_page, setup, teardown),
		cmocka_unit_test_setup_teardown(bzimage_corrupt, setup, teardown),
		cmocka_unit_test_setup_teardown(pvh_note, setup, teardown),
		cmocka_unit_test(option_parsers),
		cmocka_unit_test(cpuid_tsc_leaves),
		cmocka_unit_test(e820_map),
		cmocka_unit_test_setup_teardown(acpi_tables, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
