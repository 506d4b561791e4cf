; desc_long.asm: descriptor-table instructions (GDTR_IDTR, LDTR_TR) with register and memory operands.
%include "common.inc"
	bits 64
SLOT 0
	sgdt [rbx + 0x10]
	DONE
SLOT 1
	lidt [rsi]
SLOT 2
	str dx
SLOT 3
	sldt [rbx + 4]
SLOT 4
	lldt cx
SLOT 5
	ltr [rbx]
SLOT 6
	str dx
	DONE
