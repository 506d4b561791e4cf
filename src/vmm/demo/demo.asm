; demo.asm: the `make run` demo guest: a multiboot kernel that tours the VM exits a backend produces and says what it does.
bits 32
LOAD equ 0x100000
org LOAD
FLAGS equ 0x00010003
mbhdr:	dd 0x1badb002, FLAGS, -(0x1badb002 + FLAGS)
	dd mbhdr, LOAD, load_end, bss_end, start

start:
	mov esp, stack_top
	mov [mbi], ebx
	lgdt [gdt_desc]                 ; our own GDT: multiboot leaves GDTR undefined
	jmp 0x08:.reload
.reload:
	mov ax, 0x10
	mov ds, ax
	mov es, ax
	mov ss, ax
	mov esi, s_hello
	call puts

	; CPUID: vendor, hypervisor leaf, brand string
	mov esi, s_cpuid
	call puts
	xor eax, eax
	cpuid
	mov [buf], ebx
	mov [buf + 4], edx
	mov [buf + 8], ecx
	mov byte [buf + 12], 0
	mov esi, buf
	call puts
	mov esi, s_hv
	call puts
	mov eax, 0x40000000
	cpuid
	mov [buf], ebx
	mov [buf + 4], ecx
	mov [buf + 8], edx
	mov esi, buf
	call puts
	mov esi, s_brand
	call puts
	mov edi, buf
	mov ebp, 0x80000002
.brand:	mov eax, ebp
	cpuid
	mov [edi], eax
	mov [edi + 4], ebx
	mov [edi + 8], ecx
	mov [edi + 12], edx
	add edi, 16
	inc ebp
	cmp ebp, 0x80000005
	jne .brand
	mov byte [edi], 0
	mov esi, buf
	call puts
	call nl

	; MSRs: the APIC base, then a PAT round trip
	mov esi, s_apicbase
	call puts
	mov ecx, 0x1b
	rdmsr
	call puthex
	call nl
	mov esi, s_pat
	call puts
	mov ecx, 0x277
	mov eax, 0x00070406
	mov edx, 0x00070105
	wrmsr
	xor eax, eax
	xor edx, edx
	rdmsr
	xchg eax, edx
	call puthex
	xchg eax, edx
	call puthex
	call nl

	; Local APIC through MMIO: every access is an EPT violation the VMM emulates
	mov esi, s_lapic
	call puts
	mov eax, [0xfee00030]           ; version register
	call puthex
	mov esi, s_lapic_id
	call puts
	mov eax, [0xfee00020]
	shr eax, 24
	call puthex
	call nl
	mov dword [0xfee00080], 0x20    ; TPR write
	mov eax, [0xfee00080]
	cmp eax, 0x20
	jne fail
	mov dword [0xfee00080], 0

	; fw_cfg: signature and RAM size
	mov esi, s_fwcfg
	call puts
	mov dx, 0x510
	xor ax, ax
	out dx, ax
	mov dx, 0x511
	mov ecx, 4
	mov edi, buf
.sig:	in al, dx
	stosb
	loop .sig
	mov byte [edi], 0
	mov esi, buf
	call puts
	mov esi, s_ram
	call puts
	mov dx, 0x510
	mov ax, 3
	out dx, ax
	mov dx, 0x511
	xor ebx, ebx
	mov ecx, 4
.ram:	in al, dx
	movzx eax, al
	ror ebx, 8
	or ebx, eax
	loop .ram
	ror ebx, 8
	mov eax, ebx
	shr eax, 20
	call putdec
	mov esi, s_mib
	call puts

	; CMOS real-time clock
	mov esi, s_rtc
	call puts
	mov al, 4
	out 0x70, al
	in al, 0x71
	call putbcd
	mov al, ':'
	call putc
	mov al, 2
	out 0x70, al
	in al, 0x71
	call putbcd
	mov al, ':'
	call putc
	xor al, al
	out 0x70, al
	in al, 0x71
	call putbcd
	mov esi, s_utc
	call puts

	; String I/O: one line with REP OUTSB to the debug console
	mov esi, s_outs
	mov ecx, s_outs_end - s_outs
	mov dx, 0xe9
	rep outsb

	; Long mode: identity page tables, CR4.PAE, EFER.LME (a WRMSR exit), CR0.PG, a far jump to 64-bit code
	mov esi, s_long
	call puts
	mov edi, pml4
	xor eax, eax
	mov ecx, 3 * 4096 / 4
	rep stosd
	mov dword [pml4], pdpt + 3
	mov dword [pdpt], pd + 3
	mov edi, pd
	mov eax, 0x83                   ; 2 MiB pages: the first GiB
	mov ecx, 512
.pde:	mov [edi], eax
	add eax, 0x200000
	add edi, 8
	loop .pde
	mov eax, pml4
	mov cr3, eax
	mov eax, cr4
	or eax, 0x20
	mov cr4, eax
	mov ecx, 0xc0000080
	rdmsr
	or eax, 0x100
	wrmsr
	mov eax, cr0
	or eax, 0x80000000
	mov cr0, eax
	jmp 0x18:long_mode

fail:
	mov esi, s_fail
	call puts
	mov al, 1
	out 0xf4, al
	cli
	hlt

bits 64
long_mode:
	mov ax, 0x10
	mov ds, ax
	mov es, ax
	mov ss, ax
	mov rsp, stack_top
	mov ecx, 0xc0000080
	rdmsr
	test eax, 0x400                 ; EFER.LMA
	jz fail64
	mov rsi, s_in_long
	call puts64

	; Interrupts: PIC remapped to 0x20, PIT channel 0 at 100 Hz, HLT until three ticks arrived
	mov rsi, s_timer
	call puts64
	mov rdi, idt
	mov ecx, 48
.gate:	mov rax, unexpected
	cmp ecx, 48 - 0x20
	jne .set
	mov rax, timer
.set:	mov [rdi], ax
	mov word [rdi + 2], 0x18
	mov word [rdi + 4], 0x8e00
	shr rax, 16
	mov [rdi + 6], ax
	shr rax, 16
	mov [rdi + 8], eax
	mov dword [rdi + 12], 0
	add rdi, 16
	loop .gate
	lidt [idt_desc]
	mov al, 0x11
	out 0x20, al
	out 0xa0, al
	mov al, 0x20
	out 0x21, al
	mov al, 0x28
	out 0xa1, al
	mov al, 4
	out 0x21, al
	mov al, 2
	out 0xa1, al
	mov al, 1
	out 0x21, al
	out 0xa1, al
	mov al, 0xfe
	out 0x21, al
	mov al, 0xff
	out 0xa1, al
	mov al, 0x34
	out 0x43, al
	mov ax, 11932
	out 0x40, al
	mov al, ah
	out 0x40, al
.wait:	sti
	hlt
	cli
	cmp dword [ticks], 3
	jb .wait
	mov al, 0xff
	out 0x21, al
	mov eax, [ticks]
	call putdec64
	mov rsi, s_ticks
	call puts64

	mov rsi, s_bye
	call puts64
	mov dx, 0x604                   ; ACPI power-off (PIIX4 PM1a_CNT: SLP_EN)
	mov ax, 0x2000
	out dx, ax
	cli
	hlt

fail64:
	mov rsi, s_fail
	call puts64
	mov al, 1
	out 0xf4, al
	cli
	hlt

timer:
	push rax
	inc dword [ticks]
	mov al, 0x20
	out 0x20, al
	pop rax
	iretq

unexpected:
	mov rsi, s_unexpected
	call puts64
	jmp fail64

putc64:
	push rdx
	push rax
	mov dx, 0x3fd
.w:	in al, dx
	test al, 0x20
	jz .w
	pop rax
	mov dx, 0x3f8
	out dx, al
	pop rdx
	ret
puts64:
	push rax
	push rsi
.n:	lodsb
	test al, al
	jz .d
	call putc64
	jmp .n
.d:	pop rsi
	pop rax
	ret
putdec64:                               ; EAX unsigned
	push rax
	push rcx
	push rdx
	push rbx
	mov ebx, 10
	xor ecx, ecx
.div:	xor edx, edx
	div ebx
	push rdx
	inc ecx
	test eax, eax
	jnz .div
.pr:	pop rax
	add al, '0'
	call putc64
	loop .pr
	pop rbx
	pop rdx
	pop rcx
	pop rax
	ret
bits 32

; ---- output helpers (COM1, polled)
putc:
	push edx
	push eax
	mov dx, 0x3fd
.w:	in al, dx
	test al, 0x20
	jz .w
	pop eax
	mov dx, 0x3f8
	out dx, al
	pop edx
	ret
nl:	push eax
	mov al, 10
	call putc
	pop eax
	ret
puts:
	push eax
	push esi
.n:	lodsb
	test al, al
	jz .d
	call putc
	jmp .n
.d:	pop esi
	pop eax
	ret
puthex:
	push eax
	push ecx
	push edx
	mov edx, eax
	mov ecx, 8
.h:	rol edx, 4
	mov al, dl
	and al, 15
	add al, '0'
	cmp al, '9'
	jbe .o
	add al, 7
.o:	call putc
	loop .h
	pop edx
	pop ecx
	pop eax
	ret
putdec:                                 ; EAX unsigned
	push eax
	push ecx
	push edx
	push ebx
	mov ebx, 10
	xor ecx, ecx
.div:	xor edx, edx
	div ebx
	push edx
	inc ecx
	test eax, eax
	jnz .div
.pr:	pop eax
	add al, '0'
	call putc
	loop .pr
	pop ebx
	pop edx
	pop ecx
	pop eax
	ret
putbcd:                                 ; AL = two BCD digits
	push eax
	shr al, 4
	add al, '0'
	call putc
	pop eax
	and al, 15
	add al, '0'
	jmp putc

s_hello: db "hvx demo: a multiboot guest in 32-bit protected mode; every line below is VM exits", 10, 0
s_cpuid: db "  CPUID (exit 10 where the backend exits on it): vendor ", 0
s_hv:	db ", hypervisor ", 0
s_brand: db ", brand ", 0
s_apicbase: db "  RDMSR (exit 31): IA32_APIC_BASE = 0x", 0
s_pat:	db "  WRMSR (exit 32) + RDMSR: IA32_PAT = 0x", 0
s_lapic: db "  local APIC by MMIO (EPT violation, exit 48): version 0x", 0
s_lapic_id: db ", id ", 0
s_fwcfg: db "  fw_cfg by port I/O (exit 30): signature ", 0
s_ram:	db ", RAM ", 0
s_mib:	db " MiB", 10, 0
s_rtc:	db "  CMOS RTC (exit 30): ", 0
s_utc:	db " UTC", 10, 0
s_outs:	db "  REP OUTSB to debugcon port 0xe9 (one exit per string)", 10
s_outs_end:
s_long:	db "  switching to long mode: WRMSR EFER.LME (exit 32), CR0.PG, far jump to 64-bit code", 10, 0
s_in_long: db "  in 64-bit mode: EFER.LMA is set", 10, 0
s_timer: db "  PIT at 100 Hz on PIC IRQ 0, HLT (exit 12) until interrupts: ", 0
s_ticks: db " timer interrupts injected", 10, 0
s_bye:	db "hvx demo: done, powering off through ACPI (port 0x604)", 10, 0
s_fail:	db "hvx demo: FAILED", 10, 0
s_unexpected: db "unexpected interrupt", 10, 0

align 8
gdt:	dq 0, 0x00cf9a000000ffff, 0x00cf92000000ffff, 0x00af9a000000ffff
gdt_desc: dw 31
	dd gdt
idt_desc: dw 48 * 16 - 1
	dq idt
load_end:
ticks	equ load_end
mbi	equ load_end + 4
buf	equ load_end + 16
idt	equ load_end + 128                 ; 48 16-byte gates
stack_top equ load_end + 4096
pml4	equ 0x108000                        ; page-aligned, inside the a.out bss
pdpt	equ pml4 + 4096
pd	equ pml4 + 2 * 4096
bss_end	equ pml4 + 3 * 4096
