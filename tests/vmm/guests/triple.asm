; triple.asm: a flat 32-bit guest that raises #UD with no IDT: a triple fault the VMM must report (exit status 4).
bits 32
org 0x100000
	lidt [idt0]
	ud2
idt0:	dw 0
	dd 0
