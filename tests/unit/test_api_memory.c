/* test_api_memory.c: guest-memory misuse and semantics: alignment, overlap, partial unmap/protect splitting, spaces, allocate/deallocate. */
#include "api_test.h"

#include "core/vm.h"

#define RWX (HV_MEMORY_READ | HV_MEMORY_WRITE | HV_MEMORY_EXEC)

/* Translate through the VM's map: host page pointer and perms of a guest-physical address. */
static bool lookup(uint64_t gpa, hv_vm_space_t space, uint8_t **page, uint32_t *perms)
{
	return hvx_memmap_translate(&hvx_the_vm->memmap, space, gpa, page, perms);
}

static void map_arguments_are_checked(void **state)
{
	(void)state;
	uint8_t *mem = pages(4);
	assert_int_equal(hv_vm_map(NULL, 0, PAGE, RWX), HV_BAD_ARGUMENT);
	assert_int_equal(hv_vm_map(mem + 1, 0, PAGE, RWX), HV_BAD_ARGUMENT);      /* unaligned host address */
	assert_int_equal(hv_vm_map(mem, 0x10, PAGE, RWX), HV_BAD_ARGUMENT);       /* unaligned guest address */
	assert_int_equal(hv_vm_map(mem, 0, PAGE + 1, RWX), HV_BAD_ARGUMENT);      /* unaligned size */
	assert_int_equal(hv_vm_map(mem, 0, 0, RWX), HV_BAD_ARGUMENT);             /* empty */
	assert_int_equal(hv_vm_map(mem, 1ull << 52, PAGE, RWX), HV_BAD_ARGUMENT); /* beyond the guest-physical width */
	assert_int_equal(hv_vm_map(mem, (1ull << 52) - PAGE, 2 * PAGE, RWX), HV_BAD_ARGUMENT);
	assert_int_equal(hv_vm_map(mem, 0, PAGE, 1ull << 20), HV_BAD_ARGUMENT);   /* unknown flag */
	assert_int_equal(hv_vm_map(mem, 0, PAGE, HV_MEMORY_READ | HV_MEMORY_UEXEC), HV_UNSUPPORTED);
	assert_int_equal(hv_vm_map(mem, 0, PAGE, HV_MEMORY_READ | HV_MEMORY_MAXPROT), HV_UNSUPPORTED);
	assert_int_equal(hv_vm_map(mem, 0, 4 * PAGE, RWX), HV_SUCCESS);
	assert_int_equal(hv_vm_unmap(0, 4 * PAGE), HV_SUCCESS);
	unpages(mem, 4);
}

static void overlapping_maps_are_refused(void **state)
{
	(void)state;
	uint8_t *mem = pages(8);
	assert_int_equal(hv_vm_map(mem, 0x10000, 4 * PAGE, RWX), HV_SUCCESS);
	assert_int_equal(hv_vm_map(mem + 4 * PAGE, 0x10000, PAGE, RWX), HV_BAD_ARGUMENT);         /* same start */
	assert_int_equal(hv_vm_map(mem + 4 * PAGE, 0x13000, 2 * PAGE, RWX), HV_BAD_ARGUMENT);     /* tail overlap */
	assert_int_equal(hv_vm_map(mem + 4 * PAGE, 0xf000, 2 * PAGE, RWX), HV_BAD_ARGUMENT);      /* head overlap */
	assert_int_equal(hv_vm_map(mem + 4 * PAGE, 0xf000, 8 * PAGE, RWX), HV_BAD_ARGUMENT);      /* covers it */
	assert_int_equal(hv_vm_map(mem + 4 * PAGE, 0x14000, 4 * PAGE, RWX), HV_SUCCESS);          /* adjacent is fine */
	assert_int_equal(hv_vm_map(mem + 4 * PAGE, 0xc000, 4 * PAGE, HV_MEMORY_READ), HV_SUCCESS); /* adjacent below */
	assert_int_equal(hv_vm_unmap(0xc000, 12 * PAGE), HV_SUCCESS); /* one unmap across three maps */
	unpages(mem, 8);
}

static void partial_unmap_splits_a_mapping(void **state)
{
	(void)state;
	uint8_t *mem = pages(4), *other = pages(1);
	uint8_t *page;
	uint32_t perms;
	assert_int_equal(hv_vm_map(mem, 0x20000, 4 * PAGE, RWX), HV_SUCCESS);
	assert_int_equal(hv_vm_unmap(0x21000, PAGE), HV_SUCCESS);
	assert_false(lookup(0x21000, 0, &page, &perms));
	assert_true(lookup(0x20000, 0, &page, &perms));
	assert_ptr_equal(page, mem);
	assert_true(lookup(0x22000, 0, &page, &perms));
	assert_ptr_equal(page, mem + 2 * PAGE);
	assert_int_equal(hv_vm_unmap(0x21000, PAGE), HV_BAD_ARGUMENT); /* no longer mapped */
	assert_int_equal(hv_vm_unmap(0x20000, 4 * PAGE), HV_BAD_ARGUMENT); /* has a hole: nothing changes */
	assert_true(lookup(0x20000, 0, &page, &perms));
	assert_int_equal(hv_vm_map(other, 0x21000, PAGE, HV_MEMORY_READ), HV_SUCCESS); /* the hole takes a new page */
	assert_true(lookup(0x21000, 0, &page, &perms));
	assert_ptr_equal(page, other);
	assert_int_equal(perms, HV_MEMORY_READ);
	assert_int_equal(hv_vm_unmap(0x20000, 4 * PAGE), HV_SUCCESS);
	assert_int_equal(hv_vm_unmap(0x20000, PAGE), HV_BAD_ARGUMENT);
	assert_int_equal(hv_vm_unmap(0x20001, PAGE), HV_BAD_ARGUMENT);
	assert_int_equal(hv_vm_unmap(0x20000, 0), HV_BAD_ARGUMENT);
	unpages(mem, 4);
	unpages(other, 1);
}

static void protect_works_on_single_pages_of_a_mapping(void **state)
{
	(void)state;
	uint8_t *mem = pages(16);
	uint8_t *page;
	uint32_t perms;
	assert_int_equal(hv_vm_map(mem, 0, 16 * PAGE, HV_MEMORY_READ), HV_SUCCESS);
	/* QEMU's dirty tracking: upgrade one page at a time. */
	for (unsigned i = 0; i < 16; i += 2)
		assert_int_equal(hv_vm_protect(i * PAGE, PAGE, RWX), HV_SUCCESS);
	for (unsigned i = 0; i < 16; i++) {
		assert_true(lookup(i * PAGE + 123, 0, &page, &perms));
		assert_ptr_equal(page, mem + i * PAGE);
		assert_int_equal(perms, (i % 2) ? HV_MEMORY_READ : RWX);
	}
	/* Making every page the same again merges the pieces; the whole range still answers. */
	assert_int_equal(hv_vm_protect(0, 16 * PAGE, HV_MEMORY_READ | HV_MEMORY_EXEC), HV_SUCCESS);
	assert_int_equal(hvx_the_vm->memmap.spaces[0].count, 1);
	assert_int_equal(hv_vm_protect(16 * PAGE, PAGE, RWX), HV_BAD_ARGUMENT); /* unmapped */
	assert_int_equal(hv_vm_protect(0, 17 * PAGE, RWX), HV_BAD_ARGUMENT);   /* partly unmapped */
	assert_int_equal(hv_vm_protect(0, PAGE, 1ull << 9), HV_BAD_ARGUMENT);
	assert_int_equal(hv_vm_protect(0x800, PAGE, RWX), HV_BAD_ARGUMENT);
	assert_int_equal(hv_vm_protect(0, 16 * PAGE, 0), HV_SUCCESS); /* no access at all is a valid permission */
	assert_true(lookup(0, 0, &page, &perms));
	assert_int_equal(perms, 0);
	assert_int_equal(hv_vm_unmap(0, 16 * PAGE), HV_SUCCESS);
	unpages(mem, 16);
}

static void map_changes_move_the_generation(void **state)
{
	(void)state;
	uint8_t *mem = pages(2);
	uint64_t g0 = atomic_load(&hvx_the_vm->memmap.generation);
	assert_int_equal(hv_vm_map(mem, 0, 2 * PAGE, RWX), HV_SUCCESS);
	uint64_t g1 = atomic_load(&hvx_the_vm->memmap.generation);
	assert_true(g1 > g0);
	assert_int_equal(hv_vm_protect(0, PAGE, HV_MEMORY_READ), HV_SUCCESS);
	uint64_t g2 = atomic_load(&hvx_the_vm->memmap.generation);
	assert_true(g2 > g1);
	assert_int_equal(hv_vm_unmap(0, 2 * PAGE), HV_SUCCESS);
	assert_true(atomic_load(&hvx_the_vm->memmap.generation) > g2);
	unpages(mem, 2);
}

static void address_spaces_are_separate_and_checked(void **state)
{
	(void)state;
	uint8_t *a = pages(1), *b = pages(1);
	uint8_t *page;
	uint32_t perms;
	uint64_t max;
	assert_int_equal(hv_capability(HV_CAP_ADDRSPACEMAX, &max), HV_SUCCESS);
	hv_vm_space_t s1;
	assert_int_equal(hv_vm_space_create(NULL), HV_BAD_ARGUMENT);
	assert_int_equal(hv_vm_space_create(&s1), HV_SUCCESS);
	assert_true(s1 != HV_VM_SPACE_DEFAULT);
	assert_int_equal(hv_vm_map_space(s1, a, 0, PAGE, RWX), HV_SUCCESS);
	assert_int_equal(hv_vm_map_space(HV_VM_SPACE_DEFAULT, b, 0, PAGE, HV_MEMORY_READ), HV_SUCCESS);
	assert_true(lookup(0, s1, &page, &perms));
	assert_ptr_equal(page, a);
	assert_true(lookup(0, 0, &page, &perms));
	assert_ptr_equal(page, b);
	assert_int_equal(hv_vm_map_space(99, a, 0, PAGE, RWX), HV_BAD_ARGUMENT);
	assert_int_equal(hv_vm_unmap_space(99, 0, PAGE), HV_BAD_ARGUMENT);
	assert_int_equal(hv_vm_protect_space(99, 0, PAGE, RWX), HV_BAD_ARGUMENT);
	assert_int_equal(hv_vm_space_destroy(HV_VM_SPACE_DEFAULT), HV_BAD_ARGUMENT);
	assert_int_equal(hv_vm_space_destroy(99), HV_BAD_ARGUMENT);
	/* A space a vCPU is attached to cannot go. */
	hv_vcpuid_t vcpu;
	assert_int_equal(hv_vcpu_create(&vcpu, HV_VCPU_DEFAULT), HV_SUCCESS);
	assert_int_equal(hv_vcpu_set_space(vcpu, 99), HV_BAD_ARGUMENT);
	assert_int_equal(hv_vcpu_set_space(vcpu, s1), HV_SUCCESS);
	assert_int_equal(hv_vm_space_destroy(s1), HV_BUSY);
	assert_int_equal(hv_vcpu_set_space(vcpu, HV_VM_SPACE_DEFAULT), HV_SUCCESS);
	assert_int_equal(hv_vcpu_destroy(vcpu), HV_SUCCESS);
	assert_int_equal(hv_vm_space_destroy(s1), HV_SUCCESS);
	assert_int_equal(hv_vm_space_destroy(s1), HV_BAD_ARGUMENT);
	/* Spaces run out at the advertised maximum (the default space counts). */
	hv_vm_space_t s;
	for (uint64_t i = 1; i < max; i++)
		assert_int_equal(hv_vm_space_create(&s), HV_SUCCESS);
	assert_int_equal(hv_vm_space_create(&s), HV_NO_RESOURCES);
	assert_int_equal(hv_vm_unmap(0, PAGE), HV_SUCCESS);
	unpages(a, 1);
	unpages(b, 1);
}

static void allocate_and_deallocate(void **state)
{
	(void)state;
	void *p = NULL;
	assert_int_equal(hv_vm_allocate(NULL, PAGE, HV_ALLOCATE_DEFAULT), HV_BAD_ARGUMENT);
	assert_int_equal(hv_vm_allocate(&p, 0, HV_ALLOCATE_DEFAULT), HV_BAD_ARGUMENT);
	assert_int_equal(hv_vm_allocate(&p, 100, HV_ALLOCATE_DEFAULT), HV_BAD_ARGUMENT);
	assert_int_equal(hv_vm_allocate(&p, PAGE, 1), HV_BAD_ARGUMENT);
	assert_int_equal(hv_vm_allocate(&p, 4 * PAGE, HV_ALLOCATE_DEFAULT), HV_SUCCESS);
	assert_non_null(p);
	assert_int_equal((uintptr_t)p % PAGE, 0);
	for (unsigned i = 0; i < 4 * PAGE; i++)
		assert_int_equal(((uint8_t *)p)[i], 0);
	assert_int_equal(hv_vm_map(p, 0, 4 * PAGE, RWX), HV_SUCCESS);
	assert_int_equal(hv_vm_deallocate(p, 4 * PAGE), HV_BUSY); /* still mapped */
	assert_int_equal(hv_vm_unmap(0, 4 * PAGE), HV_SUCCESS);
	assert_int_equal(hv_vm_deallocate((uint8_t *)p + 1, PAGE), HV_BAD_ARGUMENT);
	assert_int_equal(hv_vm_deallocate(p, 4 * PAGE), HV_SUCCESS);
}

/* hv_vm_map may be called from any thread (Apple's test maps from vCPU threads). */
static void *map_from_thread(void *arg)
{
	uint8_t *mem = arg;
	assert_int_equal(hv_vm_map(mem, 0x40000, PAGE, RWX), HV_SUCCESS);
	assert_int_equal(hv_vm_protect(0x40000, PAGE, HV_MEMORY_READ), HV_SUCCESS);
	return NULL;
}

static void memory_calls_work_from_any_thread(void **state)
{
	(void)state;
	uint8_t *mem = pages(1);
	on_other_thread(map_from_thread, mem);
	assert_int_equal(hv_vm_unmap(0x40000, PAGE), HV_SUCCESS);
	unpages(mem, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(map_arguments_are_checked, vm_up, vm_down),
		cmocka_unit_test_setup_teardown(overlapping_maps_are_refused, vm_up, vm_down),
		cmocka_unit_test_setup_teardown(partial_unmap_splits_a_mapping, vm_up, vm_down),
		cmocka_unit_test_setup_teardown(protect_works_on_single_pages_of_a_mapping, vm_up, vm_down),
		cmocka_unit_test_setup_teardown(map_changes_move_the_generation, vm_up, vm_down),
		cmocka_unit_test_setup_teardown(address_spaces_are_separate_and_checked, vm_up, vm_down),
		cmocka_unit_test_setup_teardown(allocate_and_deallocate, vm_up, vm_down),
		cmocka_unit_test_setup_teardown(memory_calls_work_from_any_thread, vm_up, vm_down),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
