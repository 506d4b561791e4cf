; loop_long.asm: 64-bit guests for event exits: a spin loop, an STI shadow, a HLT (IRQ, IRQ_WND, VIRTUAL_NMI_WND, VMX_TIMER_EXPIRED, HLT-state cases).
%include "common.inc"
	bits 64
SLOT 0
	jmp $
SLOT 1
	sti
	nop
	DONE
SLOT 2
	hlt
	DONE
SLOT 3
	nop
	nop
	cpuid
	DONE
