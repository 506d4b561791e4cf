; segchk64.asm: VERR, VERW, LAR and LSL at CPL 0 in 64-bit mode (code at 0x10000, GDT from the test): each check
; stores RAX and RFLAGS at [rbx], then rbx += 16; ends with HLT.
bits 64
org 0x10000
%macro CHK 2
    mov ecx, %2
    mov rax, 0x5555555555555555
    %1
    mov [rbx], rax
    pushfq
    pop qword [rbx + 8]
    add rbx, 16
%endmacro
    mov word [rel sel], 0x10
    CHK {verw [rel sel]}, 0         ; 0: writable data: ZF=1
    CHK {verw cx}, 0x28             ; 1: code: ZF=0
    CHK {verr cx}, 0x28             ; 2: readable code: ZF=1
    CHK {verr cx}, 0                ; 3: null: ZF=0
    CHK {verr cx}, 0x100            ; 4: past the GDT limit: ZF=0, no fault
    CHK {verr cx}, 0x13             ; 5: DPL 0 < RPL 3: ZF=0
    CHK {verr cx}, 0x3b             ; 6: DPL 3 data, RPL 3: ZF=1
    CHK {lar eax, cx}, 0x10         ; 7: 0x00c09300, ZF=1
    CHK {lar ax, cx}, 0x28          ; 8: 16-bit: low word 0x9b00, ZF=1
    CHK {lar eax, cx}, 0x40         ; 9: 64-bit TSS: 0x8900, ZF=1
    CHK {lar eax, cx}, 0x60         ; 10: 16-bit TSS is not valid in IA-32e mode: ZF=0, RAX unchanged
    CHK {lsl eax, cx}, 0x10         ; 11: G=1: 0xffffffff, ZF=1
    CHK {lsl eax, cx}, 0x40         ; 12: 0x67, ZF=1
    CHK {lar eax, cx}, 0x70         ; 13: call gate: 0x8c00, ZF=1
    CHK {lsl eax, cx}, 0x70         ; 14: LSL rejects call gates: ZF=0
    CHK {lar eax, cx}, 0x80         ; 15: upper half type field not 0: ZF=0
    CHK {verr cx}, 0x93             ; 16: conforming code skips the privilege check: ZF=1
    CHK {lar eax, cx}, 0x93         ; 17: 0x00a09f00, ZF=1
    CHK {verw cx}, 0x98             ; 18: read-only data: ZF=0
    CHK {verr cx}, 0x98             ; 19: ZF=1
    CHK {lsl rax, cx}, 0x18         ; 20: 64-bit destination, G=0: 0xffff, ZF=1
    hlt
sel: dw 0
