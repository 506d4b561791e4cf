; real.asm: real-mode guests (unrestricted guest): CPUID, port I/O, string I/O with 16-bit addressing, INT 21h, and instructions that #UD in real mode.
%include "common.inc"
	bits 16
SLOT 0
	cpuid
	DONE
SLOT 1
	out 0x80, al
SLOT 2
	in ax, dx
SLOT 3
	rep outsb
SLOT 4
	int 0x21
SLOT 5
	vmclear [bx]
SLOT 6
	str ax
SLOT 7
	hlt
	DONE
