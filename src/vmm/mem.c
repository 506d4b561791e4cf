/* mem.c: guest RAM (one host mapping, split around the 3-4 GiB device hole), its e820 map, and size parsing. */
#include <stdlib.h>
#include <string.h>

#include "vmm.h"

void *vmm_mem_ptr(const struct vmm_mem *m, uint64_t gpa, uint64_t len)
{
	if (gpa + len < gpa)
		return NULL;
	if (gpa < m->low) {
		if (len > m->low - gpa)
			return NULL;
		return m->host + gpa;
	}
	uint64_t high = m->size - m->low;
	if (gpa >= VMM_HIGH_RAM_BASE && gpa - VMM_HIGH_RAM_BASE <= high && len <= high - (gpa - VMM_HIGH_RAM_BASE))
		return m->host + m->low + (gpa - VMM_HIGH_RAM_BASE);
	return NULL;
}

int vmm_mem_write(const struct vmm_mem *m, uint64_t gpa, const void *src, uint64_t len)
{
	void *p = vmm_mem_ptr(m, gpa, len);
	if (!p)
		return -1;
	memcpy(p, src, len);
	return 0;
}

int vmm_mem_read(const struct vmm_mem *m, uint64_t gpa, void *dst, uint64_t len)
{
	void *p = vmm_mem_ptr(m, gpa, len);
	if (!p)
		return -1;
	memcpy(dst, p, len);
	return 0;
}

int vmm_mem_fill(const struct vmm_mem *m, uint64_t gpa, int byte, uint64_t len)
{
	void *p = vmm_mem_ptr(m, gpa, len);
	if (!p)
		return -1;
	memset(p, byte, len);
	return 0;
}

unsigned vmm_e820_build(const struct vmm_mem *m, struct vmm_e820 *out, unsigned max)
{
	struct vmm_e820 map[5];
	unsigned n = 0;
	map[n++] = (struct vmm_e820){0, 0x9fc00, VMM_E820_RAM};
	map[n++] = (struct vmm_e820){0x9fc00, 0x400, VMM_E820_RESERVED};   /* EBDA */
	map[n++] = (struct vmm_e820){0xf0000, 0x10000, VMM_E820_RESERVED}; /* BIOS area */
	if (m->low > 0x100000)
		map[n++] = (struct vmm_e820){0x100000, m->low - 0x100000, VMM_E820_RAM};
	if (m->size > m->low)
		map[n++] = (struct vmm_e820){VMM_HIGH_RAM_BASE, m->size - m->low, VMM_E820_RAM};
	if (n > max)
		n = max;
	memcpy(out, map, n * sizeof *out);
	return n;
}

bool vmm_parse_size(const char *text, uint64_t *out)
{
	if (!text || !*text || *text == '-' || *text == '+')
		return false;
	char *end;
	unsigned long long v = strtoull(text, &end, 0);
	uint64_t mul = 1;
	if (*end) {
		switch (*end) {
		case 'k': case 'K': mul = 1ull << 10; break;
		case 'm': case 'M': mul = 1ull << 20; break;
		case 'g': case 'G': mul = 1ull << 30; break;
		default: return false;
		}
		end++;
		if ((*end == 'i' && end[1] == 'B' && !end[2]) || (*end == 'B' && !end[1]))
			end += strlen(end);
		if (*end)
			return false;
	}
	if (v > UINT64_MAX / mul)
		return false;
	*out = v * mul;
	return true;
}
