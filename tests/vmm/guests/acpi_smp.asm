; acpi_smp.asm: flat 32-bit guest that finds the RSDP, walks RSDT -> MADT, counts the enabled local APICs, then starts
; every other CPU with a broadcast INIT/SIPI and waits until each has checked in.
bits 32
org 0x100000
COUNTER equ 0x7000
start:
	mov esp, 0x90000
	cld
	mov esi, 0xe0000                         ; RSDP: "RSD PTR " on a 16-byte boundary below 1 MiB
.scan:	cmp dword [esi], "RSD "
	jne .next
	cmp dword [esi + 4], "PTR "
	jne .next
	xor eax, eax                             ; the first 20 bytes sum to 0
	xor ecx, ecx
.sum:	add al, [esi + ecx]
	inc ecx
	cmp ecx, 20
	jb .sum
	test al, al
	jz .found
.next:	add esi, 16
	cmp esi, 0x100000
	jb .scan
	mov esi, m_nordsp
	jmp fail
.found:	mov ebx, [esi + 16]                      ; RSDT
	cmp dword [ebx], "RSDT"
	jne .bad
	mov ecx, [ebx + 4]
	sub ecx, 36
	shr ecx, 2
	lea edi, [ebx + 36]
.tab:	test ecx, ecx
	jz .bad
	mov edx, [edi]
	cmp dword [edx], "APIC"
	je .madt
	add edi, 4
	dec ecx
	jmp .tab
.madt:	mov ecx, [edx + 4]                       ; walk the entries
	lea edi, [edx + 44]
	add ecx, edx
	xor ebp, ebp                             ; enabled local APICs
.ent:	cmp edi, ecx
	jae .counted
	cmp byte [edi], 0
	jne .skip
	test byte [edi + 4], 1
	jz .skip
	inc ebp
.skip:	movzx eax, byte [edi + 1]
	test eax, eax
	jz .bad
	add edi, eax
	jmp .ent
.counted:
	mov esi, m_cpus
	call puts
	mov eax, ebp
	call puthex
	mov al, 10
	call putc
	mov esi, trampoline                      ; AP code at 0x8000 (SIPI vector 8)
	mov edi, 0x8000
	mov ecx, trampoline_end - trampoline
	rep movsb
	mov dword [COUNTER], 0
	mov dword [0xfee00300], 0xc4500          ; INIT to all excluding self
	mov dword [0xfee00300], 0xc4608          ; SIPI to all excluding self, vector 8
	lea edx, [ebp - 1]
	mov ecx, 200000000
.wait:	cmp [COUNTER], edx
	je .ok
	dec ecx
	jnz .wait
	mov esi, m_aps
	jmp fail
.ok:	mov esi, m_pass
	call puts
	mov eax, edx
	call puthex
	mov al, 10
	call putc
	mov al, 0x10
	jmp exit
.bad:	mov esi, m_bad
	jmp fail
m_nordsp: db "no RSDP", 0
m_bad:	db "bad RSDT or MADT", 0
m_aps:	db "not every AP checked in", 0
m_cpus:	db "acpi_smp: MADT lists enabled CPUs: ", 0
m_pass:	db "acpi_smp: PASS, application processors started: ", 0
%include "lib32.inc"

bits 16
trampoline:                                     ; each AP, real mode at 0x8000
	xor ax, ax
	mov ds, ax
	lock inc dword [COUNTER]
.park:	cli
	hlt
	jmp .park
trampoline_end:
