/* memmap.c: guest-physical address spaces: map, unmap, protect (page-granular, splitting and merging regions), lookup. */
#include <stdlib.h>
#include <string.h>

#include "memmap.h"

void hvx_memmap_init(struct hvx_memmap *m)
{
	memset(m, 0, sizeof *m);
	pthread_rwlock_init(&m->lock, NULL);
	atomic_init(&m->generation, 1);
	m->spaces[HV_VM_SPACE_DEFAULT].in_use = true;
}

void hvx_memmap_fini(struct hvx_memmap *m)
{
	for (unsigned i = 0; i < HVX_SPACE_MAX; i++)
		free(m->spaces[i].regions);
	pthread_rwlock_destroy(&m->lock);
	memset(m, 0, sizeof *m);
}

bool hvx_memmap_space_valid(struct hvx_memmap *m, hv_vm_space_t space)
{
	return space < HVX_SPACE_MAX && m->spaces[space].in_use;
}

hv_return_t hvx_memmap_space_create(struct hvx_memmap *m, hv_vm_space_t *out)
{
	hv_return_t ret = HV_NO_RESOURCES;
	pthread_rwlock_wrlock(&m->lock);
	for (unsigned i = 1; i < HVX_SPACE_MAX; i++) {
		if (!m->spaces[i].in_use) {
			m->spaces[i].in_use = true;
			m->spaces[i].count = 0;
			*out = i;
			ret = HV_SUCCESS;
			break;
		}
	}
	pthread_rwlock_unlock(&m->lock);
	return ret;
}

hv_return_t hvx_memmap_space_destroy(struct hvx_memmap *m, hv_vm_space_t space)
{
	if (space == HV_VM_SPACE_DEFAULT)
		return HV_BAD_ARGUMENT;
	pthread_rwlock_wrlock(&m->lock);
	hv_return_t ret = HV_BAD_ARGUMENT;
	if (space < HVX_SPACE_MAX && m->spaces[space].in_use) {
		struct hvx_space *s = &m->spaces[space];
		free(s->regions);
		memset(s, 0, sizeof *s);
		atomic_fetch_add(&m->generation, 1);
		ret = HV_SUCCESS;
	}
	pthread_rwlock_unlock(&m->lock);
	return ret;
}

/* Index of the first region whose end is above gpa (regions are sorted and disjoint). */
static unsigned first_ending_after(const struct hvx_space *s, uint64_t gpa)
{
	unsigned lo = 0, hi = s->count;
	while (lo < hi) {
		unsigned mid = (lo + hi) / 2;
		if (s->regions[mid].gpa + s->regions[mid].size <= gpa)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

const struct hvx_region *hvx_memmap_lookup_locked(const struct hvx_space *s, uint64_t gpa)
{
	unsigned i = first_ending_after(s, gpa);
	if (i < s->count && s->regions[i].gpa <= gpa)
		return &s->regions[i];
	return NULL;
}

static bool reserve(struct hvx_space *s, unsigned extra)
{
	if (s->count + extra <= s->capacity)
		return true;
	unsigned cap = s->capacity ? s->capacity * 2 : 16;
	while (cap < s->count + extra)
		cap *= 2;
	struct hvx_region *r = realloc(s->regions, cap * sizeof *r);
	if (!r)
		return false;
	s->regions = r;
	s->capacity = cap;
	return true;
}

static void insert_at(struct hvx_space *s, unsigned i, struct hvx_region r)
{
	memmove(&s->regions[i + 1], &s->regions[i], (s->count - i) * sizeof r);
	s->regions[i] = r;
	s->count++;
}

static void remove_at(struct hvx_space *s, unsigned i)
{
	memmove(&s->regions[i], &s->regions[i + 1], (s->count - i - 1) * sizeof s->regions[0]);
	s->count--;
}

/* Is every byte of [gpa, gpa + size) mapped? */
static bool fully_mapped(const struct hvx_space *s, uint64_t gpa, uint64_t size)
{
	uint64_t at = gpa, end = gpa + size;
	unsigned i = first_ending_after(s, gpa);
	while (at < end) {
		if (i >= s->count || s->regions[i].gpa > at)
			return false;
		at = s->regions[i].gpa + s->regions[i].size;
		i++;
	}
	return true;
}

/* Split the region containing gpa so that a region starts exactly at gpa (no-op if one does or gpa is unmapped). */
static void split_at(struct hvx_space *s, uint64_t gpa)
{
	unsigned i = first_ending_after(s, gpa);
	if (i >= s->count || s->regions[i].gpa >= gpa)
		return;
	struct hvx_region *r = &s->regions[i];
	uint64_t head = gpa - r->gpa;
	struct hvx_region tail = {gpa, r->size - head, r->hva + head, r->perms};
	r->size = head;
	insert_at(s, i + 1, tail);
}

/* Merge neighbours that continue each other in gpa and hva with equal perms. */
static void merge_around(struct hvx_space *s, unsigned from, unsigned to)
{
	if (from > 0)
		from--;
	for (unsigned i = from; i + 1 < s->count && i <= to;) {
		struct hvx_region *a = &s->regions[i], *b = &s->regions[i + 1];
		if (a->gpa + a->size == b->gpa && a->hva + a->size == b->hva && a->perms == b->perms) {
			a->size += b->size;
			remove_at(s, i + 1);
			if (to > 0)
				to--;
		} else {
			i++;
		}
	}
}

hv_return_t hvx_memmap_map(struct hvx_memmap *m, hv_vm_space_t space, void *hva, uint64_t gpa, uint64_t size,
			   uint32_t perms)
{
	pthread_rwlock_wrlock(&m->lock);
	hv_return_t ret = HV_BAD_ARGUMENT;
	struct hvx_space *s = &m->spaces[space];
	unsigned i = first_ending_after(s, gpa);
	if (i < s->count && s->regions[i].gpa < gpa + size)
		goto out; /* overlaps an existing mapping */
	ret = HV_NO_RESOURCES;
	if (!reserve(s, 1))
		goto out;
	insert_at(s, i, (struct hvx_region){gpa, size, hva, perms});
	merge_around(s, i, i);
	atomic_fetch_add(&m->generation, 1);
	ret = HV_SUCCESS;
out:
	pthread_rwlock_unlock(&m->lock);
	return ret;
}

/*
 * Cut the regions at gpa and gpa + size so that the range is covered by whole regions; returns the index of the
 * first one. Fails (nothing changed) unless every page of the range is mapped.
 */
static hv_return_t carve(struct hvx_space *s, uint64_t gpa, uint64_t size, unsigned *first)
{
	if (!fully_mapped(s, gpa, size))
		return HV_BAD_ARGUMENT;
	if (!reserve(s, 2))
		return HV_NO_RESOURCES;
	split_at(s, gpa);
	split_at(s, gpa + size);
	*first = first_ending_after(s, gpa);
	return HV_SUCCESS;
}

hv_return_t hvx_memmap_unmap(struct hvx_memmap *m, hv_vm_space_t space, uint64_t gpa, uint64_t size)
{
	pthread_rwlock_wrlock(&m->lock);
	struct hvx_space *s = &m->spaces[space];
	unsigned i;
	hv_return_t ret = carve(s, gpa, size, &i);
	if (ret == HV_SUCCESS) {
		while (i < s->count && s->regions[i].gpa < gpa + size)
			remove_at(s, i);
		atomic_fetch_add(&m->generation, 1);
	}
	pthread_rwlock_unlock(&m->lock);
	return ret;
}

hv_return_t hvx_memmap_protect(struct hvx_memmap *m, hv_vm_space_t space, uint64_t gpa, uint64_t size, uint32_t perms)
{
	pthread_rwlock_wrlock(&m->lock);
	struct hvx_space *s = &m->spaces[space];
	unsigned first;
	hv_return_t ret = carve(s, gpa, size, &first);
	if (ret == HV_SUCCESS) {
		unsigned last = first;
		for (unsigned i = first; i < s->count && s->regions[i].gpa < gpa + size; i++) {
			s->regions[i].perms = perms;
			last = i;
		}
		merge_around(s, first, last + 1);
		atomic_fetch_add(&m->generation, 1);
	}
	pthread_rwlock_unlock(&m->lock);
	return ret;
}

bool hvx_memmap_translate(struct hvx_memmap *m, hv_vm_space_t space, uint64_t gpa, uint8_t **page_hva, uint32_t *perms)
{
	bool found = false;
	pthread_rwlock_rdlock(&m->lock);
	if (space < HVX_SPACE_MAX) {
		const struct hvx_region *r = hvx_memmap_lookup_locked(&m->spaces[space], gpa);
		if (r) {
			*page_hva = r->hva + ((gpa & ~HVX_PAGE_MASK) - r->gpa);
			*perms = r->perms;
			found = true;
		}
	}
	pthread_rwlock_unlock(&m->lock);
	return found;
}

static bool copy(struct hvx_memmap *m, hv_vm_space_t space, uint64_t gpa, void *buf, size_t len, bool to_guest)
{
	uint8_t *p = buf;
	while (len) {
		uint8_t *page;
		uint32_t perms;
		if (!hvx_memmap_translate(m, space, gpa, &page, &perms))
			return false;
		size_t off = gpa & HVX_PAGE_MASK, n = HVX_PAGE_SIZE - off;
		if (n > len)
			n = len;
		if (to_guest)
			memcpy(page + off, p, n);
		else
			memcpy(p, page + off, n);
		p += n;
		gpa += n;
		len -= n;
	}
	return true;
}

bool hvx_memmap_read(struct hvx_memmap *m, hv_vm_space_t space, uint64_t gpa, void *dst, size_t len)
{
	return copy(m, space, gpa, dst, len, false);
}

bool hvx_memmap_write(struct hvx_memmap *m, hv_vm_space_t space, uint64_t gpa, const void *src, size_t len)
{
	return copy(m, space, gpa, (void *)src, len, true);
}
