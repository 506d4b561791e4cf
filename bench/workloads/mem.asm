; mem.asm: benchmark workload: 8-byte loads and stores sweeping a 1 MiB array, 7 instructions per iteration.
; @name mem
; @metric mips
; @insns_per_iter 7
; In: r15 = iterations (>= 1); the array is the 1 MiB at BENCH_ARRAY (mapped writable by every engine).
	mov rcx, r15
	mov rsi, BENCH_ARRAY
	xor edx, edx
mem_loop:
	mov rax, [rsi + rdx]
	add rax, rcx
	mov [rsi + rdx], rax
	add rdx, 8
	and edx, 0xfffff
	dec rcx
	jnz mem_loop
