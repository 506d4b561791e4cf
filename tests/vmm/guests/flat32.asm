; flat32.asm: raw binary test kernel: 32-bit protected mode at 0x100000, prints via COM1, exits with isa-debug-exit 0x10.
bits 32
org 0x100000
start:
	mov esp, 0x90000
	mov esi, msg
	call puts
	mov eax, cr0
	test al, 1
	jz .bad
	mov esi, pass
	call puts
	mov al, 0x10
	jmp exit
.bad:	mov esi, badmode
	jmp fail
msg:	db "flat32: hello from protected mode", 10, 0
pass:	db "flat32: PASS", 10, 0
badmode: db "CR0.PE is clear", 0
%include "lib32.inc"
