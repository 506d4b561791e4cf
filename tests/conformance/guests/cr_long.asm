; cr_long.asm: control- and debug-register accesses (MOV_CR, MOV_DR, TPR_THRESHOLD); each slot is followed by the sentinel.
%include "common.inc"
	bits 64
SLOT 0
	mov cr0, rbx
	DONE
SLOT 1
	mov cr4, rcx
	DONE
SLOT 2
	mov cr3, rdx
	DONE
SLOT 3
	mov rsi, cr3
	DONE
SLOT 4
	mov cr8, r9
	DONE
SLOT 5
	mov r10, cr8
	DONE
SLOT 6
	clts
	DONE
SLOT 7
	lmsw ax
	DONE
SLOT 8
	lmsw [rbx + 2]
	DONE
SLOT 9
	mov rax, dr7
	DONE
SLOT 10
	mov dr3, rdx
	DONE
SLOT 11
	mov dr0, rcx
	mov rax, dr0
	DONE
SLOT 12
	mov cr8, rax
	mov rbx, cr8
	DONE
SLOT 13
	mov rax, cr0
	mov rbx, cr4
	DONE
