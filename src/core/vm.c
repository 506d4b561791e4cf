/* vm.c: the process's VM pointer and the calling thread's vCPU binding, with clean-up when a thread exits owning a vCPU. */
#include <pthread.h>
#include <stdlib.h>

#include "vm.h"

struct hvx_vm *hvx_the_vm;

/* Stands for "no vCPU" in hvx_thread_vcpu (vm.h); nothing but its owner_key is ever read. */
struct hvx_vcpu hvx_no_vcpu = {.owner_key = 1ull << 32};
_Thread_local struct hvx_vcpu *hvx_thread_vcpu __attribute__((tls_model("initial-exec"))) = &hvx_no_vcpu;
static pthread_key_t thread_exit_key;
static pthread_once_t thread_exit_once = PTHREAD_ONCE_INIT;


/* Defined in api/: destroys a vCPU whose owner thread is exiting. */
void hvx_vcpu_release_on_thread_exit(struct hvx_vcpu *vcpu);

static void on_thread_exit(void *arg)
{
	struct hvx_vcpu *vcpu = arg;
	if (vcpu)
		hvx_vcpu_release_on_thread_exit(vcpu);
}

static void make_key(void)
{
	pthread_key_create(&thread_exit_key, on_thread_exit);
}

void hvx_bind_thread(struct hvx_vcpu *vcpu)
{
	pthread_once(&thread_exit_once, make_key);
	hvx_thread_vcpu = vcpu;
	pthread_setspecific(thread_exit_key, vcpu);
}

void hvx_unbind_thread(void)
{
	pthread_once(&thread_exit_once, make_key);
	hvx_thread_vcpu = &hvx_no_vcpu;
	pthread_setspecific(thread_exit_key, NULL);
}
