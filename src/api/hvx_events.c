/* hvx_events.c: events a VMM raises on a vCPU (NMI, external interrupt, INIT, SIPI, SMI), from any thread. */
#include <hvx/hvx.h>

#include "api.h"

/* As hv_vcpu_interrupt: the lifecycle lock keeps the VM, the VM lock keeps the vCPU alive while the event is latched. */
static hv_return_t raise_event(hv_vcpuid_t id, enum hvx_event kind, uint8_t vector)
{
	pthread_rwlock_rdlock(&hvx_vm_lifecycle_lock);
	struct hvx_vm *vm = hvx_the_vm;
	hv_return_t ret = HV_NO_DEVICE;
	if (!vm)
		goto out;
	pthread_mutex_lock(&vm->lock);
	if (id >= HVX_VCPU_MAX || !vm->vcpus[id])
		ret = HV_BAD_ARGUMENT;
	else if (!vm->backend->vcpu_raise_event)
		ret = HV_UNSUPPORTED;
	else if (kind == HVX_EVENT_SMI && !atomic_load(&vm->vcpus[id]->dual_monitor))
		ret = HV_DENIED; /* SMIs exist only under the dual-monitor model (hvx_vcpu_set_dual_monitor) */
	else
		ret = vm->backend->vcpu_raise_event(vm->vcpus[id], kind, vector);
	pthread_mutex_unlock(&vm->lock);
out:
	pthread_rwlock_unlock(&hvx_vm_lifecycle_lock);
	return ret;
}

HVX_EXPORT hv_return_t hvx_vcpu_raise_nmi(hv_vcpuid_t id)
{
	return raise_event(id, HVX_EVENT_NMI, 2);
}

HVX_EXPORT hv_return_t hvx_vcpu_raise_interrupt(hv_vcpuid_t id, uint8_t vector)
{
	if (vector < 16)
		return hvx_the_vm ? HV_BAD_ARGUMENT : HV_NO_DEVICE;
	return raise_event(id, HVX_EVENT_EXTINT, vector);
}

HVX_EXPORT hv_return_t hvx_vcpu_raise_init(hv_vcpuid_t id)
{
	return raise_event(id, HVX_EVENT_INIT, 0);
}

HVX_EXPORT hv_return_t hvx_vcpu_raise_sipi(hv_vcpuid_t id, uint8_t vector)
{
	return raise_event(id, HVX_EVENT_SIPI, vector);
}

HVX_EXPORT hv_return_t hvx_vcpu_raise_smi(hv_vcpuid_t id)
{
	return raise_event(id, HVX_EVENT_SMI, 0);
}
