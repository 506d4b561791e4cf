; bzimage.asm: minimal Linux bzImage (boot protocol 2.12 setup header, one setup sector) whose protected-mode part prints via COM1.
; With -DKERNEL64 it sets XLF_KERNEL_64 and has 64-bit code at load + 0x200 (the 64-bit boot protocol entry).
bits 16
org 0
SETUP_SECTS equ 1
boot:	times 0x1f1 - ($ - boot) db 0
	db SETUP_SECTS                 ; 0x1f1 setup_sects
	dw 0                           ; 0x1f2 root_flags
	dd (kernel_end - kernel) / 16  ; 0x1f4 syssize
	dw 0                           ; 0x1f8 ram_size
	dw 0                           ; 0x1fa vid_mode
	dw 0                           ; 0x1fc root_dev
	dw 0xaa55                      ; 0x1fe boot_flag
	db 0xeb, hdr_end - 0x202       ; 0x200 jump over the header
	db "HdrS"                      ; 0x202
	dw 0x020c                      ; 0x206 version 2.12
	dd 0                           ; 0x208 realmode_swtch
	dw 0                           ; 0x20c start_sys_seg
	dw 0                           ; 0x20e kernel_version
	db 0                           ; 0x210 type_of_loader
	db 0x01                        ; 0x211 loadflags: LOADED_HIGH
	dw 0                           ; 0x212 setup_move_size
	dd 0x100000                    ; 0x214 code32_start
	dd 0                           ; 0x218 ramdisk_image
	dd 0                           ; 0x21c ramdisk_size
	dd 0                           ; 0x220 bootsect_kludge
	dw 0                           ; 0x224 heap_end_ptr
	db 0, 0                        ; 0x226 ext_loader_ver, ext_loader_type
	dd 0                           ; 0x228 cmd_line_ptr
	dd 0x37ffffff                  ; 0x22c initrd_addr_max
	dd 0x200000                    ; 0x230 kernel_alignment
	db 0                           ; 0x234 relocatable_kernel
	db 0                           ; 0x235 min_alignment
%ifdef KERNEL64
	dw 1                           ; 0x236 xloadflags: XLF_KERNEL_64
%else
	dw 0                           ; 0x236 xloadflags
%endif
	dd 255                         ; 0x238 cmdline_size
	dd 0                           ; 0x23c hardware_subarch
	dq 0                           ; 0x240 hardware_subarch_data
	dd 0                           ; 0x248 payload_offset
	dd 0                           ; 0x24c payload_length
	dq 0                           ; 0x250 setup_data
	dq 0x100000                    ; 0x258 pref_address
	dd kernel_end - kernel         ; 0x260 init_size
	dd 0                           ; 0x264 handover_offset
hdr_end:
	times (SETUP_SECTS + 1) * 512 - ($ - boot) db 0

; The protected-mode kernel, loaded at 0x100000 and entered at code32_start with ESI = boot_params.
section .kernel vstart=0x100000 follows=.text
bits 32
kernel:
%ifdef KERNEL64
	mov esi, m_wrong                ; the 32-bit entry must not be used
	jmp fail
m_wrong: db "entered at code32_start instead of the 64-bit entry", 0
	times 0x200 - ($ - kernel) db 0
bits 64
	mov rsp, 0x90000
	cmp dword [rsi + 0x202], "HdrS"
	jne .bad64
	mov rbp, rsi
	mov rsi, m_cmd64
	call puts64
	mov esi, [rbp + 0x228]
	call puts64
	mov al, 10
	call putc64
	mov rsi, m_pass64
	call puts64
	mov al, 0x10
	jmp exit64
.bad64:	mov rsi, m_bad64
	call puts64
	mov al, 1
	jmp exit64
m_cmd64: db "cmdline=", 0
m_pass64: db "bzimage64: PASS", 10, 0
m_bad64: db "FAIL: RSI does not point at boot_params", 10, 0
%define putc putc64
%define puts puts64
%define exit exit64
%include "lib64.inc"
%undef putc
%undef puts
%undef exit
bits 32
%endif
	mov esp, 0x90000
	cmp dword [esi + 0x202], "HdrS"
	je .hdr_ok
	mov esi, m_hdr
	jmp fail
.hdr_ok:
	cmp byte [esi + 0x210], 0xff
	je .loader_ok
	mov esi, m_loader
	jmp fail
.loader_ok:
	mov ebp, esi
	mov esi, m_cmd
	call puts
	mov esi, [ebp + 0x228]
	call puts
	mov al, 10
	call putc
	mov esi, m_e820
	call puts
	movzx eax, byte [ebp + 0x1e8]
	call puthex
	mov al, 10
	call putc
	cmp byte [ebp + 0x1e8], 3
	jb .bad
	mov esi, m_rd
	call puts
	mov eax, [ebp + 0x21c]         ; ramdisk_size
	call puthex
	mov al, 10
	call putc
	mov esi, m_pass
	call puts
	mov al, 0x10
	jmp exit
.bad:	mov esi, m_bad
	jmp fail
m_hdr:	db "ESI does not point at boot_params", 0
m_loader: db "type_of_loader not set", 0
m_bad:	db "e820 map too short", 0
m_cmd:	db "cmdline=", 0
m_e820:	db "e820_entries=", 0
m_rd:	db "ramdisk_size=", 0
m_pass:	db "bzimage: PASS", 10, 0
%include "lib32.inc"
kernel_end:
