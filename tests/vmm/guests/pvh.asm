; pvh.asm: hand-made ELF32 with the Xen PVH entry note (type 18); checks EBX = hvm_start_info and prints the command line.
bits 32
LOAD equ 0x100000
org LOAD
ehdr:	db 0x7f, "ELF", 1, 1, 1, 0
	times 8 db 0
	dw 2, 3
	dd 1, bogus_entry, phdr - ehdr, 0, 0
	dw 52, 32, 2, 0, 0, 0
phdr:	dd 1, 0, LOAD, LOAD, file_end - ehdr, file_end - ehdr, 7, 0x1000
	dd 4, note - ehdr, note, note, note_end - note, note_end - note, 4, 4
align 4
note:	dd 4, 4, 18
	db "Xen", 0
	dd pvh_start
note_end:
bogus_entry:                           ; e_entry must not be used for a PVH boot
	mov esi, m_entry
	jmp fail
pvh_start:
	mov esp, 0x90000
	cmp dword [ebx], 0x336ec578
	je .ok
	mov esi, m_magic
	jmp fail
.ok:	mov esi, m_cmd
	call puts
	mov esi, [ebx + 24]              ; cmdline_paddr (low half)
	call puts
	mov al, 10
	call putc
	mov esi, m_map
	call puts
	mov eax, [ebx + 48]              ; memmap_entries
	call puthex
	mov al, 10
	call putc
	cmp dword [ebx + 48], 2
	jb .badmap
	mov esi, m_pass
	call puts
	mov al, 0x10
	jmp exit
.badmap: mov esi, m_bad_map
	jmp fail
m_entry: db "started at e_entry instead of the PVH note entry", 0
m_magic: db "EBX does not point at hvm_start_info", 0
m_bad_map: db "memory map too short", 0
m_cmd:	db "cmdline=", 0
m_map:	db "memmap_entries=", 0
m_pass:	db "pvh: PASS", 10, 0
%include "lib32.inc"
file_end:
