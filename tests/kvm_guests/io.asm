; io.asm: ring-3 guest for test_kvm_io: IN/OUT of each size and encoding, INS/OUTS with REP and segment override.
bits 64
org 0x10000
start:
	mov al, 0x42
	out 0x80, al            ; E6 80
	mov dx, 0xf8            ; PVM: ring-3 I/O to ports >= 0x100 triple-faults
	mov ax, 0x1234
	out dx, ax              ; 66 EF
	mov eax, 0x89abcdef
	out dx, eax             ; EF
	in al, 0x71             ; E4 71
	mov [0x20010], al
	in ax, dx               ; 66 ED
	mov [0x20020], ax
	in eax, dx              ; ED
	mov [0x20000], eax
	mov rsi, 0x20100
	mov rcx, 3
	cld
	rep outsb               ; F3 6E
	mov rdi, 0x20200
	mov rcx, 2
	rep insw                ; F3 66 6D
	mov rsi, 0x20300
	fs outsd                ; 64 6F
	mov [0x20030], rcx
spin:
	jmp spin
