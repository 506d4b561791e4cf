/* exit.c: publication of a backend's exit record into the vCPU's read-only VMCS fields. */
#include "exit.h"
#include "vcpu.h"

__attribute__((hot)) void hvx_exit_publish(struct hvx_vcpu *vcpu, const struct hvx_exit *e)
{
	uint64_t *v = vcpu->state.vmcs;
	v[HVX_SLOT_RO_EXIT_REASON] = e->reason;
	v[HVX_SLOT_RO_EXIT_QUALIFIC] = e->qualification;
	v[HVX_SLOT_RO_VMEXIT_INSTR_LEN] = e->instr_len;
	v[HVX_SLOT_RO_VMX_INSTR_INFO] = e->instr_info;
	v[HVX_SLOT_RO_GUEST_LIN_ADDR] = e->guest_linear;
	v[HVX_SLOT_GUEST_PHYSICAL_ADDRESS] = e->guest_physical;
	v[HVX_SLOT_RO_VMEXIT_IRQ_INFO] = e->intr_info;
	v[HVX_SLOT_RO_VMEXIT_IRQ_ERROR] = e->intr_error;
	v[HVX_SLOT_RO_IDT_VECTOR_INFO] = e->idt_info;
	v[HVX_SLOT_RO_IDT_VECTOR_ERROR] = e->idt_error;
	v[HVX_SLOT_RO_IO_RCX] = e->io_rcx;
	v[HVX_SLOT_RO_IO_RSI] = e->io_rsi;
	v[HVX_SLOT_RO_IO_RDI] = e->io_rdi;
	v[HVX_SLOT_RO_IO_RIP] = e->io_rip;
}
