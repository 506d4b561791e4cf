/* hv.h: VM, guest memory, address space, vCPU, MSR, run/interrupt, time, port-I/O notifier and in-kernel APIC functions of the Hypervisor API. */
#ifndef __HYPERVISOR_HV__
#define __HYPERVISOR_HV__
#if defined(__GNUC__)
#pragma GCC system_header
#endif

#include <Hypervisor/hv_error.h>
#include <Hypervisor/hv_types.h>
#include <Hypervisor/hv_arch_x86.h>
#include <Hypervisor/hv_intr.h>
#include <Hypervisor/hv_vm_allocate.h>

enum {
	HV_DEADLINE_FOREVER = (~0ull)
};

__HV_BEGIN_DECLS
extern hv_return_t hv_capability(hv_capability_t capability, uint64_t *value);
extern hv_return_t hv_vm_create(hv_vm_options_t flags);
extern hv_return_t hv_vm_destroy(void);
extern hv_return_t hv_vm_space_create(hv_vm_space_t *asid);
extern hv_return_t hv_vm_space_destroy(hv_vm_space_t asid);
extern hv_return_t hv_vm_map(hv_uvaddr_t uva, hv_gpaddr_t gpa, size_t size, hv_memory_flags_t flags);
extern hv_return_t hv_vm_unmap(hv_gpaddr_t gpa, size_t size);
extern hv_return_t hv_vm_protect(hv_gpaddr_t gpa, size_t size, hv_memory_flags_t flags);
extern hv_return_t hv_vm_map_space(hv_vm_space_t asid, hv_uvaddr_t uva, hv_gpaddr_t gpa, size_t size,
	hv_memory_flags_t flags);
extern hv_return_t hv_vm_unmap_space(hv_vm_space_t asid, hv_gpaddr_t gpa, size_t size);
extern hv_return_t hv_vm_protect_space(hv_vm_space_t asid, hv_gpaddr_t gpa, size_t size,
	hv_memory_flags_t flags);
extern hv_return_t hv_vm_sync_tsc(uint64_t tsc);
extern hv_return_t hv_vm_add_pio_notifier(uint16_t addr, size_t size, uint32_t value,
	mach_port_t mach_port, hv_ion_flags_t flags);
extern hv_return_t hv_vm_remove_pio_notifier(uint16_t addr, size_t size, uint32_t value,
	mach_port_t mach_port, hv_ion_flags_t flags);

extern hv_return_t hv_vcpu_create(hv_vcpuid_t *vcpu, hv_vcpu_options_t flags);
extern hv_return_t hv_vcpu_destroy(hv_vcpuid_t vcpu);
extern hv_return_t hv_vcpu_set_space(hv_vcpuid_t vcpu, hv_vm_space_t asid);
extern hv_return_t hv_vcpu_read_register(hv_vcpuid_t vcpu, hv_x86_reg_t reg, uint64_t *value);
extern hv_return_t hv_vcpu_write_register(hv_vcpuid_t vcpu, hv_x86_reg_t reg, uint64_t value);
extern hv_return_t hv_vcpu_read_fpstate(hv_vcpuid_t vcpu, void *buffer, size_t size);
extern hv_return_t hv_vcpu_write_fpstate(hv_vcpuid_t vcpu, void *buffer, size_t size);
extern hv_return_t hv_vcpu_enable_native_msr(hv_vcpuid_t vcpu, uint32_t msr, bool enable);
extern hv_return_t hv_vcpu_enable_managed_msr(hv_vcpuid_t vcpu, uint32_t msr, bool enable);
extern hv_return_t hv_vcpu_set_msr_access(hv_vcpuid_t vcpu, uint32_t msr, hv_msr_flags_t flags);
extern hv_return_t hv_vcpu_read_msr(hv_vcpuid_t vcpu, uint32_t msr, uint64_t *value);
extern hv_return_t hv_vcpu_write_msr(hv_vcpuid_t vcpu, uint32_t msr, uint64_t value);
extern hv_return_t hv_vcpu_flush(hv_vcpuid_t vcpu);
extern hv_return_t hv_vcpu_invalidate_tlb(hv_vcpuid_t vcpu);
extern hv_return_t hv_vcpu_run(hv_vcpuid_t vcpu);
extern hv_return_t hv_vcpu_run_until(hv_vcpuid_t vcpu, uint64_t deadline);
extern hv_return_t hv_vcpu_interrupt(hv_vcpuid_t *vcpus, unsigned int vcpu_count);
extern hv_return_t hv_vcpu_get_exec_time(hv_vcpuid_t vcpu, uint64_t *time);
extern hv_return_t hv_vcpu_get_idle_time(hv_vcpuid_t vcpu, uint64_t *time);
extern uint64_t hv_tsc_clock(void);
extern hv_return_t hv_vcpu_set_tsc_relative(hv_vcpuid_t vcpu, int64_t offset);
extern hv_return_t hv_vcpu_vmx_status(hv_vcpuid_t vcpu, uint32_t *status);

/* In-kernel APIC, IOAPIC and 8259 API (12.0, with HV_VM_ACCEL_APIC). */
extern hv_return_t hv_vm_lapic_set_intr(hv_vcpuid_t vcpu, uint8_t vector, hv_apic_intr_trigger_t trig);
extern hv_return_t hv_vm_lapic_msi(uint64_t addr, uint64_t data);
extern hv_return_t hv_vm_ioapic_assert_irq(int intin);
extern hv_return_t hv_vm_ioapic_deassert_irq(int intin);
extern hv_return_t hv_vm_ioapic_pulse_irq(int intin);
extern hv_return_t hv_vm_ioapic_read(hv_gpaddr_t gpa, uint32_t *datap);
extern hv_return_t hv_vm_ioapic_write(hv_gpaddr_t gpa, uint32_t data);
extern hv_return_t hv_vm_ioapic_get_state(hv_ioapic_state_ext_t *state);
extern hv_return_t hv_vm_ioapic_put_state(const hv_ioapic_state_ext_t *state);
extern hv_return_t hv_vm_send_ioapic_intr(uint64_t data);
extern hv_return_t hv_vm_atpic_assert_irq(int irq);
extern hv_return_t hv_vm_atpic_deassert_irq(int irq);
extern hv_return_t hv_vm_atpic_port_read(int port, uint8_t *valuep);
extern hv_return_t hv_vm_atpic_port_write(int port, uint8_t value);
extern hv_return_t hv_vm_atpic_get_state(hv_atpic_state_ext_t *state, bool is_primary);
extern hv_return_t hv_vm_atpic_put_state(const hv_atpic_state_ext_t *state, bool is_primary);
extern hv_return_t hv_vm_set_apic_bus_freq(uint64_t freq);
extern hv_return_t hv_vcpu_inject_extint(hv_vcpuid_t vcpu);
extern hv_return_t hv_vcpu_apic_read(hv_vcpuid_t vcpu, uint32_t offset, uint32_t *data);
extern hv_return_t hv_vcpu_apic_write(hv_vcpuid_t vcpu, uint32_t offset, uint32_t data, bool *no_side_effect);
extern hv_return_t hv_vcpu_apic_get_state(hv_vcpuid_t vcpu, hv_apic_state_ext_t *state);
extern hv_return_t hv_vcpu_apic_put_state(hv_vcpuid_t vcpu, const hv_apic_state_ext_t *state);
extern hv_return_t hv_vcpu_exit_info(hv_vcpuid_t vcpu, hv_vm_exitinfo_t *code);
extern hv_return_t hv_vcpu_exit_init_ap(hv_vcpuid_t vcpu, bool is_actv[], unsigned count);
extern hv_return_t hv_vcpu_exit_startup_ap(hv_vcpuid_t vcpu, bool is_actv[], unsigned count, uint64_t *ap_rip);
extern hv_return_t hv_vcpu_exit_ioapic_eoi(hv_vcpuid_t vcpu, uint8_t *vec);
extern hv_return_t hv_vcpu_exit_apic_access_read(hv_vcpuid_t vcpu, uint32_t *value);
extern hv_return_t hv_vcpu_exit_inject_excp(hv_vcpuid_t vcpu, uint8_t *vec, bool *valid, uint32_t *code,
	bool *restart);
extern hv_return_t hv_vcpu_apic_lsc_enter_r32(hv_vcpuid_t vcpu, bool is_load, uint64_t rip, unsigned ilen,
	uint16_t cs, hv_x86_reg_t reg, uint64_t uva[], unsigned count);
extern hv_return_t hv_vcpu_apic_lsc_enter_imm32(hv_vcpuid_t vcpu, uint64_t rip, unsigned ilen, uint16_t cs,
	uint32_t imm32, uint64_t uva[], unsigned count);
extern hv_return_t hv_vcpu_apic_lsc_invalidate(hv_vcpuid_t vcpu);
extern hv_return_t hv_vcpu_apic_ctrl(hv_vcpuid_t vcpu, hv_apic_ctrl_t ctrls);
extern hv_return_t hv_vcpu_apic_trigger_lvt(hv_vcpuid_t vcpu, hv_apic_lvt_flavor_t flavor);
__HV_END_DECLS

#endif /* __HYPERVISOR_HV__ */
