/* test_api_msr.c: MSRs: Apple's native set, refused MSRs, the framework-held values and their VMCS aliases, managed MSRs and access flags. */
#include "api_test.h"

#define v test_vcpu

static void apples_native_set_is_accepted_and_others_refused(void **state)
{
	(void)state;
	/* The set Apple's test and QEMU enable. */
	static const uint32_t native[] = {0xc0000081, 0xc0000082, 0xc0000083, 0xc0000084, 0xc0000100, 0xc0000101,
					  0xc0000102, 0x10,       0xc0000103, 0x174,      0x175,      0x176};
	for (size_t i = 0; i < sizeof native / sizeof native[0]; i++) {
		assert_int_equal(hv_vcpu_enable_native_msr(v, native[i], true), HV_SUCCESS);
		assert_int_equal(hv_vcpu_enable_native_msr(v, native[i], false), HV_SUCCESS);
	}
	assert_int_equal(hv_vcpu_enable_native_msr(v, 0xc0000080, true), HV_BAD_ARGUMENT); /* EFER always exits */
	assert_int_equal(hv_vcpu_enable_native_msr(v, 0x1b, true), HV_BAD_ARGUMENT);       /* APIC_BASE */
	assert_int_equal(hv_vcpu_enable_native_msr(v, 0xdeadbeef, true), HV_BAD_ARGUMENT);
}

static void held_msr_values_round_trip_and_alias_the_vmcs(void **state)
{
	(void)state;
	uint64_t x;
	assert_int_equal(hv_vcpu_write_msr(v, 0xc0000082, 0xffffffff81000000), HV_SUCCESS);
	assert_int_equal(hv_vcpu_read_msr(v, 0xc0000082, &x), HV_SUCCESS);
	assert_int_equal(x, 0xffffffff81000000);
	assert_int_equal(hv_vcpu_write_msr(v, 0xc0000100, 0x7000), HV_SUCCESS); /* FS_BASE */
	assert_int_equal(hv_vmx_vcpu_read_vmcs(v, VMCS_GUEST_FS_BASE, &x), HV_SUCCESS);
	assert_int_equal(x, 0x7000);
	assert_int_equal(hv_vmx_vcpu_write_vmcs(v, VMCS_GUEST_IA32_EFER, 0x500), HV_SUCCESS);
	assert_int_equal(hv_vcpu_read_msr(v, 0xc0000080, &x), HV_SUCCESS);
	assert_int_equal(x, 0x500);
	assert_int_equal(hv_vcpu_write_msr(v, 0x174, 0x10), HV_SUCCESS); /* SYSENTER_CS */
	assert_int_equal(hv_vmx_vcpu_read_vmcs(v, VMCS_GUEST_IA32_SYSENTER_CS, &x), HV_SUCCESS);
	assert_int_equal(x, 0x10);
	/* The TSC is the host clock plus the vCPU's offset. */
	assert_int_equal(hv_vcpu_write_msr(v, 0x10, 1000000000000ull), HV_SUCCESS);
	assert_int_equal(hv_vcpu_read_msr(v, 0x10, &x), HV_SUCCESS);
	assert_true(x >= 1000000000000ull && x < 1000000000000ull + 10000000000ull);
	assert_int_equal(hv_vcpu_read_msr(v, 0xdeadbeef, &x), HV_BAD_ARGUMENT);
	assert_int_equal(hv_vcpu_write_msr(v, 0xdeadbeef, 0), HV_BAD_ARGUMENT);
	assert_int_equal(hv_vcpu_read_msr(v, 0xc0000082, NULL), HV_BAD_ARGUMENT);
}

static void managed_msrs_hold_values_and_access(void **state)
{
	(void)state;
	uint64_t x;
	assert_int_equal(hv_vcpu_read_msr(v, 0xc1, &x), HV_BAD_ARGUMENT);            /* PMC0 not managed yet */
	assert_int_equal(hv_vcpu_set_msr_access(v, 0xc1, HV_MSR_READ), HV_BAD_ARGUMENT);
	assert_int_equal(hv_vcpu_enable_managed_msr(v, 0xc1, true), HV_SUCCESS);
	assert_int_equal(hv_vcpu_enable_managed_msr(v, 0xc1, true), HV_SUCCESS);      /* idempotent */
	assert_int_equal(hv_vcpu_write_msr(v, 0xc1, 1234), HV_SUCCESS);
	assert_int_equal(hv_vcpu_read_msr(v, 0xc1, &x), HV_SUCCESS);
	assert_int_equal(x, 1234);
	assert_int_equal(hv_vcpu_set_msr_access(v, 0xc1, HV_MSR_READ | HV_MSR_WRITE), HV_SUCCESS);
	assert_int_equal(hv_vcpu_set_msr_access(v, 0xc1, 4), HV_BAD_ARGUMENT);
	assert_int_equal(hv_vcpu_enable_managed_msr(v, 0xc1, false), HV_SUCCESS);
	assert_int_equal(hv_vcpu_read_msr(v, 0xc1, &x), HV_BAD_ARGUMENT);
	assert_int_equal(hv_vcpu_enable_managed_msr(v, 0xc0000081, true), HV_BAD_ARGUMENT); /* STAR is native-class */
	assert_int_equal(hv_vcpu_enable_managed_msr(v, 0x12345, true), HV_BAD_ARGUMENT);
	/* Every MSR range of Apple's HV_MSR_* list that is not native-class can be managed. */
	static const uint32_t manageable[] = {HV_MSR_IA32_SPEC_CTRL, HV_MSR_IA32_PMC7, HV_MSR_IA32_PERFEVNTSEL0,
					      HV_MSR_LASTBRANCH_31_TO_IP, HV_MSR_IA32_XSS, HV_MSR_LASTBRANCH_INFO_31,
					      HV_MSR_IA32_PERF_GLOBAL_INUSE, HV_MSR_PERF_METRICS};
	for (size_t i = 0; i < sizeof manageable / sizeof manageable[0]; i++)
		assert_int_equal(hv_vcpu_enable_managed_msr(v, manageable[i], true), HV_SUCCESS);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(apples_native_set_is_accepted_and_others_refused, vcpu_up, vcpu_down),
		cmocka_unit_test_setup_teardown(held_msr_values_round_trip_and_alias_the_vmcs, vcpu_up, vcpu_down),
		cmocka_unit_test_setup_teardown(managed_msrs_hold_values_and_access, vcpu_up, vcpu_down),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
