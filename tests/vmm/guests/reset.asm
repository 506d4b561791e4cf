; reset.asm: a flat 32-bit guest that prints and resets through port 0xcf9 (the run stops with status 0).
bits 32
org 0x100000
	mov esp, 0x90000
	mov esi, msg
	call puts
	mov dx, 0xcf9
	mov al, 0x06
	out dx, al
	mov esi, still
	jmp fail
msg:	db "reset: asking for a reset", 10, 0
still:	db "still running after the reset request", 0
%include "lib32.inc"
