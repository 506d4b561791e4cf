; real_ivt.asm: real-mode guest at 0x7c00 whose IVT entry 0x10 points at a handler that does port I/O and IRET.
bits 16
org 0x7c00
    xor ax, ax
    mov ds, ax
    mov word [0x10 * 4], handler
    mov word [0x10 * 4 + 2], 0
    mov ax, 0x1234
    int 0x10
    mov bx, 0x5678
    hlt
handler:
    out 0xe9, al            ; I/O exit inside the handler (IF cleared by delivery)
    add ax, 1
    iret
