; bench.asm: ring-3 guest for bench/kvm_io_roundtrip: an endless stream of OUT exits.
bits 64
org 0x10000
start:
	mov dx, 0xe9
loop:
	out dx, al
	jmp loop
