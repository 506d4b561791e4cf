; hvdos_hello.asm: a DOS .COM program (org 0x100) for the hvdos-style client: prints a string with INT 21h AH=09h and exits with AH=4Ch.
	org 0x100
	bits 16
	mov ah, 0x09
	mov dx, msg
	int 0x21
	mov ax, 0x4c2a
	int 0x21
	hlt
msg:	db "Hello from a DOS guest", 13, 10, "$"
