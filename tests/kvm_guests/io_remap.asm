; io_remap.asm: ring-0 guest for test_kvm_io: the linear page at 0x40000000 is mapped by a 4-KiB page table entry
; (0x41000) to one of two physical pages; each round the guest flips that entry, reloads CR3 and jumps to the same
; linear address 0x40000800, where the two pages hold different I/O instructions (the test writes them).
bits 64
org 0x10000
start:
	mov rcx, again
again:
	mov rax, [0x41000]
	xor rax, 0x1000         ; 0x42000 <-> 0x43000
	mov [0x41000], rax
	mov rax, cr3
	mov cr3, rax
	mov rbx, 0x40000800
	jmp rbx                 ; the I/O instruction there ends with jmp rcx
