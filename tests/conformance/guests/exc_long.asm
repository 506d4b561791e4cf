; exc_long.asm: 64-bit instructions that raise exceptions (EXC_NMI, TRIPLE_FAULT cases); each slot is followed by the sentinel.
%include "common.inc"
	bits 64
SLOT 0
	ud2
	DONE
SLOT 1
	int3
	DONE
SLOT 2
	mov [rbx], eax          ; #PF write when RBX is not mapped by the guest page tables
	DONE
SLOT 3
	mov eax, [rbx]          ; #PF read
	DONE
SLOT 4
	mov ds, ax              ; #GP(selector) when AX is beyond the GDT limit
	DONE
SLOT 5
	rsm                     ; #UD outside SMM
	DONE
SLOT 6
	DONE                    ; #PF handler when the fault is delivered through the guest IDT
SLOT 7
	nop                     ; single-stepped with RFLAGS.TF
	nop
	DONE
SLOT 8
	div ecx                 ; #DE with ECX = 0
	DONE
