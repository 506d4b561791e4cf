; spin.asm: a flat 32-bit guest that never stops (for --timeout tests).
bits 32
org 0x100000
	mov esi, 0
spin:	inc esi
	jmp spin
