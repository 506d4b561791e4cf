/* hvx_kvm_api.c: hvx_ extensions for backends that keep exits in the kernel: hvx_vcpu_set_cpuid. */
#include <hvx/hvx.h>

#include "api.h"

HVX_EXPORT hv_return_t hvx_vcpu_set_cpuid(hv_vcpuid_t id, const struct hvx_cpuid_entry *entries, unsigned count)
{
	struct hvx_vcpu *vcpu;
	hv_return_t ret = hvx_owned_vcpu(id, &vcpu);
	if (ret != HV_SUCCESS)
		return ret;
	if (!entries || !count || count > HVX_CPUID_MAX_ENTRIES)
		return HV_BAD_ARGUMENT;
	for (unsigned i = 0; i < count; i++)
		if (entries[i].flags & ~HVX_CPUID_SIGNIFICANT_INDEX)
			return HV_BAD_ARGUMENT;
	if (!vcpu->vm->backend->vcpu_set_cpuid)
		return HV_UNSUPPORTED;
	if (vcpu->has_run)
		return HV_BUSY;
	return vcpu->vm->backend->vcpu_set_cpuid(vcpu, entries, count);
}
