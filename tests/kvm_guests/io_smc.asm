; io_smc.asm: ring-3 guest for test_kvm_io: an OUT that the guest rewrites between its exits (port + 1, and the
; opcode toggled between OUT imm8, AL and OUT imm8, EAX), so that every exit at the same RIP is a different instruction.
bits 64
org 0x10000
start:
	mov eax, 0x11223344
again:
	out 0x80, al            ; E6 80, then E7 81, E6 82, ...
	inc byte [rel again + 1]
	xor byte [rel again], 1
	jmp again
