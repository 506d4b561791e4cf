; insns64.asm: 64-bit instruction-group probes at 0x10000, one per 64-byte slot (entry = 0x10000 + 64*N), each ending in HLT.
bits 64
org 0x10000
%macro SLOT 1
    times (64 * %1) - ($ - $$) db 0x90
%endmacro
SLOT 0          ; SSE2 integer and scalar double
    movdqu xmm0, [rbx]
    paddd xmm0, xmm0
    movdqu [rbx + 16], xmm0
    pxor xmm1, xmm1
    pcmpeqb xmm1, xmm0
    pmovmskb eax, xmm1
    cvtsi2sd xmm2, rcx
    mulsd xmm2, xmm2
    cvttsd2si rdx, xmm2
    ucomisd xmm2, xmm2
    hlt
SLOT 1          ; REP MOVSB, REP STOSQ
    mov rsi, rbx
    lea rdi, [rbx + 0x100]
    mov ecx, 100
    rep movsb
    lea rdi, [rbx + 0x200]
    mov rax, 0x1122334455667788
    mov ecx, 16
    rep stosq
    hlt
SLOT 2          ; REPE CMPSB stops at the first difference, REPNE SCASB finds a byte
    mov rsi, rbx
    lea rdi, [rbx + 0x100]
    mov ecx, 64
    repe cmpsb
    mov r8, rcx
    lea rdi, [rbx + 0x100]
    mov al, 0x42
    mov ecx, 64
    repne scasb
    hlt
SLOT 3          ; CMPXCHG16B, XADD with LOCK, ENTER/LEAVE
    xor eax, eax
    xor edx, edx
    mov ebx, 0x90000
    mov rcx, 7
    lock xadd [rbx + 0x40], rcx
    mov rcx, 9
    mov rbx, 5
    mov r9, 0x90000
    cmpxchg16b [r9 + 0x60]
    enter 32, 0
    leave
    hlt
SLOT 4          ; SYSCALL to LSTAR, which does SYSRET back to the instruction after
    syscall
    vmcall                  ; back at CPL 3 after SYSRET: VMCALL exits at any CPL
SLOT 5          ; the SYSCALL target: record RCX/R11 in R12/R13 and return
    mov r12, rcx
    mov r13, r11
    o64 sysret
