; loop_long.asm: 64-bit guests for event exits: a spin loop, an STI shadow, a HLT, NOPs before CPUID or the sentinel (IRQ, IRQ_WND, VIRTUAL_NMI_WND, MTF, VMX_TIMER_EXPIRED cases; an IRETQ for the NMI window).
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
SLOT 4
	nop
	nop
	DONE
SLOT 5
	iretq
	nop
	DONE
