/* test_emu_smm.c: the hvx_ extensions for wait-for-SIPI / SIPI, the dual-monitor SMM model, the VM-entry MSR-load list and injected entry machine checks: argument and thread checks, capabilities, control checks, kvm refusals, and emu behaviour the conformance cases do not cover (the shutdown wait's CPU use). */
#include <pthread.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include <hvx/hvx.h>

#include "emu_guest.h"

static const uint8_t NOPS_HLT[] = {0x90, 0x90, 0xf4}; /* nop; nop; hlt */

static void guest(struct eg *g)
{
	eg_create(g);
	eg_long64(g, EG_CODE);
	eg_load(g, EG_CODE, NOPS_HLT, sizeof NOPS_HLT);
}

static void expect_exit(struct eg *g, uint64_t reason, uint64_t qual, uint64_t rip)
{
	assert_int_equal(hv_vcpu_run(g->vcpu), HV_SUCCESS);
	struct eg_exit e = eg_exit_info(g);
	assert_int_equal(e.reason, reason);
	assert_int_equal(e.qual, qual);
	assert_int_equal(e.rip, rip);
	assert_int_equal(e.intr, 0);
	assert_int_equal(e.idt, 0);
	assert_int_equal(e.len, reason == VMX_REASON_HLT ? 1 : 0);
}

static void test_no_vm(void **state)
{
	(void)state;
	struct hvx_msr_entry e = {0xc0000103u, 0, 1};
	assert_int_equal(hvx_vcpu_set_activity_state(0, 3), HV_NO_DEVICE);
	assert_int_equal(hvx_vcpu_set_activity_state(0, 2), HV_NO_DEVICE);
	assert_int_equal(hvx_vcpu_raise_sipi(0, 1), HV_NO_DEVICE);
	assert_int_equal(hvx_vcpu_set_dual_monitor(0, true), HV_NO_DEVICE);
	assert_int_equal(hvx_vcpu_raise_smi(0), HV_NO_DEVICE);
	assert_int_equal(hvx_vcpu_set_smi_ports(0, 0, 1, true), HV_NO_DEVICE);
	assert_int_equal(hvx_vcpu_set_entry_msr_load(0, &e, 1), HV_NO_DEVICE);
	assert_int_equal(hvx_vcpu_inject_entry_machine_check(0), HV_NO_DEVICE);
}

static void test_arguments(void **state)
{
	(void)state;
	struct eg g;
	guest(&g);
	hv_vcpuid_t other = g.vcpu + 1;
	/* activity state: 0 to 3 (IA32_VMX_MISC bits 6-8 advertise HLT, shutdown, wait-for-SIPI); Apple's VMCS write
	 * rule (0 or 1) is kept */
	uint64_t misc = 0;
	assert_int_equal(hv_vmx_read_capability(HV_VMX_CAP_MISC, &misc), HV_SUCCESS);
	assert_int_equal((misc >> 6) & 7, 7);
	assert_int_equal(hvx_vcpu_set_activity_state(g.vcpu, 4), HV_BAD_ARGUMENT);
	assert_int_equal(hvx_vcpu_set_activity_state(g.vcpu, 0xffffffffu), HV_BAD_ARGUMENT);
	assert_int_equal(hvx_vcpu_set_activity_state(other, 3), HV_BAD_ARGUMENT);
	assert_int_equal(hvx_vcpu_set_activity_state(other, 2), HV_BAD_ARGUMENT);
	assert_int_equal(hv_vmx_vcpu_write_vmcs(g.vcpu, VMCS_GUEST_ACTIVITY_STATE, 3), HV_BAD_ARGUMENT);
	assert_int_equal(hv_vmx_vcpu_write_vmcs(g.vcpu, VMCS_GUEST_ACTIVITY_STATE, 2), HV_BAD_ARGUMENT);
	assert_int_equal(eg_rd(&g, VMCS_GUEST_ACTIVITY_STATE), 0); /* refused writes left it alone */
	assert_int_equal(hvx_vcpu_set_activity_state(g.vcpu, 2), HV_SUCCESS);
	assert_int_equal(eg_rd(&g, VMCS_GUEST_ACTIVITY_STATE), 2);
	assert_int_equal(hvx_vcpu_set_activity_state(g.vcpu, 3), HV_SUCCESS);
	assert_int_equal(eg_rd(&g, VMCS_GUEST_ACTIVITY_STATE), 3);
	assert_int_equal(hvx_vcpu_set_activity_state(g.vcpu, 1), HV_SUCCESS);
	assert_int_equal(eg_rd(&g, VMCS_GUEST_ACTIVITY_STATE), 1);
	assert_int_equal(hvx_vcpu_set_activity_state(g.vcpu, 0), HV_SUCCESS);
	/* SIPI: any vector, known vCPU */
	assert_int_equal(hvx_vcpu_raise_sipi(other, 1), HV_BAD_ARGUMENT);
	assert_int_equal(hvx_vcpu_raise_sipi(1000000, 1), HV_BAD_ARGUMENT);
	assert_int_equal(hvx_vcpu_raise_sipi(g.vcpu, 0), HV_SUCCESS);
	assert_int_equal(hvx_vcpu_raise_sipi(g.vcpu, 255), HV_SUCCESS);
	/* SMI: refused while the model is off */
	assert_int_equal(hvx_vcpu_raise_smi(g.vcpu), HV_DENIED);
	assert_int_equal(hvx_vcpu_raise_smi(other), HV_BAD_ARGUMENT);
	assert_int_equal(hvx_vcpu_set_dual_monitor(other, true), HV_BAD_ARGUMENT);
	assert_int_equal(hvx_vcpu_set_dual_monitor(g.vcpu, true), HV_SUCCESS);
	assert_int_equal(hvx_vcpu_raise_smi(g.vcpu), HV_SUCCESS);
	assert_int_equal(hvx_vcpu_set_dual_monitor(g.vcpu, false), HV_SUCCESS);
	assert_int_equal(hvx_vcpu_raise_smi(g.vcpu), HV_DENIED);
	/* SMI ports: the range stays inside 0..0xffff */
	assert_int_equal(hvx_vcpu_set_smi_ports(g.vcpu, 0xffff, 2, true), HV_BAD_ARGUMENT);
	assert_int_equal(hvx_vcpu_set_smi_ports(g.vcpu, 0, 0x10001, true), HV_BAD_ARGUMENT);
	assert_int_equal(hvx_vcpu_set_smi_ports(other, 0, 1, true), HV_BAD_ARGUMENT);
	assert_int_equal(hvx_vcpu_set_smi_ports(g.vcpu, 0xffff, 1, true), HV_SUCCESS);
	assert_int_equal(hvx_vcpu_set_smi_ports(g.vcpu, 0, 0x10000, false), HV_SUCCESS);
	assert_int_equal(hvx_vcpu_set_smi_ports(g.vcpu, 5, 0, true), HV_SUCCESS);
	/* MSR-load list: NULL only with count 0, at most 512 entries (IA32_VMX_MISC[27:25] = 0) */
	static struct hvx_msr_entry list[513];
	assert_int_equal(hvx_vcpu_set_entry_msr_load(g.vcpu, NULL, 1), HV_BAD_ARGUMENT);
	assert_int_equal(hvx_vcpu_set_entry_msr_load(g.vcpu, list, 513), HV_BAD_ARGUMENT);
	assert_int_equal(hvx_vcpu_set_entry_msr_load(other, list, 1), HV_BAD_ARGUMENT);
	assert_int_equal(hvx_vcpu_set_entry_msr_load(g.vcpu, NULL, 0), HV_SUCCESS);
	assert_int_equal(hvx_vcpu_set_entry_msr_load(g.vcpu, list, 512), HV_SUCCESS);
	assert_int_equal(hvx_vcpu_set_entry_msr_load(g.vcpu, list, 0), HV_SUCCESS);
	assert_int_equal(hvx_vcpu_inject_entry_machine_check(other), HV_BAD_ARGUMENT);
	eg_destroy(&g);
}

struct other_thread {
	hv_vcpuid_t vcpu;
	hv_return_t act, dual, ports, msrs, mc, sipi, smi;
};

static void *from_other_thread(void *arg)
{
	struct other_thread *o = arg;
	struct hvx_msr_entry e = {0xc0000103u, 0, 1};
	o->act = hvx_vcpu_set_activity_state(o->vcpu, 3);
	o->dual = hvx_vcpu_set_dual_monitor(o->vcpu, false);
	o->ports = hvx_vcpu_set_smi_ports(o->vcpu, 0, 1, true);
	o->msrs = hvx_vcpu_set_entry_msr_load(o->vcpu, &e, 1);
	o->mc = hvx_vcpu_inject_entry_machine_check(o->vcpu);
	o->sipi = hvx_vcpu_raise_sipi(o->vcpu, 7);
	o->smi = hvx_vcpu_raise_smi(o->vcpu);
	return NULL;
}

/* Owner-thread calls refuse another thread (nothing changes); SIPI and SMI may come from any thread. */
static void test_threads(void **state)
{
	(void)state;
	struct eg g;
	guest(&g);
	assert_int_equal(hvx_vcpu_set_dual_monitor(g.vcpu, true), HV_SUCCESS);
	struct other_thread o = {.vcpu = g.vcpu};
	pthread_t t;
	pthread_create(&t, NULL, from_other_thread, &o);
	pthread_join(t, NULL);
	assert_int_equal(o.act, HV_BAD_ARGUMENT);
	assert_int_equal(o.dual, HV_BAD_ARGUMENT);
	assert_int_equal(o.ports, HV_BAD_ARGUMENT);
	assert_int_equal(o.msrs, HV_BAD_ARGUMENT);
	assert_int_equal(o.mc, HV_BAD_ARGUMENT);
	assert_int_equal(o.sipi, HV_SUCCESS);
	assert_int_equal(o.smi, HV_SUCCESS);
	assert_int_equal(eg_rd(&g, VMCS_GUEST_ACTIVITY_STATE), 0);
	/* The SMI exits (the model stayed on); the SIPI was discarded (active state); no machine check. */
	expect_exit(&g, VMX_REASON_OTHER_SMI, 0, EG_CODE);
	eg_expect_insn_exit(&g, VMX_REASON_HLT, EG_CODE + 2, 1, 0, 0);
	eg_destroy(&g);
}

static void test_capabilities(void **state)
{
	(void)state;
	uint64_t basic, misc, entry;
	assert_int_equal(hvx_backend_read_capability("emu", HV_VMX_CAP_BASIC, &basic), HV_SUCCESS);
	assert_int_equal(hvx_backend_read_capability("emu", HV_VMX_CAP_MISC, &misc), HV_SUCCESS);
	assert_int_equal(hvx_backend_read_capability("emu", HV_VMX_CAP_ENTRY, &entry), HV_SUCCESS);
	assert_true(basic & (1ull << 49));               /* dual-monitor treatment */
	assert_true(misc & (1ull << 8));                 /* wait-for-SIPI */
	assert_true(misc & (1ull << 7));                 /* shutdown */
	assert_int_equal((misc >> 25) & 7, 0);           /* 512 MSR-list entries */
	assert_int_equal((entry >> 32) & (3u << 10), 3u << 10); /* may be 1 */
	assert_int_equal(entry & (3u << 10), 0);                 /* may be 0 */
	static const unsigned reasons[] = {VMX_REASON_SIPI, VMX_REASON_IO_SMI, VMX_REASON_OTHER_SMI, VMX_REASON_RSM,
					   VMX_REASON_VMENTRY_MSR, VMX_REASON_VMENTRY_MC};
	for (unsigned i = 0; i < sizeof reasons / sizeof reasons[0]; i++) {
		bool p = false;
		assert_int_equal(hvx_backend_produces_reason("emu", reasons[i], &p), HV_SUCCESS);
		assert_true(p);
	}
}

/* Entry to SMM and deactivate dual-monitor: VMfail 7 without the model or both set; deactivation ends the model. */
static void test_smm_entry_controls(void **state)
{
	(void)state;
	struct eg g;
	guest(&g);
	uint64_t en = eg_rd(&g, VMCS_CTRL_VMENTRY_CONTROLS);
	eg_wr(&g, VMCS_CTRL_VMENTRY_CONTROLS, en | VMENTRY_DEACTIVATE_DUAL_MONITOR);
	assert_int_equal(hv_vcpu_run(g.vcpu), HV_ERROR); /* model off */
	assert_int_equal(eg_rd(&g, VMCS_RO_INSTR_ERROR), 7);
	assert_int_equal(hvx_vcpu_set_dual_monitor(g.vcpu, true), HV_SUCCESS);
	eg_wr(&g, VMCS_CTRL_VMENTRY_CONTROLS, en | VMENTRY_DEACTIVATE_DUAL_MONITOR | VMENTRY_SMM);
	eg_wr(&g, VMCS_GUEST_INTERRUPTIBILITY, 4);
	assert_int_equal(hv_vcpu_run(g.vcpu), HV_ERROR); /* not both */
	eg_wr(&g, VMCS_GUEST_INTERRUPTIBILITY, 0);
	eg_wr(&g, VMCS_CTRL_VMENTRY_CONTROLS, en | VMENTRY_DEACTIVATE_DUAL_MONITOR);
	eg_expect_insn_exit(&g, VMX_REASON_HLT, EG_CODE + 2, 1, 0, 0);
	assert_int_equal(hvx_vcpu_raise_smi(g.vcpu), HV_DENIED); /* the entry deactivated the model */
	assert_int_equal(hv_vcpu_run(g.vcpu), HV_ERROR);          /* and the control is now invalid */
	eg_wr(&g, VMCS_CTRL_VMENTRY_CONTROLS, en);
	assert_int_equal(hvx_vcpu_set_dual_monitor(g.vcpu, true), HV_SUCCESS);
	assert_int_equal(hvx_vcpu_raise_smi(g.vcpu), HV_SUCCESS);
	assert_int_equal(hvx_vcpu_set_dual_monitor(g.vcpu, false), HV_SUCCESS);
	eg_wr(&g, VMCS_GUEST_RIP, EG_CODE);
	eg_expect_insn_exit(&g, VMX_REASON_HLT, EG_CODE + 2, 1, 0, 0); /* the latched SMI was dropped with the model */
	assert_int_equal(hvx_vcpu_set_dual_monitor(g.vcpu, true), HV_SUCCESS);
	eg_wr(&g, VMCS_GUEST_RIP, EG_CODE);
	eg_expect_insn_exit(&g, VMX_REASON_HLT, EG_CODE + 2, 1, 0, 0); /* not kept for later either */
	eg_destroy(&g);
}

/* The model is an input of the control checks that hv_vcpu_run_until skips while none of their inputs changed:
 * turning it off after an entry whose controls passed with "entry to SMM" makes the next entry VMfail 7. */
static void test_model_off_rechecks_entry_controls(void **state)
{
	(void)state;
	struct eg g;
	guest(&g);
	assert_int_equal(hvx_vcpu_set_dual_monitor(g.vcpu, true), HV_SUCCESS);
	assert_int_equal(hvx_vcpu_set_activity_state(g.vcpu, 3), HV_SUCCESS);
	eg_wr(&g, VMCS_GUEST_INTERRUPTIBILITY, 4);
	eg_wr(&g, VMCS_CTRL_VMENTRY_CONTROLS, eg_rd(&g, VMCS_CTRL_VMENTRY_CONTROLS) | VMENTRY_SMM);
	/* the controls pass, the guest state does not (no entry to SMM in wait-for-SIPI): exit 33, an entry */
	expect_exit(&g, 0x80000000u | VMX_REASON_VMENTRY_GUEST, 0, EG_CODE);
	assert_int_equal(hvx_vcpu_set_dual_monitor(g.vcpu, false), HV_SUCCESS);
	assert_int_equal(hv_vcpu_run(g.vcpu), HV_ERROR); /* entry to SMM without the model */
	assert_int_equal(eg_rd(&g, VMCS_RO_INSTR_ERROR), 7);
	eg_destroy(&g);
}

/* Wait-for-SIPI entry checks (SDM 26.3.1.5): no STI / MOV-SS blocking, no entry to SMM. */
static void test_wait_for_sipi_entry_checks(void **state)
{
	(void)state;
	struct eg g;
	guest(&g);
	assert_int_equal(hvx_vcpu_set_activity_state(g.vcpu, 3), HV_SUCCESS);
	eg_wr(&g, VMCS_GUEST_INTERRUPTIBILITY, 2);
	expect_exit(&g, 0x80000000u | VMX_REASON_VMENTRY_GUEST, 0, EG_CODE);
	eg_wr(&g, VMCS_GUEST_INTERRUPTIBILITY, 4);
	assert_int_equal(hvx_vcpu_set_dual_monitor(g.vcpu, true), HV_SUCCESS);
	eg_wr(&g, VMCS_CTRL_VMENTRY_CONTROLS, eg_rd(&g, VMCS_CTRL_VMENTRY_CONTROLS) | VMENTRY_SMM);
	expect_exit(&g, 0x80000000u | VMX_REASON_VMENTRY_GUEST, 0, EG_CODE);
	/* A SIPI with vector 0 and one with 0xff: the qualification is the vector. */
	eg_wr(&g, VMCS_CTRL_VMENTRY_CONTROLS, eg_rd(&g, VMCS_CTRL_VMENTRY_CONTROLS) & ~(uint64_t)VMENTRY_SMM);
	eg_wr(&g, VMCS_GUEST_INTERRUPTIBILITY, 0);
	assert_int_equal(hvx_vcpu_raise_sipi(g.vcpu, 0), HV_SUCCESS);
	expect_exit(&g, VMX_REASON_SIPI, 0, EG_CODE);
	assert_int_equal(hvx_vcpu_raise_sipi(g.vcpu, 0xff), HV_SUCCESS);
	assert_int_equal(hvx_vcpu_set_activity_state(g.vcpu, 3), HV_SUCCESS); /* already waiting: the SIPI stays */
	expect_exit(&g, VMX_REASON_SIPI, 0xff, EG_CODE);
	assert_int_equal(eg_rd(&g, VMCS_GUEST_ACTIVITY_STATE), 3);
	eg_destroy(&g);
}

static uint64_t clock_ns(clockid_t id)
{
	struct timespec t;
	clock_gettime(id, &t);
	return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
}

/* Shutdown waits in sleeps (no busy loop): a 100-ms run deadline ends it with exit 52 (activity state 2 saved, RIP
 * unchanged) after at least 100 ms, having used a small part of that in CPU time; the entry checks of the state. */
static void test_shutdown_wait(void **state)
{
	(void)state;
	struct eg g;
	guest(&g);
	assert_int_equal(hvx_vcpu_set_activity_state(g.vcpu, HVX_ACTIVITY_SHUTDOWN), HV_SUCCESS);
	uint64_t wall0 = clock_ns(CLOCK_MONOTONIC), cpu0 = clock_ns(CLOCK_THREAD_CPUTIME_ID);
	assert_int_equal(hv_vcpu_run_until(g.vcpu, wall0 + 100000000ull), HV_SUCCESS);
	uint64_t wall = clock_ns(CLOCK_MONOTONIC) - wall0, cpu = clock_ns(CLOCK_THREAD_CPUTIME_ID) - cpu0;
	struct eg_exit e = eg_exit_info(&g);
	assert_int_equal(e.reason, VMX_REASON_VMX_TIMER_EXPIRED);
	assert_int_equal(e.rip, EG_CODE);
	assert_int_equal(eg_rd(&g, VMCS_GUEST_ACTIVITY_STATE), 2);
	assert_true(wall >= 100000000ull);
	printf("shutdown wait: %.1f ms wall, %.1f ms CPU\n", wall / 1e6, cpu / 1e6);
	assert_true(cpu * 4 < wall); /* sleeps, not a spin */
	/* STI / MOV-SS blocking needs the active state; shutdown takes only NMI / #MC injection (SDM 26.3.1.5). */
	eg_wr(&g, VMCS_GUEST_RFLAGS, 0x202);
	eg_wr(&g, VMCS_GUEST_INTERRUPTIBILITY, 1);
	expect_exit(&g, 0x80000000u | VMX_REASON_VMENTRY_GUEST, 0, EG_CODE);
	eg_wr(&g, VMCS_GUEST_INTERRUPTIBILITY, 0);
	eg_wr(&g, VMCS_CTRL_VMENTRY_EXC_ERROR, 0);
	eg_wr(&g, VMCS_CTRL_VMENTRY_IRQ_INFO, 0x80000b00u | 13); /* #GP with its error code */
	expect_exit(&g, 0x80000000u | VMX_REASON_VMENTRY_GUEST, 0, EG_CODE);
	assert_int_equal(eg_rd(&g, VMCS_CTRL_VMENTRY_IRQ_INFO), 0x80000b00u | 13); /* kept by the failed entry */
	eg_destroy(&g);
}

/* The list is processed at every entry; managed MSRs load too; value rules of WRMSR hold. */
static void test_entry_msr_values(void **state)
{
	(void)state;
	struct eg g;
	guest(&g);
	assert_int_equal(hv_vcpu_enable_managed_msr(g.vcpu, 0xc1, true), HV_SUCCESS); /* PMC0 */
	struct hvx_msr_entry l[] = {{0xc1, 0, 42}, {0x174, 0, 0xffffffff00000010ull}, {0x277, 0, 0x0007040600070406ull}};
	assert_int_equal(hvx_vcpu_set_entry_msr_load(g.vcpu, l, 3), HV_SUCCESS);
	l[0].value = 99; /* the list was copied */
	eg_expect_insn_exit(&g, VMX_REASON_HLT, EG_CODE + 2, 1, 0, 0);
	uint64_t v = 0;
	assert_int_equal(hv_vcpu_read_msr(g.vcpu, 0xc1, &v), HV_SUCCESS);
	assert_int_equal(v, 42);
	assert_int_equal(hv_vcpu_read_msr(g.vcpu, 0x174, &v), HV_SUCCESS);
	assert_int_equal(v, 0x10); /* SYSENTER_CS is 32 bits */
	assert_int_equal(hv_vcpu_read_msr(g.vcpu, 0x277, &v), HV_SUCCESS);
	assert_int_equal(v, 0x0007040600070406ull);
	assert_int_equal(hv_vcpu_write_msr(g.vcpu, 0xc1, 5), HV_SUCCESS);
	eg_wr(&g, VMCS_GUEST_RIP, EG_CODE);
	eg_expect_insn_exit(&g, VMX_REASON_HLT, EG_CODE + 2, 1, 0, 0);
	assert_int_equal(hv_vcpu_read_msr(g.vcpu, 0xc1, &v), HV_SUCCESS);
	assert_int_equal(v, 42); /* loaded again by this entry */
	/* Invalid PAT type 2, EFER.LME cleared under paging, a managed-range MSR that is not managed: each fails. */
	static const struct hvx_msr_entry bad[][1] = {{{0x277, 0, 0x0000000000000002ull}},
						      {{0xc0000080u, 0, 0}},
						      {{0xc2, 0, 1}}};
	for (unsigned i = 0; i < 3; i++) {
		assert_int_equal(hvx_vcpu_set_entry_msr_load(g.vcpu, bad[i], 1), HV_SUCCESS);
		eg_wr(&g, VMCS_GUEST_RIP, EG_CODE);
		expect_exit(&g, 0x80000000u | VMX_REASON_VMENTRY_MSR, 1, EG_CODE);
	}
	assert_int_equal(eg_rd(&g, VMCS_GUEST_IA32_EFER) & 0x500, 0x500);
	eg_destroy(&g);
}

/* With a kvm VM every new extension is refused with HV_UNSUPPORTED (nothing to run). */
static void test_kvm_unsupported(void **state)
{
	(void)state;
	const char *why = NULL;
	if (!hvx_backend_available("kvm", &why))
		skip();
	assert_int_equal(hvx_vm_create_with_backend(HV_VM_DEFAULT, "kvm"), HV_SUCCESS);
	hv_vcpuid_t v;
	assert_int_equal(hv_vcpu_create(&v, HV_VCPU_DEFAULT), HV_SUCCESS);
	struct hvx_msr_entry e = {0xc0000103u, 0, 1};
	assert_int_equal(hvx_vcpu_set_activity_state(v, 3), HV_UNSUPPORTED);
	assert_int_equal(hvx_vcpu_set_activity_state(v, 2), HV_UNSUPPORTED);
	assert_int_equal(hvx_vcpu_raise_sipi(v, 1), HV_UNSUPPORTED);
	assert_int_equal(hvx_vcpu_set_dual_monitor(v, true), HV_UNSUPPORTED);
	assert_int_equal(hvx_vcpu_raise_smi(v), HV_UNSUPPORTED);
	assert_int_equal(hvx_vcpu_set_smi_ports(v, 0, 1, true), HV_UNSUPPORTED);
	assert_int_equal(hvx_vcpu_set_entry_msr_load(v, &e, 1), HV_UNSUPPORTED);
	assert_int_equal(hvx_vcpu_inject_entry_machine_check(v), HV_UNSUPPORTED);
	uint64_t entry;
	assert_int_equal(hv_vmx_read_capability(HV_VMX_CAP_ENTRY, &entry), HV_SUCCESS);
	assert_int_equal((entry >> 32) & (3u << 10), 0); /* no entry to SMM without the model */
	assert_int_equal(hv_vcpu_destroy(v), HV_SUCCESS);
	assert_int_equal(hv_vm_destroy(), HV_SUCCESS);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		EG_TEST(test_no_vm),
		EG_TEST(test_arguments),
		EG_TEST(test_threads),
		EG_TEST(test_capabilities),
		EG_TEST(test_smm_entry_controls),
		EG_TEST(test_model_off_rechecks_entry_controls),
		EG_TEST(test_wait_for_sipi_entry_checks),
		EG_TEST(test_shutdown_wait),
		EG_TEST(test_entry_msr_values),
		EG_TEST(test_kvm_unsupported),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
