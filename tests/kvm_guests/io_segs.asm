; io_segs.asm: ring-0 guest for test_kvm_io: DS alternates between the ring-0 and the ring-3 data segment, with two OUTs
; after each load: consecutive exits with the same segment state, then with a different one.
bits 64
org 0x10000
start:
	mov ax, 0x10
	mov ds, ax
	out 0x80, al
	out 0x82, al
	mov ax, 0x20
	mov ds, ax
	out 0x81, al
	out 0x83, al
	jmp start
