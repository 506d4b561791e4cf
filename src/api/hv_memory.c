/* hv_memory.c: guest-physical memory: address spaces, hv_vm_map / unmap / protect, hv_vm_allocate / deallocate. */
#include <stdint.h>
#include <sys/mman.h>

#include "api.h"

static bool page_aligned(uint64_t v)
{
	return (v & HVX_PAGE_MASK) == 0;
}

/* Common checks of a guest-physical range: aligned, non-empty, inside the guest-physical address width. */
static bool range_ok(uint64_t gpa, size_t size)
{
	return size && page_aligned(gpa) && page_aligned(size) && gpa < HVX_GPA_LIMIT && size <= HVX_GPA_LIMIT - gpa;
}

static hv_return_t perms_ok(hv_memory_flags_t flags)
{
	if (flags & (HV_MEMORY_UEXEC | HV_MEMORY_MAXPROT | HV_MEMORY_MAXPROT_READ | HV_MEMORY_MAXPROT_WRITE |
		     HV_MEMORY_MAXPROT_EXEC | HV_MEMORY_MAXPROT_UEXEC))
		return HV_UNSUPPORTED;
	if (flags & ~(hv_memory_flags_t)HVX_MEMORY_PERMS)
		return HV_BAD_ARGUMENT;
	return HV_SUCCESS;
}

/* After a change, the backend drops stale translations before the call returns. */
static hv_return_t changed(struct hvx_vm *vm, hv_vm_space_t space, uint64_t gpa, uint64_t size)
{
	return vm->backend->memmap_changed ? vm->backend->memmap_changed(vm, space, gpa, size) : HV_SUCCESS;
}

HVX_EXPORT hv_return_t hv_vm_space_create(hv_vm_space_t *asid)
{
	if (!asid)
		return HV_BAD_ARGUMENT;
	pthread_rwlock_rdlock(&hvx_vm_lifecycle_lock);
	hv_return_t ret = hvx_the_vm ? hvx_memmap_space_create(&hvx_the_vm->memmap, asid) : HV_NO_DEVICE;
	pthread_rwlock_unlock(&hvx_vm_lifecycle_lock);
	return ret;
}

HVX_EXPORT hv_return_t hv_vm_space_destroy(hv_vm_space_t asid)
{
	pthread_rwlock_rdlock(&hvx_vm_lifecycle_lock);
	struct hvx_vm *vm = hvx_the_vm;
	hv_return_t ret = HV_NO_DEVICE;
	if (!vm)
		goto out;
	ret = HV_BAD_ARGUMENT;
	if (asid == HV_VM_SPACE_DEFAULT || !hvx_memmap_space_valid(&vm->memmap, asid))
		goto out;
	/* A space some vCPU is attached to stays. */
	ret = HV_BUSY;
	pthread_mutex_lock(&vm->lock);
	bool attached = false;
	for (unsigned i = 0; i < HVX_VCPU_MAX; i++)
		if (vm->vcpus[i] && (vm->vcpus[i]->space == asid || (vm->vcpus[i]->apic_gpa != ~0ull &&
								    vm->vcpus[i]->apic_space == asid)))
			attached = true;
	if (!attached)
		ret = hvx_memmap_space_destroy(&vm->memmap, asid);
	pthread_mutex_unlock(&vm->lock);
out:
	pthread_rwlock_unlock(&hvx_vm_lifecycle_lock);
	return ret;
}

HVX_EXPORT hv_return_t hv_vm_map_space(hv_vm_space_t asid, hv_uvaddr_t uva, hv_gpaddr_t gpa, size_t size,
				       hv_memory_flags_t flags)
{
	if (!uva || !page_aligned((uintptr_t)uva) || !range_ok(gpa, size) || (uintptr_t)uva + size < (uintptr_t)uva)
		return HV_BAD_ARGUMENT;
	hv_return_t ret = perms_ok(flags);
	if (ret != HV_SUCCESS)
		return ret;
	pthread_rwlock_rdlock(&hvx_vm_lifecycle_lock);
	struct hvx_vm *vm = hvx_the_vm;
	ret = !vm ? HV_NO_DEVICE : !hvx_memmap_space_valid(&vm->memmap, asid) ? HV_BAD_ARGUMENT : HV_SUCCESS;
	if (ret == HV_SUCCESS)
		ret = hvx_memmap_map(&vm->memmap, asid, (void *)(uintptr_t)uva, gpa, size, (uint32_t)flags);
	if (ret == HV_SUCCESS)
		ret = changed(vm, asid, gpa, size);
	pthread_rwlock_unlock(&hvx_vm_lifecycle_lock);
	return ret;
}

/* The VM-wide part shared by unmap and protect: VM and space checks, the change, the backend's notification. */
static hv_return_t change_range(hv_vm_space_t asid, uint64_t gpa, size_t size, bool unmap, uint32_t perms)
{
	pthread_rwlock_rdlock(&hvx_vm_lifecycle_lock);
	struct hvx_vm *vm = hvx_the_vm;
	hv_return_t ret = !vm ? HV_NO_DEVICE : !hvx_memmap_space_valid(&vm->memmap, asid) ? HV_BAD_ARGUMENT : HV_SUCCESS;
	if (ret == HV_SUCCESS)
		ret = unmap ? hvx_memmap_unmap(&vm->memmap, asid, gpa, size)
			    : hvx_memmap_protect(&vm->memmap, asid, gpa, size, perms);
	if (ret == HV_SUCCESS)
		ret = changed(vm, asid, gpa, size);
	pthread_rwlock_unlock(&hvx_vm_lifecycle_lock);
	return ret;
}

HVX_EXPORT hv_return_t hv_vm_unmap_space(hv_vm_space_t asid, hv_gpaddr_t gpa, size_t size)
{
	if (!range_ok(gpa, size))
		return HV_BAD_ARGUMENT;
	return change_range(asid, gpa, size, true, 0);
}

HVX_EXPORT hv_return_t hv_vm_protect_space(hv_vm_space_t asid, hv_gpaddr_t gpa, size_t size, hv_memory_flags_t flags)
{
	if (!range_ok(gpa, size))
		return HV_BAD_ARGUMENT;
	hv_return_t ret = perms_ok(flags);
	return ret != HV_SUCCESS ? ret : change_range(asid, gpa, size, false, (uint32_t)flags);
}

HVX_EXPORT hv_return_t hv_vm_map(hv_uvaddr_t uva, hv_gpaddr_t gpa, size_t size, hv_memory_flags_t flags)
{
	return hv_vm_map_space(HV_VM_SPACE_DEFAULT, uva, gpa, size, flags);
}

HVX_EXPORT hv_return_t hv_vm_unmap(hv_gpaddr_t gpa, size_t size)
{
	return hv_vm_unmap_space(HV_VM_SPACE_DEFAULT, gpa, size);
}

HVX_EXPORT hv_return_t hv_vm_protect(hv_gpaddr_t gpa, size_t size, hv_memory_flags_t flags)
{
	return hv_vm_protect_space(HV_VM_SPACE_DEFAULT, gpa, size, flags);
}

HVX_EXPORT hv_return_t hv_vm_allocate(void **uvap, size_t size, hv_allocate_flags_t flags)
{
	if (!uvap || !size || !page_aligned(size) || flags != HV_ALLOCATE_DEFAULT)
		return HV_BAD_ARGUMENT;
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED)
		return HV_NO_RESOURCES;
	*uvap = p;
	return HV_SUCCESS;
}

/* Is any byte of host range [uva, uva + size) mapped into the guest? */
static bool host_range_mapped(struct hvx_vm *vm, const uint8_t *uva, size_t size)
{
	bool found = false;
	pthread_rwlock_rdlock(&vm->memmap.lock);
	for (unsigned s = 0; s < HVX_SPACE_MAX && !found; s++)
		for (unsigned i = 0; i < vm->memmap.spaces[s].count && !found; i++) {
			const struct hvx_region *r = &vm->memmap.spaces[s].regions[i];
			found = r->hva < uva + size && uva < r->hva + r->size;
		}
	pthread_rwlock_unlock(&vm->memmap.lock);
	return found;
}

HVX_EXPORT hv_return_t hv_vm_deallocate(void *uva, size_t size)
{
	if (!uva || !size || !page_aligned((uintptr_t)uva) || !page_aligned(size))
		return HV_BAD_ARGUMENT;
	pthread_rwlock_rdlock(&hvx_vm_lifecycle_lock);
	bool busy = hvx_the_vm && host_range_mapped(hvx_the_vm, uva, size);
	pthread_rwlock_unlock(&hvx_vm_lifecycle_lock);
	if (busy)
		return HV_BUSY;
	return munmap(uva, size) == 0 ? HV_SUCCESS : HV_BAD_ARGUMENT;
}
