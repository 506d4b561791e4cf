; smm_long.asm: 64-bit guests for the SMM, SIPI and VM-entry extension cases (cases_smm.c): I/O instructions on SMI ports, RSM, a spin loop, RDMSR.
%include "common.inc"
	bits 64
SLOT 0
	out 0x70, al
	nop
	DONE
SLOT 1
	in ax, dx
	nop
	DONE
SLOT 2
	rep outsb
	nop
	DONE
SLOT 3
	rsm
	nop
	DONE
SLOT 4
	jmp $
SLOT 5
	rdmsr
	DONE
SLOT 6
	nop
	nop
	DONE
