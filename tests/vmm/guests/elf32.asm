; elf32.asm: hand-made ELF32 executable (one PT_LOAD at 0x200000, bss) that prints via COM1 and exits 0x10.
bits 32
LOAD equ 0x200000
org LOAD
ehdr:	db 0x7f, "ELF", 1, 1, 1, 0
	times 8 db 0
	dw 2, 3
	dd 1, start, phdr - ehdr, 0, 0
	dw 52, 32, 1, 0, 0, 0
phdr:	dd 1, 0, LOAD, LOAD, file_end - ehdr, file_end - ehdr + 4096, 7, 0x1000
start:
	mov esp, 0x90000
	mov eax, [bss_word]          ; the loader must have zeroed the bss
	test eax, eax
	jnz .bad
	mov esi, pass
	call puts
	mov al, 0x10
	jmp exit
.bad:	mov esi, badbss
	jmp fail
pass:	db "elf32: PASS", 10, 0
badbss:	db "bss not zeroed", 0
%include "lib32.inc"
file_end:
bss_word equ file_end + 16
