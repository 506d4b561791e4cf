/* test_kvm_smp.c: kvm backend with several vCPU threads: one hv_vcpu_interrupt kicks them all, a kick wakes a vCPU halted by its activity state, memory protection changes while vCPUs run, threads that exit owning a vCPU. */
#include <pthread.h>
#include <stdlib.h>

#include "kvm_test_env.h"

#define NEED_KVM() do { if (!ke_available()) skip(); } while (0)
#define THREADS 2

static int cleanup(void **state)
{
	(void)state;
	for (hv_vcpuid_t id = 0; id < 4; id++)
		hv_vcpu_destroy(id);
	hv_vm_destroy();
	return 0;
}

struct worker {
	struct ke k;
	pthread_mutex_t *lock;
	pthread_cond_t *cond;
	int *ready;
	uint32_t reason;
	uint64_t ns;
	int halted;
};

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	ke_vcpu_setup(&w->k, w->halted ? 0 : 3); /* HLT activity needs SS.DPL 0 */
	if (w->halted)
		ke_w(&w->k, VMCS_GUEST_ACTIVITY_STATE, 1);
	pthread_mutex_lock(w->lock);
	(*w->ready)++;
	pthread_cond_broadcast(w->cond);
	pthread_mutex_unlock(w->lock);
	uint64_t t0 = ke_now_ns();
	w->reason = ke_run_ms(&w->k, 5000);
	w->ns = ke_now_ns() - t0;
	hv_vcpu_destroy(w->k.vcpu);
	return NULL;
}

static void run_workers(int halted)
{
	static const uint8_t code[] = {0xeb, 0xfe};
	/* VM and memory as ke_setup builds them, without the main thread's vCPU. */
	struct ke tmp;
	ke_setup(&tmp, 3, code, sizeof code);
	hv_vcpu_destroy(tmp.vcpu);
	pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
	pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
	int ready = 0;
	struct worker w[THREADS];
	pthread_t t[THREADS];
	for (int i = 0; i < THREADS; i++) {
		memset(&w[i], 0, sizeof w[i]);
		w[i].k.mem = tmp.mem;
		w[i].lock = &lock;
		w[i].cond = &cond;
		w[i].ready = &ready;
		w[i].halted = halted;
		pthread_create(&t[i], NULL, worker_main, &w[i]);
	}
	pthread_mutex_lock(&lock);
	while (ready < THREADS)
		pthread_cond_wait(&cond, &lock);
	pthread_mutex_unlock(&lock);
	usleep(100000); /* let them enter the guest (or the halted wait) */
	/* Protection changes while the vCPUs run must not disturb them. */
	hv_return_t pr = hv_vm_protect(KE_DATA, 0x1000, HV_MEMORY_READ);
	if (pr != HV_SUCCESS)
		fail_msg("protect %#x ready %d reasons %u %u", pr, ready, w[0].reason, w[1].reason);
	assert_int_equal(hv_vm_protect(KE_DATA, 0x1000, HV_MEMORY_READ | HV_MEMORY_WRITE | HV_MEMORY_EXEC), HV_SUCCESS);
	hv_vcpuid_t ids[THREADS];
	for (int i = 0; i < THREADS; i++)
		ids[i] = w[i].k.vcpu;
	assert_int_equal(hv_vcpu_interrupt(ids, THREADS), HV_SUCCESS);
	for (int i = 0; i < THREADS; i++) {
		pthread_join(t[i], NULL);
		assert_int_equal(w[i].reason, VMX_REASON_IRQ);
		assert_true(w[i].ns < 3000000000ull);
	}
	hv_vm_unmap(0, KE_MEM_SIZE);
	hv_vm_destroy();
	munmap(tmp.mem, KE_MEM_SIZE);
}

static void test_one_interrupt_kicks_all_running(void **state)
{
	(void)state;
	NEED_KVM();
	run_workers(0);
}

static void test_kick_wakes_halted_vcpus(void **state)
{
	(void)state;
	NEED_KVM();
	run_workers(1);
}

struct leaver {
	struct ke k;
	uint32_t reason;
	uint64_t qual, gpa;
	hv_return_t created;
};

/* Creates a vCPU, runs it once, and exits without hv_vcpu_destroy. */
static void *leave_without_destroy(void *arg)
{
	struct leaver *l = arg;
	l->created = hv_vcpu_create(&l->k.vcpu, HV_VCPU_DEFAULT);
	if (l->created != HV_SUCCESS)
		return NULL;
	ke_w(&l->k, VMCS_CTRL_PIN_BASED, ke_cap2ctrl(ke_cap(HV_VMX_CAP_PINBASED), 0));
	ke_w(&l->k, VMCS_CTRL_CPU_BASED, ke_cap2ctrl(ke_cap(HV_VMX_CAP_PROCBASED), 0));
	ke_w(&l->k, VMCS_CTRL_CPU_BASED2, ke_cap2ctrl(ke_cap(HV_VMX_CAP_PROCBASED2), 0));
	ke_w(&l->k, VMCS_CTRL_VMENTRY_CONTROLS, ke_cap2ctrl(ke_cap(HV_VMX_CAP_ENTRY), 0));
	ke_w(&l->k, VMCS_CTRL_VMEXIT_CONTROLS, ke_cap2ctrl(ke_cap(HV_VMX_CAP_EXIT), 0));
	/* The reset state (real mode at 0xffff0, nothing mapped there): an EPT violation on the first fetch. */
	l->reason = ke_run_ms(&l->k, 1000);
	l->qual = ke_r(&l->k, VMCS_RO_EXIT_QUALIFIC);
	l->gpa = ke_r(&l->k, VMCS_GUEST_PHYSICAL_ADDRESS);
	return NULL;
}

static void test_thread_exit_without_destroy(void **state)
{
	(void)state;
	NEED_KVM();
	static const uint8_t code[] = {0xeb, 0xfe};
	struct ke k;
	ke_setup(&k, 3, code, sizeof code);
	hv_vcpu_destroy(k.vcpu);
	for (int round = 0; round < 3; round++) {
		struct leaver l;
		memset(&l, 0, sizeof l);
		l.k.mem = k.mem;
		pthread_t t;
		pthread_create(&t, NULL, leave_without_destroy, &l);
		pthread_join(t, NULL);
		assert_int_equal(l.created, HV_SUCCESS);
		assert_int_equal(l.k.vcpu, 0); /* the id (and its KVM vCPU) came back with the thread's exit */
		assert_int_equal(l.reason, VMX_REASON_EPT_VIOLATION);
		assert_int_equal(l.qual & 0x3f, 0x4); /* instruction fetch from nothing */
		assert_int_equal(l.gpa, 0xfffffff0); /* the reset vector: CS base 0xffff0000 + IP 0xfff0 */
	}
	hv_vm_unmap(0, KE_MEM_SIZE);
	assert_int_equal(hv_vm_destroy(), HV_SUCCESS);
	munmap(k.mem, KE_MEM_SIZE);
}

int main(void)
{
	alarm(55); /* a hung KVM_RUN must fail the test, never hang it */
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_one_interrupt_kicks_all_running, cleanup),
		cmocka_unit_test_teardown(test_kick_wakes_halted_vcpus, cleanup),
		cmocka_unit_test_teardown(test_thread_exit_without_destroy, cleanup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
