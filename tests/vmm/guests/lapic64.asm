; lapic64.asm: flat long-mode guest: local APIC timer (periodic) and a self-IPI delivered through an IDT, EOI by MMIO.
; With -DWINDOW the self-IPI must arrive in the one-instruction window of STI; NOP; CLI (interrupt-window exiting).
bits 64
org 0x100000
APIC equ 0xfee00000
start:
	mov rsp, 0x90000
	mov ebx, APIC                           ; rbx = APIC base (disp32 would sign-extend)
	lea rdi, [rel idt]
	mov rax, timer
	mov ecx, 0x40
	call set_gate
	mov rax, ipi
	mov ecx, 0x41
	call set_gate
	lidt [rel idtd]
	mov dword [rbx + 0xf0], 0x1ff          ; SVR: enable, spurious 0xff
	mov dword [rbx + 0x3e0], 0xb           ; divide by 1
	mov dword [rbx + 0x320], 0x20040       ; LVT timer: periodic, vector 0x40
	mov dword [rbx + 0x380], 2000000       ; 2 ms at 1 GHz
.wait:	sti
	hlt
	cli
	cmp dword [rel ticks], 3
	jb .wait
	mov dword [rbx + 0x320], 0x10000       ; mask the timer
	mov rsi, m_timer
	call puts
	mov dword [rbx + 0x300], 0x40041       ; self IPI, vector 0x41: pending while IF = 0
%ifdef WINDOW
	sti                                     ; the interrupt is taken after the NOP, before the CLI
	nop
	cli
%else
	sti                                     ; STI shadow covers HLT; the IPI wakes it
	hlt
	cli
%endif
	cmp dword [rel ipis], 1
	jne .noipi
	mov rsi, m_pass
	call puts
	mov al, 0x10
	jmp exit
.noipi:	mov rsi, m_noipi
	call puts
	mov al, 1
	jmp exit
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
timer:	inc dword [rel ticks]
	mov dword [rbx + 0xb0], 0              ; EOI
	iretq
ipi:	inc dword [rel ipis]
	mov dword [rbx + 0xb0], 0
	iretq
m_timer: db "lapic64: 3 timer interrupts", 10, 0
m_pass:	db "lapic64: self-IPI delivered: PASS", 10, 0
m_noipi: db "FAIL: self-IPI not delivered", 10, 0
ticks:	dd 0
ipis:	dd 0
align 8
idtd:	dw 0x50 * 16 - 1
	dq idt
%include "lib64.inc"
align 16
idt:	times 0x50 * 16 db 0
