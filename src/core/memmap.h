/* memmap.h: guest-physical address spaces: regions of host memory with HV_MEMORY_* permissions, page-granular, safe while vCPUs run. */
#ifndef HVX_CORE_MEMMAP_H
#define HVX_CORE_MEMMAP_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <Hypervisor/hv.h>

#define HVX_PAGE_SIZE 4096ull
#define HVX_PAGE_MASK (HVX_PAGE_SIZE - 1)
#define HVX_SPACE_MAX 16
#define HVX_GPA_LIMIT (1ull << 52) /* guest-physical addresses are below 2^52 */

#define HVX_MEMORY_PERMS (HV_MEMORY_READ | HV_MEMORY_WRITE | HV_MEMORY_EXEC)

/* One mapped range: [gpa, gpa + size) -> host [hva, hva + size) with perms (HV_MEMORY_READ/WRITE/EXEC). */
struct hvx_region {
	uint64_t gpa;
	uint64_t size;
	uint8_t *hva;
	uint32_t perms;
};

/* An address space: regions sorted by gpa, never overlapping. */
struct hvx_space {
	bool in_use;
	unsigned count, capacity;
	struct hvx_region *regions;
};

/* All spaces of a VM, one lock, and a generation that changes on every unmap/protect (backends drop cached translations when it moves). */
struct hvx_memmap {
	pthread_rwlock_t lock;
	atomic_uint_fast64_t generation;
	struct hvx_space spaces[HVX_SPACE_MAX];
};

void hvx_memmap_init(struct hvx_memmap *m);
void hvx_memmap_fini(struct hvx_memmap *m);
hv_return_t hvx_memmap_space_create(struct hvx_memmap *m, hv_vm_space_t *out);
hv_return_t hvx_memmap_space_destroy(struct hvx_memmap *m, hv_vm_space_t space);
bool hvx_memmap_space_valid(struct hvx_memmap *m, hv_vm_space_t space);
hv_return_t hvx_memmap_map(struct hvx_memmap *m, hv_vm_space_t space, void *hva, uint64_t gpa, uint64_t size, uint32_t perms);
hv_return_t hvx_memmap_unmap(struct hvx_memmap *m, hv_vm_space_t space, uint64_t gpa, uint64_t size);
hv_return_t hvx_memmap_protect(struct hvx_memmap *m, hv_vm_space_t space, uint64_t gpa, uint64_t size, uint32_t perms);

/*
 * Look up the region holding gpa (caller holds m->lock for reading, or copies the result out before dropping it).
 * Returns NULL when gpa is not mapped.
 */
const struct hvx_region *hvx_memmap_lookup_locked(const struct hvx_space *s, uint64_t gpa);

/* Translate one guest-physical page: host pointer to the page holding gpa and its perms; false if unmapped. */
bool hvx_memmap_translate(struct hvx_memmap *m, hv_vm_space_t space, uint64_t gpa, uint8_t **page_hva, uint32_t *perms);

/* Copy to/from guest-physical memory through the map (for loaders and tests); fails on any unmapped byte. */
bool hvx_memmap_read(struct hvx_memmap *m, hv_vm_space_t space, uint64_t gpa, void *dst, size_t len);
bool hvx_memmap_write(struct hvx_memmap *m, hv_vm_space_t space, uint64_t gpa, const void *src, size_t len);

#endif
