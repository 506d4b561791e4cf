/* test_api_vm.c: VM lifecycle misuse: no VM, a second VM, bad options and backends, destroy with live vCPUs, limits and capabilities. */
#include <string.h>

#include "api_test.h"

static void calls_without_a_vm_fail_with_no_device(void **state)
{
	(void)state;
	uint8_t *mem = pages(1);
	hv_vcpuid_t vcpu = 0;
	hv_vm_space_t space;
	assert_int_equal(hv_vm_destroy(), HV_NO_DEVICE);
	assert_int_equal(hv_vm_map(mem, 0, PAGE, HV_MEMORY_READ), HV_NO_DEVICE);
	assert_int_equal(hv_vm_unmap(0, PAGE), HV_NO_DEVICE);
	assert_int_equal(hv_vm_protect(0, PAGE, HV_MEMORY_READ), HV_NO_DEVICE);
	assert_int_equal(hv_vm_space_create(&space), HV_NO_DEVICE);
	assert_int_equal(hv_vm_space_destroy(1), HV_NO_DEVICE);
	assert_int_equal(hv_vm_sync_tsc(0), HV_NO_DEVICE);
	assert_int_equal(hv_vcpu_create(&vcpu, HV_VCPU_DEFAULT), HV_NO_DEVICE);
	assert_int_equal(hv_vcpu_run(0), HV_NO_DEVICE);
	assert_int_equal(hv_vcpu_interrupt(&vcpu, 1), HV_NO_DEVICE);
	uint64_t v;
	assert_int_equal(hv_vmx_vcpu_read_vmcs(0, VMCS_GUEST_RIP, &v), HV_NO_DEVICE);
	assert_int_equal(hv_vcpu_read_register(0, HV_X86_RIP, &v), HV_NO_DEVICE);
	assert_null(hvx_vm_backend_name());
	unpages(mem, 1);
}

static void capabilities_work_without_a_vm(void **state)
{
	(void)state;
	uint64_t v = 0;
	assert_int_equal(hv_vmx_read_capability(HV_VMX_CAP_PINBASED, &v), HV_SUCCESS);
	assert_int_equal(hv_capability(HV_CAP_VCPUMAX, &v), HV_SUCCESS);
	assert_true(v >= 1);
	assert_int_equal(hv_vmx_get_msr_info(HV_VMX_INFO_MSR_IA32_ARCH_CAPABILITIES, &v), HV_SUCCESS);
}

static void second_vm_is_busy_and_recreate_after_destroy_works(void **state)
{
	(void)state;
	assert_int_equal(hv_vm_create(HV_VM_DEFAULT), HV_SUCCESS);
	assert_int_equal(hv_vm_create(HV_VM_DEFAULT), HV_BUSY);
	assert_int_equal(hvx_vm_create_with_backend(HV_VM_DEFAULT, "emu"), HV_BUSY);
	assert_non_null(hvx_vm_backend_name());
	assert_int_equal(hv_vm_destroy(), HV_SUCCESS);
	assert_int_equal(hv_vm_destroy(), HV_NO_DEVICE);
	assert_int_equal(hv_vm_create(HV_VM_DEFAULT), HV_SUCCESS);
	assert_int_equal(hv_vm_destroy(), HV_SUCCESS);
}

static void vm_options_are_checked(void **state)
{
	(void)state;
	assert_int_equal(hv_vm_create(1ull << 5), HV_BAD_ARGUMENT); /* bit 5 is unused */
	assert_int_equal(hv_vm_create(1ull << 63), HV_BAD_ARGUMENT);
	/* Apple's test: SPECIFY_MITIGATIONS with every mitigation bit succeeds. */
	assert_int_equal(hv_vm_create(HV_VM_SPECIFY_MITIGATIONS | HV_VM_MITIGATION_A_ENABLE | HV_VM_MITIGATION_B_ENABLE |
				      HV_VM_MITIGATION_C_ENABLE | HV_VM_MITIGATION_D_ENABLE | HV_VM_MITIGATION_E_ENABLE),
			 HV_SUCCESS);
	assert_int_equal(hv_vm_destroy(), HV_SUCCESS);
	assert_int_equal(hv_vm_create(HV_VM_ACCEL_APIC), HV_SUCCESS);
	assert_int_equal(hv_vm_destroy(), HV_SUCCESS);
}

static void backend_names_are_checked(void **state)
{
	(void)state;
	assert_int_equal(hvx_vm_create_with_backend(HV_VM_DEFAULT, "bogus"), HV_BAD_ARGUMENT);
	assert_int_equal(hvx_vm_create_with_backend(HV_VM_DEFAULT, "emu"), HV_SUCCESS);
	assert_string_equal(hvx_vm_backend_name(), "emu");
	assert_int_equal(hv_vm_destroy(), HV_SUCCESS);
	assert_int_equal(hvx_vm_create_with_backend(HV_VM_DEFAULT, "auto"), HV_SUCCESS);
	assert_int_equal(hv_vm_destroy(), HV_SUCCESS);
	const char *why = NULL;
	assert_false(hvx_backend_available("bogus", &why));
	assert_non_null(why);
	assert_true(hvx_backend_available("emu", &why));
	assert_int_equal(hvx_backend_count(), 2);
	assert_null(hvx_backend_name(2));
	uint64_t v;
	bool produces;
	assert_int_equal(hvx_backend_read_capability("bogus", HV_VMX_CAP_PINBASED, &v), HV_BAD_ARGUMENT);
	assert_int_equal(hvx_backend_read_capability("emu", (hv_vmx_capability_t)99, &v), HV_BAD_ARGUMENT);
	assert_int_equal(hvx_backend_read_capability("emu", HV_VMX_CAP_PINBASED, NULL), HV_BAD_ARGUMENT);
	assert_int_equal(hvx_backend_produces_reason("emu", 30, NULL), HV_BAD_ARGUMENT);
	assert_int_equal(hvx_backend_produces_reason("bogus", 30, &produces), HV_BAD_ARGUMENT);
	assert_int_equal(hvx_backend_produces_reason("emu", 1000, &produces), HV_SUCCESS);
	assert_false(produces);
}

/* Every one of Apple's reasons a backend does not produce is explained (docs/exit-matrix.md is built from the notes);
 * a reason it produces has none. Reasons 35, 38, 42 and 65 have no Apple name. */
static void reason_notes_explain_every_missing_reason(void **state)
{
	(void)state;
	const char *note = "x";
	assert_int_equal(hvx_backend_reason_note("bogus", 10, &note), HV_BAD_ARGUMENT);
	assert_int_equal(hvx_backend_reason_note("kvm", 10, NULL), HV_BAD_ARGUMENT);
	assert_int_equal(hvx_backend_reason_note("kvm", 1000, &note), HV_SUCCESS);
	assert_null(note);
	assert_int_equal(hvx_backend_reason_note("kvm", VMX_REASON_CPUID, &note), HV_SUCCESS);
	assert_non_null(note);
	assert_non_null(strstr(note, "CPUID"));
	static const char *const backends[] = {"emu", "kvm"};
	for (unsigned b = 0; b < 2; b++)
		for (uint32_t r = 0; r <= VMX_REASON_TPAUSE; r++) {
			if (r == 35 || r == 38 || r == 42 || r == 65)
				continue;
			bool produces;
			assert_int_equal(hvx_backend_produces_reason(backends[b], r, &produces), HV_SUCCESS);
			assert_int_equal(hvx_backend_reason_note(backends[b], r, &note), HV_SUCCESS);
			if (produces != (note == NULL))
				fail_msg("backend %s, reason %u: %s and %s", backends[b], r, produces ? "produced" : "not produced",
					 note ? "explained" : "not explained");
		}
}

static void destroy_with_live_vcpu_is_busy(void **state)
{
	(void)state;
	hv_vcpuid_t vcpu;
	assert_int_equal(hv_vm_create(HV_VM_DEFAULT), HV_SUCCESS);
	assert_int_equal(hv_vcpu_create(&vcpu, HV_VCPU_DEFAULT), HV_SUCCESS);
	assert_int_equal(hv_vm_destroy(), HV_BUSY);
	assert_int_equal(hv_vcpu_destroy(vcpu), HV_SUCCESS);
	assert_int_equal(hv_vm_destroy(), HV_SUCCESS);
}

static void capability_arguments_are_checked(void **state)
{
	(void)state;
	uint64_t v;
	assert_int_equal(hv_capability(HV_CAP_VCPUMAX, NULL), HV_BAD_ARGUMENT);
	assert_int_equal(hv_capability(2, &v), HV_BAD_ARGUMENT);
	assert_int_equal(hv_capability(HV_CAP_ADDRSPACEMAX, &v), HV_SUCCESS);
	assert_true(v >= 1);
	assert_int_equal(hv_vmx_read_capability(HV_VMX_CAP_PINBASED, NULL), HV_BAD_ARGUMENT);
	assert_int_equal(hv_vmx_read_capability((hv_vmx_capability_t)17, &v), HV_BAD_ARGUMENT);
	assert_int_equal(hv_vmx_read_capability((hv_vmx_capability_t)31, &v), HV_BAD_ARGUMENT);
	assert_int_equal(hv_vmx_read_capability((hv_vmx_capability_t)33, &v), HV_BAD_ARGUMENT);
	assert_int_equal(hv_vmx_get_msr_info(9, &v), HV_BAD_ARGUMENT);
	assert_int_equal(hv_vmx_get_msr_info(0, NULL), HV_BAD_ARGUMENT);
	/* Every control word is well formed: must-be-1 bits are a subset of may-be-1 bits. */
	for (int cap = HV_VMX_CAP_PINBASED; cap <= HV_VMX_CAP_EXIT; cap++) {
		assert_int_equal(hv_vmx_read_capability((hv_vmx_capability_t)cap, &v), HV_SUCCESS);
		assert_int_equal((uint32_t)v & ~(uint32_t)(v >> 32), 0);
	}
}

static void tsc_clock_is_monotonic_and_sync_needs_a_vm(void **state)
{
	(void)state;
	uint64_t a = hv_tsc_clock(), b = hv_tsc_clock();
	assert_true(b >= a);
	assert_int_equal(hv_vm_create(HV_VM_DEFAULT), HV_SUCCESS);
	assert_int_equal(hv_vm_sync_tsc(1000), HV_SUCCESS);
	assert_int_equal(hv_vm_destroy(), HV_SUCCESS);
}

static void pio_notifiers_check_arguments_then_are_unsupported(void **state)
{
	(void)state;
	assert_int_equal(hv_vm_add_pio_notifier(0x80, 1, 0, 5, HV_ION_NONE), HV_NO_DEVICE);
	assert_int_equal(hv_vm_create(HV_VM_DEFAULT), HV_SUCCESS);
	assert_int_equal(hv_vm_add_pio_notifier(0x80, 7, 0, 5, HV_ION_NONE), HV_BAD_ARGUMENT);      /* size 7 */
	assert_int_equal(hv_vm_add_pio_notifier(0x80, 1, 0xffff, 5, HV_ION_NONE), HV_BAD_ARGUMENT); /* value too wide */
	assert_int_equal(hv_vm_add_pio_notifier(0x80, 1, 0, MACH_PORT_NULL, HV_ION_NONE), HV_BAD_ARGUMENT);
	assert_int_equal(hv_vm_add_pio_notifier(0x80, 1, 0, 5, 1u << 7), HV_BAD_ARGUMENT);
	assert_int_equal(hv_vm_add_pio_notifier(0x80, 1, 0, 5, HV_ION_NONE), HV_UNSUPPORTED);
	assert_int_equal(hv_vm_remove_pio_notifier(0x80, 1, 0, 5, HV_ION_NONE), HV_UNSUPPORTED);
	assert_int_equal(hv_vm_destroy(), HV_SUCCESS);
}

static void in_kernel_apic_api_checks_arguments_then_is_unsupported(void **state)
{
	(void)state;
	uint32_t d;
	hv_ioapic_state_ext_t io;
	assert_int_equal(hv_vm_ioapic_assert_irq(0), HV_NO_DEVICE);
	assert_int_equal(hv_vm_create(HV_VM_ACCEL_APIC), HV_SUCCESS);
	assert_int_equal(hv_vm_ioapic_assert_irq(32), HV_BAD_ARGUMENT);
	assert_int_equal(hv_vm_ioapic_assert_irq(1), HV_UNSUPPORTED);
	assert_int_equal(hv_vm_ioapic_read(0xfec00000, NULL), HV_BAD_ARGUMENT);
	assert_int_equal(hv_vm_ioapic_read(0xfec00000, &d), HV_UNSUPPORTED);
	assert_int_equal(hv_vm_ioapic_get_state(&io), HV_UNSUPPORTED);
	assert_int_equal(hv_vm_set_apic_bus_freq(1000), HV_BAD_ARGUMENT);
	assert_int_equal(hv_vm_lapic_set_intr(0, 32, 7), HV_BAD_ARGUMENT);
	assert_int_equal(hv_vm_atpic_assert_irq(16), HV_BAD_ARGUMENT);
	hv_vcpuid_t vcpu;
	assert_int_equal(hv_vcpu_create(&vcpu, HV_VCPU_DEFAULT), HV_SUCCESS);
	assert_int_equal(hv_vcpu_apic_read(vcpu, 0x20, &d), HV_UNSUPPORTED);
	assert_int_equal(hv_vcpu_apic_read(vcpu + 1, 0x20, &d), HV_BAD_ARGUMENT);
	assert_int_equal(hv_vcpu_apic_trigger_lvt(vcpu, 2), HV_BAD_ARGUMENT);
	assert_int_equal(hv_vcpu_apic_ctrl(vcpu, 1ull << 9), HV_BAD_ARGUMENT);
	assert_int_equal(hv_vcpu_destroy(vcpu), HV_SUCCESS);
	assert_int_equal(hv_vm_destroy(), HV_SUCCESS);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(calls_without_a_vm_fail_with_no_device),
		cmocka_unit_test(capabilities_work_without_a_vm),
		cmocka_unit_test(second_vm_is_busy_and_recreate_after_destroy_works),
		cmocka_unit_test(vm_options_are_checked),
		cmocka_unit_test(backend_names_are_checked),
		cmocka_unit_test(destroy_with_live_vcpu_is_busy),
		cmocka_unit_test(capability_arguments_are_checked),
		cmocka_unit_test(reason_notes_explain_every_missing_reason),
		cmocka_unit_test(tsc_clock_is_monotonic_and_sync_needs_a_vm),
		cmocka_unit_test(pio_notifiers_check_arguments_then_are_unsupported),
		cmocka_unit_test(in_kernel_apic_api_checks_arguments_then_is_unsupported),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
