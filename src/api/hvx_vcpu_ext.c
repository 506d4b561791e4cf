/* hvx_vcpu_ext.c: hvx_ per-vCPU extensions: the CPUID table (kvm), intercept bitmaps whose VMCS addresses are framework-owned, backend statistics. */
#include <hvx/hvx.h>

#include <string.h>

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

/* Checks shared by the bitmap extensions: owner thread, range, a backend that keeps such bitmaps. */
static hv_return_t set_intercepts(hv_vcpuid_t id, enum hvx_intercept_bitmap which, uint32_t first, uint32_t count,
				  bool exits)
{
	struct hvx_vcpu *vcpu;
	hv_return_t ret = hvx_owned_vcpu(id, &vcpu);
	if (ret != HV_SUCCESS)
		return ret;
	if (!vcpu->vm->backend->vcpu_set_intercepts)
		return HV_UNSUPPORTED;
	return vcpu->vm->backend->vcpu_set_intercepts(vcpu, which, first, count, exits);
}

HVX_EXPORT hv_return_t hvx_vcpu_set_io_bitmap(hv_vcpuid_t id, uint16_t first_port, uint32_t count, bool exits)
{
	if (count > 0x10000u - first_port)
		return hvx_the_vm ? HV_BAD_ARGUMENT : HV_NO_DEVICE;
	return set_intercepts(id, HVX_INTERCEPT_IO, first_port, count, exits);
}

HVX_EXPORT hv_return_t hvx_vcpu_set_msr_intercept(hv_vcpuid_t id, uint32_t first_msr, uint32_t count,
						  hv_msr_flags_t exits)
{
	/* Both ends of the range inside one of the bitmap's two ranges: 0-0x1fff, 0xc0000000-0xc0001fff. */
	uint32_t base = first_msr >= 0xc0000000u ? 0xc0000000u : 0;
	bool in_range = count && first_msr - base <= 0x1fff && count <= 0x2000 - (first_msr - base);
	if (!in_range || (exits & ~(hv_msr_flags_t)(HV_MSR_READ | HV_MSR_WRITE)))
		return hvx_the_vm ? HV_BAD_ARGUMENT : HV_NO_DEVICE;
	uint32_t index = (first_msr - base) + (base ? 0x2000 : 0);
	hv_return_t ret = set_intercepts(id, HVX_INTERCEPT_MSR_READ, index, count, exits & HV_MSR_READ);
	if (ret == HV_SUCCESS)
		ret = set_intercepts(id, HVX_INTERCEPT_MSR_WRITE, index, count, exits & HV_MSR_WRITE);
	return ret;
}

/* Statistics of the emu backend, whichever backend the VM uses. */
static struct hvx_backend_stats emu_stats(void)
{
	struct hvx_backend_stats st = {0};
	for (unsigned i = 0; hvx_backends[i]; i++)
		if (!strcmp(hvx_backends[i]->name, "emu") && hvx_backends[i]->stats)
			hvx_backends[i]->stats(&st);
	return st;
}

HVX_EXPORT uint64_t hvx_emu_unimplemented_count(void)
{
	return emu_stats().unimplemented;
}

HVX_EXPORT uint64_t hvx_emu_instructions_retired(void)
{
	return emu_stats().instructions_retired;
}

/* The virtual-APIC page: 32-bit registers at 4-byte-aligned offsets; VTPR (0x80) is the HV_X86_TPR register. */
static hv_return_t vapic_reg(hv_vcpuid_t id, uint32_t offset, struct hvx_vcpu **vcpu)
{
	hv_return_t ret = hvx_owned_vcpu(id, vcpu);
	if (ret != HV_SUCCESS)
		return ret;
	return (offset & 3) || offset >= 4096 ? HV_BAD_ARGUMENT : HV_SUCCESS;
}

HVX_EXPORT hv_return_t hvx_vcpu_read_virtual_apic(hv_vcpuid_t id, uint32_t offset, uint32_t *value)
{
	struct hvx_vcpu *vcpu;
	hv_return_t ret = vapic_reg(id, offset, &vcpu);
	if (ret != HV_SUCCESS)
		return ret;
	if (!value)
		return HV_BAD_ARGUMENT;
	if (offset == 0x80)
		hvx_vcpu_fresh(vcpu, hvx_reg_table[HV_X86_TPR].group);
	*value = hvx_vapic_get(vcpu, offset);
	return HV_SUCCESS;
}

HVX_EXPORT hv_return_t hvx_vcpu_write_virtual_apic(hv_vcpuid_t id, uint32_t offset, uint32_t value)
{
	struct hvx_vcpu *vcpu;
	hv_return_t ret = vapic_reg(id, offset, &vcpu);
	if (ret != HV_SUCCESS)
		return ret;
	if (offset == 0x80) {
		hvx_vcpu_fresh(vcpu, hvx_reg_table[HV_X86_TPR].group);
		hvx_vcpu_touch(vcpu, hvx_reg_table[HV_X86_TPR].group);
	}
	hvx_vapic_set(vcpu, offset, value);
	return HV_SUCCESS;
}
