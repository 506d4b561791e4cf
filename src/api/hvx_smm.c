/* hvx_smm.c: hvx_ extensions for the states and VM-entry steps Apple's API keeps out of reach: the shutdown and wait-for-SIPI activity states, the dual-monitor SMM model and its SMI ports, the VM-entry MSR-load list, injected entry machine checks. */
#include <hvx/hvx.h>

#include "api.h"

#define BASIC_DUAL_MONITOR (1ull << 49)
#define MISC_SHUTDOWN (1ull << 7)
#define MISC_WAIT_FOR_SIPI (1ull << 8)

static bool backend_has(const struct hvx_vcpu *vcpu, hv_vmx_capability_t cap, uint64_t bit)
{
	return vcpu->vm->backend->caps()->vmx[cap] & bit;
}

HVX_EXPORT hv_return_t hvx_vcpu_set_activity_state(hv_vcpuid_t id, uint32_t state)
{
	struct hvx_vcpu *vcpu;
	hv_return_t ret = hvx_owned_vcpu(id, &vcpu);
	if (ret != HV_SUCCESS)
		return ret;
	if (!vcpu->vm->backend->vcpu_set_activity || !backend_has(vcpu, HV_VMX_CAP_MISC, MISC_WAIT_FOR_SIPI))
		return HV_UNSUPPORTED;
	if (state > HVX_ACTIVITY_WAIT_FOR_SIPI)
		return HV_BAD_ARGUMENT;
	if (state == HVX_ACTIVITY_SHUTDOWN && !backend_has(vcpu, HV_VMX_CAP_MISC, MISC_SHUTDOWN))
		return HV_UNSUPPORTED;
	hvx_vcpu_fresh(vcpu, HVX_GROUP_EVENT);
	ret = vcpu->vm->backend->vcpu_set_activity(vcpu, state);
	if (ret != HV_SUCCESS)
		return ret;
	vcpu->state.vmcs[HVX_SLOT_GUEST_ACTIVITY_STATE] = state;
	hvx_vcpu_touch(vcpu, HVX_GROUP_EVENT);
	return HV_SUCCESS;
}

HVX_EXPORT hv_return_t hvx_vcpu_set_dual_monitor(hv_vcpuid_t id, bool enable)
{
	struct hvx_vcpu *vcpu;
	hv_return_t ret = hvx_owned_vcpu(id, &vcpu);
	if (ret != HV_SUCCESS)
		return ret;
	if (!backend_has(vcpu, HV_VMX_CAP_BASIC, BASIC_DUAL_MONITOR))
		return HV_UNSUPPORTED;
	atomic_store(&vcpu->dual_monitor, enable);
	vcpu->unchecked |= HVX_GROUP_CONTROL; /* an input of the VM-entry control checks */
	return HV_SUCCESS;
}

HVX_EXPORT hv_return_t hvx_vcpu_set_smi_ports(hv_vcpuid_t id, uint16_t first_port, uint32_t count, bool smi)
{
	struct hvx_vcpu *vcpu;
	hv_return_t ret = hvx_owned_vcpu(id, &vcpu);
	if (ret != HV_SUCCESS)
		return ret;
	if (count > 0x10000u - first_port)
		return HV_BAD_ARGUMENT;
	if (!backend_has(vcpu, HV_VMX_CAP_BASIC, BASIC_DUAL_MONITOR) || !vcpu->vm->backend->vcpu_set_intercepts)
		return HV_UNSUPPORTED;
	return vcpu->vm->backend->vcpu_set_intercepts(vcpu, HVX_INTERCEPT_IO_SMI, first_port, count, smi);
}

HVX_EXPORT hv_return_t hvx_vcpu_set_entry_msr_load(hv_vcpuid_t id, const struct hvx_msr_entry *entries, unsigned count)
{
	struct hvx_vcpu *vcpu;
	hv_return_t ret = hvx_owned_vcpu(id, &vcpu);
	if (ret != HV_SUCCESS)
		return ret;
	/* IA32_VMX_MISC bits 27:25 = N: at most 512 * (N + 1) entries. */
	uint64_t limit = 512u * (((vcpu->vm->backend->caps()->vmx[HV_VMX_CAP_MISC] >> 25) & 7) + 1);
	if ((!entries && count) || count > limit)
		return HV_BAD_ARGUMENT;
	if (!vcpu->vm->backend->vcpu_set_entry_msr_load)
		return HV_UNSUPPORTED;
	return vcpu->vm->backend->vcpu_set_entry_msr_load(vcpu, entries, count);
}

HVX_EXPORT hv_return_t hvx_vcpu_inject_entry_machine_check(hv_vcpuid_t id)
{
	struct hvx_vcpu *vcpu;
	hv_return_t ret = hvx_owned_vcpu(id, &vcpu);
	if (ret != HV_SUCCESS)
		return ret;
	if (!vcpu->vm->backend->vcpu_inject_entry_mc)
		return HV_UNSUPPORTED;
	return vcpu->vm->backend->vcpu_inject_entry_mc(vcpu);
}
