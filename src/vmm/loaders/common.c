/* common.c: loader plumbing: reading files, format detection, placing data in guest RAM, boot GDT and page tables. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "loader.h"

#define FILE_MAX (1ull << 30)

int loader_read_file(const char *path, uint8_t **data, size_t *len, char *err, size_t errsz)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		snprintf(err, errsz, "cannot open '%s': %s", path, strerror(errno));
		return -1;
	}
	struct stat st;
	if (fstat(fileno(f), &st) || !S_ISREG(st.st_mode)) {
		snprintf(err, errsz, "'%s' is not a regular file", path);
		fclose(f);
		return -1;
	}
	if ((uint64_t)st.st_size > FILE_MAX) {
		snprintf(err, errsz, "'%s' is too large (%lld bytes, limit 1 GiB)", path, (long long)st.st_size);
		fclose(f);
		return -1;
	}
	size_t n = (size_t)st.st_size;
	uint8_t *buf = malloc(n ? n : 1);
	if (!buf || fread(buf, 1, n, f) != n) {
		snprintf(err, errsz, "cannot read '%s'%s", path, buf ? "" : ": out of memory");
		free(buf);
		fclose(f);
		return -1;
	}
	fclose(f);
	*data = buf;
	*len = n;
	return 0;
}

static bool has_multiboot(const uint8_t *img, size_t len)
{
	for (size_t off = 0; off + 12 <= len && off < 8192; off += 4) {
		uint32_t magic = (uint32_t)get_le(img + off, 4);
		if (magic == 0x1badb002u &&
		    (uint32_t)(magic + (uint32_t)get_le(img + off + 4, 4) + (uint32_t)get_le(img + off + 8, 4)) == 0)
			return true;
	}
	return false;
}

const char *loader_detect(const uint8_t *img, size_t len)
{
	if (len >= 0x206 && img[0x1fe] == 0x55 && img[0x1ff] == 0xaa && !memcmp(img + 0x202, "HdrS", 4))
		return "bzimage";
	if (has_multiboot(img, len))
		return "multiboot";
	if (elf_is(img, len)) {
		struct elf_info info;
		char e[8];
		if (elf_load(img, len, NULL, &info, e, sizeof e) == 0 && info.has_pvh)
			return "pvh";
		return "elf";
	}
	return NULL;
}

int loader_load(const struct vmm_config *cfg, const uint8_t *img, size_t len, const struct vmm_mem *mem,
		struct vmm_boot *boot, char *err, size_t errsz)
{
	memset(boot, 0, sizeof *boot);
	boot->regs[BR_RSP] = BOOT_STACK;
	const char *fmt = cfg->format;
	if (!fmt) {
		fmt = loader_detect(img, len);
		if (!fmt && (cfg->have_load_addr || cfg->have_entry))
			fmt = "flat";
		if (!fmt) {
			if (len == 0)
				snprintf(err, errsz, "'%s' is empty", cfg->image);
			else
				snprintf(err, errsz,
					 "'%s': unknown image format (not ELF, multiboot, PVH or bzImage); "
					 "for a raw binary give --format flat or --load-addr", cfg->image);
			return -1;
		}
	}
	int r;
	if (!strcmp(fmt, "flat"))
		r = load_flat(cfg, img, len, mem, boot, err, errsz);
	else if (!strcmp(fmt, "elf"))
		r = load_elf(cfg, img, len, mem, boot, err, errsz);
	else if (!strcmp(fmt, "multiboot"))
		r = load_multiboot(cfg, img, len, mem, boot, err, errsz);
	else if (!strcmp(fmt, "pvh"))
		r = load_pvh(cfg, img, len, mem, boot, err, errsz);
	else if (!strcmp(fmt, "bzimage"))
		r = load_bzimage(cfg, img, len, mem, boot, err, errsz);
	else {
		snprintf(err, errsz, "unknown format '%s' (flat, elf, multiboot, pvh, bzimage)", fmt);
		return -1;
	}
	if (r == 0 && !boot->format)
		boot->format = fmt;
	return r;
}

int place(const struct vmm_mem *mem, uint64_t gpa, const void *src, uint64_t len, uint64_t zero_len, const char *what,
	  char *err, size_t errsz)
{
	uint64_t total = len + zero_len;
	if (total < len || gpa + total < gpa) {
		snprintf(err, errsz, "%s: size overflows", what);
		return -1;
	}
	if (total && gpa < BOOT_LOW_END) {
		snprintf(err, errsz, "%s at 0x%llx-0x%llx overlaps the boot data area below 0x%llx", what,
			 (unsigned long long)gpa, (unsigned long long)(gpa + total), (unsigned long long)BOOT_LOW_END);
		return -1;
	}
	if (total && !vmm_mem_ptr(mem, gpa, total)) {
		snprintf(err, errsz, "%s at 0x%llx-0x%llx does not fit in guest RAM (%llu MiB%s); use a larger --memory",
			 what, (unsigned long long)gpa, (unsigned long long)(gpa + total),
			 (unsigned long long)(mem->size >> 20),
			 gpa >= VMM_LOW_RAM_MAX && gpa < VMM_HIGH_RAM_BASE ? ", and 3-4 GiB is the device hole" : "");
		return -1;
	}
	if (len)
		vmm_mem_write(mem, gpa, src, len);
	if (zero_len)
		vmm_mem_fill(mem, gpa + len, 0, zero_len);
	return 0;
}

int put_cmdline(const struct vmm_mem *mem, const char *cmdline, size_t max, char *err, size_t errsz)
{
	size_t n = strlen(cmdline);
	if (n > max) {
		snprintf(err, errsz, "command line too long (%zu characters, at most %zu)", n, max);
		return -1;
	}
	vmm_mem_write(mem, BOOT_CMDLINE, cmdline, n + 1);
	return 0;
}

int load_modules(const struct vmm_config *cfg, bool initrd_as_module, const struct vmm_mem *mem, uint64_t *next,
		 struct boot_module *mods, unsigned *count, char *err, size_t errsz)
{
	const char *list[VMM_MAX_MODULES + 1];
	unsigned n = 0;
	if (initrd_as_module && cfg->initrd)
		list[n++] = cfg->initrd;
	for (unsigned i = 0; i < cfg->nmodules && n < VMM_MAX_MODULES; i++)
		list[n++] = cfg->modules[i];
	for (unsigned i = 0; i < n; i++) {
		char path[4096];
		size_t plen = strcspn(list[i], " ");
		if (plen >= sizeof path) {
			snprintf(err, errsz, "module path too long");
			return -1;
		}
		memcpy(path, list[i], plen);
		path[plen] = 0;
		uint8_t *data;
		size_t len;
		if (loader_read_file(path, &data, &len, err, errsz))
			return -1;
		uint64_t at = (*next + 0xfff) & ~0xfffull;
		char what[64];
		snprintf(what, sizeof what, "module %u", i);
		int r = place(mem, at, data, len, 0, what, err, errsz);
		free(data);
		if (r)
			return -1;
		mods[i] = (struct boot_module){at, len, list[i]};
		*next = at + len;
	}
	*count = n;
	return 0;
}

void write_boot_tables(const struct vmm_mem *mem, bool long_mode)
{
	uint8_t gdt[32] = {0};
	put_le(gdt + 8, 0x00cf9a000000ffffull, 8);
	put_le(gdt + 16, long_mode ? 0x00af9a000000ffffull : 0x00cf9a000000ffffull, 8);
	put_le(gdt + 24, 0x00cf92000000ffffull, 8);
	vmm_mem_write(mem, BOOT_GDT, gdt, sizeof gdt);
	if (!long_mode)
		return;
	uint8_t *pt = vmm_mem_ptr(mem, BOOT_PT, BOOT_PT_END - BOOT_PT);
	if (!pt)
		return;
	memset(pt, 0, BOOT_PT_END - BOOT_PT);
	put_le(pt, (BOOT_PT + 0x1000) | 3, 8);                         /* PML4[0] -> PDPT */
	for (unsigned i = 0; i < 4; i++) {
		put_le(pt + 0x1000 + 8 * i, (BOOT_PT + 0x2000 + 0x1000ull * i) | 3, 8); /* PDPT[i] -> PD i */
		for (unsigned j = 0; j < 512; j++)
			put_le(pt + 0x2000 + 0x1000 * i + 8 * j, ((uint64_t)i << 30) | ((uint64_t)j << 21) | 0x83, 8);
	}
}
