; insn_long.asm: 64-bit single instructions whose exits have no qualification or instruction information; each is followed by the sentinel.
%include "common.inc"
	bits 64
SLOT 0
	cpuid
	DONE
SLOT 1
	hlt
	DONE
SLOT 2
	invd
	DONE
SLOT 3
	rdpmc
	DONE
SLOT 4
	rdtsc
	DONE
SLOT 5
	vmcall
	DONE
SLOT 6
	rdtscp
	DONE
SLOT 7
	wbinvd
	DONE
SLOT 8
	xsetbv
	DONE
SLOT 9
	getsec
	DONE
SLOT 10
	rdmsr
	DONE
SLOT 11
	wrmsr
	DONE
SLOT 12
	mwait
	DONE
SLOT 13
	monitor
	mwait
	DONE
SLOT 14
	pause
	DONE
SLOT 15
.spin:
	pause
	jmp .spin
SLOT 16
	invlpg [rbx + 0x10]
	DONE
SLOT 17
	encls
	DONE
SLOT 18
	umwait ecx
	DONE
SLOT 19
	tpause ecx
	DONE
SLOT 20
	monitor
	DONE
