; flat64.asm: raw binary test kernel for long mode at 0x100000 (identity-mapped by the VMM): prints, checks EFER.LMA, exits 0x10.
bits 64
org 0x100000
start:
	mov rsp, 0x90000
	mov ecx, 0xc0000080
	rdmsr
	test eax, 0x400
	jz .bad
	mov rsi, pass
	call puts
	mov al, 0x10
	jmp exit
.bad:	mov rsi, bad
	call puts
	mov al, 1
	jmp exit
pass:	db "flat64: PASS (long mode)", 10, 0
bad:	db "FAIL: EFER.LMA clear", 10, 0
%include "lib64.inc"
