/* hv_msr.c: guest MSRs: native (pass-through) MSRs, managed MSRs and their access, hv_vcpu_read_msr / write_msr. */
#include <stdlib.h>

#include "api.h"

HVX_EXPORT hv_return_t hv_vcpu_enable_native_msr(hv_vcpuid_t id, uint32_t msr, bool enable)
{
	struct hvx_vcpu *vcpu;
	hv_return_t ret = hvx_owned_vcpu(id, &vcpu);
	if (ret != HV_SUCCESS)
		return ret;
	const struct hvx_msr_desc *d = hvx_msr_find(msr);
	if (!d || d->native_bit < 0)
		return HV_BAD_ARGUMENT;
	if (enable)
		vcpu->native_msrs |= 1u << d->native_bit;
	else
		vcpu->native_msrs &= ~(1u << d->native_bit);
	hvx_vcpu_touch(vcpu, HVX_GROUP_MSR | HVX_GROUP_CONTROL);
	return HV_SUCCESS;
}

static struct hvx_managed_msr *managed_find(struct hvx_vcpu *vcpu, uint32_t msr)
{
	for (unsigned i = 0; i < vcpu->managed_count; i++)
		if (vcpu->managed[i].msr == msr)
			return &vcpu->managed[i];
	return NULL;
}

HVX_EXPORT hv_return_t hv_vcpu_enable_managed_msr(hv_vcpuid_t id, uint32_t msr, bool enable)
{
	struct hvx_vcpu *vcpu;
	hv_return_t ret = hvx_owned_vcpu(id, &vcpu);
	if (ret != HV_SUCCESS)
		return ret;
	if (!hvx_msr_manageable(msr))
		return HV_BAD_ARGUMENT;
	struct hvx_managed_msr *m = managed_find(vcpu, msr);
	if (!enable) {
		if (m)
			*m = vcpu->managed[--vcpu->managed_count];
	} else if (!m) {
		struct hvx_managed_msr *grown = realloc(vcpu->managed, (vcpu->managed_count + 1) * sizeof *grown);
		if (!grown)
			return HV_NO_RESOURCES;
		vcpu->managed = grown;
		/* Newly managed: the framework holds the value (0) and guest accesses still exit until set_msr_access. */
		vcpu->managed[vcpu->managed_count++] = (struct hvx_managed_msr){msr, HV_MSR_NONE, 0};
	}
	hvx_vcpu_touch(vcpu, HVX_GROUP_MSR | HVX_GROUP_CONTROL);
	return HV_SUCCESS;
}

HVX_EXPORT hv_return_t hv_vcpu_set_msr_access(hv_vcpuid_t id, uint32_t msr, hv_msr_flags_t flags)
{
	struct hvx_vcpu *vcpu;
	hv_return_t ret = hvx_owned_vcpu(id, &vcpu);
	if (ret != HV_SUCCESS)
		return ret;
	if (flags & ~(hv_msr_flags_t)(HV_MSR_READ | HV_MSR_WRITE))
		return HV_BAD_ARGUMENT;
	struct hvx_managed_msr *m = managed_find(vcpu, msr);
	if (!m)
		return HV_BAD_ARGUMENT; /* only a managed MSR has an access setting */
	m->access = flags;
	hvx_vcpu_touch(vcpu, HVX_GROUP_CONTROL);
	return HV_SUCCESS;
}

HVX_EXPORT hv_return_t hv_vcpu_read_msr(hv_vcpuid_t id, uint32_t msr, uint64_t *value)
{
	struct hvx_vcpu *vcpu;
	hv_return_t ret = hvx_owned_vcpu(id, &vcpu);
	if (ret != HV_SUCCESS)
		return ret;
	if (!value)
		return HV_BAD_ARGUMENT;
	const struct hvx_msr_desc *d = hvx_msr_find(msr);
	if (d) {
		hvx_vcpu_fresh(vcpu, d->group | HVX_GROUP_CONTROL);
		if (d->offset == HVX_MSR_COMPUTED)
			*value = hv_tsc_clock() + vcpu->state.vmcs[HVX_SLOT_CTRL_TSC_OFFSET];
		else
			*value = *hvx_state_slot(&vcpu->state, d->offset);
		return HV_SUCCESS;
	}
	struct hvx_managed_msr *m = managed_find(vcpu, msr);
	if (!m)
		return HV_BAD_ARGUMENT;
	*value = m->value;
	return HV_SUCCESS;
}

HVX_EXPORT hv_return_t hv_vcpu_write_msr(hv_vcpuid_t id, uint32_t msr, uint64_t value)
{
	struct hvx_vcpu *vcpu;
	hv_return_t ret = hvx_owned_vcpu(id, &vcpu);
	if (ret != HV_SUCCESS)
		return ret;
	const struct hvx_msr_desc *d = hvx_msr_find(msr);
	if (d) {
		hvx_vcpu_fresh(vcpu, d->group | HVX_GROUP_CONTROL);
		if (d->offset == HVX_MSR_COMPUTED) {
			vcpu->state.vmcs[HVX_SLOT_CTRL_TSC_OFFSET] = value - hv_tsc_clock();
			hvx_vcpu_touch(vcpu, HVX_GROUP_CONTROL);
		} else {
			*hvx_state_slot(&vcpu->state, d->offset) = value;
			hvx_vcpu_touch(vcpu, d->group);
		}
		return HV_SUCCESS;
	}
	struct hvx_managed_msr *m = managed_find(vcpu, msr);
	if (!m)
		return HV_BAD_ARGUMENT;
	m->value = value;
	hvx_vcpu_touch(vcpu, HVX_GROUP_MSR);
	return HV_SUCCESS;
}
