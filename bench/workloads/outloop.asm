; outloop.asm: benchmark workload: one OUT to port 0x80 per iteration, each an exit the VMM handles (3 instructions per iteration).
; @name outloop
; @metric ns_per_iter
; @insns_per_iter 3
; In: r15 = iterations (>= 1). Needs IOPL 3 when run at CPL 3.
	mov rcx, r15
	xor eax, eax
outloop_loop:
	out BENCH_IO_PORT, al
	dec rcx
	jnz outloop_loop
