/* tests/headers/hv_without_vmx_test.c: <Hypervisor/hv.h> must not pull in the VMCS/VMX names (spec 0.2: hv.h does not include hv_vmx.h), so a client may declare them itself. */
#include <Hypervisor/hv.h>

/* Each of these is an error if hv.h made the Apple name visible. */
enum { VMCS_GUEST_RIP = 0x681e, VMX_REASON_HLT = 12, CPU_BASED_HLT = 0x80, IRQ_INFO_VALID = 1 };
int HV_VMX_CAP_PINBASED;
int HV_SHADOW_VMCS_READ;
int hv_without_vmx_test(void);
int hv_without_vmx_test(void)
{
	return VMCS_GUEST_RIP + VMX_REASON_HLT + CPU_BASED_HLT + IRQ_INFO_VALID + HV_VMX_CAP_PINBASED +
	       HV_SHADOW_VMCS_READ + (int)HV_X86_RIP;
}
