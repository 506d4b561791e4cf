; movsb.asm: benchmark workload: rep movsb of one 4 KiB block per iteration (5 instructions, 4096 bytes).
; @name movsb
; @metric us_per_iter
; @insns_per_iter 5
; In: r15 = iterations (>= 1); copies BENCH_ARRAY -> BENCH_ARRAY + 0x80000 (inside the mapped 1 MiB array).
	mov r8, r15
movsb_loop:
	mov rsi, BENCH_ARRAY
	mov rdi, BENCH_ARRAY + 0x80000
	mov ecx, 4096
	rep movsb
	dec r8
	jnz movsb_loop
