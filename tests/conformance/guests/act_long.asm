; act_long.asm: 64-bit guests for the activity-state and pending-debug-exception cases (cases_activity.c): a resting place for shutdown, an event handler that ends at the sentinel, MOV SS then CPUID, an OUT for I/O SMIs, HLT, MOV SS then UD2.
%include "common.inc"
	bits 64
SLOT 0
	nop
	nop
	DONE
SLOT 2
	DONE			; handler of NMI, #DB, #MC: the sentinel at once
SLOT 4
	mov ss, ax
	cpuid
	nop
	DONE
SLOT 6
	out 0x70, al
	nop
	DONE
SLOT 8
	hlt
	nop
	DONE
SLOT 10
	mov ss, ax
	ud2
	DONE
