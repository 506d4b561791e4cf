; prot32.asm: 32-bit protected-mode guests: task switches by JMP/CALL, string I/O with FS override, SIDT operand sizes, INVLPG.
%include "common.inc"
	bits 32
SLOT 0
	jmp 0x28:0
SLOT 1
	call 0x28:0
SLOT 2
	fs outsd
SLOT 3
	sidt [ebx]
SLOT 4
	o16 sidt [ebx]
SLOT 5
	invlpg [ebx + 0x10]
SLOT 6
	int 0x30                ; through a task gate in the IDT
SLOT 7
	iretd                   ; with RFLAGS.NT: a task switch to the back-link TSS
