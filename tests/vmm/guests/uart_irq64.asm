; uart_irq64.asm: long-mode guest reading a line from COM1 by receive interrupts (IER.RDI -> PIC IRQ 4 -> vector 0x24).
bits 64
org 0x100000
start:
	mov rsp, 0x90000
	lea rdi, [rel idt]
	mov rax, com1_irq
	mov word [rdi + 0x24 * 16], ax
	mov word [rdi + 0x24 * 16 + 2], 0x10
	mov word [rdi + 0x24 * 16 + 4], 0x8e00
	shr rax, 16
	mov [rdi + 0x24 * 16 + 6], ax
	shr rax, 16
	mov [rdi + 0x24 * 16 + 8], eax
	lidt [rel idtd]
	mov al, 0x11                             ; PIC: vectors 0x20 / 0x28
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
	mov al, 0xef                             ; only IRQ 4
	out 0x21, al
	mov al, 0xff
	out 0xa1, al
	mov dx, 0x3fc                            ; MCR: DTR, RTS, OUT2
	mov al, 0x0b
	out dx, al
	mov dx, 0x3f9                            ; IER: received data available
	mov al, 1
	out dx, al
	mov rsi, m_ready
	call puts
.wait:	sti
	hlt
	cli
	cmp byte [rel done], 0
	je .wait
	mov rsi, m_got
	call puts
	lea rsi, [rel line]
	call puts
	mov al, 10
	call putc
	mov al, 0x10
	jmp exit
com1_irq:
	push rax
	push rdx
	push rbx
.more:	mov dx, 0x3fd
	in al, dx
	test al, 1
	jz .eoi
	mov dx, 0x3f8
	in al, dx
	cmp al, 10
	je .eol
	movzx ebx, byte [rel len]
	cmp bl, 60
	jae .more
	lea rdx, [rel line]
	mov [rdx + rbx], al
	inc byte [rel len]
	jmp .more
.eol:	mov byte [rel done], 1
	jmp .more
.eoi:	mov al, 0x20
	out 0x20, al
	pop rbx
	pop rdx
	pop rax
	iretq
m_ready: db "uart: waiting for a line", 10, 0
m_got:	db "uart: got by interrupts: ", 0
done:	db 0
len:	db 0
line:	times 64 db 0
align 8
idtd:	dw 0x30 * 16 - 1
	dq idt
%include "lib64.inc"
align 16
idt:	times 0x30 * 16 db 0
