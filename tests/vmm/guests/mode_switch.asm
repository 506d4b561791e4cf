; mode_switch.asm: flat 32-bit guest that enters long mode itself (PAE, EFER.LME by WRMSR, CR0.PG, far jump), as Linux's
; 32-bit boot path does, then takes exits in 64-bit mode and checks EFER.LMA.
bits 32
org 0x100000
PT equ 0x200000
start:
	mov esp, 0x90000
	lgdt [gdtd]
	mov edi, PT                              ; PML4, PDPT, PD: identity-map the first GiB with 2 MiB pages
	xor eax, eax
	mov ecx, 3 * 1024
	rep stosd
	mov dword [PT], PT + 0x1003
	mov dword [PT + 0x1000], PT + 0x2003
	mov edi, PT + 0x2000
	mov eax, 0x83
	mov ecx, 512
.pde:	mov [edi], eax
	add eax, 0x200000
	add edi, 8
	loop .pde
	mov eax, PT
	mov cr3, eax
	mov eax, cr4
	or eax, 0x20
	mov cr4, eax
	mov ecx, 0xc0000080
	rdmsr
	or eax, 0x100
	wrmsr
	mov eax, cr0
	or eax, 0x80000000
	mov cr0, eax
	jmp 0x08:long64
bits 64
long64:
	mov ax, 0x10
	mov ds, ax
	mov ss, ax
	mov ecx, 0xc0000080
	rdmsr                                    ; the first exit in 64-bit mode
	test eax, 0x400
	jz .bad
	mov rsi, m_pass
	call puts
	mov al, 0x10
	jmp exit
.bad:	mov rsi, m_bad
	call puts
	mov al, 1
	jmp exit
m_pass:	db "mode_switch: 64-bit code after a guest-made switch, EFER.LMA set: PASS", 10, 0
m_bad:	db "FAIL: EFER.LMA clear in 64-bit code", 10, 0
align 8
gdt:	dq 0, 0x00af9a000000ffff, 0x00cf92000000ffff
gdtd:	dw 23
	dd gdt
%include "lib64.inc"
