/* tests/headers/client_macros_test.c: a client that includes <Hypervisor/hv_vmx.h> first and then #defines macros with Apple's enumerator names (QEMU/hvdos/xhyve vmcs.h style) must compile without diagnostics (spec 0.2, 3.3). */
#include <Hypervisor/hv.h>
#include <Hypervisor/hv_vmx.h>
#include <Hypervisor/hv_arch_vmx.h>

#include <stdint.h>

/* bhyve-derived names with Apple's spelling, defined after the framework headers */
#define VMCS_VPID 0x00000000
#define VMCS_GUEST_ES 0x00000800
#define VMCS_GUEST_CS 0x00000802
#define VMCS_GUEST_CR0 0x00006800
#define VMCS_GUEST_CR3 0x00006802
#define VMCS_GUEST_CR4 0x00006804
#define VMCS_GUEST_IA32_EFER 0x00002806
#define VMCS_GUEST_PHYSICAL_ADDRESS 0x00002400
#define VMCS_GUEST_INTERRUPTIBILITY 0x00004824
#define VMCS_GUEST_ACTIVITY_STATE 0x00004826
#define VMCS_GUEST_RIP 0x0000681e
#define VMCS_GUEST_RSP 0x0000681c
#define VMCS_GUEST_RFLAGS 0x00006820
#define VMCS_GUEST_IA32_PAT 0x00002804
#define VMCS_CTRL_PIN_BASED 0x00004000
#define VMCS_HOST_RIP 0x00006c16
#define VMCS_MAX 0x00006c18
#define VMX_REASON_HLT 12
#define VMX_REASON_IO 30
#define CPU_BASED_HLT (1u << 7)
#define PIN_BASED_NMI (1u << 3)
#define IRQ_INFO_VALID 0x80000000u
#define HV_X86_RIP 0

uint64_t client_macros_test(hv_vcpuid_t vcpu);
uint64_t client_macros_test(hv_vcpuid_t vcpu)
{
	uint64_t rip = 0, efer = 0, reason = 0;
	(void)hv_vmx_vcpu_read_vmcs(vcpu, VMCS_GUEST_RIP, &rip);
	(void)hv_vmx_vcpu_read_vmcs(vcpu, VMCS_GUEST_IA32_EFER, &efer);
	(void)hv_vmx_vcpu_read_vmcs(vcpu, VMCS_RO_EXIT_REASON, &reason); /* still Apple's enumerator */
	(void)hv_vmx_vcpu_write_vmcs(vcpu, VMCS_CTRL_CPU_BASED, CPU_BASED_HLT);
	(void)hv_vcpu_read_register(vcpu, (hv_x86_reg_t)HV_X86_RIP, &rip);
	if (reason == VMX_REASON_HLT || reason == VMX_REASON_IO)
		return rip;
	return efer | IRQ_INFO_VALID;
}
