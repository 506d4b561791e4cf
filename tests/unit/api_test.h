/* api_test.h: shared helpers for the API misuse tests: VM set-up per test, running a function on another thread, page-aligned memory. */
#ifndef HVX_API_TEST_H
#define HVX_API_TEST_H

#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>

#include <cmocka.h>

#include <Hypervisor/hv.h>
#include <Hypervisor/hv_vmx.h>
#include <hvx/hvx.h>

#define PAGE 4096u

/* Every test gets a fresh VM on the emu backend (available on every host). */
static inline int vm_up(void **state)
{
	(void)state;
	return hvx_vm_create_with_backend(HV_VM_DEFAULT, "emu") == HV_SUCCESS ? 0 : -1;
}

static inline int vm_down(void **state)
{
	(void)state;
	return hv_vm_destroy() == HV_SUCCESS ? 0 : -1;
}

/* A VM plus one vCPU owned by the test thread. */
static hv_vcpuid_t test_vcpu;

static inline int vcpu_up(void **state)
{
	if (vm_up(state))
		return -1;
	return hv_vcpu_create(&test_vcpu, HV_VCPU_DEFAULT) == HV_SUCCESS ? 0 : -1;
}

static inline int vcpu_down(void **state)
{
	if (hv_vcpu_destroy(test_vcpu) != HV_SUCCESS)
		return -1;
	return vm_down(state);
}

static inline void *pages(size_t n)
{
	void *p = mmap(NULL, n * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(p != MAP_FAILED);
	return p;
}

static inline void unpages(void *p, size_t n)
{
	munmap(p, n * PAGE);
}

/* Run fn(arg) on a new thread and wait for it. */
static inline void on_other_thread(void *(*fn)(void *), void *arg)
{
	pthread_t t;
	assert_int_equal(pthread_create(&t, NULL, fn, arg), 0);
	assert_int_equal(pthread_join(t, NULL), 0);
}

#endif
