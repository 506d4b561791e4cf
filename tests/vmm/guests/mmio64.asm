; mmio64.asm: flat long-mode guest: instructions on local APIC registers that only the MMIO emulator's emu core runs (ADD/BTS/XADD on MMIO, an SSE load), and a #DE raised by DIV on a device register, injected by the VMM and handled by the guest.
bits 64
org 0x100000
APIC equ 0xfee00000
start:
	mov rsp, 0x90000
	mov rax, cr4
	or eax, 0x600                           ; OSFXSR, OSXMMEXCPT: SSE instructions allowed
	mov cr4, rax
	mov ebx, APIC
	lea rdi, [rel idt]
	mov rax, de_handler
	xor ecx, ecx
	call set_gate
	lidt [rel idtd]
	mov dword [rbx + 0x80], 0x20            ; TPR = 0x20
	add dword [rbx + 0x80], 0x10            ; read-modify-write on the device: 0x30
	jc fail                                 ; flags of the emulated ADD
	jz fail
	cmp dword [rbx + 0x80], 0x30
	jne fail
	bts dword [rbx + 0x80], 6               ; 0x70, CF = old bit 6 = 0
	jc fail
	cmp dword [rbx + 0x80], 0x70
	jne fail
	mov eax, 0x10
	xadd [rbx + 0x80], eax                  ; TPR 0x80, eax = 0x70
	cmp eax, 0x70
	jne fail
	movdqu xmm0, [rbx + 0x80]               ; SSE load from the device
	movdqu [rel scratch], xmm0              ; (a memory form: see docs/kvm.md on the instruction after an MMIO read)
	cmp dword [rel scratch], 0x80
	jne fail
	mov dword [rbx + 0x80], 0
	xor edx, edx
	mov eax, 1
	div dword [rbx + 0x310]                 ; ICR high is 0: #DE, injected by the VMM
	cmp dword [rel de_count], 1
	jne fail
	mov rsi, m_pass
	call puts
	mov al, 0x10
	jmp exit
fail:	mov rsi, m_fail
	call puts
	mov al, 1
	jmp exit
de_handler:
	inc dword [rel de_count]
	add qword [rsp], 6                      ; past the DIV (f7 b3 disp32)
	iretq
set_gate:                                       ; rax = handler, ecx = vector, rdi = idt
	shl ecx, 4
	mov [rdi + rcx], ax
	mov word [rdi + rcx + 2], 0x10
	mov word [rdi + rcx + 4], 0x8e00
	shr rax, 16
	mov [rdi + rcx + 6], ax
	shr rax, 16
	mov [rdi + rcx + 8], eax
	mov dword [rdi + rcx + 12], 0
	ret
m_pass:	db "mmio64: ADD/BTS/XADD/SSE on MMIO and an injected #DE: PASS", 10, 0
m_fail:	db "mmio64: FAIL", 10, 0
de_count: dd 0
align 16
scratch: times 16 db 0
align 8
idtd:	dw 0x20 * 16 - 1
	dq idt
%include "lib64.inc"
align 16
idt:	times 0x20 * 16 db 0
