/* hv_vm.c: VM lifecycle and limits: hv_vm_create, hv_vm_destroy, hv_capability, hv_vm_sync_tsc, backend choice. */
#include <stdlib.h>
#include <string.h>

#include "api.h"

pthread_rwlock_t hvx_vm_lifecycle_lock = PTHREAD_RWLOCK_INITIALIZER;

#define HVX_VM_OPTIONS_KNOWN                                                                                     \
	(HV_VM_SPECIFY_MITIGATIONS | HV_VM_MITIGATION_A_ENABLE | HV_VM_MITIGATION_B_ENABLE |                     \
	 HV_VM_MITIGATION_C_ENABLE | HV_VM_MITIGATION_D_ENABLE | HV_VM_MITIGATION_E_ENABLE | HV_VM_ACCEL_APIC)

const struct hvx_backend_ops *hvx_capability_backend(void)
{
	if (hvx_the_vm)
		return hvx_the_vm->backend;
	return hvx_backend_select(NULL, NULL);
}

HVX_EXPORT hv_return_t hvx_vm_create_with_backend(hv_vm_options_t flags, const char *name)
{
	if (flags & ~(hv_vm_options_t)HVX_VM_OPTIONS_KNOWN)
		return HV_BAD_ARGUMENT;
	if (name && *name && strcmp(name, "auto")) {
		bool known = false;
		for (unsigned i = 0; hvx_backends[i]; i++)
			known |= !strcmp(hvx_backends[i]->name, name);
		if (!known)
			return HV_BAD_ARGUMENT;
	}
	const struct hvx_backend_ops *backend = hvx_backend_select(name, NULL);
	if (!backend)
		return HV_NO_DEVICE;

	pthread_rwlock_wrlock(&hvx_vm_lifecycle_lock);
	hv_return_t ret = HV_BUSY;
	if (hvx_the_vm)
		goto out;
	ret = HV_NO_RESOURCES;
	struct hvx_vm *vm = calloc(1, sizeof *vm);
	if (!vm)
		goto out;
	vm->backend = backend;
	vm->options = flags;
	hvx_memmap_init(&vm->memmap);
	pthread_mutex_init(&vm->lock, NULL);
	ret = backend->vm_create(vm);
	if (ret != HV_SUCCESS) {
		pthread_mutex_destroy(&vm->lock);
		hvx_memmap_fini(&vm->memmap);
		free(vm);
		goto out;
	}
	hvx_the_vm = vm;
out:
	pthread_rwlock_unlock(&hvx_vm_lifecycle_lock);
	return ret;
}

HVX_EXPORT hv_return_t hv_vm_create(hv_vm_options_t flags)
{
	return hvx_vm_create_with_backend(flags, NULL);
}

HVX_EXPORT hv_return_t hv_vm_destroy(void)
{
	pthread_rwlock_wrlock(&hvx_vm_lifecycle_lock);
	hv_return_t ret = HV_NO_DEVICE;
	struct hvx_vm *vm = hvx_the_vm;
	if (!vm)
		goto out;
	ret = HV_BUSY;
	pthread_mutex_lock(&vm->lock);
	unsigned live = vm->vcpu_count;
	pthread_mutex_unlock(&vm->lock);
	if (live)
		goto out;
	vm->backend->vm_destroy(vm);
	hvx_the_vm = NULL;
	pthread_mutex_destroy(&vm->lock);
	hvx_memmap_fini(&vm->memmap);
	free(vm);
	ret = HV_SUCCESS;
out:
	pthread_rwlock_unlock(&hvx_vm_lifecycle_lock);
	return ret;
}

HVX_EXPORT const char *hvx_vm_backend_name(void)
{
	pthread_rwlock_rdlock(&hvx_vm_lifecycle_lock);
	const char *name = hvx_the_vm ? hvx_the_vm->backend->name : NULL;
	pthread_rwlock_unlock(&hvx_vm_lifecycle_lock);
	return name;
}

HVX_EXPORT hv_return_t hv_capability(hv_capability_t capability, uint64_t *value)
{
	if (!value)
		return HV_BAD_ARGUMENT;
	pthread_rwlock_rdlock(&hvx_vm_lifecycle_lock);
	const struct hvx_backend_ops *b = hvx_capability_backend();
	hv_return_t ret = HV_NO_DEVICE;
	if (b) {
		const struct hvx_caps *c = b->caps();
		ret = HV_SUCCESS;
		if (capability == HV_CAP_VCPUMAX)
			*value = c->vcpu_max;
		else if (capability == HV_CAP_ADDRSPACEMAX)
			*value = c->space_max;
		else
			ret = HV_BAD_ARGUMENT;
	}
	pthread_rwlock_unlock(&hvx_vm_lifecycle_lock);
	return ret;
}

HVX_EXPORT uint64_t hv_tsc_clock(void)
{
	return hvx_now_ns();
}

HVX_EXPORT hv_return_t hv_vm_sync_tsc(uint64_t tsc)
{
	pthread_rwlock_rdlock(&hvx_vm_lifecycle_lock);
	hv_return_t ret = HV_NO_DEVICE;
	if (hvx_the_vm) {
		/* Each vCPU applies the offset at its next entry: guest TSC = hv_tsc_clock() + offset. */
		atomic_store(&hvx_the_vm->tsc_sync_offset, (int64_t)(tsc - hv_tsc_clock()));
		atomic_fetch_add(&hvx_the_vm->tsc_sync_gen, 1);
		ret = HV_SUCCESS;
	}
	pthread_rwlock_unlock(&hvx_vm_lifecycle_lock);
	return ret;
}

/* Port-I/O notifiers deliver Mach messages; there are no Mach ports here (docs/api-errors.md). */
static hv_return_t pio_notifier_check(uint16_t addr, size_t size, uint32_t value, mach_port_t port, hv_ion_flags_t flags)
{
	(void)addr;
	if (flags & ~(hv_ion_flags_t)(HV_ION_ANY_VALUE | HV_ION_ANY_SIZE | HV_ION_EXIT_FULL))
		return HV_BAD_ARGUMENT;
	if (!(flags & HV_ION_ANY_SIZE) && size != 1 && size != 2 && size != 4)
		return HV_BAD_ARGUMENT;
	if (!(flags & HV_ION_ANY_SIZE) && !(flags & HV_ION_ANY_VALUE) && size < 4 && (value >> (size * 8)))
		return HV_BAD_ARGUMENT;
	if (port == MACH_PORT_NULL)
		return HV_BAD_ARGUMENT;
	return hvx_the_vm ? HV_UNSUPPORTED : HV_NO_DEVICE;
}

HVX_EXPORT hv_return_t hv_vm_add_pio_notifier(uint16_t addr, size_t size, uint32_t value, mach_port_t port,
					      hv_ion_flags_t flags)
{
	return pio_notifier_check(addr, size, value, port, flags);
}

HVX_EXPORT hv_return_t hv_vm_remove_pio_notifier(uint16_t addr, size_t size, uint32_t value, mach_port_t port,
						 hv_ion_flags_t flags)
{
	return pio_notifier_check(addr, size, value, port, flags);
}
