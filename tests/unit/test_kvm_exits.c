/* test_kvm_exits.c: kvm backend exits other than I/O: EPT violations (MMIO, read-only), HLT, triple fault, MSRs and native MSRs, interrupt window and injection, kicks, entry failure. */
#include <pthread.h>
#include <stdlib.h>

#include "kvm_test_env.h"

/* Tear down whatever a failed test left (one VM per process). */
static int cleanup(void **state)
{
	(void)state;
	hv_vcpuid_t id = 0;
	for (id = 0; id < 4; id++)
		hv_vcpu_destroy(id);
	hv_vm_destroy();
	return 0;
}

#define NEED_KVM() do { if (!ke_available()) skip(); } while (0)

static void test_mmio_read_write(void **state)
{
	(void)state;
	NEED_KVM();
	static const uint8_t code[] = {
		0x8b, 0x04, 0x25, 0x10, 0x00, 0x80, 0x00,                         /* mov eax, [0x800010] */
		0x89, 0x04, 0x25, 0x00, 0x00, 0x02, 0x00,                         /* mov [0x20000], eax */
		0xc7, 0x04, 0x25, 0x20, 0x00, 0x80, 0x00, 0x55, 0x00, 0x00, 0x00, /* mov dword [0x800020], 0x55 */
		0xeb, 0xfe,
	};
	struct ke k;
	ke_setup(&k, 3, code, sizeof code);
	ke_expect_reason(&k, VMX_REASON_EPT_VIOLATION);
	assert_int_equal(ke_r(&k, VMCS_RO_EXIT_QUALIFIC), 0x181); /* read, GLA valid, final translation; GPA not mapped */
	assert_int_equal(ke_r(&k, VMCS_GUEST_PHYSICAL_ADDRESS), KE_MMIO + 0x10);
	assert_int_equal(ke_r(&k, VMCS_RO_GUEST_LIN_ADDR), KE_MMIO + 0x10);
	assert_int_equal(ke_reg(&k, HV_X86_RIP), KE_CODE);
	ke_set(&k, HV_X86_RAX, 0xcafe);
	ke_set(&k, HV_X86_RIP, KE_CODE + 7);
	ke_expect_reason(&k, VMX_REASON_EPT_VIOLATION);
	assert_int_equal(ke_r(&k, VMCS_RO_EXIT_QUALIFIC), 0x182); /* write */
	assert_int_equal(ke_r(&k, VMCS_GUEST_PHYSICAL_ADDRESS), KE_MMIO + 0x20);
	assert_int_equal(ke_reg(&k, HV_X86_RIP), KE_CODE + 14);
	assert_int_equal(*(uint32_t *)(k.mem + 0x20000), 0xcafe);
	ke_teardown(&k);
}

static void test_readonly_write(void **state)
{
	(void)state;
	NEED_KVM();
	static const uint8_t code[] = {
		0x8a, 0x04, 0x25, 0x00, 0x00, 0x02, 0x00,       /* mov al, [0x20000]: reads are allowed */
		0xc6, 0x04, 0x25, 0x00, 0x00, 0x02, 0x00, 0x01, /* mov byte [0x20000], 1 */
		0xeb, 0xfe,
	};
	struct ke k;
	ke_setup(&k, 3, code, sizeof code);
	k.mem[0x20000] = 0x77;
	assert_int_equal(hv_vm_protect(0x20000, 0x1000, HV_MEMORY_READ | HV_MEMORY_EXEC), HV_SUCCESS);
	ke_expect_reason(&k, VMX_REASON_EPT_VIOLATION);
	assert_int_equal(ke_r(&k, VMCS_RO_EXIT_QUALIFIC), 0x1aa); /* write; readable, executable; GLA valid, final */
	assert_int_equal(ke_r(&k, VMCS_GUEST_PHYSICAL_ADDRESS), 0x20000);
	assert_int_equal(ke_reg(&k, HV_X86_RIP), KE_CODE + 7);
	assert_int_equal(ke_reg(&k, HV_X86_RAX) & 0xff, 0x77);
	assert_int_equal(k.mem[0x20000], 0x77);
	/* Upgrading the page and re-running completes the write. */
	assert_int_equal(hv_vm_protect(0x20000, 0x1000, HV_MEMORY_READ | HV_MEMORY_WRITE | HV_MEMORY_EXEC), HV_SUCCESS);
	assert_int_equal(ke_run_ms(&k, 50), VMX_REASON_VMX_TIMER_EXPIRED);
	assert_int_equal(k.mem[0x20000], 1);
	ke_teardown(&k);
}

static void test_hlt(void **state)
{
	(void)state;
	NEED_KVM();
	static const uint8_t code[] = {0x90, 0xf4, 0xeb, 0xfe}; /* nop; hlt */
	struct ke k;
	ke_setup(&k, 0, code, sizeof code);
	ke_expect_reason(&k, VMX_REASON_HLT);
	assert_int_equal(ke_reg(&k, HV_X86_RIP), KE_CODE + 1); /* fault-like */
	assert_int_equal(ke_r(&k, VMCS_RO_VMEXIT_INSTR_LEN), 1);
	ke_set(&k, HV_X86_RIP, KE_CODE + 2);
	assert_int_equal(ke_run_ms(&k, 50), VMX_REASON_VMX_TIMER_EXPIRED);
	assert_int_equal(ke_reg(&k, HV_X86_RIP), KE_CODE + 2);
	ke_teardown(&k);
}

static void test_triple_fault(void **state)
{
	(void)state;
	NEED_KVM();
	static const uint8_t code[] = {0x0f, 0x0b}; /* ud2 with an empty IDT */
	struct ke k;
	ke_setup(&k, 0, code, sizeof code);
	ke_w(&k, VMCS_GUEST_IDTR_LIMIT, 0);
	ke_expect_reason(&k, VMX_REASON_TRIPLE_FAULT);
	ke_teardown(&k);
}

static void test_msr_exits_and_native(void **state)
{
	(void)state;
	NEED_KVM();
	static const uint8_t code[] = {
		0xb9, 0x80, 0x00, 0x00, 0xc0, /* mov ecx, EFER */
		0x0f, 0x32,                   /* rdmsr */
		0xb9, 0x81, 0x00, 0x00, 0xc0, /* mov ecx, STAR */
		0xb8, 0x11, 0x11, 0x00, 0x00, /* mov eax, 0x1111 */
		0xba, 0x22, 0x22, 0x00, 0x00, /* mov edx, 0x2222 */
		0x0f, 0x30,                   /* wrmsr: exits */
		0x0f, 0x30,                   /* wrmsr: native now */
		0xf4,
	};
	struct ke k;
	ke_setup(&k, 0, code, sizeof code);
	ke_expect_reason(&k, VMX_REASON_RDMSR);
	assert_int_equal(ke_reg(&k, HV_X86_RIP), KE_CODE + 5);
	assert_int_equal(ke_reg(&k, HV_X86_RCX), 0xc0000080);
	assert_int_equal(ke_r(&k, VMCS_RO_VMEXIT_INSTR_LEN), 2);
	ke_set(&k, HV_X86_RAX, 0x500);
	ke_set(&k, HV_X86_RDX, 0);
	ke_set(&k, HV_X86_RIP, KE_CODE + 7);
	ke_expect_reason(&k, VMX_REASON_WRMSR);
	assert_int_equal(ke_reg(&k, HV_X86_RIP), KE_CODE + 22);
	assert_int_equal(ke_reg(&k, HV_X86_RCX), 0xc0000081);
	assert_int_equal(ke_reg(&k, HV_X86_RAX), 0x1111);
	ke_set(&k, HV_X86_RIP, KE_CODE + 24);
	assert_int_equal(hv_vcpu_enable_native_msr(k.vcpu, 0xc0000081, true), HV_SUCCESS);
	ke_expect_reason(&k, VMX_REASON_HLT);
	uint64_t star = 0;
	assert_int_equal(hv_vcpu_read_msr(k.vcpu, 0xc0000081, &star), HV_SUCCESS);
	assert_int_equal(star, 0x0000222200001111ull);
	ke_teardown(&k);
}

static void test_irq_window_and_injection(void **state)
{
	(void)state;
	NEED_KVM();
	uint8_t code[0x110];
	memset(code, 0x90, sizeof code);
	code[0] = 0xfb; /* sti */
	code[1] = 0x90; /* nop */
	code[2] = 0xeb; code[3] = 0xfe;
	static const uint8_t handler[] = {0xc6, 0x04, 0x25, 0x40, 0x00, 0x02, 0x00, 0x99, 0xf4}; /* mov byte [0x20040], 0x99; hlt */
	memcpy(code + 0x100, handler, sizeof handler);
	struct ke k;
	ke_setup(&k, 0, code, sizeof code);
	ke_idt(&k, 0x20, KE_CODE + 0x100);
	ke_w(&k, VMCS_CTRL_CPU_BASED, ke_cap2ctrl(ke_cap(HV_VMX_CAP_PROCBASED), CPU_BASED_HLT | CPU_BASED_IRQ_WND));
	ke_expect_reason(&k, VMX_REASON_IRQ_WND);
	uint64_t rip = ke_reg(&k, HV_X86_RIP);
	assert_int_equal(rip, KE_CODE + 2); /* STI's shadow covers the NOP; the window opens before the JMP */
	assert_int_equal(ke_r(&k, VMCS_GUEST_INTERRUPTIBILITY) & 3, 0);
	assert_true(ke_reg(&k, HV_X86_RFLAGS) & 0x200);
	ke_w(&k, VMCS_CTRL_CPU_BASED, ke_cap2ctrl(ke_cap(HV_VMX_CAP_PROCBASED), CPU_BASED_HLT));
	ke_w(&k, VMCS_CTRL_VMENTRY_IRQ_INFO, IRQ_INFO_VALID | IRQ_INFO_EXT_IRQ | 0x20);
	ke_expect_reason(&k, VMX_REASON_HLT);
	assert_int_equal(ke_reg(&k, HV_X86_RIP), KE_CODE + 0x108);
	assert_int_equal(k.mem[0x20040], 0x99);
	assert_int_equal(ke_r(&k, VMCS_CTRL_VMENTRY_IRQ_INFO) & IRQ_INFO_VALID, 0);
	ke_teardown(&k);
}

struct kicker {
	hv_vcpuid_t vcpu;
	unsigned delay_ms;
};

static void *kick_later(void *arg)
{
	struct kicker *kk = arg;
	usleep(kk->delay_ms * 1000);
	hv_vcpu_interrupt(&kk->vcpu, 1);
	return NULL;
}

static void test_kick_running_and_pending(void **state)
{
	(void)state;
	NEED_KVM();
	static const uint8_t code[] = {0xeb, 0xfe};
	struct ke k;
	ke_setup(&k, 3, code, sizeof code);
	struct kicker kk = {k.vcpu, 50};
	pthread_t t;
	pthread_create(&t, NULL, kick_later, &kk);
	uint64_t t0 = ke_now_ns();
	assert_int_equal(ke_run_ms(&k, 5000), VMX_REASON_IRQ);
	assert_true(ke_now_ns() - t0 < 2000000000ull);
	pthread_join(t, NULL);
	/* A kick that arrives before the run: the run returns at once with IRQ. */
	kk.delay_ms = 0;
	pthread_create(&t, NULL, kick_later, &kk);
	pthread_join(t, NULL);
	t0 = ke_now_ns();
	assert_int_equal(ke_run_ms(&k, 5000), VMX_REASON_IRQ);
	assert_true(ke_now_ns() - t0 < 1000000000ull);
	assert_int_equal(ke_run_ms(&k, 30), VMX_REASON_VMX_TIMER_EXPIRED);
	ke_teardown(&k);
}

static void test_exception_injection(void **state)
{
	(void)state;
	NEED_KVM();
	uint8_t code[0x110];
	memset(code, 0x90, sizeof code);
	code[0] = 0xeb; code[1] = 0xfe; /* jmp $ */
	static const uint8_t handler[] = {
		0x58,                                     /* pop rax: the error code */
		0x48, 0x89, 0x04, 0x25, 0x40, 0x00, 0x02, 0x00, /* mov [0x20040], rax */
		0xf4,                                     /* hlt */
	};
	memcpy(code + 0x100, handler, sizeof handler);
	struct ke k;
	ke_setup(&k, 0, code, sizeof code);
	ke_idt(&k, 13, KE_CODE + 0x100);
	ke_w(&k, VMCS_CTRL_VMENTRY_IRQ_INFO, IRQ_INFO_VALID | IRQ_INFO_HARD_EXC | IRQ_INFO_ERROR_VALID | 13);
	ke_w(&k, VMCS_CTRL_VMENTRY_EXC_ERROR, 0x1234);
	ke_expect_reason(&k, VMX_REASON_HLT);
	assert_int_equal(ke_reg(&k, HV_X86_RIP), KE_CODE + 0x109);
	assert_int_equal(*(uint64_t *)(k.mem + 0x20040), 0x1234);
	/* The frame holds the interrupted RIP (the injection happened at the JMP). */
	uint64_t rsp = ke_reg(&k, HV_X86_RSP);
	assert_int_equal(*(uint64_t *)(k.mem + rsp), KE_CODE);
	ke_teardown(&k);
}

static void test_software_interrupt_injection(void **state)
{
	(void)state;
	NEED_KVM();
	uint8_t code[0x110];
	memset(code, 0x90, sizeof code);
	code[0] = 0xcd; code[1] = 0x21; /* the INT 21h the VMM emulates by injection */
	code[2] = 0xeb; code[3] = 0xfe;
	code[0x100] = 0xf4; /* handler: hlt */
	struct ke k;
	ke_setup(&k, 0, code, sizeof code);
	ke_idt(&k, 0x21, KE_CODE + 0x100);
	ke_w(&k, VMCS_CTRL_VMENTRY_IRQ_INFO, IRQ_INFO_VALID | IRQ_INFO_SOFT_IRQ | 0x21);
	ke_w(&k, VMCS_CTRL_VMENTRY_INSTR_LEN, 2);
	ke_expect_reason(&k, VMX_REASON_HLT);
	assert_int_equal(ke_reg(&k, HV_X86_RIP), KE_CODE + 0x100);
	/* The pushed return address is RIP + the VM-entry instruction length. */
	assert_int_equal(*(uint64_t *)(k.mem + ke_reg(&k, HV_X86_RSP)), KE_CODE + 2);
	ke_teardown(&k);
}

static void test_paging_structure_in_unmapped_gpa(void **state)
{
	(void)state;
	NEED_KVM();
	static const uint8_t code[] = {0x8b, 0x03, 0xeb, 0xfe}; /* mov eax, [rbx] */
	struct ke k;
	ke_setup(&k, 0, code, sizeof code);
	uint64_t pde = 0x500000 | 3; /* linear 0x600000-0x7fffff through a page table at unmapped GPA 0x500000 */
	memcpy(k.mem + KE_PD + 3 * 8, &pde, 8);
	ke_set(&k, HV_X86_RBX, 0x600000);
	ke_expect_reason(&k, VMX_REASON_EPT_VIOLATION);
	assert_int_equal(ke_r(&k, VMCS_RO_EXIT_QUALIFIC), 0x81); /* read of a paging-structure entry, GLA valid */
	assert_int_equal(ke_r(&k, VMCS_GUEST_PHYSICAL_ADDRESS), 0x500000);
	assert_int_equal(ke_r(&k, VMCS_RO_GUEST_LIN_ADDR), 0x600000);
	assert_int_equal(ke_reg(&k, HV_X86_RIP), KE_CODE);
	ke_teardown(&k);
}

static void test_idt_in_unmapped_gpa(void **state)
{
	(void)state;
	NEED_KVM();
	static const uint8_t code[] = {0x0f, 0x0b}; /* ud2 */
	struct ke k;
	ke_setup(&k, 0, code, sizeof code);
	ke_w(&k, VMCS_GUEST_IDTR_BASE, 0x400000); /* past the 4 MiB of RAM */
	ke_expect_reason(&k, VMX_REASON_EPT_VIOLATION);
	assert_int_equal(ke_r(&k, VMCS_RO_EXIT_QUALIFIC) & ~0x1000ull, 0x181); /* read of the gate, final translation */
	assert_int_equal(ke_r(&k, VMCS_GUEST_PHYSICAL_ADDRESS), 0x400000 + 6 * 16);
	assert_int_equal(ke_r(&k, VMCS_RO_GUEST_LIN_ADDR), 0x400000 + 6 * 16);
	assert_int_equal(ke_r(&k, VMCS_RO_IDT_VECTOR_INFO), IRQ_INFO_VALID | IRQ_INFO_HARD_EXC | 6);
	assert_int_equal(ke_reg(&k, HV_X86_RIP), KE_CODE);
	ke_teardown(&k);
}

static void test_mtf(void **state)
{
	(void)state;
	NEED_KVM();
	static const uint8_t code[] = {0x90, 0x48, 0xff, 0xc0, 0xe6, 0x80, 0xeb, 0xfe}; /* nop; inc rax; out 0x80, al */
	struct ke k;
	ke_setup(&k, 0, code, sizeof code); /* ring 0: software KVMs (PVM) single-step only ring 0 */
	ke_w(&k, VMCS_CTRL_CPU_BASED, ke_cap2ctrl(ke_cap(HV_VMX_CAP_PROCBASED), CPU_BASED_HLT | CPU_BASED_MTF));
	ke_expect_reason(&k, VMX_REASON_MTF);
	assert_int_equal(ke_reg(&k, HV_X86_RIP), KE_CODE + 1); /* after the instruction */
	assert_int_equal(ke_r(&k, VMCS_RO_EXIT_QUALIFIC), 0);
	ke_expect_reason(&k, VMX_REASON_MTF);
	assert_int_equal(ke_reg(&k, HV_X86_RIP), KE_CODE + 4);
	assert_int_equal(ke_reg(&k, HV_X86_RAX), 1);
	/* An instruction that exits gives its own exit, not the MTF exit. */
	ke_expect_reason(&k, VMX_REASON_IO);
	assert_int_equal(ke_reg(&k, HV_X86_RIP), KE_CODE + 4);
	ke_teardown(&k);
}

static void test_stepping_keeps_hlt_exits(void **state)
{
	(void)state;
	NEED_KVM();
	static const uint8_t code[] = {0xfb, 0xf4, 0xfa, 0xeb, 0xfe}; /* sti; hlt (in the STI shadow); cli */
	struct ke k;
	ke_setup(&k, 0, code, sizeof code);
	/* Interrupt-window exiting (single-steps on a software KVM) and then MTF: the HLT exits either way. */
	ke_w(&k, VMCS_CTRL_CPU_BASED, ke_cap2ctrl(ke_cap(HV_VMX_CAP_PROCBASED), CPU_BASED_HLT | CPU_BASED_IRQ_WND));
	ke_expect_reason(&k, VMX_REASON_HLT);
	assert_int_equal(ke_reg(&k, HV_X86_RIP), KE_CODE + 1);
	assert_int_equal(ke_r(&k, VMCS_RO_VMEXIT_INSTR_LEN), 1);
	ke_w(&k, VMCS_CTRL_CPU_BASED, ke_cap2ctrl(ke_cap(HV_VMX_CAP_PROCBASED), CPU_BASED_HLT | CPU_BASED_MTF));
	ke_expect_reason(&k, VMX_REASON_HLT);
	assert_int_equal(ke_reg(&k, HV_X86_RIP), KE_CODE + 1);
	ke_set(&k, HV_X86_RIP, KE_CODE + 2);
	ke_expect_reason(&k, VMX_REASON_MTF); /* after the CLI */
	assert_int_equal(ke_reg(&k, HV_X86_RIP), KE_CODE + 3);
	ke_teardown(&k);
}

static void test_nmi_injection(void **state)
{
	(void)state;
	NEED_KVM();
	uint8_t code[0x110];
	memset(code, 0x90, sizeof code);
	code[0] = 0xeb; code[1] = 0xfe;
	code[0x100] = 0xf4; /* NMI handler: hlt */
	struct ke k;
	ke_setup(&k, 0, code, sizeof code);
	ke_idt(&k, 2, KE_CODE + 0x100);
	ke_w(&k, VMCS_CTRL_VMENTRY_IRQ_INFO, IRQ_INFO_VALID | IRQ_INFO_NMI | 2);
	ke_expect_reason(&k, VMX_REASON_HLT);
	assert_int_equal(ke_reg(&k, HV_X86_RIP), KE_CODE + 0x100);
	/* Delivering an NMI blocks further NMIs until IRET (interruptibility bit 3). */
	assert_int_equal(ke_r(&k, VMCS_GUEST_INTERRUPTIBILITY) & 8, 8);
	ke_teardown(&k);
}

static void test_preemption_timer(void **state)
{
	(void)state;
	NEED_KVM();
	static const uint8_t code[] = {0xeb, 0xfe};
	struct ke k;
	ke_setup(&k, 3, code, sizeof code);
	ke_w(&k, VMCS_CTRL_PIN_BASED, ke_cap2ctrl(ke_cap(HV_VMX_CAP_PINBASED), PIN_BASED_PREEMPTION_TIMER));
	ke_w(&k, VMCS_GUEST_VMX_TIMER_VALUE, 100000); /* 100000 << rate TSC ticks: milliseconds at most */
	uint64_t t0 = ke_now_ns();
	assert_int_equal(ke_run_ms(&k, 5000), VMX_REASON_VMX_TIMER_EXPIRED);
	assert_true(ke_now_ns() - t0 < 1000000000ull);
	assert_int_equal(ke_reg(&k, HV_X86_RIP), KE_CODE);
	/* A zero timer exits before the first instruction. */
	ke_w(&k, VMCS_GUEST_VMX_TIMER_VALUE, 0);
	assert_int_equal(ke_run_ms(&k, 5000), VMX_REASON_VMX_TIMER_EXPIRED);
	ke_teardown(&k);
}

static void test_unmap_while_running(void **state)
{
	(void)state;
	NEED_KVM();
	static const uint8_t code[] = {0xeb, 0xfe};
	struct ke k;
	ke_setup(&k, 3, code, sizeof code);
	assert_int_equal(ke_run_ms(&k, 20), VMX_REASON_VMX_TIMER_EXPIRED);
	/* Take the code page away: the next fetch is an EPT violation (fetch, nothing mapped), RIP at the loop. */
	assert_int_equal(hv_vm_unmap(KE_CODE, 0x1000), HV_SUCCESS);
	ke_expect_reason(&k, VMX_REASON_EPT_VIOLATION);
	assert_int_equal(ke_r(&k, VMCS_RO_EXIT_QUALIFIC) & 0x3f, 0x4);
	assert_int_equal(ke_r(&k, VMCS_GUEST_PHYSICAL_ADDRESS), KE_CODE);
	assert_int_equal(ke_reg(&k, HV_X86_RIP), KE_CODE);
	/* Map it back (read + execute): the guest runs on. */
	assert_int_equal(hv_vm_map(k.mem + KE_CODE, KE_CODE, 0x1000, HV_MEMORY_READ | HV_MEMORY_EXEC), HV_SUCCESS);
	assert_int_equal(ke_run_ms(&k, 20), VMX_REASON_VMX_TIMER_EXPIRED);
	ke_teardown(&k);
}

static void test_irq_window_closed_spin(void **state)
{
	(void)state;
	NEED_KVM();
	/* IF stays 0: no window, the run ends at its deadline (and, on a software KVM, stops single-stepping). */
	static const uint8_t code[] = {0xfa, 0x48, 0xff, 0xc0, 0xeb, 0xfb}; /* cli; loop: inc rax; jmp loop */
	struct ke k;
	ke_setup(&k, 0, code, sizeof code);
	ke_w(&k, VMCS_CTRL_CPU_BASED, ke_cap2ctrl(ke_cap(HV_VMX_CAP_PROCBASED), CPU_BASED_HLT | CPU_BASED_IRQ_WND));
	assert_int_equal(ke_run_ms(&k, 200), VMX_REASON_VMX_TIMER_EXPIRED);
	assert_int_equal(ke_reg(&k, HV_X86_RFLAGS) & 0x200, 0);
	assert_true(ke_reg(&k, HV_X86_RAX) > 100); /* it ran on (not one step at a time for the whole run) */
	ke_teardown(&k);
}

static void test_exception_bitmap_int3(void **state)
{
	(void)state;
	NEED_KVM();
	uint8_t code[0x110];
	memset(code, 0x90, sizeof code);
	code[0] = 0xcc; /* int3 in ring 3 */
	code[1] = 0xeb; code[2] = 0xfe;
	code[0x100] = 0xf4; /* ring-0 #BP handler: hlt */
	struct ke k;
	ke_setup(&k, 3, code, sizeof code);
	ke_idt(&k, 3, KE_CODE + 0x100);
	ke_w(&k, VMCS_CTRL_EXC_BITMAP, 0xffffffff); /* as hvdos: every exception */
	/* #BP exits are not advertised: hardware KVM may report them (EXC_NMI, type 6), a software KVM delivers INT3
	 * to the guest (it cannot intercept it without hanging). Either way the run ends, never hangs. */
	uint32_t reason = ke_run(&k);
	if (reason == VMX_REASON_EXC_NMI) {
		assert_int_equal(ke_r(&k, VMCS_RO_VMEXIT_IRQ_INFO), IRQ_INFO_VALID | IRQ_INFO_SOFT_EXC | 3);
	} else {
		assert_int_equal(reason, VMX_REASON_HLT);
		assert_int_equal(ke_reg(&k, HV_X86_RIP), KE_CODE + 0x100);
	}
	ke_teardown(&k);
}

static void test_entry_failure(void **state)
{
	(void)state;
	NEED_KVM();
	static const uint8_t code[] = {0xeb, 0xfe};
	struct ke k;
	ke_setup(&k, 3, code, sizeof code);
	/* Long-mode EFER without the IA-32e mode guest entry control: invalid guest state. */
	ke_w(&k, VMCS_CTRL_VMENTRY_CONTROLS, ke_cap2ctrl(ke_cap(HV_VMX_CAP_ENTRY), 0));
	assert_int_equal(ke_run(&k), 0x80000000u | VMX_REASON_VMENTRY_GUEST);
	ke_teardown(&k);
}

/* SDM 26.3.1.4: in 64-bit mode bits 63:N of RIP must be identical (N <= 57 linear-address bits on x86 hosts); the
 * entry fails before the guest runs, and runs again once RIP is fixed. */
static void test_entry_failure_rip(void **state)
{
	(void)state;
	NEED_KVM();
	static const uint8_t code[] = {0xf4};
	struct ke k;
	ke_setup(&k, 0, code, sizeof code);
	ke_set(&k, HV_X86_RIP, (1ull << 62) | KE_CODE);
	assert_int_equal(ke_run(&k), 0x80000000u | VMX_REASON_VMENTRY_GUEST);
	assert_int_equal(ke_reg(&k, HV_X86_RIP), (1ull << 62) | KE_CODE);
	ke_set(&k, HV_X86_RIP, KE_CODE);
	assert_int_equal(ke_run(&k), VMX_REASON_HLT);
	/* After an exit, RIP alone and RFLAGS alone are still checked (the checks are skipped only for what the guest
	 * itself left), and the entry runs again once they are valid. */
	ke_set(&k, HV_X86_RIP, (1ull << 61) | KE_CODE);
	assert_int_equal(ke_run(&k), 0x80000000u | VMX_REASON_VMENTRY_GUEST);
	ke_set(&k, HV_X86_RIP, KE_CODE);
	assert_int_equal(ke_run(&k), VMX_REASON_HLT);
	uint64_t rflags = ke_reg(&k, HV_X86_RFLAGS);
	ke_set(&k, HV_X86_RFLAGS, rflags | (1u << 15));
	assert_int_equal(ke_run(&k), 0x80000000u | VMX_REASON_VMENTRY_GUEST);
	ke_set(&k, HV_X86_RFLAGS, rflags);
	assert_int_equal(ke_run(&k), VMX_REASON_HLT);
	ke_teardown(&k);
}

int main(void)
{
	alarm(55); /* a hung KVM_RUN must fail the test, never hang it */
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_mmio_read_write, cleanup),
		cmocka_unit_test_teardown(test_readonly_write, cleanup),
		cmocka_unit_test_teardown(test_hlt, cleanup),
		cmocka_unit_test_teardown(test_triple_fault, cleanup),
		cmocka_unit_test_teardown(test_msr_exits_and_native, cleanup),
		cmocka_unit_test_teardown(test_irq_window_and_injection, cleanup),
		cmocka_unit_test_teardown(test_kick_running_and_pending, cleanup),
		cmocka_unit_test_teardown(test_exception_injection, cleanup),
		cmocka_unit_test_teardown(test_software_interrupt_injection, cleanup),
		cmocka_unit_test_teardown(test_paging_structure_in_unmapped_gpa, cleanup),
		cmocka_unit_test_teardown(test_idt_in_unmapped_gpa, cleanup),
		cmocka_unit_test_teardown(test_mtf, cleanup),
		cmocka_unit_test_teardown(test_stepping_keeps_hlt_exits, cleanup),
		cmocka_unit_test_teardown(test_nmi_injection, cleanup),
		cmocka_unit_test_teardown(test_preemption_timer, cleanup),
		cmocka_unit_test_teardown(test_unmap_while_running, cleanup),
		cmocka_unit_test_teardown(test_irq_window_closed_spin, cleanup),
		cmocka_unit_test_teardown(test_exception_bitmap_int3, cleanup),
		cmocka_unit_test_teardown(test_entry_failure, cleanup),
		cmocka_unit_test_teardown(test_entry_failure_rip, cleanup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
