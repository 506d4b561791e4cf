/* multiboot.c: multiboot v1 loader: ELF32 and a.out-kludge kernels, modules with strings, command line, memory map. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "loader.h"

#define MB_MAGIC 0x1badb002u
#define MB_BOOT_MAGIC 0x2badb002u
#define MB_PAGE_ALIGN (1u << 0)
#define MB_MEMORY_INFO (1u << 1)
#define MB_VIDEO_MODE (1u << 2)
#define MB_AOUT_KLUDGE (1u << 16)
#define MBI_MEM (1u << 0)
#define MBI_CMDLINE (1u << 2)
#define MBI_MODS (1u << 3)
#define MBI_MMAP (1u << 6)
#define MBI_LOADER_NAME (1u << 9)

static long find_header(const uint8_t *img, size_t len)
{
	for (size_t off = 0; off + 12 <= len && off < 8192; off += 4) {
		uint32_t magic = (uint32_t)get_le(img + off, 4);
		if (magic == MB_MAGIC &&
		    (uint32_t)(magic + (uint32_t)get_le(img + off + 4, 4) + (uint32_t)get_le(img + off + 8, 4)) == 0)
			return (long)off;
	}
	return -1;
}

int load_multiboot(const struct vmm_config *cfg, const uint8_t *img, size_t len, const struct vmm_mem *mem,
		   struct vmm_boot *boot, char *err, size_t errsz)
{
	long hoff = find_header(img, len);
	if (hoff < 0) {
		snprintf(err, errsz, "no multiboot header (magic 0x1badb002 with a valid checksum) in the first 8 KiB");
		return -1;
	}
	uint32_t flags = (uint32_t)get_le(img + hoff + 4, 4);
	uint32_t unknown = flags & 0xffffu & ~(MB_PAGE_ALIGN | MB_MEMORY_INFO | MB_VIDEO_MODE);
	if (unknown) {
		snprintf(err, errsz, "multiboot header requires unsupported features (flags 0x%x)", unknown);
		return -1;
	}
	uint64_t entry, end;
	if (flags & MB_AOUT_KLUDGE) {
		if ((size_t)hoff + 32 > len) {
			snprintf(err, errsz, "multiboot header truncated (address fields missing)");
			return -1;
		}
		uint32_t header_addr = (uint32_t)get_le(img + hoff + 12, 4), load_addr = (uint32_t)get_le(img + hoff + 16, 4);
		uint32_t load_end = (uint32_t)get_le(img + hoff + 20, 4), bss_end = (uint32_t)get_le(img + hoff + 24, 4);
		entry = (uint32_t)get_le(img + hoff + 28, 4);
		if (load_addr > header_addr || header_addr - load_addr > (uint64_t)hoff) {
			snprintf(err, errsz, "multiboot: header_addr 0x%x / load_addr 0x%x inconsistent with the header offset %ld",
				 header_addr, load_addr, hoff);
			return -1;
		}
		uint64_t file_off = (uint64_t)hoff - (header_addr - load_addr);
		uint64_t size = load_end ? (uint64_t)load_end - load_addr : len - file_off;
		if (load_end && load_end < load_addr) {
			snprintf(err, errsz, "multiboot: load_end_addr 0x%x below load_addr 0x%x", load_end, load_addr);
			return -1;
		}
		if (file_off + size > len) {
			snprintf(err, errsz, "multiboot: image truncated (needs %llu bytes from offset %llu, file has %zu)",
				 (unsigned long long)size, (unsigned long long)file_off, len);
			return -1;
		}
		uint64_t bss = bss_end > load_addr + size ? bss_end - (load_addr + size) : 0;
		if (place(mem, load_addr, img + file_off, size, bss, "multiboot kernel", err, errsz))
			return -1;
		end = load_addr + size + bss;
		boot->image_lo = load_addr;
		boot->format = "multiboot (a.out kludge)";
	} else {
		if (!elf_is(img, len)) {
			snprintf(err, errsz, "multiboot kernel is neither ELF nor uses the a.out kludge (flags bit 16)");
			return -1;
		}
		if (len > 4 && img[4] == 2) {
			snprintf(err, errsz, "multiboot v1 needs an ELF32 kernel (this is ELF64)");
			return -1;
		}
		struct elf_info info;
		if (elf_load(img, len, mem, &info, err, errsz))
			return -1;
		entry = info.entry;
		end = info.hi;
		boot->image_lo = info.lo;
		boot->format = "multiboot (ELF)";
	}
	if (entry > 0xffffffffull || !vmm_mem_ptr(mem, entry, 1)) {
		snprintf(err, errsz, "multiboot entry 0x%llx is not in guest RAM", (unsigned long long)entry);
		return -1;
	}
	boot->image_hi = end;

	/* Command line: the kernel path, then --append (what GRUB and QEMU pass). */
	size_t cl_len = strlen(cfg->image) + (cfg->append ? strlen(cfg->append) + 1 : 0);
	char *cl = malloc(cl_len + 1);
	if (!cl) {
		snprintf(err, errsz, "out of memory");
		return -1;
	}
	snprintf(cl, cl_len + 1, "%s%s%s", cfg->image, cfg->append ? " " : "", cfg->append ? cfg->append : "");
	int r = put_cmdline(mem, cl, BOOT_CMDLINE_MAX, err, errsz);
	free(cl);
	if (r)
		return -1;

	/* Modules (QEMU passes -initrd as the module list: we take --initrd first, then each --module). */
	struct boot_module mods[VMM_MAX_MODULES + 1];
	unsigned nmods = 0;
	uint64_t next = end;
	if (load_modules(cfg, true, mem, &next, mods, &nmods, err, errsz))
		return -1;
	uint64_t strings = BOOT_MODS + 16ull * (nmods + 1);
	for (unsigned i = 0; i < nmods; i++) {
		uint8_t m[16];
		size_t sl = strlen(mods[i].string) + 1;
		if (strings + sl > BOOT_LOW_END - 16) {
			snprintf(err, errsz, "module strings too long");
			return -1;
		}
		vmm_mem_write(mem, strings, mods[i].string, sl);
		put_le(m, mods[i].addr, 4);
		put_le(m + 4, mods[i].addr + mods[i].size, 4);
		put_le(m + 8, strings, 4);
		put_le(m + 12, 0, 4);
		vmm_mem_write(mem, BOOT_MODS + 16ull * i, m, 16);
		strings += sl;
	}
	uint64_t loader_name = strings;
	vmm_mem_write(mem, loader_name, "hvx", 4);

	struct vmm_e820 map[16];
	unsigned n = vmm_e820_build(mem, map, 16);
	for (unsigned i = 0; i < n; i++) {
		uint8_t e[24];
		put_le(e, 20, 4);
		put_le(e + 4, map[i].addr, 8);
		put_le(e + 12, map[i].size, 8);
		put_le(e + 20, map[i].type, 4);
		vmm_mem_write(mem, BOOT_MMAP + 24ull * i, e, 24);
	}

	uint8_t mbi[88] = {0};
	uint64_t low = mem->low;
	put_le(mbi, MBI_MEM | MBI_CMDLINE | MBI_MODS | MBI_MMAP | MBI_LOADER_NAME, 4);
	put_le(mbi + 4, 639, 4);                                 /* mem_lower: KiB below 640 K (minus the EBDA KiB) */
	put_le(mbi + 8, (low - 0x100000) / 1024 > 0xffffffffu ? 0xffffffffu : (low - 0x100000) / 1024, 4);
	put_le(mbi + 16, BOOT_CMDLINE, 4);
	put_le(mbi + 20, nmods, 4);
	put_le(mbi + 24, BOOT_MODS, 4);
	put_le(mbi + 44, 24ull * n, 4);
	put_le(mbi + 48, BOOT_MMAP, 4);
	put_le(mbi + 64, loader_name, 4);
	vmm_mem_write(mem, BOOT_INFO, mbi, sizeof mbi);

	write_boot_tables(mem, false);
	boot->mode = VMM_MODE_PROTECTED;
	boot->entry = entry;
	boot->regs[BR_RAX] = MB_BOOT_MAGIC;
	boot->regs[BR_RBX] = BOOT_INFO;
	return 0;
}
