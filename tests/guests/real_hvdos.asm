; real_hvdos.asm: hvdos-style real-mode guest: INT 21h with an empty IVT, port I/O, CPUID, HLT.
bits 16
org 0x100
start:
    mov ax, 0x1234
    mov bx, 0x10
    add ax, bx              ; AX = 0x1244
    mov ah, 0x09
int21:
    int 0x21                ; #GP while delivering INT 21h (IDTR limit 0) -> exit 0, IDT-vectoring = INT 21h
out1:
    mov dx, 0x3f8
    mov al, 'A'
out2:
    out dx, al              ; I/O exit: OUT DX, AL
in1:
    in al, 0x60             ; I/O exit: IN AL, imm8
    mov di, 0x500
    mov cx, 3
rep1:
    rep insb                ; I/O exit: REP INSB (string, REP, ES:DI)
cpuid1:
    cpuid
hlt1:
    hlt
