/* hv_vmx.h: VMCS access, shadow VMCS, VMX capabilities, MSR information and APIC address functions of the Hypervisor API. */
#ifndef __HYPERVISOR_HV_VMX__
#define __HYPERVISOR_HV_VMX__
#if defined(__GNUC__)
#pragma GCC system_header
#endif

#include <Hypervisor/hv_error.h>
#include <Hypervisor/hv_types.h>
#include <Hypervisor/hv_arch_x86.h>
#include <Hypervisor/hv_arch_vmx.h>

enum {
	HV_SHADOW_VMCS_NONE = 0ull,
	HV_SHADOW_VMCS_READ = (1ull << 0),
	HV_SHADOW_VMCS_WRITE = (1ull << 1)
};
typedef uint64_t hv_shadow_flags_t;

typedef enum {
	HV_VMX_CAP_PINBASED = 0,
	HV_VMX_CAP_PROCBASED = 1,
	HV_VMX_CAP_PROCBASED2 = 2,
	HV_VMX_CAP_ENTRY = 3,
	HV_VMX_CAP_EXIT = 4,
	HV_VMX_CAP_BASIC = 5,
	HV_VMX_CAP_TRUE_PINBASED = 6,
	HV_VMX_CAP_TRUE_PROCBASED = 7,
	HV_VMX_CAP_TRUE_ENTRY = 8,
	HV_VMX_CAP_TRUE_EXIT = 9,
	HV_VMX_CAP_MISC = 10,
	HV_VMX_CAP_CR0_FIXED0 = 11,
	HV_VMX_CAP_CR0_FIXED1 = 12,
	HV_VMX_CAP_CR4_FIXED0 = 13,
	HV_VMX_CAP_CR4_FIXED1 = 14,
	HV_VMX_CAP_VMCS_ENUM = 15,
	HV_VMX_CAP_EPT_VPID_CAP = 16,
	HV_VMX_CAP_PREEMPTION_TIMER = 32
} hv_vmx_capability_t;

enum {
	HV_VMX_INFO_MSR_IA32_ARCH_CAPABILITIES = 0,
	HV_VMX_INFO_MSR_IA32_PERF_CAPABILITIES = 1,
	HV_VMX_VALID_MSR_IA32_PERFEVNTSEL = 2,
	HV_VMX_VALID_MSR_IA32_FIXED_CTR_CTRL = 3,
	HV_VMX_VALID_MSR_IA32_PERF_GLOBAL_CTRL = 4,
	HV_VMX_VALID_MSR_IA32_PERF_GLOBAL_STATUS = 5,
	HV_VMX_VALID_MSR_IA32_DEBUGCTL = 6,
	HV_VMX_VALID_MSR_IA32_SPEC_CTRL = 7,
	HV_VMX_NEED_MSR_IA32_SPEC_CTRL = 8
};
typedef uint64_t hv_vmx_msr_info_t;

__HV_BEGIN_DECLS
extern hv_return_t hv_vmx_vcpu_read_vmcs(hv_vcpuid_t vcpu, uint32_t field, uint64_t *value);
extern hv_return_t hv_vmx_vcpu_write_vmcs(hv_vcpuid_t vcpu, uint32_t field, uint64_t value);
extern hv_return_t hv_vmx_vcpu_get_cap_write_vmcs(hv_vcpuid_t vcpu, uint32_t field,
	uint64_t *allowed_0, uint64_t *allowed_1);
extern hv_return_t hv_vmx_vcpu_read_shadow_vmcs(hv_vcpuid_t vcpu, uint32_t field, uint64_t *value);
extern hv_return_t hv_vmx_vcpu_write_shadow_vmcs(hv_vcpuid_t vcpu, uint32_t field, uint64_t value);
extern hv_return_t hv_vmx_vcpu_set_shadow_access(hv_vcpuid_t vcpu, uint32_t field, hv_shadow_flags_t flags);
extern hv_return_t hv_vmx_read_capability(hv_vmx_capability_t field, uint64_t *value);
extern hv_return_t hv_vmx_get_msr_info(hv_vmx_msr_info_t field, uint64_t *value);
extern hv_return_t hv_vmx_vcpu_set_apic_address(hv_vcpuid_t vcpu, hv_gpaddr_t gpa);
extern hv_return_t hv_vmx_vcpu_set_apic_address_space(hv_vcpuid_t vcpu, hv_vm_space_t asid, hv_gpaddr_t gpa);
__HV_END_DECLS

#endif /* __HYPERVISOR_HV_VMX__ */
