; smp.asm: flat 32-bit guest that starts vCPU 1 with INIT/SIPI through the local APIC and waits for it to check in.
bits 32
org 0x100000
start:
	mov esp, 0x90000
	cld
	mov esi, trampoline              ; copy the AP's real-mode code to 0x8000 (SIPI vector 8)
	mov edi, 0x8000
	mov ecx, trampoline_end - trampoline
	rep movsb
	mov dword [0xfee00310], 1 << 24  ; ICR high: destination APIC 1
	mov dword [0xfee00300], 0x4500   ; INIT
	mov dword [0xfee00300], 0x4608   ; SIPI, vector 8 -> 0x8000
	mov ecx, 100000000
.wait:	cmp byte [0x7000], 0x5a
	je .ok
	dec ecx
	jnz .wait
	mov esi, m_timeout
	jmp fail
.ok:	mov esi, m_pass
	call puts
	mov al, 0x10
	jmp exit
m_timeout: db "AP did not start", 0
m_pass:	db "smp: AP started by INIT/SIPI: PASS", 10, 0
%include "lib32.inc"

bits 16
trampoline:                             ; runs at 0x8000 in real mode on the AP
	xor ax, ax
	mov ds, ax
	mov byte [0x7000], 0x5a
.park:	cli
	hlt
	jmp .park
trampoline_end:
