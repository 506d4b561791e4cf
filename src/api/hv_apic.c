/* hv_apic.c: the macOS 12 in-kernel APIC / IOAPIC / 8259 API: arguments are checked, then HV_UNSUPPORTED (hvx does not emulate these controllers in the framework; docs/api-errors.md). */
#include "api.h"

/* Without a VM: HV_NO_DEVICE; with one: HV_UNSUPPORTED. */
static hv_return_t vm_level(void)
{
	return hvx_the_vm ? HV_UNSUPPORTED : HV_NO_DEVICE;
}

/* Owner-thread functions check the vCPU like every other vCPU call. */
static hv_return_t vcpu_level(hv_vcpuid_t id)
{
	struct hvx_vcpu *vcpu;
	hv_return_t ret = hvx_owned_vcpu(id, &vcpu);
	return ret != HV_SUCCESS ? ret : HV_UNSUPPORTED;
}

#define NONNULL(p) \
	do { \
		if (!(p)) \
			return HV_BAD_ARGUMENT; \
	} while (0)

HVX_EXPORT hv_return_t hv_vm_lapic_set_intr(hv_vcpuid_t vcpu, uint8_t vector, hv_apic_intr_trigger_t trig)
{
	(void)vcpu, (void)vector;
	if (trig > HV_APIC_LEVEL_TRIGGER)
		return HV_BAD_ARGUMENT;
	return vm_level();
}
HVX_EXPORT hv_return_t hv_vm_lapic_msi(uint64_t addr, uint64_t data) { (void)addr, (void)data; return vm_level(); }
HVX_EXPORT hv_return_t hv_vm_ioapic_assert_irq(int intin) { return intin < 0 || intin > 31 ? HV_BAD_ARGUMENT : vm_level(); }
HVX_EXPORT hv_return_t hv_vm_ioapic_deassert_irq(int intin) { return intin < 0 || intin > 31 ? HV_BAD_ARGUMENT : vm_level(); }
HVX_EXPORT hv_return_t hv_vm_ioapic_pulse_irq(int intin) { return intin < 0 || intin > 31 ? HV_BAD_ARGUMENT : vm_level(); }
HVX_EXPORT hv_return_t hv_vm_ioapic_read(hv_gpaddr_t gpa, uint32_t *datap) { (void)gpa; NONNULL(datap); return vm_level(); }
HVX_EXPORT hv_return_t hv_vm_ioapic_write(hv_gpaddr_t gpa, uint32_t data) { (void)gpa, (void)data; return vm_level(); }
HVX_EXPORT hv_return_t hv_vm_ioapic_get_state(hv_ioapic_state_ext_t *state) { NONNULL(state); return vm_level(); }
HVX_EXPORT hv_return_t hv_vm_ioapic_put_state(const hv_ioapic_state_ext_t *state) { NONNULL(state); return vm_level(); }
HVX_EXPORT hv_return_t hv_vm_send_ioapic_intr(uint64_t data) { (void)data; return vm_level(); }
HVX_EXPORT hv_return_t hv_vm_atpic_assert_irq(int irq) { return irq < 0 || irq > 15 ? HV_BAD_ARGUMENT : vm_level(); }
HVX_EXPORT hv_return_t hv_vm_atpic_deassert_irq(int irq) { return irq < 0 || irq > 15 ? HV_BAD_ARGUMENT : vm_level(); }
HVX_EXPORT hv_return_t hv_vm_atpic_port_read(int port, uint8_t *valuep) { (void)port; NONNULL(valuep); return vm_level(); }
HVX_EXPORT hv_return_t hv_vm_atpic_port_write(int port, uint8_t value) { (void)port, (void)value; return vm_level(); }
HVX_EXPORT hv_return_t hv_vm_atpic_get_state(hv_atpic_state_ext_t *state, bool is_primary) { (void)is_primary; NONNULL(state); return vm_level(); }
HVX_EXPORT hv_return_t hv_vm_atpic_put_state(const hv_atpic_state_ext_t *state, bool is_primary) { (void)is_primary; NONNULL(state); return vm_level(); }
HVX_EXPORT hv_return_t hv_vm_set_apic_bus_freq(uint64_t freq)
{
	if (freq < 16000000ull || freq > 2000000000ull)
		return HV_BAD_ARGUMENT;
	return vm_level();
}
HVX_EXPORT hv_return_t hv_vcpu_inject_extint(hv_vcpuid_t vcpu) { return vcpu_level(vcpu); }
HVX_EXPORT hv_return_t hv_vcpu_apic_read(hv_vcpuid_t vcpu, uint32_t offset, uint32_t *data) { (void)offset; NONNULL(data); return vcpu_level(vcpu); }
HVX_EXPORT hv_return_t hv_vcpu_apic_write(hv_vcpuid_t vcpu, uint32_t offset, uint32_t data, bool *no_side_effect) { (void)offset, (void)data; NONNULL(no_side_effect); return vcpu_level(vcpu); }
HVX_EXPORT hv_return_t hv_vcpu_apic_get_state(hv_vcpuid_t vcpu, hv_apic_state_ext_t *state) { NONNULL(state); return vcpu_level(vcpu); }
HVX_EXPORT hv_return_t hv_vcpu_apic_put_state(hv_vcpuid_t vcpu, const hv_apic_state_ext_t *state) { NONNULL(state); return vcpu_level(vcpu); }
HVX_EXPORT hv_return_t hv_vcpu_exit_info(hv_vcpuid_t vcpu, hv_vm_exitinfo_t *code) { NONNULL(code); return vcpu_level(vcpu); }
HVX_EXPORT hv_return_t hv_vcpu_exit_init_ap(hv_vcpuid_t vcpu, bool is_actv[], unsigned count) { (void)count; NONNULL(is_actv); return vcpu_level(vcpu); }
HVX_EXPORT hv_return_t hv_vcpu_exit_startup_ap(hv_vcpuid_t vcpu, bool is_actv[], unsigned count, uint64_t *ap_rip) { (void)count; NONNULL(is_actv); NONNULL(ap_rip); return vcpu_level(vcpu); }
HVX_EXPORT hv_return_t hv_vcpu_exit_ioapic_eoi(hv_vcpuid_t vcpu, uint8_t *vec) { NONNULL(vec); return vcpu_level(vcpu); }
HVX_EXPORT hv_return_t hv_vcpu_exit_apic_access_read(hv_vcpuid_t vcpu, uint32_t *value) { NONNULL(value); return vcpu_level(vcpu); }
HVX_EXPORT hv_return_t hv_vcpu_exit_inject_excp(hv_vcpuid_t vcpu, uint8_t *vec, bool *valid, uint32_t *code, bool *restart)
{
	NONNULL(vec); NONNULL(valid); NONNULL(code); NONNULL(restart);
	return vcpu_level(vcpu);
}
HVX_EXPORT hv_return_t hv_vcpu_apic_lsc_enter_r32(hv_vcpuid_t vcpu, bool is_load, uint64_t rip, unsigned ilen, uint16_t cs,
						  hv_x86_reg_t reg, uint64_t uva[], unsigned count)
{
	(void)is_load, (void)rip, (void)cs, (void)uva;
	if (!ilen || ilen > 15 || (unsigned)reg >= HV_X86_REGISTERS_MAX || count > 2)
		return HV_BAD_ARGUMENT;
	return vcpu_level(vcpu);
}
HVX_EXPORT hv_return_t hv_vcpu_apic_lsc_enter_imm32(hv_vcpuid_t vcpu, uint64_t rip, unsigned ilen, uint16_t cs, uint32_t imm32,
						    uint64_t uva[], unsigned count)
{
	(void)rip, (void)cs, (void)imm32, (void)uva;
	if (!ilen || ilen > 15 || count > 2)
		return HV_BAD_ARGUMENT;
	return vcpu_level(vcpu);
}
HVX_EXPORT hv_return_t hv_vcpu_apic_lsc_invalidate(hv_vcpuid_t vcpu) { return vcpu_level(vcpu); }
HVX_EXPORT hv_return_t hv_vcpu_apic_ctrl(hv_vcpuid_t vcpu, hv_apic_ctrl_t ctrls)
{
	if (ctrls & ~(hv_apic_ctrl_t)(HV_APIC_CTRL_EOI_ICR_TPR | HV_APIC_CTRL_GUEST_IDLE | HV_APIC_CTRL_NO_TIMER |
				     HV_APIC_CTRL_IOAPIC_EOI))
		return HV_BAD_ARGUMENT;
	return vcpu_level(vcpu);
}
HVX_EXPORT hv_return_t hv_vcpu_apic_trigger_lvt(hv_vcpuid_t vcpu, hv_apic_lvt_flavor_t flavor)
{
	return flavor != HV_APIC_LVT_FLAVOR_TIMER ? HV_BAD_ARGUMENT : vcpu_level(vcpu);
}
