/* test_kvm_misc.c: kvm backend odds: a hanging KVM_RUN (VMCALL on PVM) bounded by the deadline, hvx_vcpu_set_cpuid, maps KVM cannot express, MMIO read-modify-write, HLT activity state, state round trip. */
#include <cpuid.h>
#include <stdlib.h>

#include "kvm_test_env.h"

#define NEED_KVM() do { if (!ke_available()) skip(); } while (0)

static int cleanup(void **state)
{
	(void)state;
	for (hv_vcpuid_t id = 0; id < 4; id++)
		hv_vcpu_destroy(id);
	hv_vm_destroy();
	return 0;
}

static void test_deadline_bounds_any_guest(void **state)
{
	(void)state;
	NEED_KVM();
	static const uint8_t code[] = {0x0f, 0x01, 0xc1, 0xeb, 0xfe}; /* vmcall (hangs KVM_RUN on PVM); jmp $ */
	struct ke k;
	ke_setup(&k, 0, code, sizeof code);
	uint64_t t0 = ke_now_ns();
	assert_int_equal(ke_run_ms(&k, 100), VMX_REASON_VMX_TIMER_EXPIRED);
	assert_true(ke_now_ns() - t0 < 1500000000ull);
	ke_teardown(&k);
}

static void test_set_cpuid(void **state)
{
	(void)state;
	NEED_KVM();
	static const uint8_t code[] = {
		0x31, 0xc0,                                     /* xor eax, eax */
		0x0f, 0xa2,                                     /* cpuid */
		0x89, 0x1c, 0x25, 0x00, 0x00, 0x02, 0x00,       /* mov [0x20000], ebx */
		0x89, 0x14, 0x25, 0x04, 0x00, 0x02, 0x00,       /* mov [0x20004], edx */
		0x89, 0x0c, 0x25, 0x08, 0x00, 0x02, 0x00,       /* mov [0x20008], ecx */
		0xe6, 0x80,                                     /* out 0x80, al */
		0xeb, 0xfe,
	};
	struct ke k;
	ke_setup(&k, 0, code, sizeof code); /* ring 0: PVM lets ring-3 CPUID reach the host CPU */
	/* The host's leaves (so long mode, PAE, FXSR, XSAVE stay available), with vendor "hvxhvxhvxhvx". */
	static const uint32_t leaves[][2] = {{0, 0}, {1, 0}, {7, 0}, {0xd, 0}, {0xd, 1}, {0x80000000, 0},
					     {0x80000001, 0}, {0x80000008, 0}};
	struct hvx_cpuid_entry t[8];
	for (unsigned i = 0; i < 8; i++) {
		memset(&t[i], 0, sizeof t[i]);
		t[i].function = leaves[i][0];
		t[i].index = leaves[i][1];
		t[i].flags = (leaves[i][0] == 7 || leaves[i][0] == 0xd) ? HVX_CPUID_SIGNIFICANT_INDEX : 0;
		__cpuid_count(leaves[i][0], leaves[i][1], t[i].eax, t[i].ebx, t[i].ecx, t[i].edx);
	}
	memcpy(&t[0].ebx, "hvxh", 4);
	memcpy(&t[0].edx, "vxhv", 4);
	memcpy(&t[0].ecx, "xhvx", 4);
	assert_int_equal(hvx_vcpu_set_cpuid(k.vcpu, NULL, 1), HV_BAD_ARGUMENT);
	assert_int_equal(hvx_vcpu_set_cpuid(k.vcpu, t, 0), HV_BAD_ARGUMENT);
	assert_int_equal(hvx_vcpu_set_cpuid(k.vcpu, t, 8), HV_SUCCESS);
	ke_expect_reason(&k, VMX_REASON_IO);
	assert_memory_equal(k.mem + 0x20000, "hvxhvxhvxhvx", 12);
	assert_int_equal(hvx_vcpu_set_cpuid(k.vcpu, t, 8), HV_BUSY); /* fixed once the vCPU ran */
	ke_teardown(&k);
}

static void test_unexpressible_maps_refused(void **state)
{
	(void)state;
	NEED_KVM();
	struct ke k;
	static const uint8_t code[] = {0xeb, 0xfe};
	ke_setup(&k, 3, code, sizeof code);
	uint8_t *page = mmap(NULL, 0x3000, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(page != MAP_FAILED);
	assert_int_equal(hv_vm_map(page, 0x1000000, 0x1000, HV_MEMORY_WRITE), HV_UNSUPPORTED);
	assert_int_equal(hv_vm_map(page + 0x1000, 0x1001000, 0x1000, HV_MEMORY_EXEC), HV_UNSUPPORTED);
	assert_int_equal(hv_vm_map(page + 0x2000, 0x1002000, 0x1000, HV_MEMORY_READ), HV_SUCCESS);
	ke_teardown(&k);
	munmap(page, 0x3000);
}

static void test_mmio_rmw_and_string(void **state)
{
	(void)state;
	NEED_KVM();
	static const uint8_t code[] = {
		0x01, 0x04, 0x25, 0x00, 0x00, 0x80, 0x00, /* add [0x800000], eax */
		0x48, 0xbf, 0x08, 0x00, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00, /* mov rdi, 0x800008 */
		0xb9, 0x04, 0x00, 0x00, 0x00,             /* mov ecx, 4 */
		0xf3, 0xaa,                               /* rep stosb */
		0xeb, 0xfe,
	};
	struct ke k;
	ke_setup(&k, 3, code, sizeof code);
	ke_expect_reason(&k, VMX_REASON_EPT_VIOLATION);
	assert_int_equal(ke_r(&k, VMCS_RO_EXIT_QUALIFIC), 0x183); /* read and write */
	assert_int_equal(ke_r(&k, VMCS_GUEST_PHYSICAL_ADDRESS), KE_MMIO);
	assert_int_equal(ke_reg(&k, HV_X86_RIP), KE_CODE);
	ke_set(&k, HV_X86_RIP, KE_CODE + 7);
	ke_expect_reason(&k, VMX_REASON_EPT_VIOLATION);
	assert_int_equal(ke_r(&k, VMCS_RO_EXIT_QUALIFIC), 0x182);
	assert_int_equal(ke_r(&k, VMCS_GUEST_PHYSICAL_ADDRESS), KE_MMIO + 8);
	assert_int_equal(ke_r(&k, VMCS_RO_GUEST_LIN_ADDR), KE_MMIO + 8);
	assert_int_equal(ke_reg(&k, HV_X86_RIP), KE_CODE + 22);
	assert_int_equal(ke_reg(&k, HV_X86_RCX), 4); /* before the first iteration */
	assert_int_equal(ke_reg(&k, HV_X86_RDI), KE_MMIO + 8);
	ke_teardown(&k);
}

static void test_hlt_activity_state(void **state)
{
	(void)state;
	NEED_KVM();
	static const uint8_t code[] = {0xe6, 0x80, 0xeb, 0xfe};
	struct ke k;
	ke_setup(&k, 0, code, sizeof code); /* HLT activity needs SS.DPL 0 */
	ke_w(&k, VMCS_GUEST_ACTIVITY_STATE, 1);
	/* Halted with nothing to deliver: no instruction runs until the deadline. */
	assert_int_equal(ke_run_ms(&k, 30), VMX_REASON_VMX_TIMER_EXPIRED);
	assert_int_equal(ke_reg(&k, HV_X86_RIP), KE_CODE);
	hv_vcpuid_t id = k.vcpu;
	assert_int_equal(hv_vcpu_interrupt(&id, 1), HV_SUCCESS);
	assert_int_equal(ke_run_ms(&k, 1000), VMX_REASON_IRQ);
	ke_w(&k, VMCS_GUEST_ACTIVITY_STATE, 0);
	ke_expect_reason(&k, VMX_REASON_IO);
	ke_teardown(&k);
}

static void test_state_round_trip(void **state)
{
	(void)state;
	NEED_KVM();
	static const uint8_t code[] = {
		0x66, 0x0f, 0xd6, 0x04, 0x25, 0x00, 0x00, 0x02, 0x00, /* movq [0x20000], xmm0 */
		0xe6, 0x80, 0xeb, 0xfe,                               /* out 0x80, al; jmp $ */
	};
	struct ke k;
	ke_setup(&k, 3, code, sizeof code);
	ke_w(&k, VMCS_GUEST_FS_BASE, 0x1234000);
	ke_w(&k, VMCS_GUEST_GS_BASE, 0x5678000);
	ke_w(&k, VMCS_GUEST_IA32_SYSENTER_CS, 0x10);
	ke_w(&k, VMCS_GUEST_SYSENTER_ESP, 0x9000);
	ke_w(&k, VMCS_GUEST_SYSENTER_EIP, 0x10abc);
	ke_w(&k, VMCS_GUEST_IA32_PAT, 0x0007040600070406ull);
	assert_int_equal(hv_vcpu_write_msr(k.vcpu, 0xc0000102, 0xffff800000001000ull), HV_SUCCESS);
	assert_int_equal(hv_vcpu_write_msr(k.vcpu, 0xc0000081, 0x0023001000000000ull), HV_SUCCESS);
	assert_int_equal(hv_vcpu_write_msr(k.vcpu, 0xc0000082, 0xffffffff81000000ull), HV_SUCCESS);
	ke_set(&k, HV_X86_CR2, 0xdead000);
	ke_set(&k, HV_X86_DR0, 0x4000);
	ke_set(&k, HV_X86_TPR, 0x50);
	ke_set(&k, HV_X86_R13, 0x1313131313131313ull);
	uint8_t fp[4096] __attribute__((aligned(64)));
	assert_int_equal(hv_vcpu_read_fpstate(k.vcpu, fp, sizeof fp), HV_SUCCESS);
	uint64_t x0 = 0x0123456789abcdefull;
	memcpy(fp + 160, &x0, 8); /* XMM0 in the legacy XSAVE area */
	assert_int_equal(hv_vcpu_write_fpstate(k.vcpu, fp, sizeof fp), HV_SUCCESS);

	ke_expect_reason(&k, VMX_REASON_IO);
	assert_int_equal(*(uint64_t *)(k.mem + 0x20000), x0); /* the guest saw the FPU image */
	assert_int_equal(ke_r(&k, VMCS_GUEST_FS_BASE), 0x1234000);
	assert_int_equal(ke_r(&k, VMCS_GUEST_GS_BASE), 0x5678000);
	assert_int_equal(ke_r(&k, VMCS_GUEST_CS_AR), 0xa0fb);
	assert_int_equal(ke_r(&k, VMCS_GUEST_SS_AR), 0xc0f3);
	assert_int_equal(ke_r(&k, VMCS_GUEST_TR_AR), 0x8b);
	assert_int_equal(ke_r(&k, VMCS_GUEST_TR_BASE), KE_TSS);
	assert_int_equal(ke_r(&k, VMCS_GUEST_GDTR_BASE), KE_GDT);
	assert_int_equal(ke_r(&k, VMCS_GUEST_IDTR_LIMIT), 0xfff);
	assert_int_equal(ke_r(&k, VMCS_GUEST_CR3), KE_PML4);
	assert_int_equal(ke_r(&k, VMCS_GUEST_CR4), 0x2620);
	assert_int_equal(ke_r(&k, VMCS_GUEST_IA32_EFER), 0x500);
	assert_int_equal(ke_r(&k, VMCS_GUEST_IA32_SYSENTER_CS), 0x10);
	assert_int_equal(ke_r(&k, VMCS_GUEST_SYSENTER_ESP), 0x9000);
	assert_int_equal(ke_r(&k, VMCS_GUEST_SYSENTER_EIP), 0x10abc);
	uint64_t v = 0;
	assert_int_equal(hv_vcpu_read_msr(k.vcpu, 0xc0000102, &v), HV_SUCCESS);
	assert_int_equal(v, 0xffff800000001000ull);
	assert_int_equal(hv_vcpu_read_msr(k.vcpu, 0xc0000081, &v), HV_SUCCESS);
	assert_int_equal(v, 0x0023001000000000ull);
	assert_int_equal(hv_vcpu_read_msr(k.vcpu, 0xc0000082, &v), HV_SUCCESS);
	assert_int_equal(v, 0xffffffff81000000ull);
	assert_int_equal(ke_reg(&k, HV_X86_CR2), 0xdead000);
	assert_int_equal(ke_reg(&k, HV_X86_DR0), 0x4000);
	assert_int_equal(ke_reg(&k, HV_X86_DR7), 0x400);
	assert_int_equal(ke_reg(&k, HV_X86_TPR), 0x50);
	assert_int_equal(ke_reg(&k, HV_X86_R13), 0x1313131313131313ull);
	memset(fp, 0, sizeof fp);
	assert_int_equal(hv_vcpu_read_fpstate(k.vcpu, fp, sizeof fp), HV_SUCCESS);
	assert_memory_equal(fp + 160, &x0, 8);
	ke_teardown(&k);
}

static void test_set_cpuid_unsupported_on_emu(void **state)
{
	(void)state;
	if (!hvx_backend_available("emu", NULL))
		skip();
	assert_int_equal(hvx_vm_create_with_backend(HV_VM_DEFAULT, "emu"), HV_SUCCESS);
	hv_vcpuid_t id;
	assert_int_equal(hv_vcpu_create(&id, HV_VCPU_DEFAULT), HV_SUCCESS);
	struct hvx_cpuid_entry e = {0};
	assert_int_equal(hvx_vcpu_set_cpuid(id, &e, 1), HV_UNSUPPORTED);
	assert_int_equal(hv_vcpu_destroy(id), HV_SUCCESS);
	assert_int_equal(hv_vm_destroy(), HV_SUCCESS);
}

static void test_emulation_failure_is_an_error(void **state)
{
	(void)state;
	NEED_KVM();
	static const uint8_t code[] = {0xf3, 0x0f, 0xb8, 0xc0, 0xeb, 0xfe}; /* popcnt eax, eax; jmp $ */
	struct ke k;
	ke_setup(&k, 0, code, sizeof code);
	/* PVM's instruction emulator (ring 0) cannot do POPCNT: the run fails with HV_ERROR and a message on stderr,
	 * never a hang; hardware runs it. Either way the VMM can go on (here: skip the instruction). */
	hv_return_t r = hv_vcpu_run_until(k.vcpu, ke_now_ns() + 100000000ull);
	if (r == HV_ERROR) {
		assert_int_equal(ke_reg(&k, HV_X86_RIP), KE_CODE);
		ke_set(&k, HV_X86_RIP, KE_CODE + 4);
		assert_int_equal(ke_run_ms(&k, 50), VMX_REASON_VMX_TIMER_EXPIRED);
	} else {
		assert_int_equal(r, HV_SUCCESS);
		assert_int_equal(ke_r(&k, VMCS_RO_EXIT_REASON), VMX_REASON_VMX_TIMER_EXPIRED);
	}
	assert_int_equal(ke_reg(&k, HV_X86_RIP), KE_CODE + 4);
	ke_teardown(&k);
}

static void test_default_cpuid_has_no_kvm_leaves(void **state)
{
	(void)state;
	NEED_KVM();
	static const uint8_t code[] = {
		0xb8, 0x00, 0x00, 0x00, 0x40,             /* mov eax, 0x40000000 */
		0x0f, 0xa2,                               /* cpuid */
		0x89, 0x1c, 0x25, 0x00, 0x00, 0x02, 0x00, /* mov [0x20000], ebx */
		0xe6, 0x80, 0xeb, 0xfe,
	};
	struct ke k;
	ke_setup(&k, 0, code, sizeof code); /* ring 0: PVM lets ring-3 CPUID reach the host CPU */
	ke_expect_reason(&k, VMX_REASON_IO);
	/* KVM's signature ("KVMK") would mean kvmclock & co., whose MSRs a VMM written for Apple does not know. */
	assert_memory_not_equal(k.mem + 0x20000, "KVMK", 4);
	ke_teardown(&k);
}

static void test_capabilities_are_what_the_tests_show(void **state)
{
	(void)state;
	uint64_t proc = 0, pin = 0, proc2 = 0;
	assert_int_equal(hvx_backend_read_capability("kvm", HV_VMX_CAP_PROCBASED, &proc), HV_SUCCESS);
	assert_int_equal(hvx_backend_read_capability("kvm", HV_VMX_CAP_PINBASED, &pin), HV_SUCCESS);
	assert_int_equal(hvx_backend_read_capability("kvm", HV_VMX_CAP_PROCBASED2, &proc2), HV_SUCCESS);
	/* Every I/O and every HLT exits (no in-kernel irqchip): must be 1. */
	assert_true(proc & CPU_BASED_UNCOND_IO);
	assert_true(proc & CPU_BASED_HLT);
	/* Honoured on request. */
	assert_true((proc >> 32) & CPU_BASED_IRQ_WND);
	assert_true((proc >> 32) & CPU_BASED_MTF);
	assert_true((pin >> 32) & PIN_BASED_PREEMPTION_TIMER);
	/* Kept in the kernel or not selectable per port / MSR: never allowed. */
	static const uint32_t never[] = {CPU_BASED_IO_BITMAPS, CPU_BASED_INVLPG, CPU_BASED_MWAIT, CPU_BASED_RDPMC,
					 CPU_BASED_RDTSC, CPU_BASED_CR3_LOAD, CPU_BASED_CR3_STORE, CPU_BASED_CR8_LOAD,
					 CPU_BASED_CR8_STORE, CPU_BASED_TPR_SHADOW, CPU_BASED_VIRTUAL_NMI_WND,
					 CPU_BASED_MOV_DR, CPU_BASED_MONITOR, CPU_BASED_PAUSE};
	for (unsigned i = 0; i < sizeof never / sizeof never[0]; i++)
		if ((proc >> 32) & never[i])
			fail_msg("primary control %#x advertised but KVM keeps it in the kernel", never[i]);
	assert_int_equal(proc2 >> 32, CPU_BASED2_EPT | CPU_BASED2_UNRESTRICTED);
	/* The reasons are exactly those the kvm tests produce. */
	static const unsigned produced[] = {VMX_REASON_IRQ, VMX_REASON_TRIPLE_FAULT, VMX_REASON_IRQ_WND, VMX_REASON_HLT,
					    VMX_REASON_IO, VMX_REASON_RDMSR, VMX_REASON_WRMSR, VMX_REASON_VMENTRY_GUEST,
					    VMX_REASON_MTF, VMX_REASON_EPT_VIOLATION, VMX_REASON_VMX_TIMER_EXPIRED};
	unsigned count = 0;
	for (unsigned r = 0; r < 128; r++) {
		bool p = false;
		assert_int_equal(hvx_backend_produces_reason("kvm", r, &p), HV_SUCCESS);
		bool want = false;
		for (unsigned i = 0; i < sizeof produced / sizeof produced[0]; i++)
			want |= produced[i] == r;
		if (p != want)
			fail_msg("reason %u: produces %d, wanted %d", r, p, want);
		count += p;
	}
	assert_int_equal(count, sizeof produced / sizeof produced[0]);
}

int main(void)
{
	alarm(55); /* a hung KVM_RUN must fail the test, never hang it */
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_capabilities_are_what_the_tests_show),
		cmocka_unit_test_teardown(test_deadline_bounds_any_guest, cleanup),
		cmocka_unit_test_teardown(test_set_cpuid, cleanup),
		cmocka_unit_test_teardown(test_default_cpuid_has_no_kvm_leaves, cleanup),
		cmocka_unit_test_teardown(test_unexpressible_maps_refused, cleanup),
		cmocka_unit_test_teardown(test_mmio_rmw_and_string, cleanup),
		cmocka_unit_test_teardown(test_hlt_activity_state, cleanup),
		cmocka_unit_test_teardown(test_state_round_trip, cleanup),
		cmocka_unit_test_teardown(test_emulation_failure_is_an_error, cleanup),
		cmocka_unit_test_teardown(test_set_cpuid_unsupported_on_emu, cleanup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
