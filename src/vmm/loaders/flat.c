/* flat.c: raw binary loader: the image is copied to --load-addr and entered at --entry in the chosen mode. */
#include <stdio.h>

#include "loader.h"

int load_flat(const struct vmm_config *cfg, const uint8_t *img, size_t len, const struct vmm_mem *mem,
	      struct vmm_boot *boot, char *err, size_t errsz)
{
	enum vmm_mode mode = cfg->mode == VMM_MODE_DEFAULT ? VMM_MODE_PROTECTED : cfg->mode;
	uint64_t load = cfg->have_load_addr ? cfg->load_addr : (mode == VMM_MODE_REAL ? 0x7c00 : 0x100000);
	uint64_t entry = cfg->have_entry ? cfg->entry : load;
	if (len == 0) {
		snprintf(err, errsz, "'%s' is empty", cfg->image);
		return -1;
	}
	if (mode == VMM_MODE_REAL && (load + len > 0x100000 || entry >= 0x100000)) {
		snprintf(err, errsz, "real mode: image and entry must lie below 1 MiB (load 0x%llx, %zu bytes, entry 0x%llx)",
			 (unsigned long long)load, len, (unsigned long long)entry);
		return -1;
	}
	if (mode == VMM_MODE_REAL) {
		/* Nothing else is written in real mode, so only RAM bounds matter. */
		if (!vmm_mem_ptr(mem, load, len)) {
			snprintf(err, errsz, "image does not fit in guest RAM at 0x%llx", (unsigned long long)load);
			return -1;
		}
		vmm_mem_write(mem, load, img, len);
		boot->regs[BR_RSP] = 0x7fff0; /* SS 0x7000, SP 0xfff0 */
	} else if (place(mem, load, img, len, 0, "image", err, errsz)) {
		return -1;
	}
	if (mode != VMM_MODE_REAL && (entry >= 0x100000000ull && mode != VMM_MODE_LONG)) {
		snprintf(err, errsz, "entry 0x%llx is beyond 4 GiB", (unsigned long long)entry);
		return -1;
	}
	write_boot_tables(mem, mode == VMM_MODE_LONG);
	boot->mode = mode;
	boot->entry = entry;
	boot->image_lo = load;
	boot->image_hi = load + len;
	boot->format = "flat";
	return 0;
}
