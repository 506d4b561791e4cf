; cpuidloop.asm: benchmark workload: one CPUID (leaf 0) per iteration, an exit under VMX (4 instructions per iteration).
; @name cpuidloop
; @metric ns_per_iter
; @insns_per_iter 4
; In: r15 = iterations (>= 1). CPUID clobbers rax, rbx, rcx, rdx, so the counter is r8.
	mov r8, r15
cpuid_loop:
	xor eax, eax
	cpuid
	dec r8
	jnz cpuid_loop
