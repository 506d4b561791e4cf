/* spp.c: EPT sub-page write permissions ("sub-page write permissions for EPT", exit 66): the per-VM table of SPP pages and their write-permission vectors set by hvx_vm_set_spp, and the write check of the MMU. */
#include <stdlib.h>
#include <string.h>

#include "backend/emu/emu.h"
#include <hvx/hvx.h>

#define SPP_LEAF_RESERVED 0xaaaaaaaaaaaaaaaaull /* odd bits of a leaf SPP entry: reserved (misconfiguration) */

static uint64_t key_of(hv_vm_space_t space, uint64_t gpa)
{
	return (gpa & ~0xfffull) | 0x800u | (space & 0xf);
}

static size_t slot_of(uint64_t key, size_t cap)
{
	uint64_t h = (key >> 12) * 0x9e3779b97f4a7c15ull ^ (key & 0xf);
	return (size_t)(h >> 20) & (cap - 1);
}

/* Entry for key, or the empty slot where it would go (NULL only when the table is full). */
static struct emu_spp_entry *lookup_locked(struct emu_vm *ev, uint64_t key)
{
	if (!ev->spp_cap)
		return NULL;
	for (size_t i = slot_of(key, ev->spp_cap), n = 0; n < ev->spp_cap; i = (i + 1) & (ev->spp_cap - 1), n++)
		if (ev->spp[i].key == key || !ev->spp[i].key)
			return &ev->spp[i];
	return NULL;
}

static bool grow_locked(struct emu_vm *ev)
{
	size_t cap = ev->spp_cap ? ev->spp_cap * 2 : 64;
	struct emu_spp_entry *t = calloc(cap, sizeof *t);
	if (!t)
		return false;
	struct emu_spp_entry *old = ev->spp;
	size_t old_cap = ev->spp_cap;
	ev->spp = t;
	ev->spp_cap = cap;
	for (size_t i = 0; i < old_cap; i++)
		if (old[i].key)
			*lookup_locked(ev, old[i].key) = old[i];
	free(old);
	return true;
}

void emu_spp_fini(struct emu_vm *ev)
{
	free(ev->spp);
	ev->spp = NULL;
	ev->spp_cap = ev->spp_count = 0;
}

/* Backend op behind hvx_vm_set_spp (arguments checked by the API). An entry set back to HVX_SPP_NONE stays as a
 * slot with mode 0, which means "no SPP" exactly as an absent entry does. */
hv_return_t emu_vm_set_spp(struct hvx_vm *vm, hv_vm_space_t space, uint64_t gpa, unsigned mode, uint64_t vector)
{
	struct emu_vm *ev = vm->backend_data;
	uint64_t key = key_of(space, gpa);
	hv_return_t ret = HV_SUCCESS;
	pthread_mutex_lock(&ev->lock);
	struct emu_spp_entry *e = lookup_locked(ev, key);
	if ((!e || !e->key) && mode != HVX_SPP_NONE && (ev->spp_count + 1) * 2 > ev->spp_cap) {
		if (!grow_locked(ev))
			ret = HV_NO_RESOURCES;
		e = lookup_locked(ev, key);
	}
	if (ret == HV_SUCCESS && e && (e->key || mode != HVX_SPP_NONE)) {
		if (!e->key)
			ev->spp_count++;
		e->key = key;
		e->mode = (uint8_t)mode;
		e->vector = vector;
	}
	pthread_mutex_unlock(&ev->lock);
	return ret;
}

/*
 * A write to a readable, non-writable page (the final access of a translation) with "sub-page write permissions": if
 * the page is an SPP page (EPT leaf bit 61), the SPP table decides. A missing entry exits 66 with qualification bit 11
 * (SPP miss), a leaf with reserved (odd) bits exits 66 with bit 11 clear (misconfiguration); otherwise returns whether
 * the 128-byte sub-page of gpa is writable and arms the range check of the whole write (spp_check_range). Returns
 * false for pages without SPP (an ordinary EPT violation follows).
 */
bool spp_write(struct emu_cpu *c, uint64_t gpa, uint64_t la, uint32_t perms, bool *spp_page)
{
	struct emu_vm *ev = c->vm->backend_data;
	pthread_mutex_lock(&ev->lock);
	struct emu_spp_entry *e = lookup_locked(ev, key_of(c->vcpu->space, gpa));
	unsigned mode = e && e->key ? e->mode : HVX_SPP_NONE;
	uint64_t vec = e && e->key ? e->vector : 0;
	pthread_mutex_unlock(&ev->lock);
	*spp_page = mode != HVX_SPP_NONE;
	if (mode == HVX_SPP_NONE)
		return false;
	if (mode == HVX_SPP_MISSING)
		vmx_exit_access(c, VMX_REASON_SPP_EVENT, 1u << 11, gpa, la);
	if (vec & SPP_LEAF_RESERVED)
		vmx_exit_access(c, VMX_REASON_SPP_EVENT, 0, gpa, la);
	if (!((vec >> (2 * ((gpa & 0xfff) >> 7))) & 1))
		return false;
	c->spp.armed = true;
	c->spp.gpa = gpa;
	c->spp.la = la;
	c->spp.vector = vec;
	c->spp.perms = perms;
	return true;
}

/* After a translation that spp_write allowed: every sub-page the n-byte write touches must be writable. */
void spp_check_range(struct emu_cpu *c, unsigned n, unsigned acc)
{
	c->spp.armed = false;
	unsigned first = (unsigned)(c->spp.gpa & 0xfff) >> 7, last = (unsigned)((c->spp.gpa & 0xfff) + n - 1) >> 7;
	for (unsigned i = first; i <= last && i < 32; i++)
		if (!((c->spp.vector >> (2 * i)) & 1))
			vmx_exit_ept(c, c->spp.gpa, c->spp.la, true, true, acc & (ACC_R | ACC_W | ACC_X),
				     c->spp.perms | EMU_PERM_SPP, false);
}
