; multiboot_aout.asm: multiboot v1 kernel using the a.out kludge (flags bit 16: explicit load and entry addresses).
bits 32
LOAD equ 0x180000
org LOAD
FLAGS equ 0x00010003
mbhdr:	dd 0x1badb002, FLAGS, -(0x1badb002 + FLAGS)
	dd mbhdr, LOAD, load_end, bss_end, start
start:
	cmp dword [bss_probe], 0         ; the loader zeroes the bss
	jne .bad
	jmp mb_main
.bad:	mov esi, m_bss
	jmp fail
m_bss:	db "bss not zeroed", 0
%include "mbcheck.inc"
load_end:
bss_probe equ load_end + 64
bss_end equ load_end + 4096
