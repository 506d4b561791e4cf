; paging64.asm: 64-bit paging probes at 0x10000, one per 32-byte slot (entry = 0x10000 + 32*N), each ending in HLT.
bits 64
org 0x10000
%macro SLOT 1
    times (32 * %1) - ($ - $$) db 0x90
%endmacro
SLOT 0
    mov rax, [rcx]          ; read
    hlt
SLOT 1
    mov [rcx], rax          ; write
    hlt
SLOT 2
    call rcx                ; fetch at RCX
    hlt
SLOT 3
    invlpg [rcx]
    mov rax, [rcx]
    hlt
SLOT 4
    mov cr3, rdx
    mov rax, [rcx]
    hlt
SLOT 5
    stac
    mov rax, [rcx]
    clac
    hlt
SLOT 6
    mov rax, cr4
    xor rax, rdx
    mov cr4, rax
    mov rax, [rcx]
    hlt
