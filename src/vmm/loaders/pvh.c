/* pvh.c: PVH boot (ELF with the Xen PHYS32_ENTRY note): 32-bit entry with EBX = hvm_start_info, memory map, modules. */
#include <stdio.h>
#include <string.h>

#include "../acpi.h"
#include "loader.h"

#define HVM_START_MAGIC 0x336ec578u

int load_pvh(const struct vmm_config *cfg, const uint8_t *img, size_t len, const struct vmm_mem *mem,
	     struct vmm_boot *boot, char *err, size_t errsz)
{
	struct elf_info info;
	if (elf_load(img, len, mem, &info, err, errsz))
		return -1;
	if (!info.has_pvh) {
		snprintf(err, errsz, "PVH: no Xen ELF note of type 18 (XEN_ELFNOTE_PHYS32_ENTRY)");
		return -1;
	}
	if (!vmm_mem_ptr(mem, info.pvh_entry, 1)) {
		snprintf(err, errsz, "PVH entry 0x%llx is not in guest RAM", (unsigned long long)info.pvh_entry);
		return -1;
	}
	if (put_cmdline(mem, cfg->append ? cfg->append : "", BOOT_CMDLINE_MAX, err, errsz))
		return -1;
	/* Modules: the initrd first (Linux takes module 0 as its initrd), then --module files. */
	struct boot_module mods[VMM_MAX_MODULES + 1];
	unsigned nmods = 0;
	uint64_t next = info.hi;
	if (load_modules(cfg, true, mem, &next, mods, &nmods, err, errsz))
		return -1;
	uint64_t strings = BOOT_MODS + 32ull * nmods;
	for (unsigned i = 0; i < nmods; i++) {
		const char *args = strchr(mods[i].string, ' ');
		args = args ? args + 1 : "";
		size_t sl = strlen(args) + 1;
		if (strings + sl > BOOT_LOW_END) {
			snprintf(err, errsz, "module strings too long");
			return -1;
		}
		vmm_mem_write(mem, strings, args, sl);
		uint8_t m[32] = {0};
		put_le(m, mods[i].addr, 8);
		put_le(m + 8, mods[i].size, 8);
		put_le(m + 16, strings, 8);
		vmm_mem_write(mem, BOOT_MODS + 32ull * i, m, 32);
		strings += sl;
	}
	struct vmm_e820 map[16];
	unsigned n = vmm_e820_build(mem, map, 16);
	for (unsigned i = 0; i < n; i++) {
		uint8_t e[24] = {0};
		put_le(e, map[i].addr, 8);
		put_le(e + 8, map[i].size, 8);
		put_le(e + 16, map[i].type, 4);
		vmm_mem_write(mem, BOOT_MMAP + 24ull * i, e, 24);
	}
	uint8_t si[56] = {0};
	put_le(si, HVM_START_MAGIC, 4);
	put_le(si + 4, 1, 4); /* version 1: memory map fields present */
	put_le(si + 12, nmods, 4);
	put_le(si + 16, nmods ? BOOT_MODS : 0, 8);
	put_le(si + 24, BOOT_CMDLINE, 8);
	put_le(si + 32, vmm_acpi_fits(info.lo, info.hi) ? VMM_ACPI_RSDP : 0, 8); /* rsdp_paddr */
	put_le(si + 40, BOOT_MMAP, 8);
	put_le(si + 48, n, 4);
	vmm_mem_write(mem, BOOT_INFO, si, sizeof si);

	write_boot_tables(mem, false);
	boot->mode = VMM_MODE_PROTECTED;
	boot->entry = info.pvh_entry;
	boot->regs[BR_RBX] = BOOT_INFO;
	boot->image_lo = info.lo;
	boot->image_hi = info.hi;
	boot->format = "pvh";
	return 0;
}
