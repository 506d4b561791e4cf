/* test_api_spp.c: hvx_vm_set_spp misuse and semantics: argument checks, no VM, spaces, any thread, a kvm VM, and many pages (table growth). */
#include "api_test.h"

#include "core/vm.h"

static void arguments_are_checked(void **state)
{
	(void)state;
	assert_int_equal(hvx_vm_set_spp(HV_VM_SPACE_DEFAULT, 0x1008, HVX_SPP_VECTOR, 1), HV_BAD_ARGUMENT); /* unaligned */
	assert_int_equal(hvx_vm_set_spp(HV_VM_SPACE_DEFAULT, 1ull << 52, HVX_SPP_VECTOR, 1), HV_BAD_ARGUMENT);
	assert_int_equal(hvx_vm_set_spp(HV_VM_SPACE_DEFAULT, ~0xfffull, HVX_SPP_MISSING, 0), HV_BAD_ARGUMENT);
	assert_int_equal(hvx_vm_set_spp(HV_VM_SPACE_DEFAULT, 0x1000, (enum hvx_spp_mode)3, 0), HV_BAD_ARGUMENT);
	assert_int_equal(hvx_vm_set_spp(HV_VM_SPACE_DEFAULT, 0x1000, (enum hvx_spp_mode)-1, 0), HV_BAD_ARGUMENT);
	assert_int_equal(hvx_vm_set_spp(HV_VM_SPACE_DEFAULT, 0x1000, HVX_SPP_MISSING, 4), HV_BAD_ARGUMENT); /* vector */
	assert_int_equal(hvx_vm_set_spp(HV_VM_SPACE_DEFAULT, 0x1000, HVX_SPP_NONE, 4), HV_BAD_ARGUMENT);
	assert_int_equal(hvx_vm_set_spp(7, 0x1000, HVX_SPP_VECTOR, 4), HV_BAD_ARGUMENT);      /* space never created */
	assert_int_equal(hvx_vm_set_spp(1000, 0x1000, HVX_SPP_VECTOR, 4), HV_BAD_ARGUMENT);   /* beyond any space */
	/* Valid: a page need not be mapped; any mode, set and reset, reserved vector bits allowed (misconfiguration). */
	assert_int_equal(hvx_vm_set_spp(HV_VM_SPACE_DEFAULT, 0x1000, HVX_SPP_NONE, 0), HV_SUCCESS);
	assert_int_equal(hvx_vm_set_spp(HV_VM_SPACE_DEFAULT, 0x1000, HVX_SPP_VECTOR, 0xaaaa), HV_SUCCESS);
	assert_int_equal(hvx_vm_set_spp(HV_VM_SPACE_DEFAULT, 0x1000, HVX_SPP_MISSING, 0), HV_SUCCESS);
	assert_int_equal(hvx_vm_set_spp(HV_VM_SPACE_DEFAULT, 0x1000, HVX_SPP_NONE, 0), HV_SUCCESS);
	assert_int_equal(hvx_vm_set_spp(HV_VM_SPACE_DEFAULT, (1ull << 52) - 0x1000, HVX_SPP_VECTOR, 1), HV_SUCCESS);
}

static void no_vm_is_no_device(void **state)
{
	(void)state;
	assert_int_equal(hvx_vm_set_spp(HV_VM_SPACE_DEFAULT, 0x1000, HVX_SPP_VECTOR, 1), HV_NO_DEVICE);
	assert_int_equal(hvx_vm_set_spp(HV_VM_SPACE_DEFAULT, 0x1001, HVX_SPP_VECTOR, 1), HV_NO_DEVICE);
}

static void spaces_are_checked(void **state)
{
	(void)state;
	hv_vm_space_t s;
	assert_int_equal(hv_vm_space_create(&s), HV_SUCCESS);
	assert_int_equal(hvx_vm_set_spp(s, 0x2000, HVX_SPP_MISSING, 0), HV_SUCCESS);
	assert_int_equal(hv_vm_space_destroy(s), HV_SUCCESS);
	assert_int_equal(hvx_vm_set_spp(s, 0x2000, HVX_SPP_NONE, 0), HV_BAD_ARGUMENT);
}

static void *set_from_thread(void *arg)
{
	*(hv_return_t *)arg = hvx_vm_set_spp(HV_VM_SPACE_DEFAULT, 0x5000, HVX_SPP_VECTOR, 0x5555);
	return NULL;
}

static void any_thread_may_call(void **state)
{
	(void)state;
	hv_return_t r = HV_ERROR;
	on_other_thread(set_from_thread, &r);
	assert_int_equal(r, HV_SUCCESS);
}

/* Thousands of pages (the table grows several times), then all reset; the sanitizer build checks the memory. */
static void many_pages(void **state)
{
	(void)state;
	for (uint64_t i = 0; i < 5000; i++)
		assert_int_equal(hvx_vm_set_spp(HV_VM_SPACE_DEFAULT, i << 12, HVX_SPP_VECTOR, i & 0x5555), HV_SUCCESS);
	for (uint64_t i = 0; i < 5000; i++)
		assert_int_equal(hvx_vm_set_spp(HV_VM_SPACE_DEFAULT, i << 12, HVX_SPP_NONE, 0), HV_SUCCESS);
	for (uint64_t i = 0; i < 5000; i++)
		assert_int_equal(hvx_vm_set_spp(HV_VM_SPACE_DEFAULT, i << 12, HVX_SPP_MISSING, 0), HV_SUCCESS);
}

/* A backend without SPP (kvm) refuses it after the argument checks. */
static void kvm_backend_is_unsupported(void **state)
{
	(void)state;
	if (hvx_vm_create_with_backend(HV_VM_DEFAULT, "kvm") != HV_SUCCESS) {
		skip(); /* no /dev/kvm here: reported as skipped, not passed */
		return;
	}
	assert_int_equal(hvx_vm_set_spp(HV_VM_SPACE_DEFAULT, 0x1000, HVX_SPP_VECTOR, 1), HV_UNSUPPORTED);
	assert_int_equal(hvx_vm_set_spp(HV_VM_SPACE_DEFAULT, 0x1001, HVX_SPP_VECTOR, 1), HV_BAD_ARGUMENT);
	assert_int_equal(hv_vm_destroy(), HV_SUCCESS);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(arguments_are_checked, vm_up, vm_down),
		cmocka_unit_test(no_vm_is_no_device),
		cmocka_unit_test_setup_teardown(spaces_are_checked, vm_up, vm_down),
		cmocka_unit_test_setup_teardown(any_thread_may_call, vm_up, vm_down),
		cmocka_unit_test_setup_teardown(many_pages, vm_up, vm_down),
		cmocka_unit_test(kvm_backend_is_unsupported),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
