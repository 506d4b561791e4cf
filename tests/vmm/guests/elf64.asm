; elf64.asm: hand-made ELF64 executable (PT_LOAD at 0x300000) entered in long mode; prints via COM1, exits 0x10.
bits 64
LOAD equ 0x300000
org LOAD
ehdr:	db 0x7f, "ELF", 2, 1, 1, 0
	times 8 db 0
	dw 2, 62
	dd 1
	dq start, phdr - ehdr, 0
	dd 0
	dw 64, 56, 1, 0, 0, 0
phdr:	dd 1, 7
	dq 0, LOAD, LOAD, file_end - ehdr, file_end - ehdr, 0x1000
start:
	mov rsp, 0x90000
	mov rax, 0x123456789abcdef0   ; a real 64-bit register
	shr rax, 32
	cmp eax, 0x12345678
	jne .bad
	mov rsi, pass
	call puts
	mov al, 0x10
	jmp exit
.bad:	mov rsi, bad
	call puts
	mov al, 1
	jmp exit
pass:	db "elf64: PASS", 10, 0
bad:	db "FAIL: not in 64-bit mode", 10, 0
%include "lib64.inc"
file_end:
