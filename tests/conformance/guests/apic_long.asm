; apic_long.asm: accesses to the APIC-access page through RBX (reads, writes, a fetch, INT n) and virtual-interrupt handlers, for APIC virtualization cases.
%include "common.inc"
	bits 64
SLOT 0
	mov eax, [rbx]
	DONE
SLOT 1
	mov [rbx], eax
	DONE
SLOT 2
	mov rax, [rbx]
	DONE
SLOT 3
	jmp rbx
SLOT 4
	int 0x30
	DONE
SLOT 5
	jmp $                   ; spin: a virtual interrupt is delivered at this boundary
SLOT 6
	mov dword [rbx], 0      ; handler: EOI
	DONE
SLOT 7
	DONE                    ; handler: sentinel only
SLOT 8
	mov [rbx], al
	DONE
SLOT 9
	wrmsr
	DONE
SLOT 10
	rdmsr
	DONE
