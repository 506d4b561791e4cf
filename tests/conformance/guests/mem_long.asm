; mem_long.asm: plain loads, stores and an indirect jump through RBX, for EPT violations and APIC-page accesses.
%include "common.inc"
	bits 64
SLOT 0
	mov eax, [rbx]
	DONE
SLOT 1
	mov [rbx], eax
	DONE
SLOT 2
	jmp rbx
SLOT 3
	mov dword [rbx], 0      ; EOI write from the virtual-interrupt handler
	DONE
SLOT 4
	sti
	jmp $
