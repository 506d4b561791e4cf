/* start.S: entry of the C workload guest: RSP is set by the test; results at 0x90000, scratch at 0x100000. */
	.text
	.globl _start
_start:
	mov $0x90000, %edi
	mov $0x100000, %esi
	call workload_run
	hlt
	.section .note.GNU-stack,"",@progbits
