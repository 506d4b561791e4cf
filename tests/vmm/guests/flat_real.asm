; flat_real.asm: raw binary test kernel for real mode at 0x7c00: prints via COM1, then via debugcon (0xe9), exits with 0x10.
bits 16
org 0x7c00
start:
	xor ax, ax
	mov ds, ax
	mov si, msg
.next:	lodsb
	test al, al
	jz .done
	mov bl, al
	mov dx, 0x3fd
.wait:	in al, dx
	test al, 0x20
	jz .wait
	mov al, bl
	mov dx, 0x3f8
	out dx, al
	jmp .next
.done:	mov si, dbg
.dnext:	lodsb
	test al, al
	jz .check
	out 0xe9, al
	jmp .dnext
.check:	mov eax, cr0
	test al, 1
	jnz .bad
	mov al, 0x10
	out 0xf4, al
.bad:	mov al, 1
	out 0xf4, al
	cli
	hlt
msg:	db "real: PASS", 10, 0
dbg:	db "debugcon: PASS", 10, 0
