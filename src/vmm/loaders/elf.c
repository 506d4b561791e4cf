/* elf.c: ELF32/ELF64 loader (PT_LOAD at physical addresses, entry translated) and the PVH Xen note scanner. */
#include <stdio.h>
#include <string.h>

#include "loader.h"

#define PT_LOAD 1
#define PT_NOTE 4
#define XEN_ELFNOTE_PHYS32_ENTRY 18

bool elf_is(const uint8_t *img, size_t len)
{
	return len >= 4 && img[0] == 0x7f && img[1] == 'E' && img[2] == 'L' && img[3] == 'F';
}

struct phdr {
	uint32_t type;
	uint64_t offset, vaddr, paddr, filesz, memsz;
};

static void read_phdr(const uint8_t *p, unsigned bits, struct phdr *ph)
{
	ph->type = (uint32_t)get_le(p, 4);
	if (bits == 64) {
		ph->offset = get_le(p + 8, 8);
		ph->vaddr = get_le(p + 16, 8);
		ph->paddr = get_le(p + 24, 8);
		ph->filesz = get_le(p + 32, 8);
		ph->memsz = get_le(p + 40, 8);
	} else {
		ph->offset = get_le(p + 4, 4);
		ph->vaddr = get_le(p + 8, 4);
		ph->paddr = get_le(p + 12, 4);
		ph->filesz = get_le(p + 16, 4);
		ph->memsz = get_le(p + 20, 4);
	}
}

/* Look for the Xen PVH entry note in a PT_NOTE segment. */
static void scan_notes(const uint8_t *p, uint64_t len, struct elf_info *info)
{
	uint64_t off = 0;
	while (off + 12 <= len) {
		uint32_t namesz = (uint32_t)get_le(p + off, 4), descsz = (uint32_t)get_le(p + off + 4, 4);
		uint32_t type = (uint32_t)get_le(p + off + 8, 4);
		uint64_t name_off = off + 12, desc_off = name_off + (((uint64_t)namesz + 3) & ~3ull);
		uint64_t end = desc_off + (((uint64_t)descsz + 3) & ~3ull);
		if (end > len || desc_off > len)
			return;
		if (namesz == 4 && !memcmp(p + name_off, "Xen", 4) && type == XEN_ELFNOTE_PHYS32_ENTRY &&
		    (descsz == 4 || descsz == 8) && desc_off + descsz <= len) {
			info->has_pvh = true;
			info->pvh_entry = get_le(p + desc_off, descsz) & 0xffffffffull;
		}
		off = end;
	}
}

int elf_load(const uint8_t *img, size_t len, const struct vmm_mem *mem, struct elf_info *info, char *err, size_t errsz)
{
	memset(info, 0, sizeof *info);
	if (!elf_is(img, len) || len < 52) {
		snprintf(err, errsz, "not an ELF file or truncated ELF header");
		return -1;
	}
	if (img[4] != 1 && img[4] != 2) {
		snprintf(err, errsz, "ELF: bad class %u", img[4]);
		return -1;
	}
	info->bits = img[4] == 2 ? 64 : 32;
	if (info->bits == 64 && len < 64) {
		snprintf(err, errsz, "ELF64 header truncated");
		return -1;
	}
	if (img[5] != 1) {
		snprintf(err, errsz, "ELF: not little-endian");
		return -1;
	}
	unsigned machine = (unsigned)get_le(img + 18, 2), type = (unsigned)get_le(img + 16, 2);
	if ((info->bits == 32 && machine != 3) || (info->bits == 64 && machine != 62)) {
		snprintf(err, errsz, "ELF: machine %u is not x86 (%s)", machine, info->bits == 64 ? "want 62" : "want 3");
		return -1;
	}
	if (type != 2 && type != 3) {
		snprintf(err, errsz, "ELF: type %u is not an executable", type);
		return -1;
	}
	uint64_t entry, phoff;
	unsigned phentsize, phnum;
	if (info->bits == 64) {
		entry = get_le(img + 24, 8);
		phoff = get_le(img + 32, 8);
		phentsize = (unsigned)get_le(img + 54, 2);
		phnum = (unsigned)get_le(img + 56, 2);
	} else {
		entry = get_le(img + 24, 4);
		phoff = get_le(img + 28, 4);
		phentsize = (unsigned)get_le(img + 42, 2);
		phnum = (unsigned)get_le(img + 44, 2);
	}
	if (phentsize < (info->bits == 64 ? 56u : 32u) || phnum == 0 || phnum > 512 || phoff > len ||
	    (uint64_t)phentsize * phnum > len - phoff) {
		snprintf(err, errsz, "ELF: program headers missing or outside the file (offset %llu, %u x %u bytes, file %zu)",
			 (unsigned long long)phoff, phnum, phentsize, len);
		return -1;
	}
	bool any = false, entry_found = false;
	info->lo = UINT64_MAX;
	for (unsigned i = 0; i < phnum; i++) {
		struct phdr ph;
		read_phdr(img + phoff + (uint64_t)i * phentsize, info->bits, &ph);
		if (ph.type == PT_NOTE) {
			if (ph.offset <= len && ph.filesz <= len - ph.offset)
				scan_notes(img + ph.offset, ph.filesz, info);
			continue;
		}
		if (ph.type != PT_LOAD || !ph.memsz)
			continue;
		if (ph.offset > len || ph.filesz > len - ph.offset) {
			snprintf(err, errsz, "ELF: segment %u (offset %llu, %llu bytes) lies outside the file (%zu bytes): truncated?",
				 i, (unsigned long long)ph.offset, (unsigned long long)ph.filesz, len);
			return -1;
		}
		if (ph.filesz > ph.memsz || ph.paddr + ph.memsz < ph.paddr) {
			snprintf(err, errsz, "ELF: segment %u has inconsistent sizes", i);
			return -1;
		}
		char what[48];
		snprintf(what, sizeof what, "ELF segment %u", i);
		if (mem && place(mem, ph.paddr, img + ph.offset, ph.filesz, ph.memsz - ph.filesz, what, err, errsz))
			return -1;
		any = true;
		if (ph.paddr < info->lo)
			info->lo = ph.paddr;
		if (ph.paddr + ph.memsz > info->hi)
			info->hi = ph.paddr + ph.memsz;
		if (!entry_found && entry >= ph.vaddr && entry - ph.vaddr < ph.memsz) {
			info->entry = entry - ph.vaddr + ph.paddr;
			entry_found = true;
		}
	}
	if (!any) {
		snprintf(err, errsz, "ELF: no loadable segments");
		return -1;
	}
	if (!entry_found)
		info->entry = entry;
	return 0;
}

int load_elf(const struct vmm_config *cfg, const uint8_t *img, size_t len, const struct vmm_mem *mem,
	     struct vmm_boot *boot, char *err, size_t errsz)
{
	struct elf_info info;
	if (elf_load(img, len, mem, &info, err, errsz))
		return -1;
	enum vmm_mode mode = cfg->mode != VMM_MODE_DEFAULT ? cfg->mode
			     : info.bits == 64 ? VMM_MODE_LONG : VMM_MODE_PROTECTED;
	uint64_t entry = cfg->have_entry ? cfg->entry : info.entry;
	if (mode != VMM_MODE_LONG && entry > 0xffffffffull) {
		snprintf(err, errsz, "ELF entry 0x%llx is not reachable outside long mode", (unsigned long long)entry);
		return -1;
	}
	if (mode == VMM_MODE_LONG && entry >= 0x100000000ull) {
		snprintf(err, errsz, "ELF entry 0x%llx lies outside the identity-mapped first 4 GiB", (unsigned long long)entry);
		return -1;
	}
	if (mode == VMM_MODE_REAL) {
		snprintf(err, errsz, "ELF images cannot start in real mode");
		return -1;
	}
	write_boot_tables(mem, mode == VMM_MODE_LONG);
	boot->mode = mode;
	boot->entry = entry;
	boot->image_lo = info.lo;
	boot->image_hi = info.hi;
	boot->format = info.bits == 64 ? "elf64" : "elf32";
	return 0;
}
