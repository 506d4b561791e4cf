; misc_long.asm: XSAVES/XRSTORS, ENCLS and the WAITPKG instructions (UMONITOR/UMWAIT/TPAUSE), alone (exit cases) and in short programs that execute them without exiting.
%include "common.inc"
	bits 64
SLOT 0
	xsaves [rbx + rsi * 4 + 0x40]
SLOT 1
	xsaves [rbx]
	DONE
SLOT 3
	xrstors [rbx + rcx * 8 - 0x10]
SLOT 4
	xrstors [rbx]
	DONE
SLOT 6
	encls
SLOT 7
	umwait esi
SLOT 8
	tpause edi
; TPAUSE until 2 ms of TSC from now (RDTSC not exiting): CF -> BL
SLOT 9
	rdtsc
	add eax, 2000000
	adc edx, 0
	xor ecx, ecx
	tpause ecx
	setc bl
	DONE
; IA32_UMWAIT_CONTROL limit of 200 us, TPAUSE to about 4.3 s ahead: the OS limit ends it (CF = 1 -> BL)
SLOT 12
	mov ecx, 0xe1
	mov eax, 200000
	xor edx, edx
	wrmsr
	rdtsc
	add edx, 1
	xor ecx, ecx
	tpause ecx
	setc bl
	DONE
; TPAUSE about 17 s ahead: only the run deadline or a kick ends it
SLOT 16
	rdtsc
	add edx, 4
	xor ecx, ecx
	tpause ecx
	DONE
; UMONITOR then UMWAIT until 1 ms ahead: CF -> R8B
SLOT 18
	umonitor rbx
	rdtsc
	add eax, 1000000
	adc edx, 0
	xor ecx, ecx
	umwait ecx
	setc r8b
	DONE
; PML: two writes to page RBX, one each to RBX + 0x1000 and RBX + 0x2000
SLOT 20
	mov [rbx], eax
	mov [rbx + 8], eax
	mov [rbx + 0x1000], eax
	mov [rbx + 0x2000], eax
	DONE
; SPP: writes to sub-pages 1 and 2 of page RBX
SLOT 24
	mov [rbx + 0x80], eax
	mov [rbx + 0x100], eax
	DONE
; SPP: one write across sub-pages 2 and 3
SLOT 26
	mov [rbx + 0x17e], eax
	DONE
; IRET with its stack in unmapped memory (or popping a null CS): NMI unblocking due to IRET
SLOT 28
	iretq
; STI, then TPAUSE (in the STI shadow) until far ahead: the preemption timer ends the wait
SLOT 30
	sti
	tpause ecx
	nop
	DONE
