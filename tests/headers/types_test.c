/* tests/headers/types_test.c: compile-time checks of the Hypervisor typedefs (spec 1.2): exact types via _Generic (C11+) or <type_traits> (C++), widths and signedness everywhere. */
#include <Hypervisor/Hypervisor.h>
#include <Hypervisor/hv_intr.h>
#include <Hypervisor/hv_vm_allocate.h>

#include <stddef.h>
#include <stdint.h>

#if defined(__cplusplus)
#include <type_traits>
#define ASSERT(cond, msg) static_assert(cond, msg)
#define SAME(T, U) (std::is_same<T, U>::value)
#elif defined(__STDC_VERSION__) && __STDC_VERSION__ >= 201112L
#define ASSERT(cond, msg) _Static_assert(cond, msg)
#define SAME(T, U) _Generic((T *)0, U *: 1, default: 0)
#else
/* C99: a negative array size stops the build; file-scope typedefs draw no unused warnings. */
#define ASSERT_CAT_(a, b) a##b
#define ASSERT_CAT(a, b) ASSERT_CAT_(a, b)
#define ASSERT(cond, msg) typedef char ASSERT_CAT(types_test_assert_, __LINE__)[(cond) ? 1 : -1]
#endif

/* widths and signedness (all languages) */
ASSERT(sizeof(hv_return_t) == 4 && (hv_return_t)-1 < 0, "hv_return_t is a signed 32-bit int");
ASSERT(sizeof(mach_error_t) == 4 && (mach_error_t)-1 < 0, "mach_error_t is a signed 32-bit int");
ASSERT(sizeof(hv_vcpuid_t) == sizeof(unsigned) && (hv_vcpuid_t)-1 > 0, "hv_vcpuid_t is unsigned");
ASSERT(sizeof(hv_vm_space_t) == sizeof(unsigned) && (hv_vm_space_t)-1 > 0, "hv_vm_space_t is unsigned");
ASSERT(sizeof(hv_gpaddr_t) == 8 && (hv_gpaddr_t)-1 > 0, "hv_gpaddr_t is uint64_t");
ASSERT(sizeof(hv_uvaddr_t) == sizeof(void *), "hv_uvaddr_t is a pointer");
ASSERT(sizeof(hv_x86_reg_t) == sizeof(int), "hv_x86_reg_t is an int-sized enum");
ASSERT(sizeof(hv_vmx_capability_t) == sizeof(int), "hv_vmx_capability_t is an int-sized enum");
ASSERT(HV_X86_R8 == HV_X86_RAX + 8 && HV_X86_R15 == HV_X86_RAX + 15, "R8..R15 == RAX + 8..15");
ASSERT(HV_ERROR != HV_SUCCESS && HV_UNSUPPORTED != HV_ERROR, "distinct return codes");

#if defined(__cplusplus) || (defined(__STDC_VERSION__) && __STDC_VERSION__ >= 201112L)
/* exact types (spec 1.2) */
ASSERT(SAME(hv_return_t, int), "hv_return_t is int");
ASSERT(SAME(mach_error_t, int), "mach_error_t is int");
ASSERT(SAME(hv_vcpuid_t, unsigned), "hv_vcpuid_t is unsigned");
ASSERT(SAME(hv_uvaddr_t, const void *), "hv_uvaddr_t is const void *");
ASSERT(SAME(hv_gpaddr_t, uint64_t), "hv_gpaddr_t is uint64_t");
ASSERT(SAME(hv_vm_options_t, uint64_t), "hv_vm_options_t is uint64_t");
ASSERT(SAME(hv_vcpu_options_t, uint64_t), "hv_vcpu_options_t is uint64_t");
ASSERT(SAME(hv_memory_flags_t, uint64_t), "hv_memory_flags_t is uint64_t");
ASSERT(SAME(hv_capability_t, uint64_t), "hv_capability_t is uint64_t");
ASSERT(SAME(hv_vm_space_t, unsigned), "hv_vm_space_t is unsigned");
ASSERT(SAME(hv_shadow_flags_t, uint64_t), "hv_shadow_flags_t is uint64_t");
ASSERT(SAME(hv_msr_flags_t, uint32_t), "hv_msr_flags_t is uint32_t");
ASSERT(SAME(hv_vmx_msr_info_t, uint64_t), "hv_vmx_msr_info_t is uint64_t, not an enum");
ASSERT(SAME(hv_ion_flags_t, uint32_t), "hv_ion_flags_t is uint32_t");
ASSERT(SAME(hv_allocate_flags_t, uint64_t), "hv_allocate_flags_t is uint64_t");
ASSERT(SAME(hv_vm_exitinfo_t, uint32_t), "hv_vm_exitinfo_t is uint32_t");
ASSERT(SAME(hv_apic_ctrl_t, uint64_t), "hv_apic_ctrl_t is uint64_t");
ASSERT(SAME(hv_apic_lvt_flavor_t, uint32_t), "hv_apic_lvt_flavor_t is uint32_t");
ASSERT(SAME(hv_apic_intr_trigger_t, uint32_t), "hv_apic_intr_trigger_t is uint32_t");
ASSERT(SAME(mach_port_t, unsigned int), "mach_port_t is unsigned int (spec 8.1)");
#endif

#if defined(__cplusplus)
/* typedef'd enums stay enums (spec 1.2, 5); arithmetic on them works through int */
ASSERT(std::is_enum<hv_x86_reg_t>::value, "hv_x86_reg_t is an enum");
ASSERT(std::is_enum<hv_vmx_capability_t>::value, "hv_vmx_capability_t is an enum");
ASSERT(!std::is_enum<hv_vmx_msr_info_t>::value, "hv_vmx_msr_info_t is not an enum");
ASSERT(std::is_enum<enum hv_boot_state>::value && sizeof(enum hv_boot_state) == 4, "enum hv_boot_state");
ASSERT(std::is_signed<hv_return_t>::value, "hv_return_t is signed");
/* members of the 12.0 state structures (spec 1.15) */
ASSERT(SAME(decltype(((struct hv_apic_state *)0)->apic_gpa), uint64_t), "apic_gpa");
ASSERT(SAME(decltype(((struct hv_apic_state *)0)->isr), uint32_t[8]), "isr");
ASSERT(SAME(decltype(((struct hv_apic_state *)0)->lvt), uint32_t[7]), "lvt");
ASSERT(SAME(decltype(((struct hv_apic_state *)0)->boot_state), enum hv_boot_state), "boot_state");
ASSERT(SAME(decltype(((struct hv_atpic_state *)0)->ready), bool), "ready");
ASSERT(SAME(decltype(((struct hv_atpic_state *)0)->icw_num), uint8_t), "icw_num");
ASSERT(SAME(decltype(((struct hv_atpic_state *)0)->elc), uint8_t), "elc");
ASSERT(SAME(decltype(((struct hv_ioapic_state *)0)->rtbl), uint64_t[32]), "rtbl");
ASSERT(SAME(decltype(((hv_apic_state_ext_t *)0)->version), uint32_t), "apic ext version");
ASSERT(SAME(decltype(((hv_atpic_state_ext_t *)0)->state), struct hv_atpic_state), "atpic ext state");
ASSERT(SAME(decltype(((hv_ioapic_state_ext_t *)0)->state), struct hv_ioapic_state), "ioapic ext state");
#endif

/* Client idioms that must compile warning-free with -Wall -Wextra -pedantic -Werror. */
const char *types_test_name(hv_return_t ret);
const char *types_test_name(hv_return_t ret)
{
	if (ret == HV_SUCCESS)
		return "ok";
	if (ret == HV_NO_DEVICE) /* xhyve: int error = hv_vm_create(...); if (error == HV_NO_DEVICE) */
		return "no device";
	switch (ret) { /* QEMU assert_hvf_ok style; a narrowing error in C++ if the codes exceed int */
	case HV_ERROR: return "error";
	case HV_BUSY: return "busy";
	case HV_BAD_ARGUMENT: return "bad argument";
	case HV_NO_RESOURCES: return "no resources";
	case HV_DENIED: return "denied";
	case HV_UNSUPPORTED: return "unsupported";
	default: return "other";
	}
}

hv_return_t types_test_fail(void);
hv_return_t types_test_fail(void)
{
	hv_return_t r = HV_BAD_ARGUMENT;
	return r == HV_BAD_ARGUMENT ? HV_ERROR : r;
}

uint64_t types_test_rule(uint64_t cap, uint64_t want);
uint64_t types_test_rule(uint64_t cap, uint64_t want)
{
	/* cap2ctrl (spec 7.1) with Apple's control bits and a 64-bit capability word */
	uint64_t v = (want | CPU_BASED_HLT | CPU_BASED_SECONDARY_CTLS | (cap & 0xffffffff)) & (cap >> 32);
	if ((v & IRQ_INFO_VALID) && (v & VMX_BASIC_TRUE_CTLS))
		v |= GUEST_INTRBILITY_STI_BLOCKING | GUEST_INTRBILITY_MOVSS_BLOCKING;
	return v + HV_MEMORY_READ + HV_DEADLINE_FOREVER;
}

hv_x86_reg_t types_test_gpr(int i);
hv_x86_reg_t types_test_gpr(int i)
{
	return (hv_x86_reg_t)(HV_X86_RAX + i); /* QEMU: HV_X86_RAX + 8 .. + 15 for R8..R15 */
}
