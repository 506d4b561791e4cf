/* test_emu_events.c: emu event delivery and event-related exits: IVT/IDT delivery, nested faults with IDT-vectoring, #DF, triple fault, #PF mask/match, task switches, EPT exits during delivery, kicks, entry failures. */
#include <pthread.h>
#include <time.h>
#include <unistd.h>

#include "emu_guest.h"

static const uint8_t UD2_HLT[] = {0x0f, 0x0b, 0xf4};

/* A 64-bit interrupt gate for vector vec at EG_IDT. */
static void idt64(struct eg *g, unsigned vec, uint64_t handler, unsigned type)
{
	uint64_t lo = (handler & 0xffff) | ((uint64_t)SEL_CODE64 << 16) | ((uint64_t)(0x80 | type) << 40) |
		      ((handler >> 16 & 0xffff) << 48);
	eg_put64(g, EG_IDT + vec * 16, lo);
	eg_put64(g, EG_IDT + vec * 16 + 8, handler >> 32);
}

static void test_triple_fault(void **state)
{
	(void)state;
	struct eg g;
	eg_create(&g);
	eg_long64(&g, EG_CODE);
	eg_load(&g, EG_CODE, UD2_HLT, sizeof UD2_HLT);
	/* IDT limit 0: #UD -> #GP (benign then contributory) -> #GP again -> #DF -> #GP -> triple fault */
	assert_int_equal(eg_run(&g), VMX_REASON_TRIPLE_FAULT);
	struct eg_exit e = eg_exit_info(&g);
	assert_int_equal(e.qual, 0);
	assert_int_equal(e.intr, 0);
	assert_int_equal(e.idt, 0);
	assert_int_equal(e.rip, EG_CODE);
	assert_int_equal(eg_reg(&g, HV_X86_RSP), EG_STACK);
	eg_destroy(&g);
}

static void test_fault_during_delivery_idt_vectoring(void **state)
{
	(void)state;
	struct eg g;
	eg_create(&g);
	eg_long64(&g, EG_CODE);
	eg_load(&g, EG_CODE, UD2_HLT, sizeof UD2_HLT);
	eg_wr(&g, VMCS_CTRL_EXC_BITMAP, 1u << 13);
	assert_int_equal(eg_run(&g), VMX_REASON_EXC_NMI);
	struct eg_exit e = eg_exit_info(&g);
	assert_int_equal(e.intr, 0x80000b0du);         /* #GP, hardware exception, error code */
	assert_int_equal(e.intr_err, 6 * 16 / 2 + 2 + 1); /* IDT entry 6, IDT bit, EXT */
	assert_int_equal(e.idt, 0x80000306u);          /* while delivering #UD */
	assert_int_equal(e.idt_err, 0);
	assert_int_equal(e.rip, EG_CODE);
	assert_int_equal(e.len, 0);
	assert_int_equal(eg_reg(&g, HV_X86_RSP), EG_STACK);
	assert_int_equal(eg_reg(&g, HV_X86_RFLAGS) & (1u << 16), 1u << 16);
	eg_destroy(&g);
}

static void test_double_fault_exit(void **state)
{
	(void)state;
	struct eg g;
	eg_create(&g);
	eg_long64(&g, EG_CODE);
	eg_load(&g, EG_CODE, UD2_HLT, sizeof UD2_HLT);
	eg_wr(&g, VMCS_CTRL_EXC_BITMAP, 1u << 8);
	assert_int_equal(eg_run(&g), VMX_REASON_EXC_NMI);
	struct eg_exit e = eg_exit_info(&g);
	assert_int_equal(e.intr, 0x80000b08u);
	assert_int_equal(e.intr_err, 0);
	assert_int_equal(e.idt, 0); /* a #DF that exits directly is not "during delivery" */
	eg_destroy(&g);
}

static void test_idt_delivery_long_mode(void **state)
{
	(void)state;
	struct eg g;
	eg_create(&g);
	eg_long64(&g, EG_CODE);
	eg_load(&g, EG_CODE, UD2_HLT, sizeof UD2_HLT);
	static const uint8_t handler[] = {0xf4};
	eg_load(&g, 0x20000, handler, 1);
	idt64(&g, 6, 0x20000, 0xe);
	eg_wr(&g, VMCS_GUEST_IDTR_LIMIT, 0xfff);
	eg_setreg(&g, HV_X86_RFLAGS, 0x202);
	eg_expect_insn_exit(&g, VMX_REASON_HLT, 0x20000, 1, 0, 0);
	uint64_t sp = eg_reg(&g, HV_X86_RSP);
	assert_int_equal(sp, EG_STACK - 40);
	uint64_t *st = (uint64_t *)(void *)(g.mem + sp);
	assert_int_equal(st[0], EG_CODE);          /* RIP of the faulting UD2 */
	assert_int_equal(st[1], SEL_CODE64);
	assert_int_equal(st[2], 0x10202);          /* RFLAGS image with RF */
	assert_int_equal(st[3], EG_STACK);
	assert_int_equal(st[4], SEL_DATA);
	assert_int_equal(eg_reg(&g, HV_X86_RFLAGS) & 0x200, 0); /* interrupt gate clears IF */
	eg_destroy(&g);
}

static void test_page_fault_mask_match(void **state)
{
	(void)state;
	struct eg g;
	eg_create(&g);
	eg_long64(&g, EG_CODE);
	static const uint8_t code[] = {0x48, 0x8b, 0x01, 0xf4}; /* mov rax, [rcx]; hlt */
	eg_load(&g, EG_CODE, code, sizeof code);
	eg_setreg(&g, HV_X86_RCX, 0x40001234); /* beyond the 1-GiB identity map: not present */
	eg_wr(&g, VMCS_CTRL_EXC_BITMAP, (1u << 14) | (1u << 13));
	assert_int_equal(eg_run(&g), VMX_REASON_EXC_NMI);
	struct eg_exit e = eg_exit_info(&g);
	assert_int_equal(e.intr, 0x80000b0eu);
	assert_int_equal(e.intr_err, 0);
	assert_int_equal(e.qual, 0x40001234);
	assert_int_equal(e.rip, EG_CODE);
	assert_int_equal(eg_reg(&g, HV_X86_CR2), 0); /* not delivered: CR2 unchanged */
	/* mask/match: PFEC & 1 == 1 does not hold for a not-present fault, so with bit 14 set it does not exit */
	eg_wr(&g, VMCS_CTRL_PF_ERROR_MASK, 1);
	eg_wr(&g, VMCS_CTRL_PF_ERROR_MATCH, 1);
	assert_int_equal(eg_run(&g), VMX_REASON_EXC_NMI);
	e = eg_exit_info(&g);
	assert_int_equal(e.intr, 0x80000b0du);         /* #GP delivering the #PF (IDT limit 0) */
	assert_int_equal(e.idt, 0x80000b0eu);          /* the #PF, with its error code */
	assert_int_equal(e.idt_err, 0);
	assert_int_equal(eg_reg(&g, HV_X86_CR2), 0x40001234); /* the #PF's delivery began: CR2 written */
	eg_destroy(&g);
}

static void test_task_switch_exits(void **state)
{
	(void)state;
	struct eg g;
	eg_create(&g);
	eg_load_file(&g, 0x10000, "pm32_tasks");
	eg_prot32(&g, 0x10000);
	uint64_t *gdt = (uint64_t *)(void *)(g.mem + EG_GDT);
	gdt[0x48 >> 3] = 0x0000890000000067ull | (0x5000ull << 16); /* available 32-bit TSS at 0x5000 */
	gdt[0x50 >> 3] = 0x0000850000000000ull | (0x48ull << 16);   /* task gate -> 0x48 */
	eg_wr(&g, VMCS_GUEST_TR_AR, 0x8b);
	/* IDT (32-bit, 8-byte gates) at EG_IDT: vector 0x40 is a task gate to 0x48 */
	eg_put64(&g, EG_IDT + 0x40 * 8, 0x0000850000000000ull | (0x48ull << 16));
	eg_wr(&g, VMCS_GUEST_IDTR_LIMIT, 0x7ff);
	eg_expect_insn_exit(&g, VMX_REASON_TASK, 0x10000, 7, 0x48 | (2ull << 30), 0);
	eg_skip(&g);
	eg_expect_insn_exit(&g, VMX_REASON_TASK, 0x10007, 7, 0x48 | (0ull << 30), 0);
	eg_skip(&g);
	assert_int_equal(eg_run(&g), VMX_REASON_TASK);
	struct eg_exit e = eg_exit_info(&g);
	assert_int_equal(e.qual, 0x48 | (3ull << 30));
	assert_int_equal(e.idt, 0x80000000u | (4u << 8) | 0x40);
	assert_int_equal(e.len, 2);
	assert_int_equal(e.rip, 0x1000e);
	eg_destroy(&g);
}

static void test_ept_misconfig_and_fetch_violation(void **state)
{
	(void)state;
	struct eg g;
	eg_create(&g);
	eg_long64(&g, EG_CODE);
	/* A write-only mapping is an EPT misconfiguration. */
	void *wo = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_int_equal(hv_vm_map(wo, 0x800000, 4096, HV_MEMORY_WRITE), HV_SUCCESS);
	assert_int_equal(hv_vm_map((uint8_t *)wo + 4096, 0x801000, 4096, HV_MEMORY_READ | HV_MEMORY_WRITE), HV_SUCCESS);
	static const uint8_t code[] = {0x48, 0x8b, 0x01, 0xff, 0xe2, 0xf4}; /* mov rax,[rcx]; jmp rdx; hlt */
	eg_load(&g, EG_CODE, code, sizeof code);
	eg_setreg(&g, HV_X86_RCX, 0x800010);
	eg_setreg(&g, HV_X86_RDX, 0x801020);
	assert_int_equal(eg_run(&g), VMX_REASON_EPT_MISCONFIG);
	struct eg_exit e = eg_exit_info(&g);
	assert_int_equal(e.gpa, 0x800010);
	assert_int_equal(e.qual, 0);
	assert_int_equal(e.rip, EG_CODE);
	eg_wr(&g, VMCS_GUEST_RIP, EG_CODE + 3);
	/* Fetch from a page mapped without EXEC: fetch violation; the GPA is readable and writable */
	assert_int_equal(eg_run(&g), VMX_REASON_EPT_VIOLATION);
	e = eg_exit_info(&g);
	assert_int_equal(e.qual, 0x4 | 0x8 | 0x10 | 0x180);
	assert_int_equal(e.gpa, 0x801020);
	assert_int_equal(e.gla, 0x801020);
	assert_int_equal(e.rip, 0x801020);
	eg_destroy(&g);
	munmap(wo, 8192);
}

static void test_ept_violation_during_delivery(void **state)
{
	(void)state;
	struct eg g;
	eg_create(&g);
	eg_long64(&g, EG_CODE);
	eg_load(&g, EG_CODE, UD2_HLT, sizeof UD2_HLT);
	eg_wr(&g, VMCS_GUEST_IDTR_BASE, 0x3ff00000); /* mapped by the page tables, not by the memory map */
	eg_wr(&g, VMCS_GUEST_IDTR_LIMIT, 0xfff);
	assert_int_equal(eg_run(&g), VMX_REASON_EPT_VIOLATION);
	struct eg_exit e = eg_exit_info(&g);
	assert_int_equal(e.gpa, 0x3ff00000 + 6 * 16);
	assert_int_equal(e.qual, 0x181);
	assert_int_equal(e.idt, 0x80000306u);
	assert_int_equal(e.rip, EG_CODE);
	assert_int_equal(eg_reg(&g, HV_X86_RSP), EG_STACK);
	eg_destroy(&g);
}

static void test_real_mode_ivt_delivery(void **state)
{
	(void)state;
	struct eg g;
	eg_create(&g);
	eg_controls(&g, CPU_BASED_HLT | CPU_BASED_UNCOND_IO, 0);
	eg_load_file(&g, 0x7c00, "real_ivt");
	eg_real(&g, 0x7c00);
	eg_setreg(&g, HV_X86_RFLAGS, 0x202);
	eg_expect_insn_exit(&g, VMX_REASON_IO, 0x7c19, 2, (0xe9ull << 16) | 0x40, 0);
	assert_int_equal(eg_reg(&g, HV_X86_RFLAGS) & 0x200, 0);
	assert_int_equal(eg_reg(&g, HV_X86_RSP), 0x7000 - 6);
	assert_int_equal(*(uint16_t *)(void *)(g.mem + 0x7000 - 6), 0x7c15); /* return IP */
	assert_int_equal(*(uint16_t *)(void *)(g.mem + 0x7000 - 2), 0x246);  /* FLAGS image (after XOR) */
	eg_skip(&g);
	eg_expect_insn_exit(&g, VMX_REASON_HLT, 0x7c18, 1, 0, 0);
	assert_int_equal(eg_reg(&g, HV_X86_RAX) & 0xffff, 0x1235);
	assert_int_equal(eg_reg(&g, HV_X86_RBX) & 0xffff, 0x5678);
	assert_int_equal(eg_reg(&g, HV_X86_RFLAGS) & 0x200, 0x200); /* IRET restored IF */
	assert_int_equal(eg_reg(&g, HV_X86_RSP), 0x7000);
	eg_destroy(&g);
}

static void test_injected_event(void **state)
{
	(void)state;
	struct eg g;
	eg_create(&g);
	eg_long64(&g, EG_CODE);
	eg_load(&g, EG_CODE, UD2_HLT, sizeof UD2_HLT);
	static const uint8_t handler[] = {0xf4};
	eg_load(&g, 0x20000, handler, 1);
	idt64(&g, 0x30, 0x20000, 0xe);
	eg_wr(&g, VMCS_GUEST_IDTR_LIMIT, 0xfff);
	eg_wr(&g, VMCS_CTRL_VMENTRY_IRQ_INFO, 0x80000030u); /* external interrupt 0x30 */
	eg_setreg(&g, HV_X86_RFLAGS, 0x202);
	eg_expect_insn_exit(&g, VMX_REASON_HLT, 0x20000, 1, 0, 0);
	assert_int_equal(eg_rd(&g, VMCS_CTRL_VMENTRY_IRQ_INFO) & 0x80000000u, 0); /* consumed */
	assert_int_equal(*(uint64_t *)(void *)(g.mem + EG_STACK - 40), EG_CODE);
	/* A hardware exception with an error code: #GP(0x10), pushed by the delivery; CR2 untouched. */
	idt64(&g, 13, 0x20000, 0xe);
	eg_setreg(&g, HV_X86_RIP, EG_CODE);
	eg_setreg(&g, HV_X86_RSP, EG_STACK);
	eg_wr(&g, VMCS_CTRL_VMENTRY_IRQ_INFO, 0x80000b0du);
	eg_wr(&g, VMCS_CTRL_VMENTRY_EXC_ERROR, 0x10);
	eg_wr(&g, VMCS_CTRL_EXC_BITMAP, 1u << 13); /* the injected event itself is never checked against it */
	eg_expect_insn_exit(&g, VMX_REASON_HLT, 0x20000, 1, 0, 0);
	uint64_t *st = (uint64_t *)(void *)(g.mem + EG_STACK - 48);
	assert_int_equal(st[0], 0x10);
	assert_int_equal(st[1], EG_CODE);
	/* A software interrupt is pushed with RIP + VM-entry instruction length. */
	idt64(&g, 0x31, 0x20000, 0xe);
	eg_setreg(&g, HV_X86_RIP, EG_CODE);
	eg_setreg(&g, HV_X86_RSP, EG_STACK);
	eg_wr(&g, VMCS_CTRL_VMENTRY_IRQ_INFO, 0x80000431u);
	eg_wr(&g, VMCS_CTRL_VMENTRY_INSTR_LEN, 2);
	eg_expect_insn_exit(&g, VMX_REASON_HLT, 0x20000, 1, 0, 0);
	assert_int_equal(*(uint64_t *)(void *)(g.mem + EG_STACK - 40), EG_CODE + 2);
	eg_destroy(&g);
}

static void test_kick_irq_exit(void **state)
{
	(void)state;
	struct eg g;
	eg_create(&g);
	eg_long64(&g, EG_CODE);
	static const uint8_t spin[] = {0xeb, 0xfe}; /* jmp $ */
	eg_load(&g, EG_CODE, spin, sizeof spin);
	pthread_t t;
	pthread_create(&t, NULL, eg_kicker, &g.vcpu);
	assert_int_equal(hv_vcpu_run(g.vcpu), HV_SUCCESS);
	pthread_join(t, NULL);
	struct eg_exit e = eg_exit_info(&g);
	assert_int_equal(e.reason, VMX_REASON_IRQ);
	assert_int_equal(e.qual, 0);
	assert_int_equal(e.intr, 0);
	assert_int_equal(e.idt, 0);
	assert_int_equal(e.len, 0);
	assert_int_equal(e.rip, EG_CODE);
	eg_destroy(&g);
}

static void test_native_msr_and_cr3_targets(void **state)
{
	(void)state;
	struct eg g;
	eg_create(&g);
	eg_long64(&g, EG_CODE);
	/* wrmsr KERNEL_GS_BASE; rdmsr; mov cr3, rbx; hlt */
	static const uint8_t code[] = {0x0f, 0x30, 0x0f, 0x32, 0x0f, 0x22, 0xdb, 0xf4};
	eg_load(&g, EG_CODE, code, sizeof code);
	eg_controls(&g, CPU_BASED_HLT | CPU_BASED_CR3_LOAD, 0);
	eg_setreg(&g, HV_X86_RCX, 0xc0000102);
	eg_setreg(&g, HV_X86_RAX, 0x11223344);
	eg_setreg(&g, HV_X86_RDX, 0x55667788);
	eg_setreg(&g, HV_X86_RBX, EG_PML4);
	eg_expect_insn_exit(&g, VMX_REASON_WRMSR, EG_CODE, 2, 0, 0); /* every MSR exits by default */
	assert_int_equal(hv_vcpu_enable_native_msr(g.vcpu, 0xc0000102, true), HV_SUCCESS);
	eg_wr(&g, VMCS_CTRL_CR3_COUNT, 1);
	eg_wr(&g, VMCS_CTRL_CR3_VALUE0, EG_PML4);
	eg_setreg(&g, HV_X86_RAX, 0x11223344);
	eg_expect_insn_exit(&g, VMX_REASON_HLT, EG_CODE + 7, 1, 0, 0);
	uint64_t v = 0;
	assert_int_equal(hv_vcpu_read_msr(g.vcpu, 0xc0000102, &v), HV_SUCCESS);
	assert_int_equal(v, 0x5566778811223344ull);
	assert_int_equal(eg_reg(&g, HV_X86_RAX), 0x11223344);
	eg_destroy(&g);
}

/* A managed MSR with read access: RDMSR reads the stored value without an exit; WRMSR still exits. */
static void test_managed_msr_access(void **state)
{
	(void)state;
	struct eg g;
	eg_create(&g);
	eg_long64(&g, EG_CODE);
	static const uint8_t code[] = {0x0f, 0x32, 0x0f, 0x30, 0xf4}; /* rdmsr; wrmsr; hlt */
	eg_load(&g, EG_CODE, code, sizeof code);
	eg_setreg(&g, HV_X86_RCX, 0xc1); /* IA32_PMC0 */
	assert_int_equal(hv_vcpu_enable_managed_msr(g.vcpu, 0xc1, true), HV_SUCCESS);
	assert_int_equal(hv_vcpu_write_msr(g.vcpu, 0xc1, 0x123456789abcull), HV_SUCCESS);
	eg_expect_insn_exit(&g, VMX_REASON_RDMSR, EG_CODE, 2, 0, 0); /* managed, but no access yet */
	assert_int_equal(hv_vcpu_set_msr_access(g.vcpu, 0xc1, HV_MSR_READ), HV_SUCCESS);
	eg_expect_insn_exit(&g, VMX_REASON_WRMSR, EG_CODE + 2, 2, 0, 0);
	assert_int_equal(eg_reg(&g, HV_X86_RAX), 0x56789abc);
	assert_int_equal(eg_reg(&g, HV_X86_RDX), 0x1234);
	eg_destroy(&g);
}

/* Segment limit, type and null-selector checks in 32-bit protected mode. */
static void test_segment_checks(void **state)
{
	(void)state;
	struct eg g;
	eg_create(&g);
	/* mov eax, [ecx]; mov [ecx], eax; push eax; mov eax, [es:ecx]; hlt */
	static const uint8_t code[] = {0x8b, 0x01, 0x89, 0x01, 0x50, 0x26, 0x8b, 0x01, 0xf4};
	eg_load(&g, 0x10000, code, sizeof code);
	eg_prot32(&g, 0x10000);
	eg_wr(&g, VMCS_CTRL_EXC_BITMAP, (1u << 12) | (1u << 13));
	eg_wr(&g, VMCS_GUEST_DS_LIMIT, 0xfff);
	eg_setreg(&g, HV_X86_RCX, 0xffe); /* a 4-byte read crossing the limit */
	assert_int_equal(eg_run(&g), VMX_REASON_EXC_NMI);
	assert_int_equal(eg_rd(&g, VMCS_RO_VMEXIT_IRQ_INFO), 0x80000b0du);
	assert_int_equal(eg_rd(&g, VMCS_RO_VMEXIT_IRQ_ERROR), 0);
	assert_int_equal(eg_rd(&g, VMCS_GUEST_RIP), 0x10000);
	eg_setreg(&g, HV_X86_RCX, 0x800);
	eg_wr(&g, VMCS_GUEST_DS_AR, 0xc091); /* read-only data: the store faults */
	assert_int_equal(eg_run(&g), VMX_REASON_EXC_NMI);
	assert_int_equal(eg_rd(&g, VMCS_GUEST_RIP), 0x10002);
	assert_int_equal(eg_rd(&g, VMCS_RO_VMEXIT_IRQ_INFO), 0x80000b0du);
	eg_wr(&g, VMCS_GUEST_DS_AR, 0xc093);
	eg_wr(&g, VMCS_GUEST_SS_LIMIT, 0xfff); /* ESP = 0x80000 is beyond the stack limit: #SS(0) */
	assert_int_equal(eg_run(&g), VMX_REASON_EXC_NMI);
	assert_int_equal(eg_rd(&g, VMCS_RO_VMEXIT_IRQ_INFO), 0x80000b0cu);
	assert_int_equal(eg_rd(&g, VMCS_RO_VMEXIT_IRQ_ERROR), 0);
	assert_int_equal(eg_rd(&g, VMCS_GUEST_RIP), 0x10004);
	assert_int_equal(eg_reg(&g, HV_X86_RSP), EG_STACK);
	eg_wr(&g, VMCS_GUEST_SS_LIMIT, 0xffffffff);
	eg_wr(&g, VMCS_GUEST_ES, 0);
	eg_wr(&g, VMCS_GUEST_ES_AR, 0x10000); /* null ES: #GP(0) */
	assert_int_equal(eg_run(&g), VMX_REASON_EXC_NMI);
	assert_int_equal(eg_rd(&g, VMCS_RO_VMEXIT_IRQ_INFO), 0x80000b0du);
	assert_int_equal(eg_rd(&g, VMCS_GUEST_RIP), 0x10005);
	eg_destroy(&g);
}

/* Interrupt-window exiting: open right after entry with IF = 1; after STI only once the next instruction is done; wakes HLT. */
static void test_interrupt_window(void **state)
{
	(void)state;
	struct eg g;
	eg_create(&g);
	eg_long64(&g, EG_CODE);
	static const uint8_t code[] = {0x90, 0xfb, 0x90, 0x90, 0xfa, 0xfb, 0xf4}; /* nop; sti; nop; nop; cli; sti; hlt */
	eg_load(&g, EG_CODE, code, sizeof code);
	eg_controls(&g, CPU_BASED_IRQ_WND, 0);
	eg_setreg(&g, HV_X86_RFLAGS, 0x202);
	assert_int_equal(eg_run(&g), VMX_REASON_IRQ_WND);
	struct eg_exit e = eg_exit_info(&g);
	assert_int_equal(e.rip, EG_CODE); /* before the first instruction */
	assert_int_equal(e.qual, 0);
	assert_int_equal(e.len, 0);
	assert_int_equal(e.intr, 0);
	eg_setreg(&g, HV_X86_RFLAGS, 0x2);
	assert_int_equal(eg_run(&g), VMX_REASON_IRQ_WND);
	assert_int_equal(eg_rd(&g, VMCS_GUEST_RIP), EG_CODE + 3); /* STI blocking covered the NOP after it */
	assert_int_equal(eg_rd(&g, VMCS_GUEST_INTERRUPTIBILITY) & 3, 0);
	eg_wr(&g, VMCS_GUEST_RIP, EG_CODE + 4);
	eg_setreg(&g, HV_X86_RFLAGS, 0x2);
	assert_int_equal(eg_run(&g), VMX_REASON_IRQ_WND); /* CLI; STI; HLT: the window opens at the HLT, which it wakes */
	assert_int_equal(eg_rd(&g, VMCS_GUEST_RIP), EG_CODE + 7);
	assert_int_equal(eg_rd(&g, VMCS_GUEST_ACTIVITY_STATE), 1);
	eg_destroy(&g);
}

/* Monitor trap flag: an exit after every instruction (RIP = the next one); a REP string instruction after each iteration. */
static void test_monitor_trap_flag(void **state)
{
	(void)state;
	struct eg g;
	eg_create(&g);
	eg_long64(&g, EG_CODE);
	static const uint8_t code[] = {0x90, 0x48, 0xff, 0xc0, 0xf3, 0xa4, 0xf4}; /* nop; inc rax; rep movsb; hlt */
	eg_load(&g, EG_CODE, code, sizeof code);
	eg_controls(&g, CPU_BASED_HLT | CPU_BASED_MTF, 0);
	eg_setreg(&g, HV_X86_RAX, 0);
	eg_setreg(&g, HV_X86_RCX, 3);
	eg_setreg(&g, HV_X86_RSI, EG_DATA);
	eg_setreg(&g, HV_X86_RDI, EG_DATA + 0x100);
	static const uint64_t rips[] = {EG_CODE + 1, EG_CODE + 4, EG_CODE + 4, EG_CODE + 4, EG_CODE + 6};
	for (unsigned i = 0; i < 5; i++) {
		assert_int_equal(eg_run(&g), VMX_REASON_MTF);
		struct eg_exit e = eg_exit_info(&g);
		assert_int_equal(e.rip, rips[i]);
		assert_int_equal(e.qual, 0);
		assert_int_equal(e.len, 0);
		if (i >= 2)
			assert_int_equal(eg_reg(&g, HV_X86_RCX), 3 - (i - 1));
	}
	assert_int_equal(eg_reg(&g, HV_X86_RAX), 1);
	assert_int_equal(eg_reg(&g, HV_X86_RCX), 0);
	eg_expect_insn_exit(&g, VMX_REASON_HLT, EG_CODE + 6, 1, 0, 0); /* the HLT exit wins over MTF */
	eg_destroy(&g);
}

/* hv_vcpu_run_until with a deadline, and the VMX-preemption timer (1 tick per ns): exit 52 at the next instruction. */
static void test_deadline_and_preemption_timer(void **state)
{
	(void)state;
	struct eg g;
	eg_create(&g);
	eg_long64(&g, EG_CODE);
	static const uint8_t spin[] = {0xeb, 0xfe}; /* jmp $ */
	eg_load(&g, EG_CODE, spin, sizeof spin);
	uint64_t rate = 0;
	assert_int_equal(hv_vmx_read_capability(HV_VMX_CAP_PREEMPTION_TIMER, &rate), HV_SUCCESS);
	assert_int_equal(rate, 1000000000ull);
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	uint64_t now = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
	assert_int_equal(hv_vcpu_run_until(g.vcpu, now + 20000000), HV_SUCCESS);
	struct eg_exit e = eg_exit_info(&g);
	assert_int_equal(e.reason, VMX_REASON_VMX_TIMER_EXPIRED);
	assert_int_equal(e.qual, 0);
	assert_int_equal(e.len, 0);
	assert_int_equal(e.rip, EG_CODE);
	clock_gettime(CLOCK_MONOTONIC, &ts);
	assert_true((uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec >= now + 20000000);
	/* the preemption timer, with its value saved on exit */
	uint64_t pin, ex;
	hv_vmx_read_capability(HV_VMX_CAP_PINBASED, &pin);
	hv_vmx_read_capability(HV_VMX_CAP_EXIT, &ex);
	eg_wr(&g, VMCS_CTRL_PIN_BASED, eg_cap2ctrl(pin, PIN_BASED_PREEMPTION_TIMER));
	eg_wr(&g, VMCS_CTRL_VMEXIT_CONTROLS, eg_cap2ctrl(ex, VMEXIT_SAVE_VMX_TIMER));
	eg_wr(&g, VMCS_GUEST_VMX_TIMER_VALUE, 5000000);
	assert_int_equal(eg_run(&g), VMX_REASON_VMX_TIMER_EXPIRED);
	assert_int_equal(eg_rd(&g, VMCS_GUEST_VMX_TIMER_VALUE), 0);
	/* a timer value of 0 expires before the first instruction */
	eg_wr(&g, VMCS_GUEST_RIP, EG_CODE + 0x100);
	assert_int_equal(eg_run(&g), VMX_REASON_VMX_TIMER_EXPIRED);
	assert_int_equal(eg_rd(&g, VMCS_GUEST_RIP), EG_CODE + 0x100);
	eg_destroy(&g);
}

/* TPR shadow: MOV to CR8 below the TPR threshold is a trap-like exit 43; MOV from CR8 reads the shadow. */
static void test_tpr_shadow_threshold(void **state)
{
	(void)state;
	struct eg g;
	eg_create(&g);
	eg_long64(&g, EG_CODE);
	/* mov cr8, rax; mov rbx, cr8; mov cr8, rcx; hlt */
	static const uint8_t code[] = {0x44, 0x0f, 0x22, 0xc0, 0x44, 0x0f, 0x20, 0xc3, 0x44, 0x0f, 0x22, 0xc1, 0xf4};
	eg_load(&g, EG_CODE, code, sizeof code);
	eg_controls(&g, CPU_BASED_HLT | CPU_BASED_TPR_SHADOW, 0);
	eg_wr(&g, VMCS_CTRL_TPR_THRESHOLD, 5);
	eg_setreg(&g, HV_X86_TPR, 0x50); /* entry needs threshold <= VTPR[7:4] without APIC-access virtualization */
	eg_setreg(&g, HV_X86_RAX, 7);
	eg_setreg(&g, HV_X86_RCX, 3);
	assert_int_equal(eg_run(&g), VMX_REASON_TPR_THRESHOLD);
	struct eg_exit e = eg_exit_info(&g);
	assert_int_equal(e.rip, EG_CODE + 12); /* after the MOV that lowered VTPR below the threshold */
	assert_int_equal(e.qual, 0);
	assert_int_equal(e.len, 0);
	assert_int_equal(eg_reg(&g, HV_X86_RBX), 7);
	assert_int_equal(eg_reg(&g, HV_X86_TPR), 0x30);
	/* The guest itself left VTPR[7:4] = 3 below the threshold 5: entering again unchanged is VMfail 7 (the control
	 * checks passed with these very controls before, but this one depends on VTPR) until the VMM lowers it. */
	uint64_t x;
	assert_int_equal(hv_vcpu_run(g.vcpu), HV_ERROR);
	assert_int_equal(hv_vmx_vcpu_read_vmcs(g.vcpu, VMCS_RO_INSTR_ERROR, &x), HV_SUCCESS);
	assert_int_equal(x, 7);
	eg_wr(&g, VMCS_CTRL_TPR_THRESHOLD, 3);
	assert_int_equal(eg_run(&g), VMX_REASON_HLT);
	/* Controls that passed before and are now changed to a value outside the capability fail at the next entry. */
	uint64_t cap, proc = eg_rd(&g, VMCS_CTRL_CPU_BASED);
	assert_int_equal(hv_vmx_read_capability(HV_VMX_CAP_PROCBASED, &cap), HV_SUCCESS);
	assert_true((uint32_t)cap != 0); /* some bits must be 1 */
	eg_wr(&g, VMCS_CTRL_CPU_BASED, proc & ~(uint64_t)(uint32_t)cap);
	assert_int_equal(hv_vcpu_run(g.vcpu), HV_ERROR);
	eg_wr(&g, VMCS_CTRL_CPU_BASED, proc);
	assert_int_equal(eg_run(&g), VMX_REASON_HLT);
	eg_destroy(&g);
}

/* 32-bit INT n from CPL 3 through a DPL-3 interrupt gate: stack switch to the TSS's SS0:ESP0, full frame pushed. */
static void test_idt_inner_privilege_32(void **state)
{
	(void)state;
	struct eg g;
	eg_create(&g);
	static const uint8_t user[] = {0xcd, 0x30};               /* int 0x30 */
	static const uint8_t kern[] = {0x0f, 0x01, 0xc1};         /* vmcall */
	eg_load(&g, 0x10000, user, sizeof user);
	eg_load(&g, 0x20000, kern, sizeof kern);
	eg_prot32(&g, 0x10000);
	eg_put64(&g, EG_IDT + 0x30 * 8, 0x0000ee0000000000ull | (0x08ull << 16) | (0x0002ull << 48)); /* 0x08:0x20000 */
	eg_wr(&g, VMCS_GUEST_IDTR_LIMIT, 0x7ff);
	*(uint32_t *)(void *)(g.mem + EG_TSS + 4) = 0x70000;
	*(uint16_t *)(void *)(g.mem + EG_TSS + 8) = SEL_DATA;
	eg_wr(&g, VMCS_GUEST_TR_AR, 0x8b);
	eg_all_segs(&g, SEL_UCODE32, 0xc0fb, SEL_UDATA, 0xc0f3, 0xffffffff);
	eg_setreg(&g, HV_X86_RSP, 0x60000);
	eg_setreg(&g, HV_X86_RFLAGS, 0x3202); /* IF, IOPL 3 */
	eg_expect_insn_exit(&g, VMX_REASON_VMCALL, 0x20000, 3, 0, 0);
	assert_int_equal(eg_rd(&g, VMCS_GUEST_CS), SEL_CODE32);
	assert_int_equal(eg_rd(&g, VMCS_GUEST_SS), SEL_DATA);
	assert_int_equal(eg_reg(&g, HV_X86_RSP), 0x70000 - 20);
	uint32_t *st = (uint32_t *)(void *)(g.mem + 0x70000 - 20);
	assert_int_equal(st[0], 0x10002);      /* EIP after INT */
	assert_int_equal(st[1], SEL_UCODE32);
	assert_int_equal(st[2], 0x3202);
	assert_int_equal(st[3], 0x60000);
	assert_int_equal(st[4], SEL_UDATA);
	assert_int_equal(eg_reg(&g, HV_X86_RFLAGS) & 0x200, 0); /* interrupt gate */
	eg_destroy(&g);
}

static void test_entry_failure_invalid_guest_state(void **state)
{
	(void)state;
	struct eg g;
	eg_create(&g);
	eg_long64(&g, EG_CODE);
	eg_wr(&g, VMCS_GUEST_CR4, 0x20); /* CR4.VMXE is fixed to 1 */
	assert_int_equal(hv_vcpu_run(g.vcpu), HV_SUCCESS);
	assert_int_equal(eg_rd(&g, VMCS_RO_EXIT_REASON), 0x80000021u);
	assert_int_equal(eg_rd(&g, VMCS_RO_EXIT_QUALIFIC), 0);
	eg_destroy(&g);
}

static void *unmapper(void *arg)
{
	(void)arg;
	usleep(20000);
	assert_int_equal(hv_vm_unmap(0x300000, 4096), HV_SUCCESS);
	return NULL;
}

/* hv_vm_unmap from another thread while the guest reads the page in a loop: once it returns, the guest sees an EPT violation. */
static void test_unmap_while_running(void **state)
{
	(void)state;
	struct eg g;
	eg_create(&g);
	eg_long64(&g, EG_CODE);
	static const uint8_t loop[] = {0x48, 0x8b, 0x01, 0xeb, 0xfb}; /* 1: mov rax, [rcx]; jmp 1b */
	eg_load(&g, EG_CODE, loop, sizeof loop);
	eg_setreg(&g, HV_X86_RCX, 0x300010);
	pthread_t t;
	pthread_create(&t, NULL, unmapper, NULL);
	assert_int_equal(eg_run(&g), VMX_REASON_EPT_VIOLATION);
	pthread_join(t, NULL);
	struct eg_exit e = eg_exit_info(&g);
	assert_int_equal(e.gpa, 0x300010);
	assert_int_equal(e.qual, 0x181);
	assert_int_equal(e.rip, EG_CODE);
	assert_int_equal(hv_vm_map(g.mem + 0x300000, 0x300000, 4096, HV_MEMORY_READ | HV_MEMORY_WRITE | HV_MEMORY_EXEC),
			 HV_SUCCESS);
	eg_destroy(&g);
}

/* Virtual-8086 mode: code runs with real-mode addressing at CPL 3; INT n with IOPL < 3 is #GP; OUT still exits. */
static void test_v86_mode(void **state)
{
	(void)state;
	struct eg g;
	eg_create(&g);
	static const uint8_t code[] = {0xb8, 0x34, 0x12, 0xe6, 0x80, 0xcd, 0x21, 0xf4}; /* mov ax,0x1234; out 0x80,al; int 0x21 */
	eg_load(&g, 0x20000, code, sizeof code);
	eg_prot32(&g, 0);
	eg_controls(&g, CPU_BASED_HLT | CPU_BASED_UNCOND_IO, 0);
	eg_all_segs(&g, 0x2000, 0xf3, 0x2000, 0xf3, 0xffff);
	eg_wr(&g, VMCS_GUEST_CS_BASE, 0x20000);
	eg_wr(&g, VMCS_GUEST_SS_BASE, 0x20000);
	eg_wr(&g, VMCS_GUEST_DS_BASE, 0x20000);
	eg_wr(&g, VMCS_GUEST_ES_BASE, 0x20000);
	eg_wr(&g, VMCS_GUEST_FS_BASE, 0x20000);
	eg_wr(&g, VMCS_GUEST_GS_BASE, 0x20000);
	eg_setreg(&g, HV_X86_RFLAGS, 0x20002 | 0x3000); /* VM, IOPL 3: OUT allowed */
	eg_setreg(&g, HV_X86_RIP, 0);
	eg_setreg(&g, HV_X86_RSP, 0x1000);
	eg_wr(&g, VMCS_CTRL_EXC_BITMAP, 1u << 13);
	eg_expect_insn_exit(&g, VMX_REASON_IO, 3, 2, (0x80ull << 16) | 0x40, 0);
	assert_int_equal(eg_reg(&g, HV_X86_RAX) & 0xffff, 0x1234);
	eg_skip(&g);
	eg_setreg(&g, HV_X86_RFLAGS, 0x20002); /* IOPL 0: INT n faults with #GP(0) */
	assert_int_equal(eg_run(&g), VMX_REASON_EXC_NMI);
	assert_int_equal(eg_rd(&g, VMCS_RO_VMEXIT_IRQ_INFO), 0x80000b0du);
	assert_int_equal(eg_rd(&g, VMCS_RO_VMEXIT_IRQ_ERROR), 0);
	assert_int_equal(eg_rd(&g, VMCS_GUEST_RIP), 5);
	eg_destroy(&g);
}

/* 32-bit far CALL through a call gate to an inner privilege level, and RETF back out. */
static void test_call_gate_inner_privilege(void **state)
{
	(void)state;
	struct eg g;
	eg_create(&g);
	/* ring 3 at 0x10000: call 0x58:0; vmcall.  ring 0 at 0x20000: mov eax, cs; retf */
	static const uint8_t user[] = {0x9a, 0, 0, 0, 0, 0x58, 0x00, 0x0f, 0x01, 0xc1};
	static const uint8_t kern[] = {0x8c, 0xc8, 0xcb};
	eg_load(&g, 0x10000, user, sizeof user);
	eg_load(&g, 0x20000, kern, sizeof kern);
	eg_prot32(&g, 0x10000);
	eg_put64(&g, EG_GDT + 0x58, 0x0000ec0000000000ull | (0x08ull << 16) | 0x0000 | (0x0002ull << 48)); /* gate -> 0x08:0x20000, DPL 3 */
	*(uint32_t *)(void *)(g.mem + EG_TSS + 4) = 0x70000; /* ESP0 */
	*(uint16_t *)(void *)(g.mem + EG_TSS + 8) = SEL_DATA; /* SS0 */
	eg_wr(&g, VMCS_GUEST_TR_AR, 0x8b);
	eg_all_segs(&g, SEL_UCODE32, 0xc0fb, SEL_UDATA, 0xc0f3, 0xffffffff);
	eg_setreg(&g, HV_X86_RSP, 0x60000);
	eg_expect_insn_exit(&g, VMX_REASON_VMCALL, 0x10007, 3, 0, 0);
	assert_int_equal(eg_reg(&g, HV_X86_RAX) & 0xffff, SEL_CODE32); /* ran at CPL 0 */
	assert_int_equal(eg_rd(&g, VMCS_GUEST_CS), SEL_UCODE32);       /* back at CPL 3 */
	assert_int_equal(eg_rd(&g, VMCS_GUEST_SS), SEL_UDATA);
	assert_int_equal(eg_reg(&g, HV_X86_RSP), 0x60000);
	uint32_t *st = (uint32_t *)(void *)(g.mem + 0x70000 - 16);
	assert_int_equal(st[0], 0x10007);      /* EIP */
	assert_int_equal(st[1], SEL_UCODE32);  /* CS */
	assert_int_equal(st[2], 0x60000);      /* ESP */
	assert_int_equal(st[3], SEL_UDATA);    /* SS */
	eg_destroy(&g);
}

/* An endless fault loop (the #UD handler is itself UD2) still comes back for a kick. */
static void test_fault_loop_comes_back_for_kicks(void **state)
{
	(void)state;
	struct eg g;
	eg_create(&g);
	static const uint8_t ud[] = {0x0f, 0x0b};
	eg_load(&g, 0x7c00, ud, sizeof ud);
	eg_real(&g, 0x7c00);
	*(uint32_t *)(void *)(g.mem + 6 * 4) = 0x7c00; /* IVT[6] = 0000:7C00 */
	eg_setreg(&g, HV_X86_RSP, 0x7000);
	pthread_t t;
	pthread_create(&t, NULL, eg_kicker, &g.vcpu);
	assert_int_equal(hv_vcpu_run(g.vcpu), HV_SUCCESS);
	pthread_join(t, NULL);
	assert_int_equal(eg_rd(&g, VMCS_RO_EXIT_REASON), VMX_REASON_IRQ);
	eg_destroy(&g);
}

/* Two vCPUs, one thread each, increment one counter with LOCK XADD: no increment is lost. */
struct smp_arg {
	struct eg *g;
	uint64_t reason;
};

static void *smp_vcpu(void *arg)
{
	struct smp_arg *a = arg;
	hv_vcpuid_t v;
	if (hv_vcpu_create(&v, HV_VCPU_DEFAULT) != HV_SUCCESS)
		return NULL;
	struct eg g2 = *a->g;
	g2.vcpu = v;
	eg_long64(&g2, EG_CODE);
	uint64_t pc, en;
	hv_vmx_read_capability(HV_VMX_CAP_PROCBASED, &pc);
	hv_vmx_read_capability(HV_VMX_CAP_ENTRY, &en);
	hv_vmx_vcpu_write_vmcs(v, VMCS_CTRL_CPU_BASED, eg_cap2ctrl(pc, CPU_BASED_HLT));
	hv_vcpu_write_register(v, HV_X86_RSP, EG_STACK - 0x10000);
	hv_vcpu_write_register(v, HV_X86_RBX, EG_DATA);
	uint64_t r;
	do {
		hv_vcpu_run(v);
		hv_vmx_vcpu_read_vmcs(v, VMCS_RO_EXIT_REASON, &r);
	} while (r == VMX_REASON_IRQ);
	a->reason = r;
	hv_vcpu_destroy(v);
	return NULL;
}

static void test_smp_locked_increments(void **state)
{
	(void)state;
	struct eg g;
	eg_create(&g);
	eg_long64(&g, EG_CODE);
	/* mov ecx, 100000; 1: mov eax, 1; lock xadd [rbx], rax; dec ecx; jnz 1b; hlt */
	static const uint8_t code[] = {0xb9, 0xa0, 0x86, 0x01, 0x00, 0xb8, 0x01, 0x00, 0x00, 0x00, 0xf0, 0x48,
				       0x0f, 0xc1, 0x03, 0xff, 0xc9, 0x75, 0xf2, 0xf4};
	eg_load(&g, EG_CODE, code, sizeof code);
	eg_setreg(&g, HV_X86_RBX, EG_DATA);
	*(uint64_t *)(void *)(g.mem + EG_DATA) = 0;
	struct smp_arg a = {&g, 0};
	pthread_t t;
	pthread_create(&t, NULL, smp_vcpu, &a);
	assert_int_equal(eg_run(&g), VMX_REASON_HLT);
	pthread_join(t, NULL);
	assert_int_equal(a.reason, VMX_REASON_HLT);
	assert_int_equal(*(uint64_t *)(void *)(g.mem + EG_DATA), 200000);
	eg_destroy(&g);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		EG_TEST(test_triple_fault),
		EG_TEST(test_fault_during_delivery_idt_vectoring),
		EG_TEST(test_double_fault_exit),
		EG_TEST(test_idt_delivery_long_mode),
		EG_TEST(test_page_fault_mask_match),
		EG_TEST(test_task_switch_exits),
		EG_TEST(test_ept_misconfig_and_fetch_violation),
		EG_TEST(test_ept_violation_during_delivery),
		EG_TEST(test_real_mode_ivt_delivery),
		EG_TEST(test_injected_event),
		EG_TEST(test_kick_irq_exit),
		EG_TEST(test_native_msr_and_cr3_targets),
		EG_TEST(test_managed_msr_access),
		EG_TEST(test_segment_checks),
		EG_TEST(test_interrupt_window),
		EG_TEST(test_monitor_trap_flag),
		EG_TEST(test_deadline_and_preemption_timer),
		EG_TEST(test_tpr_shadow_threshold),
		EG_TEST(test_idt_inner_privilege_32),
		EG_TEST(test_entry_failure_invalid_guest_state),
		EG_TEST(test_unmap_while_running),
		EG_TEST(test_v86_mode),
		EG_TEST(test_call_gate_inner_privilege),
		EG_TEST(test_fault_loop_comes_back_for_kicks),
		EG_TEST(test_smp_locked_increments),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
