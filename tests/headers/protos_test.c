/* tests/headers/protos_test.c: every Hypervisor function has Apple's exact signature (spec 2.2-2.11): each is assigned to a pointer of the spec's type (compile-only; C++ makes any mismatch an error). */
#include <Hypervisor/hv.h>
#include <Hypervisor/hv_vmx.h>
#include <Hypervisor/hv_vm_allocate.h>
#include <Hypervisor/hv_intr.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* P(name, return type, parameter types): a global pointer of exactly that type, initialised with the function. */
#define P(name, ret, params) ret(*protos_test_##name) params = name;

/* 2.2 VM lifecycle and capabilities */
P(hv_capability, hv_return_t, (hv_capability_t, uint64_t *))
P(hv_vm_create, hv_return_t, (hv_vm_options_t))
P(hv_vm_destroy, hv_return_t, (void))

/* 2.3 guest physical memory and address spaces */
P(hv_vm_map, hv_return_t, (hv_uvaddr_t, hv_gpaddr_t, size_t, hv_memory_flags_t))
P(hv_vm_unmap, hv_return_t, (hv_gpaddr_t, size_t))
P(hv_vm_protect, hv_return_t, (hv_gpaddr_t, size_t, hv_memory_flags_t))
P(hv_vm_space_create, hv_return_t, (hv_vm_space_t *))
P(hv_vm_space_destroy, hv_return_t, (hv_vm_space_t))
P(hv_vm_map_space, hv_return_t, (hv_vm_space_t, hv_uvaddr_t, hv_gpaddr_t, size_t, hv_memory_flags_t))
P(hv_vm_unmap_space, hv_return_t, (hv_vm_space_t, hv_gpaddr_t, size_t))
P(hv_vm_protect_space, hv_return_t, (hv_vm_space_t, hv_gpaddr_t, size_t, hv_memory_flags_t))
P(hv_vcpu_set_space, hv_return_t, (hv_vcpuid_t, hv_vm_space_t))
P(hv_vm_allocate, hv_return_t, (void **, size_t, hv_allocate_flags_t))
P(hv_vm_deallocate, hv_return_t, (void *, size_t))

/* 2.4 vCPU lifecycle and state */
P(hv_vcpu_create, hv_return_t, (hv_vcpuid_t *, hv_vcpu_options_t))
P(hv_vcpu_destroy, hv_return_t, (hv_vcpuid_t))
P(hv_vcpu_read_register, hv_return_t, (hv_vcpuid_t, hv_x86_reg_t, uint64_t *))
P(hv_vcpu_write_register, hv_return_t, (hv_vcpuid_t, hv_x86_reg_t, uint64_t))
P(hv_vcpu_read_fpstate, hv_return_t, (hv_vcpuid_t, void *, size_t))
P(hv_vcpu_write_fpstate, hv_return_t, (hv_vcpuid_t, void *, size_t)) /* non-const buffer, as Apple */

/* 2.5 MSRs */
P(hv_vcpu_enable_native_msr, hv_return_t, (hv_vcpuid_t, uint32_t, bool))
P(hv_vcpu_enable_managed_msr, hv_return_t, (hv_vcpuid_t, uint32_t, bool))
P(hv_vcpu_set_msr_access, hv_return_t, (hv_vcpuid_t, uint32_t, hv_msr_flags_t))
P(hv_vcpu_read_msr, hv_return_t, (hv_vcpuid_t, uint32_t, uint64_t *))
P(hv_vcpu_write_msr, hv_return_t, (hv_vcpuid_t, uint32_t, uint64_t))

/* 2.6 running and interrupting */
P(hv_vcpu_run, hv_return_t, (hv_vcpuid_t))
P(hv_vcpu_run_until, hv_return_t, (hv_vcpuid_t, uint64_t))
P(hv_vcpu_interrupt, hv_return_t, (hv_vcpuid_t *, unsigned int))

/* 2.7 time and accounting */
P(hv_vm_sync_tsc, hv_return_t, (uint64_t))
P(hv_tsc_clock, uint64_t, (void))
P(hv_vcpu_set_tsc_relative, hv_return_t, (hv_vcpuid_t, int64_t))
P(hv_vcpu_get_exec_time, hv_return_t, (hv_vcpuid_t, uint64_t *))
P(hv_vcpu_get_idle_time, hv_return_t, (hv_vcpuid_t, uint64_t *))

/* 2.8 TLB, flush (deprecated on 11+: a deprecation warning on use is Apple's behaviour too), diagnostics */
P(hv_vcpu_invalidate_tlb, hv_return_t, (hv_vcpuid_t))
#if defined(__GNUC__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
#endif
P(hv_vcpu_flush, hv_return_t, (hv_vcpuid_t))
#if defined(__GNUC__)
#pragma GCC diagnostic pop
#endif
P(hv_vcpu_vmx_status, hv_return_t, (hv_vcpuid_t, uint32_t *))

/* 2.9 VMX / VMCS access */
P(hv_vmx_vcpu_read_vmcs, hv_return_t, (hv_vcpuid_t, uint32_t, uint64_t *))
P(hv_vmx_vcpu_write_vmcs, hv_return_t, (hv_vcpuid_t, uint32_t, uint64_t))
P(hv_vmx_vcpu_get_cap_write_vmcs, hv_return_t, (hv_vcpuid_t, uint32_t, uint64_t *, uint64_t *))
P(hv_vmx_vcpu_read_shadow_vmcs, hv_return_t, (hv_vcpuid_t, uint32_t, uint64_t *))
P(hv_vmx_vcpu_write_shadow_vmcs, hv_return_t, (hv_vcpuid_t, uint32_t, uint64_t))
P(hv_vmx_vcpu_set_shadow_access, hv_return_t, (hv_vcpuid_t, uint32_t, hv_shadow_flags_t))
P(hv_vmx_read_capability, hv_return_t, (hv_vmx_capability_t, uint64_t *))
P(hv_vmx_get_msr_info, hv_return_t, (hv_vmx_msr_info_t, uint64_t *))
P(hv_vmx_vcpu_set_apic_address, hv_return_t, (hv_vcpuid_t, hv_gpaddr_t))
P(hv_vmx_vcpu_set_apic_address_space, hv_return_t, (hv_vcpuid_t, hv_vm_space_t, hv_gpaddr_t))

/* 2.10 port-I/O notifiers */
P(hv_vm_add_pio_notifier, hv_return_t, (uint16_t, size_t, uint32_t, mach_port_t, hv_ion_flags_t))
P(hv_vm_remove_pio_notifier, hv_return_t, (uint16_t, size_t, uint32_t, mach_port_t, hv_ion_flags_t))

/* 2.11 in-kernel APIC API */
P(hv_vm_lapic_set_intr, hv_return_t, (hv_vcpuid_t, uint8_t, hv_apic_intr_trigger_t))
P(hv_vm_lapic_msi, hv_return_t, (uint64_t, uint64_t))
P(hv_vm_ioapic_assert_irq, hv_return_t, (int))
P(hv_vm_ioapic_deassert_irq, hv_return_t, (int))
P(hv_vm_ioapic_pulse_irq, hv_return_t, (int))
P(hv_vm_ioapic_read, hv_return_t, (hv_gpaddr_t, uint32_t *))
P(hv_vm_ioapic_write, hv_return_t, (hv_gpaddr_t, uint32_t))
P(hv_vm_ioapic_get_state, hv_return_t, (hv_ioapic_state_ext_t *))
P(hv_vm_ioapic_put_state, hv_return_t, (const hv_ioapic_state_ext_t *))
P(hv_vm_send_ioapic_intr, hv_return_t, (uint64_t))
P(hv_vm_atpic_assert_irq, hv_return_t, (int))
P(hv_vm_atpic_deassert_irq, hv_return_t, (int))
P(hv_vm_atpic_port_read, hv_return_t, (int, uint8_t *))
P(hv_vm_atpic_port_write, hv_return_t, (int, uint8_t))
P(hv_vm_atpic_get_state, hv_return_t, (hv_atpic_state_ext_t *, bool))
P(hv_vm_atpic_put_state, hv_return_t, (const hv_atpic_state_ext_t *, bool))
P(hv_vm_set_apic_bus_freq, hv_return_t, (uint64_t))
P(hv_vcpu_inject_extint, hv_return_t, (hv_vcpuid_t))
P(hv_vcpu_apic_read, hv_return_t, (hv_vcpuid_t, uint32_t, uint32_t *))
P(hv_vcpu_apic_write, hv_return_t, (hv_vcpuid_t, uint32_t, uint32_t, bool *))
P(hv_vcpu_apic_get_state, hv_return_t, (hv_vcpuid_t, hv_apic_state_ext_t *))
P(hv_vcpu_apic_put_state, hv_return_t, (hv_vcpuid_t, const hv_apic_state_ext_t *))
P(hv_vcpu_exit_info, hv_return_t, (hv_vcpuid_t, hv_vm_exitinfo_t *))
P(hv_vcpu_exit_init_ap, hv_return_t, (hv_vcpuid_t, bool *, unsigned))
P(hv_vcpu_exit_startup_ap, hv_return_t, (hv_vcpuid_t, bool *, unsigned, uint64_t *))
P(hv_vcpu_exit_ioapic_eoi, hv_return_t, (hv_vcpuid_t, uint8_t *))
P(hv_vcpu_exit_apic_access_read, hv_return_t, (hv_vcpuid_t, uint32_t *))
P(hv_vcpu_exit_inject_excp, hv_return_t, (hv_vcpuid_t, uint8_t *, bool *, uint32_t *, bool *))
P(hv_vcpu_apic_lsc_enter_r32, hv_return_t,
  (hv_vcpuid_t, bool, uint64_t, unsigned, uint16_t, hv_x86_reg_t, uint64_t *, unsigned))
P(hv_vcpu_apic_lsc_enter_imm32, hv_return_t,
  (hv_vcpuid_t, uint64_t, unsigned, uint16_t, uint32_t, uint64_t *, unsigned))
P(hv_vcpu_apic_lsc_invalidate, hv_return_t, (hv_vcpuid_t))
P(hv_vcpu_apic_ctrl, hv_return_t, (hv_vcpuid_t, hv_apic_ctrl_t))
P(hv_vcpu_apic_trigger_lvt, hv_return_t, (hv_vcpuid_t, hv_apic_lvt_flavor_t))

/* Calls written the way clients write them (argument conversions must be diagnostic-free). */
void protos_test_client(hv_vcpuid_t vcpu, void *mem);
void protos_test_client(hv_vcpuid_t vcpu, void *mem)
{
	uint64_t v = 0;
	hv_vcpuid_t vcpus[1] = { vcpu };
	(void)hv_vm_create(HV_VM_DEFAULT);
	(void)hv_vm_map(mem, 0, 4096, HV_MEMORY_READ | HV_MEMORY_WRITE | HV_MEMORY_EXEC);
	(void)hv_vcpu_create(&vcpu, HV_VCPU_DEFAULT);
	(void)hv_vmx_read_capability(HV_VMX_CAP_PINBASED, &v);
	(void)hv_vmx_vcpu_write_vmcs(vcpu, VMCS_CTRL_CPU_BASED, CPU_BASED_HLT | CPU_BASED_SECONDARY_CTLS);
	(void)hv_vmx_vcpu_write_vmcs(vcpu, VMCS_CTRL_VMENTRY_IRQ_INFO, IRQ_INFO_VALID | IRQ_INFO_HARD_EXC | 13);
	(void)hv_vmx_vcpu_read_vmcs(vcpu, VMCS_RO_EXIT_REASON, &v);
	if (v == VMX_REASON_HLT || (v & 0xffff) == VMX_REASON_EPT_VIOLATION)
		(void)hv_vcpu_run_until(vcpu, HV_DEADLINE_FOREVER);
	(void)hv_vcpu_read_register(vcpu, HV_X86_RIP, &v);
	(void)hv_vcpu_write_register(vcpu, (hv_x86_reg_t)(HV_X86_RAX + 8), v);
	(void)hv_vcpu_enable_native_msr(vcpu, HV_MSR_IA32_LSTAR, true);
	(void)hv_vcpu_set_msr_access(vcpu, HV_MSR_IA32_TSC, HV_MSR_READ | HV_MSR_WRITE);
	(void)hv_vmx_vcpu_set_shadow_access(vcpu, VMCS_GUEST_ES, HV_SHADOW_VMCS_READ | HV_SHADOW_VMCS_WRITE);
	(void)hv_vmx_get_msr_info(HV_VMX_INFO_MSR_IA32_ARCH_CAPABILITIES, &v);
	(void)hv_vm_add_pio_notifier(0x80, 1, 0, (mach_port_t)0, HV_ION_ANY_VALUE | HV_ION_EXIT_FULL);
	(void)hv_vcpu_interrupt(vcpus, 1);
	(void)hv_vm_allocate(&mem, 4096, HV_ALLOCATE_DEFAULT);
	(void)hv_vcpu_destroy(vcpu);
	(void)hv_vm_unmap(0, 4096);
	(void)hv_vm_destroy();
}
