; alu.asm: benchmark workload: register-only integer ALU loop, 10 instructions per iteration.
; @name alu
; @metric mips
; @insns_per_iter 10
; In: r15 = iterations (>= 1). Out: falls through to the stub's `done`.
	mov rcx, r15
	mov eax, 1
	mov ebx, 3
	mov edx, 7
	mov esi, 11
alu_loop:
	add rax, rbx
	xor rbx, rdx
	sub rdx, rsi
	or rsi, rax
	and rax, rdx
	shl rbx, 1
	lea rdx, [rdx + rax * 2 + 1]
	inc rsi
	dec rcx
	jnz alu_loop
