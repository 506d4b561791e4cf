/* client.c: a macOS-style Hypervisor client built only from the installed headers and library through pkg-config (install test). */
#define _DEFAULT_SOURCE 1 /* glibc hides valloc under strict -std=c99 */
#include <Hypervisor/hv.h>
#include <Hypervisor/hv_vmx.h>
#include <stdio.h>
#include <stdlib.h>

/* Clients define their own VMCS names after Apple's headers, as hvdos does. */
#define VMCS_EXIT_REASON 0x00004402

static uint64_t cap2ctrl(uint64_t cap, uint64_t ctrl)
{
	return (ctrl | (cap & 0xffffffff)) & (cap >> 32);
}

int main(void)
{
	hv_return_t ret = hv_vm_create(HV_VM_DEFAULT);
	if (ret != HV_SUCCESS) {
		fprintf(stderr, "hv_vm_create: %x\n", ret);
		return 1;
	}
	uint64_t pin;
	if (hv_vmx_read_capability(HV_VMX_CAP_PINBASED, &pin))
		return 1;
	void *mem = valloc(1 << 20);
	if (hv_vm_map(mem, 0, 1 << 20, HV_MEMORY_READ | HV_MEMORY_WRITE | HV_MEMORY_EXEC))
		return 1;
	hv_vcpuid_t vcpu;
	if (hv_vcpu_create(&vcpu, HV_VCPU_DEFAULT))
		return 1;
	if (hv_vmx_vcpu_write_vmcs(vcpu, VMCS_CTRL_PIN_BASED, cap2ctrl(pin, 0)))
		return 1;
	uint64_t reason = 0;
	if (hv_vmx_vcpu_read_vmcs(vcpu, VMCS_EXIT_REASON, &reason))
		return 1;
	if (hv_vcpu_destroy(vcpu) || hv_vm_unmap(0, 1 << 20) || hv_vm_destroy())
		return 1;
	free(mem);
	printf("installed client ok\n");
	return 0;
}
