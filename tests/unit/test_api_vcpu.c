/* test_api_vcpu.c: vCPU misuse: thread binding (wrong thread refused, untouched), ids, limits, registers and their VMCS aliases, fpstate, thread exit. */
#include <string.h>

#include "api_test.h"

static void create_arguments_are_checked(void **state)
{
	(void)state;
	hv_vcpuid_t vcpu;
	assert_int_equal(hv_vcpu_create(NULL, HV_VCPU_DEFAULT), HV_BAD_ARGUMENT);
	assert_int_equal(hv_vcpu_create(&vcpu, 1ull << 7), HV_BAD_ARGUMENT);
	assert_int_equal(hv_vcpu_create(&vcpu, HV_VCPU_ACCEL_RDPMC | HV_VCPU_TSC_RELATIVE), HV_SUCCESS);
	assert_int_equal(vcpu, 0);
	hv_vcpuid_t second;
	assert_int_equal(hv_vcpu_create(&second, HV_VCPU_DEFAULT), HV_BUSY); /* one vCPU per thread */
	assert_int_equal(hv_vcpu_destroy(vcpu + 1), HV_BAD_ARGUMENT);
	assert_int_equal(hv_vcpu_destroy(vcpu), HV_SUCCESS);
	assert_int_equal(hv_vcpu_destroy(vcpu), HV_BAD_ARGUMENT);
}

struct thread_vcpu {
	hv_vcpuid_t id;
	pthread_barrier_t created, release;
	pthread_t thread;
};

static void *create_and_wait(void *arg)
{
	struct thread_vcpu *t = arg;
	assert_int_equal(hv_vcpu_create(&t->id, HV_VCPU_DEFAULT), HV_SUCCESS);
	pthread_barrier_wait(&t->created);
	pthread_barrier_wait(&t->release);
	assert_int_equal(hv_vcpu_destroy(t->id), HV_SUCCESS);
	return NULL;
}

static void ids_follow_creation_order_across_threads(void **state)
{
	(void)state;
	struct thread_vcpu t[4];
	for (unsigned i = 0; i < 4; i++) {
		pthread_barrier_init(&t[i].created, NULL, 2);
		pthread_barrier_init(&t[i].release, NULL, 2);
		assert_int_equal(pthread_create(&t[i].thread, NULL, create_and_wait, &t[i]), 0);
		pthread_barrier_wait(&t[i].created);
		assert_int_equal(t[i].id, i); /* xhyve aborts unless the n-th vCPU is n */
	}
	for (unsigned i = 0; i < 4; i++) {
		pthread_barrier_wait(&t[i].release);
		pthread_join(t[i].thread, NULL);
		pthread_barrier_destroy(&t[i].created);
		pthread_barrier_destroy(&t[i].release);
	}
}

static hv_vcpuid_t foreign_id;

static void *touch_foreign_vcpu(void *arg)
{
	(void)arg;
	uint64_t v = 0;
	uint8_t fp[512];
	assert_int_equal(hv_vcpu_read_register(foreign_id, HV_X86_RAX, &v), HV_BAD_ARGUMENT);
	assert_int_equal(hv_vcpu_write_register(foreign_id, HV_X86_RAX, 0xbad), HV_BAD_ARGUMENT);
	assert_int_equal(hv_vmx_vcpu_write_vmcs(foreign_id, VMCS_GUEST_RIP, 0xbad), HV_BAD_ARGUMENT);
	assert_int_equal(hv_vmx_vcpu_read_vmcs(foreign_id, VMCS_GUEST_RIP, &v), HV_BAD_ARGUMENT);
	assert_int_equal(hv_vcpu_write_fpstate(foreign_id, fp, sizeof fp), HV_BAD_ARGUMENT);
	assert_int_equal(hv_vcpu_write_msr(foreign_id, 0xc0000081, 1), HV_BAD_ARGUMENT);
	assert_int_equal(hv_vcpu_enable_native_msr(foreign_id, 0xc0000081, true), HV_BAD_ARGUMENT);
	assert_int_equal(hv_vcpu_run(foreign_id), HV_BAD_ARGUMENT);
	assert_int_equal(hv_vcpu_run_until(foreign_id, HV_DEADLINE_FOREVER), HV_BAD_ARGUMENT);
	assert_int_equal(hv_vcpu_destroy(foreign_id), HV_BAD_ARGUMENT);
	assert_int_equal(hv_vcpu_set_space(foreign_id, 0), HV_BAD_ARGUMENT);
	assert_int_equal(hv_vcpu_invalidate_tlb(foreign_id), HV_BAD_ARGUMENT);
	assert_int_equal(hv_vcpu_get_exec_time(foreign_id, &v), HV_BAD_ARGUMENT);
	assert_int_equal(hv_vmx_vcpu_set_apic_address(foreign_id, 0xfee00000), HV_BAD_ARGUMENT);
	/* hv_vcpu_interrupt is the one call any thread may make. */
	assert_int_equal(hv_vcpu_interrupt(&foreign_id, 1), HV_SUCCESS);
	return NULL;
}

static void other_threads_are_refused_and_change_nothing(void **state)
{
	(void)state;
	assert_int_equal(hv_vcpu_create(&foreign_id, HV_VCPU_DEFAULT), HV_SUCCESS);
	assert_int_equal(hv_vcpu_write_register(foreign_id, HV_X86_RAX, 0x1111), HV_SUCCESS);
	assert_int_equal(hv_vmx_vcpu_write_vmcs(foreign_id, VMCS_GUEST_RIP, 0x2222), HV_SUCCESS);
	uint8_t before[4096], after[4096];
	assert_int_equal(hv_vcpu_read_fpstate(foreign_id, before, sizeof before), HV_SUCCESS);
	on_other_thread(touch_foreign_vcpu, NULL);
	uint64_t v;
	assert_int_equal(hv_vcpu_read_register(foreign_id, HV_X86_RAX, &v), HV_SUCCESS);
	assert_int_equal(v, 0x1111);
	assert_int_equal(hv_vmx_vcpu_read_vmcs(foreign_id, VMCS_GUEST_RIP, &v), HV_SUCCESS);
	assert_int_equal(v, 0x2222);
	assert_int_equal(hv_vcpu_read_fpstate(foreign_id, after, sizeof after), HV_SUCCESS);
	assert_memory_equal(before, after, sizeof before);
	assert_int_equal(hv_vcpu_destroy(foreign_id), HV_SUCCESS);
}

static void *exit_owning_a_vcpu(void *arg)
{
	hv_vcpuid_t *id = arg;
	assert_int_equal(hv_vcpu_create(id, HV_VCPU_DEFAULT), HV_SUCCESS);
	return NULL; /* no hv_vcpu_destroy */
}

static void thread_exit_releases_its_vcpu(void **state)
{
	(void)state;
	hv_vcpuid_t id = 99;
	for (unsigned i = 0; i < 50; i++) { /* leaks would show under LeakSanitizer */
		on_other_thread(exit_owning_a_vcpu, &id);
		assert_int_equal(id, 0); /* the id is free again each time */
	}
	assert_int_equal(hv_vm_destroy(), HV_SUCCESS); /* no vCPU left */
	assert_int_equal(hvx_vm_create_with_backend(HV_VM_DEFAULT, "emu"), HV_SUCCESS);
}

static void *create_one(void *arg)
{
	hv_return_t *ret = arg;
	hv_vcpuid_t id;
	*ret = hv_vcpu_create(&id, HV_VCPU_DEFAULT);
	pthread_exit(NULL);
}

struct parked {
	pthread_t thread;
	pthread_barrier_t done, release;
	hv_return_t ret;
};

static void *create_and_park(void *arg)
{
	struct parked *p = arg;
	hv_vcpuid_t id;
	p->ret = hv_vcpu_create(&id, HV_VCPU_DEFAULT);
	pthread_barrier_wait(&p->done);
	pthread_barrier_wait(&p->release);
	return NULL;
}

static void vcpu_limit_gives_no_resources(void **state)
{
	(void)state;
	uint64_t max;
	assert_int_equal(hv_capability(HV_CAP_VCPUMAX, &max), HV_SUCCESS);
	struct parked *p = calloc(max, sizeof *p);
	assert_non_null(p);
	for (uint64_t i = 0; i < max; i++) {
		pthread_barrier_init(&p[i].done, NULL, 2);
		pthread_barrier_init(&p[i].release, NULL, 2);
		assert_int_equal(pthread_create(&p[i].thread, NULL, create_and_park, &p[i]), 0);
		pthread_barrier_wait(&p[i].done);
		assert_int_equal(p[i].ret, HV_SUCCESS);
	}
	hv_return_t ret = HV_SUCCESS;
	on_other_thread(create_one, &ret);
	assert_int_equal(ret, HV_NO_RESOURCES);
	for (uint64_t i = 0; i < max; i++) {
		pthread_barrier_wait(&p[i].release);
		pthread_join(p[i].thread, NULL);
		pthread_barrier_destroy(&p[i].done);
		pthread_barrier_destroy(&p[i].release);
	}
	free(p);
}

static void registers_alias_their_vmcs_fields(void **state)
{
	(void)state;
	hv_vcpuid_t v;
	assert_int_equal(hv_vcpu_create(&v, HV_VCPU_DEFAULT), HV_SUCCESS);
	static const struct {
		hv_x86_reg_t reg;
		uint32_t field;
		uint64_t value;
	} pairs[] = {
		{HV_X86_RIP, VMCS_GUEST_RIP, 0x123456789a},  {HV_X86_RFLAGS, VMCS_GUEST_RFLAGS, 0x246},
		{HV_X86_RSP, VMCS_GUEST_RSP, 0x7ff0},        {HV_X86_CS, VMCS_GUEST_CS, 0x10},
		{HV_X86_SS, VMCS_GUEST_SS, 0x18},            {HV_X86_DS, VMCS_GUEST_DS, 0x20},
		{HV_X86_ES, VMCS_GUEST_ES, 0x28},            {HV_X86_FS, VMCS_GUEST_FS, 0x30},
		{HV_X86_GS, VMCS_GUEST_GS, 0x38},            {HV_X86_IDT_BASE, VMCS_GUEST_IDTR_BASE, 0x1000},
		{HV_X86_IDT_LIMIT, VMCS_GUEST_IDTR_LIMIT, 0xfff}, {HV_X86_GDT_BASE, VMCS_GUEST_GDTR_BASE, 0x2000},
		{HV_X86_GDT_LIMIT, VMCS_GUEST_GDTR_LIMIT, 0x7f},  {HV_X86_LDTR, VMCS_GUEST_LDTR, 0x40},
		{HV_X86_LDT_BASE, VMCS_GUEST_LDTR_BASE, 0x3000},  {HV_X86_LDT_LIMIT, VMCS_GUEST_LDTR_LIMIT, 0x17},
		{HV_X86_LDT_AR, VMCS_GUEST_LDTR_AR, 0x82},        {HV_X86_TR, VMCS_GUEST_TR, 0x48},
		{HV_X86_TSS_BASE, VMCS_GUEST_TR_BASE, 0x4000},    {HV_X86_TSS_LIMIT, VMCS_GUEST_TR_LIMIT, 0x67},
		{HV_X86_TSS_AR, VMCS_GUEST_TR_AR, 0x8b},          {HV_X86_CR0, VMCS_GUEST_CR0, 0x80000031},
		{HV_X86_CR3, VMCS_GUEST_CR3, 0x5000},             {HV_X86_CR4, VMCS_GUEST_CR4, 0x2020},
		{HV_X86_DR7, VMCS_GUEST_DR7, 0x401},
	};
	for (size_t i = 0; i < sizeof pairs / sizeof pairs[0]; i++) {
		uint64_t got;
		assert_int_equal(hv_vcpu_write_register(v, pairs[i].reg, pairs[i].value), HV_SUCCESS);
		assert_int_equal(hv_vmx_vcpu_read_vmcs(v, pairs[i].field, &got), HV_SUCCESS);
		assert_int_equal(got, pairs[i].value);
		assert_int_equal(hv_vmx_vcpu_write_vmcs(v, pairs[i].field, pairs[i].value ^ 1), HV_SUCCESS);
		assert_int_equal(hv_vcpu_read_register(v, pairs[i].reg, &got), HV_SUCCESS);
		assert_int_equal(got, pairs[i].value ^ 1);
	}
	/* Registers kept outside the VMCS round-trip on their own. */
	for (hv_x86_reg_t r = HV_X86_RAX; r < HV_X86_REGISTERS_MAX; r++) {
		uint64_t got, want = 0x1000 + (uint64_t)r;
		if (r == HV_X86_CR0 || r == HV_X86_CR4)
			continue; /* value-checked below */
		assert_int_equal(hv_vcpu_write_register(v, r, want), HV_SUCCESS);
		assert_int_equal(hv_vcpu_read_register(v, r, &got), HV_SUCCESS);
		/* Segment selectors and 32-bit fields keep their width. */
		assert_true(got == want || got == (want & 0xffff));
	}
	/* R8..R15 follow RAX by register number, as QEMU's HV_X86_RAX + i arithmetic expects. */
	assert_int_equal(hv_vcpu_write_register(v, HV_X86_RAX + 8, 88), HV_SUCCESS);
	uint64_t r8;
	assert_int_equal(hv_vcpu_read_register(v, HV_X86_R8, &r8), HV_SUCCESS);
	assert_int_equal(r8, 88);
	assert_int_equal(hv_vcpu_destroy(v), HV_SUCCESS);
}

static void register_arguments_are_checked(void **state)
{
	(void)state;
	hv_vcpuid_t v;
	uint64_t x;
	assert_int_equal(hv_vcpu_create(&v, HV_VCPU_DEFAULT), HV_SUCCESS);
	assert_int_equal(hv_vcpu_read_register(v, HV_X86_REGISTERS_MAX, &x), HV_BAD_ARGUMENT);
	assert_int_equal(hv_vcpu_read_register(v, (hv_x86_reg_t)-1, &x), HV_BAD_ARGUMENT);
	assert_int_equal(hv_vcpu_write_register(v, HV_X86_REGISTERS_MAX, 0), HV_BAD_ARGUMENT);
	assert_int_equal(hv_vcpu_read_register(v, HV_X86_RAX, NULL), HV_BAD_ARGUMENT);
	assert_int_equal(hv_vcpu_read_register(v + 5, HV_X86_RAX, &x), HV_BAD_ARGUMENT);
	/* CR0 through the register path obeys the VMCS rule: CD and NW stay clear. */
	assert_int_equal(hv_vcpu_write_register(v, HV_X86_CR0, 0x60000031), HV_BAD_ARGUMENT);
	assert_int_equal(hv_vcpu_write_register(v, HV_X86_CR0, 0x40000031), HV_BAD_ARGUMENT);
	assert_int_equal(hv_vcpu_write_register(v, HV_X86_CR0, 0x31), HV_SUCCESS);
	assert_int_equal(hv_vcpu_destroy(v), HV_SUCCESS);
}

static void fpstate_round_trips_and_checks_size(void **state)
{
	(void)state;
	hv_vcpuid_t v;
	assert_int_equal(hv_vcpu_create(&v, HV_VCPU_DEFAULT), HV_SUCCESS);
	uint8_t *buf = aligned_alloc(4096, 8192), *back = aligned_alloc(4096, 8192);
	assert_int_equal(hv_vcpu_read_fpstate(v, buf, 511), HV_BAD_ARGUMENT);
	assert_int_equal(hv_vcpu_read_fpstate(v, NULL, 4096), HV_BAD_ARGUMENT);
	assert_int_equal(hv_vcpu_write_fpstate(v, buf, 100), HV_BAD_ARGUMENT);
	/* The initial image is FNINIT state with MXCSR 0x1f80. */
	assert_int_equal(hv_vcpu_read_fpstate(v, buf, 512), HV_SUCCESS);
	assert_int_equal(buf[0] | buf[1] << 8, 0x37f);
	assert_int_equal(buf[24] | buf[25] << 8, 0x1f80);
	/* A bare 512-byte FXSAVE image (Noah) changes only the legacy area. */
	memset(buf, 0, 4096);
	assert_int_equal(hv_vcpu_read_fpstate(v, buf, 4096), HV_SUCCESS);
	uint8_t header = buf[512];
	for (unsigned i = 32; i < 512; i++)
		buf[i] = (uint8_t)i;
	assert_int_equal(hv_vcpu_write_fpstate(v, buf, 512), HV_SUCCESS);
	memset(back, 0xee, 8192);
	assert_int_equal(hv_vcpu_read_fpstate(v, back, 8192), HV_SUCCESS); /* larger buffers are fine */
	assert_memory_equal(back, buf, 512);
	assert_int_equal(back[512], header);
	/* A full 4096-byte image (QEMU) round-trips. */
	for (unsigned i = 0; i < 4096; i++)
		buf[i] = (uint8_t)(i * 7);
	assert_int_equal(hv_vcpu_write_fpstate(v, buf, 4096), HV_SUCCESS);
	assert_int_equal(hv_vcpu_read_fpstate(v, back, 4096), HV_SUCCESS);
	assert_memory_equal(back, buf, 4096);
	free(buf);
	free(back);
	assert_int_equal(hv_vcpu_destroy(v), HV_SUCCESS);
}

static void misc_vcpu_calls(void **state)
{
	(void)state;
	hv_vcpuid_t v;
	uint64_t t;
	uint32_t status;
	assert_int_equal(hv_vcpu_create(&v, HV_VCPU_DEFAULT), HV_SUCCESS);
	assert_int_equal(hv_vcpu_flush(v), HV_UNSUPPORTED); /* a no-op since macOS 11 */
	assert_int_equal(hv_vcpu_invalidate_tlb(v), HV_SUCCESS);
	assert_int_equal(hv_vcpu_get_exec_time(v, NULL), HV_BAD_ARGUMENT);
	assert_int_equal(hv_vcpu_get_exec_time(v, &t), HV_SUCCESS);
	assert_int_equal(t, 0);
	assert_int_equal(hv_vcpu_get_idle_time(v, &t), HV_SUCCESS);
	assert_int_equal(hv_vcpu_get_idle_time(v, NULL), HV_BAD_ARGUMENT);
	assert_int_equal(hv_vcpu_vmx_status(v, &status), HV_ERROR); /* never ran */
	assert_int_equal(hv_vcpu_vmx_status(v, NULL), HV_BAD_ARGUMENT);
	assert_int_equal(hv_vcpu_set_tsc_relative(v, -5), HV_SUCCESS);
	assert_int_equal(hv_vmx_vcpu_read_vmcs(v, VMCS_CTRL_TSC_OFFSET, &t), HV_SUCCESS);
	assert_int_equal((int64_t)t, -5);
	hv_vcpuid_t bad = v + 3;
	assert_int_equal(hv_vcpu_interrupt(&bad, 1), HV_BAD_ARGUMENT);
	assert_int_equal(hv_vcpu_interrupt(NULL, 1), HV_BAD_ARGUMENT);
	assert_int_equal(hv_vcpu_interrupt(NULL, 0), HV_SUCCESS);
	hv_vcpuid_t mixed[2] = {v, bad};
	assert_int_equal(hv_vcpu_interrupt(mixed, 2), HV_BAD_ARGUMENT); /* all-or-nothing */
	assert_int_equal(hv_vcpu_destroy(v), HV_SUCCESS);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(create_arguments_are_checked, vm_up, vm_down),
		cmocka_unit_test_setup_teardown(ids_follow_creation_order_across_threads, vm_up, vm_down),
		cmocka_unit_test_setup_teardown(other_threads_are_refused_and_change_nothing, vm_up, vm_down),
		cmocka_unit_test_setup_teardown(thread_exit_releases_its_vcpu, vm_up, vm_down),
		cmocka_unit_test_setup_teardown(vcpu_limit_gives_no_resources, vm_up, vm_down),
		cmocka_unit_test_setup_teardown(registers_alias_their_vmcs_fields, vm_up, vm_down),
		cmocka_unit_test_setup_teardown(register_arguments_are_checked, vm_up, vm_down),
		cmocka_unit_test_setup_teardown(fpstate_round_trips_and_checks_size, vm_up, vm_down),
		cmocka_unit_test_setup_teardown(misc_vcpu_calls, vm_up, vm_down),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
