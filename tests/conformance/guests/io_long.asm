; io_long.asm: 64-bit port I/O in every form: immediate/DX port, each size, IN/OUT, REP string forms, segment override.
%include "common.inc"
	bits 64
SLOT 0
	out 0x80, al
SLOT 1
	in ax, dx
SLOT 2
	out dx, eax
SLOT 3
	in al, 0x60
SLOT 4
	rep outsb
SLOT 5
	rep insw
SLOT 6
	fs outsd
SLOT 7
	out dx, ax
SLOT 8
	in eax, 0x71
SLOT 9
	a32 rep insb
