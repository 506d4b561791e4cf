/* loader.h: image loaders (flat, ELF32/64, multiboot v1, PVH, Linux bzImage) and the fixed low-memory boot layout. */
#ifndef HVX_VMM_LOADER_H
#define HVX_VMM_LOADER_H

#include <stddef.h>
#include <stdint.h>

#include "../vmm.h"

/* Low-memory layout the VMM writes for the boot protocols (all below the first 48 KiB). */
#define BOOT_GDT 0x0500ull          /* 4 descriptors: null, code32 0x08, code 0x10 (32 or 64-bit), data 0x18 */
#define BOOT_PT 0x1000ull           /* long mode: PML4, PDPT, 4 PDs identity-mapping 4 GiB with 2 MiB pages */
#define BOOT_PT_END 0x7000ull
#define BOOT_INFO 0x7000ull         /* multiboot info / hvm_start_info / Linux zero page */
#define BOOT_MMAP 0x8000ull         /* memory map for the protocol */
#define BOOT_CMDLINE 0x9000ull      /* command line, NUL-terminated, at most 4095 characters */
#define BOOT_MODS 0xa000ull         /* module list, then module strings and the loader name, up to BOOT_LOW_END */
#define BOOT_LOW_END 0xc000ull
#define BOOT_STACK 0x80000ull       /* initial stack pointer for flat, ELF and multiboot entries */
#define BOOT_CMDLINE_MAX 4095

#define BOOT_SEL_CODE32 0x08
#define BOOT_SEL_CODE 0x10
#define BOOT_SEL_DATA 0x18

enum { BR_RAX, BR_RCX, BR_RDX, BR_RBX, BR_RSP, BR_RBP, BR_RSI, BR_RDI };

struct vmm_boot {
	enum vmm_mode mode;
	uint64_t entry;
	uint64_t regs[8];           /* BR_* */
	const char *format;
	uint64_t image_lo, image_hi; /* guest-physical range the image occupies */
};

/* Read a whole file (limit 1 GiB). 0, or -1 with a message in err. */
int loader_read_file(const char *path, uint8_t **data, size_t *len, char *err, size_t errsz);

/* Detect the format (or use cfg->format), load into mem, write boot structures. 0 or -1 with err set. */
int loader_load(const struct vmm_config *cfg, const uint8_t *img, size_t len, const struct vmm_mem *mem,
		struct vmm_boot *boot, char *err, size_t errsz);

/* Name of the detected format ("bzimage", "multiboot", "pvh", "elf", NULL if unknown). */
const char *loader_detect(const uint8_t *img, size_t len);

/* The individual loaders (img/len already read). */
int load_flat(const struct vmm_config *cfg, const uint8_t *img, size_t len, const struct vmm_mem *mem,
	      struct vmm_boot *boot, char *err, size_t errsz);
int load_elf(const struct vmm_config *cfg, const uint8_t *img, size_t len, const struct vmm_mem *mem,
	     struct vmm_boot *boot, char *err, size_t errsz);
int load_multiboot(const struct vmm_config *cfg, const uint8_t *img, size_t len, const struct vmm_mem *mem,
		   struct vmm_boot *boot, char *err, size_t errsz);
int load_pvh(const struct vmm_config *cfg, const uint8_t *img, size_t len, const struct vmm_mem *mem,
	     struct vmm_boot *boot, char *err, size_t errsz);
int load_bzimage(const struct vmm_config *cfg, const uint8_t *img, size_t len, const struct vmm_mem *mem,
		 struct vmm_boot *boot, char *err, size_t errsz);

/* Shared helpers. */
struct elf_info {
	unsigned bits;              /* 32 or 64 */
	uint64_t entry;             /* e_entry translated to a physical address */
	uint64_t lo, hi;            /* physical extent of PT_LOAD segments */
	bool has_pvh;
	uint64_t pvh_entry;
};
/* Validate and (if mem) load an ELF image. */
int elf_load(const uint8_t *img, size_t len, const struct vmm_mem *mem, struct elf_info *info, char *err, size_t errsz);
bool elf_is(const uint8_t *img, size_t len);

/* Copy len bytes to gpa with the error messages every loader needs ("does not fit in N MiB of RAM", overlap). */
int place(const struct vmm_mem *mem, uint64_t gpa, const void *src, uint64_t len, uint64_t zero_len, const char *what,
	  char *err, size_t errsz);
/* Write the command line at BOOT_CMDLINE (error if longer than max). */
int put_cmdline(const struct vmm_mem *mem, const char *cmdline, size_t max, char *err, size_t errsz);
/* Load --module/--initrd files page-aligned from *next; each gets "PATH ARGS" as its string. */
struct boot_module {
	uint64_t addr, size;
	const char *string;         /* points into cfg or a static */
};
int load_modules(const struct vmm_config *cfg, bool initrd_as_module, const struct vmm_mem *mem, uint64_t *next,
		 struct boot_module *mods, unsigned *count, char *err, size_t errsz);
/* Write the boot GDT (code at 0x10 is 64-bit when long) and, for long mode, the identity page tables. */
void write_boot_tables(const struct vmm_mem *mem, bool long_mode);

static inline void put_le(uint8_t *p, uint64_t v, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}
static inline uint64_t get_le(const uint8_t *p, unsigned n)
{
	uint64_t v = 0;
	for (unsigned i = 0; i < n; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

#endif
