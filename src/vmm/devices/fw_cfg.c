/* fw_cfg.c: QEMU firmware configuration interface, legacy I/O ports (selector 0x510, byte data 0x511). */
#include <stdlib.h>
#include <string.h>

#include "devices.h"

static int add(struct fw_cfg *f, uint16_t key, const void *data, uint32_t len)
{
	if (f->nitems == FW_CFG_ITEMS)
		return -1;
	uint8_t *copy = malloc(len ? len : 1);
	if (!copy)
		return -1;
	memcpy(copy, data, len);
	f->items[f->nitems++] = (struct fw_cfg_item){key, copy, len};
	return 0;
}

static void le(uint8_t *p, uint64_t v, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

int fw_cfg_init(struct fw_cfg *f, uint64_t ram_size, unsigned cpus, const char *cmdline)
{
	memset(f, 0, sizeof *f);
	uint8_t id[4], ram[8], n[2], one[2], uuid[16] = {0}, dir[4] = {0}; /* file count, big-endian: none */
	le(id, 1, 4); /* bit 0: traditional I/O interface; no DMA */
	le(ram, ram_size, 8);
	le(n, cpus, 2);
	le(one, 1, 2);
	const char *cl = cmdline ? cmdline : "";
	uint32_t cl_len = (uint32_t)strlen(cl) + 1;
	uint8_t cl_size[4];
	le(cl_size, cl_len, 4);
	if (add(f, FW_CFG_SIGNATURE, "QEMU", 4) || add(f, FW_CFG_ID, id, 4) || add(f, FW_CFG_UUID, uuid, 16) ||
	    add(f, FW_CFG_RAM_SIZE, ram, 8) || add(f, FW_CFG_NOGRAPHIC, one, 2) || add(f, FW_CFG_NB_CPUS, n, 2) ||
	    add(f, FW_CFG_MAX_CPUS, n, 2) || add(f, FW_CFG_FILE_DIR, dir, 4)) {
		fw_cfg_free(f);
		return -1;
	}
	if (add(f, FW_CFG_CMDLINE_SIZE, cl_size, 4) || add(f, FW_CFG_CMDLINE_DATA, cl, cl_len)) {
		fw_cfg_free(f);
		return -1;
	}
	return 0;
}

void fw_cfg_free(struct fw_cfg *f)
{
	for (unsigned i = 0; i < f->nitems; i++)
		free(f->items[i].data);
	f->nitems = 0;
}

void fw_cfg_select(struct fw_cfg *f, uint16_t key)
{
	f->selector = key;
	f->offset = 0;
}

uint8_t fw_cfg_read_byte(struct fw_cfg *f)
{
	for (unsigned i = 0; i < f->nitems; i++) {
		const struct fw_cfg_item *it = &f->items[i];
		if (it->key != f->selector)
			continue;
		if (f->offset < it->len)
			return it->data[f->offset++];
		return 0;
	}
	return 0; /* unknown keys read as zeros */
}
