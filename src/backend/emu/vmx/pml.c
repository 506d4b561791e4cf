/* pml.c: EPT dirty flags of the emu (a per-VM set of dirty guest-physical pages, cleared by hv_vm_map/protect) and the page-modification log they feed ("enable PML", exit 62). */
#include <stdlib.h>
#include <string.h>

#include "backend/emu/emu.h"

/* Set key of a page: its guest-physical address with the space in bits 3:0 and bit 11 so that 0 stays "empty". */
static uint64_t key_of(hv_vm_space_t space, uint64_t gpa)
{
	return (gpa & ~0xfffull) | 0x800u | (space & 0xf);
}

static size_t slot_of(uint64_t key, size_t cap)
{
	uint64_t h = (key >> 12) * 0x9e3779b97f4a7c15ull ^ (key & 0xf);
	return (size_t)(h >> 20) & (cap - 1);
}

bool emu_dirty_init(struct emu_vm *ev)
{
	pthread_mutex_init(&ev->lock, NULL);
	ev->dirty_cap = 1024;
	ev->dirty_count = 0;
	ev->dirty = calloc(ev->dirty_cap, sizeof *ev->dirty);
	return ev->dirty != NULL;
}

void emu_dirty_fini(struct emu_vm *ev)
{
	free(ev->dirty);
	ev->dirty = NULL;
	pthread_mutex_destroy(&ev->lock);
}

static bool find_locked(const struct emu_vm *ev, uint64_t key)
{
	for (size_t i = slot_of(key, ev->dirty_cap);; i = (i + 1) & (ev->dirty_cap - 1)) {
		if (ev->dirty[i] == key)
			return true;
		if (!ev->dirty[i])
			return false;
	}
}

static void put_locked(uint64_t *table, size_t cap, uint64_t key)
{
	size_t i = slot_of(key, cap);
	while (table[i] && table[i] != key)
		i = (i + 1) & (cap - 1);
	table[i] = key;
}

/* Insert; grows at 50 % load. False only when memory runs out (the page then stays clean). */
static bool insert_locked(struct emu_vm *ev, uint64_t key)
{
	if ((ev->dirty_count + 1) * 2 > ev->dirty_cap) {
		size_t cap = ev->dirty_cap * 2;
		uint64_t *t = calloc(cap, sizeof *t);
		if (!t)
			return false;
		for (size_t i = 0; i < ev->dirty_cap; i++)
			if (ev->dirty[i])
				put_locked(t, cap, ev->dirty[i]);
		free(ev->dirty);
		ev->dirty = t;
		ev->dirty_cap = cap;
	}
	put_locked(ev->dirty, ev->dirty_cap, key);
	ev->dirty_count++;
	return true;
}

bool emu_dirty_test(struct emu_cpu *c, uint64_t gpa)
{
	struct emu_vm *ev = c->vm->backend_data;
	pthread_mutex_lock(&ev->lock);
	bool d = find_locked(ev, key_of(c->vcpu->space, gpa));
	pthread_mutex_unlock(&ev->lock);
	return d;
}

/* hv_vm_map / unmap / protect of [gpa, gpa + size) in space: those pages are clean again (rebuild without them). */
void emu_dirty_clear(struct hvx_vm *vm, hv_vm_space_t space, uint64_t gpa, uint64_t size)
{
	struct emu_vm *ev = vm->backend_data;
	if (!ev)
		return;
	pthread_mutex_lock(&ev->lock);
	uint64_t *t = calloc(ev->dirty_cap, sizeof *t);
	if (t) {
		size_t n = 0;
		for (size_t i = 0; i < ev->dirty_cap; i++) {
			uint64_t k = ev->dirty[i];
			uint64_t page = k & ~0xfffull;
			if (!k || ((k & 0xf) == (space & 0xf) && page >= gpa && page - gpa < size))
				continue;
			put_locked(t, ev->dirty_cap, k);
			n++;
		}
		free(ev->dirty);
		ev->dirty = t;
		ev->dirty_count = n;
	}
	pthread_mutex_unlock(&ev->lock);
}

/*
 * A write to guest-physical page gpa with "enable PML" (EPT A/D on): the first write after the page became clean sets
 * its dirty flag and logs the page at PML address + 8 * PML index, the index counting down 511 -> 0 -> 0xffff. With
 * the index outside 0..511 when an entry is needed, the access does not happen: exit 62 (fault-like).
 */
void pml_write(struct emu_cpu *c, uint64_t gpa)
{
	struct emu_vm *ev = c->vm->backend_data;
	uint64_t key = key_of(c->vcpu->space, gpa);
	pthread_mutex_lock(&ev->lock);
	if (find_locked(ev, key)) {
		pthread_mutex_unlock(&ev->lock);
		return;
	}
	uint64_t index = c->v[HVX_SLOT_GUESTPML_INDEX] & 0xffff;
	if (index > 511) {
		pthread_mutex_unlock(&ev->lock);
		vmx_exit_access(c, VMX_REASON_PML_FULL, 0, 0, 0);
	}
	/* The log page is guest-physical (VMCS_CTRL_PML_ADDR, docs/emu.md): written through the map, never elsewhere. */
	uint64_t entry = c->v[HVX_SLOT_CTRL_PML_ADDR] + 8 * index, val = gpa & ~0xfffull;
	uint8_t *page;
	uint32_t perms;
	if (hvx_memmap_translate(&c->vm->memmap, c->vcpu->space, entry, &page, &perms) && (perms & HV_MEMORY_WRITE))
		__atomic_store_n((uint64_t *)(void *)(page + (entry & 0xfff)), val, __ATOMIC_RELAXED);
	c->v[HVX_SLOT_GUESTPML_INDEX] = (index - 1) & 0xffff;
	insert_locked(ev, key);
	pthread_mutex_unlock(&ev->lock);
}
