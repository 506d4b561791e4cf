/* exit.h: the one exit record every backend fills per VM exit, and the single path that publishes it into the read-only VMCS fields. */
#ifndef HVX_CORE_EXIT_H
#define HVX_CORE_EXIT_H

#include <stdint.h>

/* Everything a VM exit reports, as Intel hardware writes it (SDM 27.2). Fields an exit does not define are 0. */
struct hvx_exit {
	uint32_t reason;          /* full exit-reason word: basic reason in 15:0, entry failure in bit 31 */
	uint64_t qualification;   /* VMCS_RO_EXIT_QUALIFIC */
	uint32_t instr_len;       /* VMCS_RO_VMEXIT_INSTR_LEN */
	uint32_t instr_info;      /* VMCS_RO_VMX_INSTR_INFO */
	uint64_t guest_linear;    /* VMCS_RO_GUEST_LIN_ADDR */
	uint64_t guest_physical;  /* VMCS_GUEST_PHYSICAL_ADDRESS */
	uint32_t intr_info;       /* VMCS_RO_VMEXIT_IRQ_INFO */
	uint32_t intr_error;      /* VMCS_RO_VMEXIT_IRQ_ERROR */
	uint32_t idt_info;        /* VMCS_RO_IDT_VECTOR_INFO */
	uint32_t idt_error;       /* VMCS_RO_IDT_VECTOR_ERROR */
	uint64_t io_rcx, io_rsi, io_rdi, io_rip; /* VMCS_RO_IO_*: SMI after I/O only */
};

/* Clear an exit record field by field: on x86 a memset of this size compiles to a `rep stos` whose start-up cost was
 * 7 % of the emu's I/O exit round trip. */
static inline void hvx_exit_clear(struct hvx_exit *e)
{
	_Static_assert(sizeof(struct hvx_exit) == 88, "struct hvx_exit changed: clear the new field here");
	e->reason = 0;
	e->qualification = 0;
	e->instr_len = e->instr_info = 0;
	e->guest_linear = e->guest_physical = 0;
	e->intr_info = e->intr_error = e->idt_info = e->idt_error = 0;
	e->io_rcx = e->io_rsi = e->io_rdi = e->io_rip = 0;
}

/* hvx_exit_publish (vcpu.h) copies a backend's record into the vCPU's read-only VMCS fields (a backend with
 * exit_in_place fills them directly). */

#endif
