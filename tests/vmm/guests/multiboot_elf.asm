; multiboot_elf.asm: multiboot v1 kernel as a hand-made ELF32 (header inside the first 8 KiB); checks the boot info.
bits 32
LOAD equ 0x100000
org LOAD
ehdr:	db 0x7f, "ELF", 1, 1, 1, 0
	times 8 db 0
	dw 2, 3
	dd 1, start, phdr - ehdr, 0, 0
	dw 52, 32, 1, 0, 0, 0
phdr:	dd 1, 0, LOAD, LOAD, file_end - ehdr, file_end - ehdr, 7, 0x1000
align 4
mbhdr:	dd 0x1badb002, 0x00000003, -(0x1badb002 + 0x00000003)
start:
	jmp mb_main
%include "mbcheck.inc"
file_end:
