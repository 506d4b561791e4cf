; pm32_tasks.asm: 32-bit protected-mode guest at 0x10000: task switches by far JMP to a TSS, far CALL through a task gate, INT through an IDT task gate.
bits 32
org 0x10000
    jmp 0x48:0              ; TSS descriptor (selector 0x48) -> TASK exit, source JMP
    call 0x50:0             ; task gate (selector 0x50) -> TASK exit, source CALL, TSS selector from the gate
    int 0x40                ; IDT task gate -> TASK exit, source IDT gate, IDT-vectoring INT 0x40
    hlt
