; stub.asm: wraps one workload (-DWORKLOAD=file.asm) for an engine: -DFLAT64 (hvx, Unicorn), -DMULTIBOOT (QEMU -kernel), -DBOOTSECTOR (Bochs floppy).
;
; Every variant ends up in 64-bit mode with r15 = the iteration count stored after the
; "HVXITERS" marker (runners patch it), rsp = BENCH_STACK, identity paging of the low 8 MiB,
; then runs the workload and leaves through `done`: OUT to BENCH_DONE_PORT (hvx, Unicorn,
; QEMU's isa-debug-exit) or Bochs' shutdown port 0x8900.

%define BENCH_ARRAY     0x200000        ; 1 MiB data array
%define BENCH_STACK     0x90000
%define BENCH_IO_PORT   0x80
%define BENCH_DONE_PORT 0xf4
%define PT_BASE         0x1000          ; PML4 0x1000, PDPT 0x2000, PD 0x3000 (2 MiB pages)

%ifdef BOOTSECTOR
	org 0x7c00
	bits 16
boot16:
	cli
	xor ax, ax
	mov ds, ax
	mov es, ax
	mov ss, ax
	mov sp, 0x7c00
	mov ax, 0x0200 + ((image_end - boot16 + 511) / 512 - 1)   ; read the rest of the image
	mov cx, 0x0002                  ; cylinder 0, sector 2
	xor dh, dh                      ; head 0 (dl = boot drive from the BIOS)
	mov bx, 0x7e00
	int 0x13
	jc boot16_fail
	in al, 0x92                     ; A20 on
	or al, 2
	out 0x92, al
	lgdt [gdt_desc]
	mov eax, cr0
	or eax, 1
	mov cr0, eax
	jmp 0x18:entry32
boot16_fail:
	hlt
	jmp boot16_fail
	times 510 - ($ - $$) db 0
	dw 0xaa55
%elifdef MULTIBOOT
	org 0x100000
	bits 32
mb_header:
	dd 0x1badb002                   ; magic
	dd 0x00010000                   ; flags: the address fields below are valid
	dd -(0x1badb002 + 0x00010000)
	dd mb_header                    ; header_addr
	dd mb_header                    ; load_addr
	dd 0                            ; load_end_addr: whole file
	dd 0                            ; bss_end_addr: none
	dd entry32                      ; entry_addr
%elifdef FLAT64
	org 0x100000
%else
%error "define one of BOOTSECTOR, MULTIBOOT, FLAT64"
%endif

%ifndef FLAT64
	bits 32
entry32:                                ; protected mode, paging off: build page tables, enter long mode
	cli
	lgdt [gdt_desc]
	mov ax, 0x10
	mov ds, ax
	mov es, ax
	mov ss, ax
	mov esp, BENCH_STACK
	mov edi, PT_BASE
	xor eax, eax
	mov ecx, 3 * 1024
	rep stosd
	mov dword [PT_BASE], PT_BASE + 0x1000 + 7
	mov dword [PT_BASE + 0x1000], PT_BASE + 0x2000 + 7
	mov edi, PT_BASE + 0x2000
	mov eax, 0x87                   ; present, writable, user, 2 MiB page
	mov ecx, 4
.pd:
	mov [edi], eax
	add eax, 0x200000
	add edi, 8
	loop .pd
	mov eax, cr4
	or eax, 0x20                    ; PAE
	mov cr4, eax
	mov eax, PT_BASE
	mov cr3, eax
	mov ecx, 0xc0000080             ; EFER.LME
	rdmsr
	or eax, 0x100
	wrmsr
	mov eax, cr0
	or eax, 0x80000001              ; PG | PE
	mov cr0, eax
	jmp 0x08:start64

	align 8
gdt:
	dq 0
	dq 0x00af9a000000ffff           ; 0x08: 64-bit code
	dq 0x00cf92000000ffff           ; 0x10: flat data
	dq 0x00cf9a000000ffff           ; 0x18: 32-bit code
gdt_desc:
	dw gdt_desc - gdt - 1
	dd gdt
%endif

	bits 64
start64:
	mov rsp, BENCH_STACK
	mov r15, [rel iters]
%defstr WORKLOAD_FILE WORKLOAD
%include WORKLOAD_FILE
done:
%ifdef BOOTSECTOR
	mov dx, 0x8900                  ; Bochs: writing "Shutdown" to port 0x8900 ends the simulation
	lea rsi, [rel shutdown_str]
	mov ecx, 8
.shut:
	lodsb
	out dx, al
	loop .shut
%else
	xor eax, eax
	out BENCH_DONE_PORT, al
%endif
.halt:
	hlt
	jmp .halt

%ifdef BOOTSECTOR
shutdown_str:
	db "Shutdown"
%endif
	align 8
	db "HVXITERS"
iters:
	dq 1
image_end:
%ifdef BOOTSECTOR
	times 1474560 - ($ - $$) db 0   ; a full 1.44 MB floppy
%endif
