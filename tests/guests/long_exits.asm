; long_exits.asm: 64-bit guest at 0x10000 running one exiting instruction per 32-byte slot; the exiting instruction of slot N is at 0x10000 + 32*N + 16.
bits 64
org 0x10000
%macro SLOT 1
    times (32 * %1) - ($ - $$) db 0x90
%endmacro
%macro EXIT 1
    times (32 * %1 + 16) - ($ - $$) db 0x90
%endmacro
SLOT 0
    mov rbx, 0x90000
EXIT 0
    vmcall
SLOT 1
    mov ecx, 0xc0000080
EXIT 1
    rdmsr
SLOT 2
    mov eax, 0x500
    xor edx, edx
EXIT 2
    wrmsr
EXIT 3
    mov rax, cr3
EXIT 4
    mov cr3, rax
EXIT 5
    mov rbx, cr8
SLOT 6
    mov rbx, 0x90000
EXIT 6
    mov cr8, rdx
SLOT 7
    mov rax, cr0
    or eax, 8
EXIT 7
    mov cr0, rax
EXIT 8
    clts
SLOT 9
    mov eax, 0x31
EXIT 9
    lmsw ax
EXIT 10
    mov rax, dr7
EXIT 11
    rdtsc
EXIT 12
    rdtscp
EXIT 13
    rdpmc
EXIT 14
    invlpg [rbx + 0x10]
EXIT 15
    wbinvd
EXIT 16
    invd
SLOT 17
    mov rax, rbx
    xor ecx, ecx
    xor edx, edx
EXIT 17
    monitor
EXIT 18
    mwait
EXIT 19
    pause
SLOT 20
    xor ecx, ecx
EXIT 20
    xsetbv
EXIT 21
    rdrand eax
EXIT 22
    rdseed rcx
SLOT 23
    xor eax, eax
EXIT 23
    lgdt [rax + 8]
EXIT 24
    sidt [rbx]
EXIT 25
    sldt ax
EXIT 26
    ltr [rbx + 4]
EXIT 27
    vmclear [rbx + 0x20]
EXIT 28
    vmlaunch
EXIT 29
    vmresume
EXIT 30
    vmptrld [rbx]
EXIT 31
    vmptrst [rbx]
EXIT 32
    vmread rax, rcx
EXIT 33
    vmwrite rcx, rax
EXIT 34
    vmxoff
EXIT 35
    vmxon [rbx]
EXIT 36
    invept rax, [rbx]
EXIT 37
    invvpid rcx, [rbx + 8]
EXIT 38
    getsec
SLOT 39
    xor eax, eax
EXIT 39
    vmfunc
EXIT 40
    invpcid rax, [rbx]
EXIT 41
    out 0x80, al
SLOT 42
    mov dx, 0x1234
EXIT 42
    in eax, dx
SLOT 43
    mov rsi, rbx
    mov ecx, 5
EXIT 43
    rep outsb
EXIT 44
    ud2
EXIT 45
    int3
SLOT 46
    mov rcx, 0x3fff0000
EXIT 46
    mov rax, [rcx]
SLOT 47
    mov rcx, 0x200000
EXIT 47
    mov [rcx + 8], al
EXIT 48
    hlt
