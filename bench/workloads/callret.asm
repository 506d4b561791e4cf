; callret.asm: benchmark workload: call/ret with push/pop in the callee, 8 instructions per iteration.
; @name callret
; @metric mips
; @insns_per_iter 8
; In: r15 = iterations (>= 1), a stack at rsp.
	mov rcx, r15
	jmp callret_loop
callret_fn:
	push rbx
	push rdx
	pop rdx
	pop rbx
	ret
callret_loop:
	call callret_fn
	dec rcx
	jnz callret_loop
