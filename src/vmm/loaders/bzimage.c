/* bzimage.c: Linux bzImage loader (boot protocol 2.02+): zero page with setup header, e820, cmdline, initrd; 32- or 64-bit entry. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "loader.h"

#define HDR_SETUP_SECTS 0x1f1
#define HDR_BOOT_FLAG 0x1fe
#define HDR_JUMP 0x200
#define HDR_MAGIC 0x202
#define HDR_VERSION 0x206
#define HDR_TYPE_OF_LOADER 0x210
#define HDR_LOADFLAGS 0x211
#define HDR_CODE32_START 0x214
#define HDR_RAMDISK_IMAGE 0x218
#define HDR_RAMDISK_SIZE 0x21c
#define HDR_CMD_LINE_PTR 0x228
#define HDR_INITRD_ADDR_MAX 0x22c
#define HDR_XLOADFLAGS 0x236
#define HDR_CMDLINE_SIZE 0x238
#define HDR_INIT_SIZE 0x260
#define ZP_EXT_RAMDISK_IMAGE 0x0c0
#define ZP_EXT_RAMDISK_SIZE 0x0c4
#define ZP_EXT_CMD_LINE_PTR 0x0c8
#define ZP_ALT_MEM_K 0x1e0
#define ZP_E820_ENTRIES 0x1e8
#define ZP_E820_TABLE 0x2d0
#define ZP_EXT_MEM_K 0x002
#define LOADED_HIGH 0x01
#define XLF_KERNEL_64 0x01
#define KERNEL_LOAD 0x100000ull

int load_bzimage(const struct vmm_config *cfg, const uint8_t *img, size_t len, const struct vmm_mem *mem,
		 struct vmm_boot *boot, char *err, size_t errsz)
{
	if (len < 0x250 || img[HDR_BOOT_FLAG] != 0x55 || img[HDR_BOOT_FLAG + 1] != 0xaa || memcmp(img + HDR_MAGIC, "HdrS", 4)) {
		snprintf(err, errsz, "bzImage: no Linux setup header (boot flag 0xaa55 and \"HdrS\" at 0x202)%s",
			 len < 0x250 ? ": file truncated" : "");
		return -1;
	}
	unsigned version = (unsigned)get_le(img + HDR_VERSION, 2);
	if (version < 0x0202) {
		snprintf(err, errsz, "bzImage: boot protocol %u.%02u is too old (need 2.02 or later)", version >> 8, version & 0xff);
		return -1;
	}
	if (!(img[HDR_LOADFLAGS] & LOADED_HIGH)) {
		snprintf(err, errsz, "bzImage: zImage (kernel loaded low) is not supported");
		return -1;
	}
	unsigned setup_sects = img[HDR_SETUP_SECTS] ? img[HDR_SETUP_SECTS] : 4;
	size_t setup_size = (size_t)(setup_sects + 1) * 512;
	if (setup_size >= len) {
		snprintf(err, errsz, "bzImage: truncated (setup is %zu bytes, file %zu)", setup_size, len);
		return -1;
	}
	const uint8_t *kernel = img + setup_size;
	size_t kernel_len = len - setup_size;
	uint64_t init_size = version >= 0x020a ? get_le(img + HDR_INIT_SIZE, 4) : 0;
	uint64_t footprint = init_size > kernel_len ? init_size : kernel_len;
	if (place(mem, KERNEL_LOAD, kernel, kernel_len, footprint - kernel_len, "kernel", err, errsz))
		return -1;

	bool want64 = cfg->mode == VMM_MODE_LONG;
	if (cfg->mode == VMM_MODE_REAL) {
		snprintf(err, errsz, "bzImage: real-mode entry (the 16-bit setup code) is not supported; use protected or long");
		return -1;
	}
	if (want64 && (version < 0x020c || !(get_le(img + HDR_XLOADFLAGS, 2) & XLF_KERNEL_64))) {
		snprintf(err, errsz, "bzImage: --mode long needs a kernel with a 64-bit entry (protocol 2.12, XLF_KERNEL_64)");
		return -1;
	}

	uint8_t zp[4096] = {0};
	size_t hdr_end = HDR_JUMP + 2 + img[HDR_JUMP + 1]; /* the header ends where the jump at 0x200 lands */
	if (hdr_end > 0x290)
		hdr_end = 0x290;
	if (hdr_end > len)
		hdr_end = len;
	memcpy(zp + HDR_SETUP_SECTS, img + HDR_SETUP_SECTS, hdr_end - HDR_SETUP_SECTS);
	zp[HDR_TYPE_OF_LOADER] = 0xff;

	const char *cl = cfg->append ? cfg->append : "";
	size_t cl_max = version >= 0x0206 ? get_le(img + HDR_CMDLINE_SIZE, 4) : 255;
	if (cl_max > BOOT_CMDLINE_MAX)
		cl_max = BOOT_CMDLINE_MAX;
	if (put_cmdline(mem, cl, cl_max, err, errsz))
		return -1;
	put_le(zp + HDR_CMD_LINE_PTR, BOOT_CMDLINE, 4);
	put_le(zp + ZP_EXT_CMD_LINE_PTR, 0, 4);

	if (cfg->initrd) {
		uint8_t *rd;
		size_t rd_len;
		if (loader_read_file(cfg->initrd, &rd, &rd_len, err, errsz))
			return -1;
		uint64_t max = version >= 0x0203 ? get_le(img + HDR_INITRD_ADDR_MAX, 4) : 0x37ffffff;
		uint64_t top = mem->low - 1 < max ? mem->low - 1 : max;
		uint64_t at = top + 1 >= rd_len ? ((top + 1 - rd_len) & ~0xfffull) : 0;
		if (at < KERNEL_LOAD + footprint) {
			snprintf(err, errsz, "initrd (%zu bytes) does not fit between the kernel and 0x%llx; use a larger --memory",
				 rd_len, (unsigned long long)top + 1);
			free(rd);
			return -1;
		}
		int r = place(mem, at, rd, rd_len, 0, "initrd", err, errsz);
		free(rd);
		if (r)
			return -1;
		put_le(zp + HDR_RAMDISK_IMAGE, at, 4);
		put_le(zp + HDR_RAMDISK_SIZE, rd_len, 4);
		put_le(zp + ZP_EXT_RAMDISK_IMAGE, at >> 32, 4);
		put_le(zp + ZP_EXT_RAMDISK_SIZE, (uint64_t)rd_len >> 32, 4);
	}

	struct vmm_e820 map[16];
	unsigned n = vmm_e820_build(mem, map, 16);
	zp[ZP_E820_ENTRIES] = (uint8_t)n;
	for (unsigned i = 0; i < n; i++) {
		put_le(zp + ZP_E820_TABLE + 20 * i, map[i].addr, 8);
		put_le(zp + ZP_E820_TABLE + 20 * i + 8, map[i].size, 8);
		put_le(zp + ZP_E820_TABLE + 20 * i + 16, map[i].type, 4);
	}
	uint64_t ext_k = (mem->low - 0x100000) / 1024;
	put_le(zp + ZP_ALT_MEM_K, ext_k > 0xffffffffu ? 0xffffffffu : ext_k, 4);
	put_le(zp + ZP_EXT_MEM_K, ext_k > 0xfc00 ? 0xfc00 : ext_k, 2);
	vmm_mem_write(mem, BOOT_INFO, zp, sizeof zp);

	write_boot_tables(mem, want64);
	boot->mode = want64 ? VMM_MODE_LONG : VMM_MODE_PROTECTED;
	boot->entry = want64 ? KERNEL_LOAD + 0x200 : get_le(img + HDR_CODE32_START, 4);
	if (!want64 && !vmm_mem_ptr(mem, boot->entry, 1)) {
		snprintf(err, errsz, "bzImage: code32_start 0x%llx is not in guest RAM", (unsigned long long)boot->entry);
		return -1;
	}
	boot->regs[BR_RSI] = BOOT_INFO;
	boot->image_lo = KERNEL_LOAD;
	boot->image_hi = KERNEL_LOAD + footprint;
	boot->format = want64 ? "bzimage (64-bit entry)" : "bzimage";
	return 0;
}
